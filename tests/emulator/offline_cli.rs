//! The `trailwatch` binary as users and other tools drive it: exit codes, the JSON Lines pattern
//! interface, offline evaluation of a saved snapshot into ASFF, and clear errors on bad input.
//!
//! `tests/fixtures/demo-account.snapshot.json` was saved by `trailwatch scan --save-snapshot`
//! against the emulator seeded by `tools/demo_seed.py`.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use trailwatch::model::snapshot::SNAPSHOT_FORMAT;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/demo-account.snapshot.json"
);

fn trailwatch(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the trailwatch binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn json_lines(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("every output line is JSON"))
        .collect()
}

#[test]
fn pattern_check_prints_valid_or_a_caret_and_sets_the_exit_code() {
    let valid = trailwatch(&["pattern", "check", "{ $.eventName = CreateTrail }"], "");
    assert_eq!(valid.status.code(), Some(0));
    assert_eq!(stdout(&valid).trim(), "valid");

    let invalid = trailwatch(&["pattern", "check", "{ $.eventName = CreateTrail "], "");
    assert_eq!(invalid.status.code(), Some(1));
    let text = stdout(&invalid);
    let caret_line = text.lines().last().unwrap();
    let pattern_line = text.lines().rev().nth(1).unwrap();
    assert!(
        pattern_line.contains("{ $.eventName = CreateTrail "),
        "{text}"
    );
    assert!(caret_line.trim_end().ends_with('^'), "{text}");

    let excluded = trailwatch(&["pattern", "check", "--", "-DEBUG"], "");
    assert_eq!(excluded.status.code(), Some(0), "{}", stdout(&excluded));
}

#[test]
fn pattern_covers_answers_per_line_and_goes_on_after_bad_lines() {
    let input = [
        r#"{"pattern": "{($.eventName=StopLogging)||($.eventName=StartLogging)||($.eventName=CreateTrail)||($.eventName=UpdateTrail)||($.eventName=DeleteTrail)}", "control": "cloudtrail-changes"}"#,
        r#"{"pattern": "{ $.eventName = CreateTrail && $.eventName = DeleteTrail }", "control": "cloudtrail-changes"}"#,
        r#"not json"#,
        r#"{"pattern": "{ $.eventName = ", "control": "cloudtrail-changes"}"#,
        r#"{"pattern": "{ $.eventName = *Trail* || $.eventName = *Logging }", "required": "{ ($.eventName = CreateTrail) || ($.eventName = StopLogging) }"}"#,
        r#"{"pattern": "", "control": "no-such-control"}"#,
    ]
    .join("\n");
    let output = trailwatch(&["pattern", "covers"], &input);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let answers = json_lines(&output);
    assert_eq!(answers.len(), 6);
    assert_eq!(answers[0]["covers"], true);
    assert_eq!(answers[1]["covers"], false);
    let event = &answers[1]["counterexample"];
    assert!(
        [
            "CreateTrail",
            "UpdateTrail",
            "DeleteTrail",
            "StartLogging",
            "StopLogging"
        ]
        .contains(&event["eventName"].as_str().unwrap()),
        "{event}"
    );
    assert!(answers[2]["error"]["message"].is_string());
    assert!(answers[3]["error"]["offset"].is_u64());
    assert_eq!(answers[4]["covers"], true);
    assert!(answers[5]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no-such-control"));
}

#[test]
fn pattern_match_evaluates_events() {
    let input = [
        r#"{"pattern": "{ $.eventName = CreateTrail }", "event": {"eventName": "CreateTrail"}}"#,
        r#"{"pattern": "{ $.eventName = CreateTrail }", "event": {"eventName": "createtrail"}}"#,
        r#"{"pattern": "{ $.errorCode != \"AccessDenied\" }", "event": {"eventName": "CreateTrail"}}"#,
        r#"{"pattern": "{ $.x = ", "event": {}}"#,
    ]
    .join("\n");
    let answers = json_lines(&trailwatch(&["pattern", "match"], &input));
    assert_eq!(answers[0], serde_json::json!({"match": true}));
    assert_eq!(answers[1], serde_json::json!({"match": false}));
    // `!=` on a missing field does not match.
    assert_eq!(answers[2], serde_json::json!({"match": false}));
    assert!(answers[3]["error"]["offset"].is_u64());
}

#[test]
fn evaluate_turns_a_saved_snapshot_into_asff() {
    let out = tempfile::NamedTempFile::new().unwrap();
    let output = trailwatch(
        &[
            "evaluate",
            FIXTURE,
            "--format",
            "json",
            "--output",
            out.path().to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1), "some controls fail");
    let printed: Vec<Value> = serde_json::from_str(&stdout(&output)).unwrap();
    let written: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(out.path()).unwrap()).unwrap();
    assert_eq!(printed.len(), 6);
    assert_eq!(
        printed.iter().map(|f| &f["Id"]).collect::<Vec<_>>(),
        written.iter().map(|f| &f["Id"]).collect::<Vec<_>>()
    );
    let status_of = |generator: &str, resource: &str| -> Vec<String> {
        printed
            .iter()
            .filter(|f| f["GeneratorId"] == generator)
            .filter(|f| {
                f["Resources"][0]["Id"]
                    .as_str()
                    .unwrap()
                    .ends_with(resource)
            })
            .map(|f| f["Compliance"]["Status"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(status_of("trailwatch/cloudtrail-changes", ""), ["PASSED"]);
    assert_eq!(
        status_of("trailwatch/kms-cmk-disable-delete", ""),
        ["FAILED"]
    );
    assert_eq!(status_of("trailwatch/config-changes", ""), ["FAILED"]);
    assert_eq!(status_of("trailwatch/nacl-changes", ""), ["FAILED"]);
    assert_eq!(
        status_of("trailwatch/trail-cw-logs", "trail/audit"),
        ["PASSED"]
    );
    assert_eq!(
        status_of("trailwatch/trail-cw-logs", "trail/legacy-eu"),
        ["FAILED"]
    );
    for finding in &printed {
        for field in [
            "SchemaVersion",
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "Title",
            "Description",
            "CreatedAt",
            "UpdatedAt",
        ] {
            assert!(finding[field].is_string(), "{field} in {finding}");
        }
        assert_eq!(finding["AwsAccountId"], "123456789012");
        assert!(finding["Resources"]
            .as_array()
            .is_some_and(|r| !r.is_empty()));
        assert!(finding["Compliance"]["RelatedRequirements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r
                .as_str()
                .unwrap()
                .starts_with("CIS AWS Foundations Benchmark v1.4.0/")));
    }
    let config = printed
        .iter()
        .find(|f| f["GeneratorId"] == "trailwatch/config-changes")
        .unwrap();
    assert!(config["Description"]
        .as_str()
        .unwrap()
        .contains("has no confirmed subscription"));
}

#[test]
fn evaluate_is_deterministic_across_runs() {
    let ids = |output: Output| -> Vec<Value> {
        let findings: Vec<Value> = serde_json::from_str(&stdout(&output)).unwrap();
        findings.iter().map(|f| f["Id"].clone()).collect()
    };
    let first = ids(trailwatch(&["evaluate", FIXTURE, "--format", "json"], ""));
    let second = ids(trailwatch(&["evaluate", FIXTURE, "--format", "json"], ""));
    assert_eq!(first, second);
}

#[test]
fn bad_input_gets_a_clear_error() {
    let missing = trailwatch(&["evaluate", "/nonexistent/snapshot.json"], "");
    assert_eq!(missing.status.code(), Some(3));
    assert!(stderr(&missing).contains("cannot read /nonexistent/snapshot.json"));

    let mut garbage = tempfile::NamedTempFile::new().unwrap();
    // The current format's number, but not a snapshot's shape.
    garbage
        .write_all(format!("{{\"format\": {SNAPSHOT_FORMAT}}}").as_bytes())
        .unwrap();
    let malformed = trailwatch(&["evaluate", garbage.path().to_str().unwrap()], "");
    assert_eq!(malformed.status.code(), Some(3));
    assert!(stderr(&malformed).contains("is not a trailwatch snapshot"));

    let mut old = tempfile::NamedTempFile::new().unwrap();
    let fixture = std::fs::read_to_string(FIXTURE).unwrap();
    old.write_all(
        fixture
            .replacen(
                &format!("\"format\": {SNAPSHOT_FORMAT}"),
                "\"format\": 1",
                1,
            )
            .as_bytes(),
    )
    .unwrap();
    let outdated = trailwatch(&["evaluate", old.path().to_str().unwrap()], "");
    assert_eq!(outdated.status.code(), Some(3));
    assert!(
        stderr(&outdated).contains(&format!(
            "is a snapshot of format 1; this trailwatch reads format {SNAPSHOT_FORMAT}"
        )),
        "{}",
        stderr(&outdated)
    );

    // Asking for what does not exist is a usage error, like a flag clap rejects.
    let unknown = trailwatch(&["evaluate", FIXTURE, "--controls", "nope"], "");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("--controls: unknown control id(s): nope; known: trail-cw-logs")
    );

    let usage = trailwatch(&["scan", "--format", "yaml"], "");
    assert_eq!(usage.status.code(), Some(2));

    let region = trailwatch(&["scan", "--regions", "us-east-1,Mars"], "");
    assert_eq!(region.status.code(), Some(2));
    assert!(
        stderr(&region).contains("--regions: \"Mars\" is not a region name"),
        "{}",
        stderr(&region)
    );
}

#[test]
fn controls_lists_the_catalog() {
    let output = trailwatch(&["controls"], "");
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for id in [
        "trail-cw-logs",
        "cloudtrail-changes",
        "kms-cmk-disable-delete",
        "config-changes",
        "nacl-changes",
    ] {
        assert!(text.contains(id), "{id} missing from\n{text}");
    }
    assert!(text.contains("CloudWatch.5"));
}

/// The command line is built with feature `cli` (`required-features`), which compiles aws-config's
/// SSO provider in: a `--profile` that signs in with IAM Identity Center gets as far as looking for
/// its cached sign-in token, instead of aws-config's "requires following cargo feature(s)
/// enabled: sso" (what the Lambda's build, without `cli`, would answer).
#[tokio::test]
// aws-config's `profile_files` takes `ProfileFiles`, now a deprecated alias of aws-runtime's
// `EnvConfigFiles` (aws-runtime is not a dependency of ours).
#[allow(deprecated)]
async fn an_sso_profile_reaches_the_sso_provider() {
    use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
    use aws_config::profile::ProfileFileCredentialsProvider;
    use aws_credential_types::provider::ProvideCredentials;
    use aws_smithy_types::error::display::DisplayErrorContext;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile sso-user]\n\
         sso_start_url = https://trailwatch-test.invalid/start\n\
         sso_region = us-east-1\n\
         sso_account_id = 123456789012\n\
         sso_role_name = ReadOnly\n\
         region = us-east-1\n",
    )
    .unwrap();
    let provider = ProfileFileCredentialsProvider::builder()
        .profile_files(
            ProfileFiles::builder()
                .with_file(ProfileFileKind::Config, &config)
                .build(),
        )
        .profile_name("sso-user")
        .build();
    let error = provider
        .provide_credentials()
        .await
        .expect_err("no SSO token is cached for this start URL");
    let error = DisplayErrorContext(&error).to_string();
    assert!(!error.contains("cargo feature"), "{error}");
    // The SSO provider ran: it looked for the cached sign-in token.
    assert!(error.contains("sso/cache"), "{error}");
}

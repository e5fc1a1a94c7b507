//! `trailwatch scan` against a seeded emulator account, as a user runs it: standard AWS
//! environment variables (AWS_ENDPOINT_URL, credentials), table and ASFF output, exit codes.

use crate::support::{fresh_account, AlarmSpec, ChainSpec, TestAccount};
use serde_json::Value;
use std::process::{Command, Output};
use trailwatch::controls;

fn cis_pattern(id: &str) -> &'static str {
    controls::control(id).unwrap().required_pattern().unwrap()
}

fn trailwatch_scan(account: &TestAccount, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trailwatch"));
    command.arg("scan").args(args).env_remove("AWS_PROFILE");
    for (name, value) in account.aws_env() {
        command.env(name, value);
    }
    command.output().expect("the trailwatch binary runs")
}

#[tokio::test]
async fn a_compliant_account_passes_every_default_control() {
    let account = fresh_account().await;
    let seeded = account
        .seed_chain(&ChainSpec::new("cli", cis_pattern("cloudtrail-changes")))
        .await;
    // The three other monitoring controls: filters on the same log group, alarms to the same topic.
    for id in ["kms-cmk-disable-delete", "config-changes", "nacl-changes"] {
        account
            .put_metric_filter(
                "us-east-1",
                "CloudTrail/cli",
                id,
                cis_pattern(id),
                id,
                "CISBenchmark",
            )
            .await;
        let mut alarm = AlarmSpec::new(id, id, "CISBenchmark");
        alarm.alarm_actions.push(seeded.topic_arn.clone());
        account.put_alarm("us-east-1", &alarm).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let asff_path = dir.path().join("findings.json");
    let snapshot_path = dir.path().join("snapshot.json");

    let output = trailwatch_scan(
        &account,
        &[
            "--regions",
            "us-east-1,eu-west-1",
            "--output",
            asff_path.to_str().unwrap(),
            "--save-snapshot",
            snapshot_path.to_str().unwrap(),
        ],
    );

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("complete chain: trail cli-trail → log group CloudTrail/cli → filter cli-filter → alarm cli-alarm → topic cli-alerts → subscription email:s…@example.com"),
        "{stdout}"
    );
    let findings: Vec<Value> = serde_json::from_slice(&std::fs::read(&asff_path).unwrap()).unwrap();
    assert_eq!(findings.len(), 5, "{findings:#?}");
    for finding in &findings {
        assert_eq!(finding["Compliance"]["Status"], "PASSED", "{finding:#}");
        assert_eq!(finding["AwsAccountId"], account.id.as_str());
    }
    let snapshot: Value = serde_json::from_slice(&std::fs::read(&snapshot_path).unwrap()).unwrap();
    assert_eq!(snapshot["account_id"], account.id.as_str());
    assert_eq!(
        snapshot["regions"],
        serde_json::json!(["us-east-1", "eu-west-1"])
    );
}

#[tokio::test]
async fn an_empty_account_fails_with_exit_code_1() {
    let account = fresh_account().await;
    let output = trailwatch_scan(&account, &["--regions", "us-east-1", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let findings: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(findings.len(), 5);
    for finding in &findings {
        assert_eq!(finding["Compliance"]["Status"], "FAILED", "{finding:#}");
    }
}

/// `trailwatch scan` with this environment only (no shared config files unless `home` has them),
/// in `args`; returns the exit code and standard error.
fn scan_with_env(env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trailwatch"));
    command.arg("scan").args(args).env_clear();
    command
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("the trailwatch binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The error line: the last line of standard error, which must be one line without the SDK's
/// debug dump.
fn error_line(stderr: &str) -> &str {
    let line = stderr.lines().last().unwrap_or_default();
    assert!(line.starts_with("trailwatch: "), "{stderr}");
    for dump in ["DispatchFailure", "ConnectorError", "Some(", "{ "] {
        assert!(!line.contains(dump), "debug dump in {line:?}");
    }
    line
}

#[test]
fn an_unreachable_endpoint_is_one_line_with_the_detail_at_verbose() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ];
    let (code, stderr) = scan_with_env(&env, &["--regions", "us-east-1"]);
    assert_eq!(code, Some(3), "{stderr}");
    let line = error_line(&stderr);
    assert!(
        line.contains("cannot reach the AWS endpoint http://127.0.0.1:9 (Connection refused")
            && line.contains("check AWS_ENDPOINT_URL"),
        "{line}"
    );
    assert!(!stderr.contains("detail:"), "{stderr}");

    let (code, stderr) = scan_with_env(&env, &["--regions", "us-east-1", "--verbose"]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("trailwatch: detail: dispatch failure"),
        "{stderr}"
    );
}

#[test]
fn no_credentials_say_where_credentials_come_from() {
    let (code, stderr) = scan_with_env(&[("AWS_REGION", "us-east-1")], &["--regions", "us-east-1"]);
    assert_eq!(code, Some(3), "{stderr}");
    let line = error_line(&stderr);
    assert!(
        line.contains("no AWS credentials found: pass --profile (or set AWS_PROFILE)")
            && line.contains("AWS_ACCESS_KEY_ID"),
        "{line}"
    );
}

#[test]
fn a_region_that_does_not_exist_is_named() {
    // No endpoint override: STS of region us-east-7 is sts.us-east-7.amazonaws.com, a name that
    // does not resolve (with or without a network).
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "us-east-7"),
    ];
    let (code, stderr) = scan_with_env(&env, &["--regions", "us-east-1"]);
    assert_eq!(code, Some(3), "{stderr}");
    let line = error_line(&stderr);
    assert!(
        line.contains("cannot reach AWS STS in region us-east-7")
            && line.contains("us-east-7 is not an AWS region; set AWS_REGION"),
        "{line}"
    );
}

#[test]
fn an_expired_sso_session_says_to_log_in_again() {
    // A profile that signs in with IAM Identity Center, and its cached token, expired; the SDK
    // reads it from ~/.aws/sso/cache/<sha1 of the session name>.json
    // (https://docs.aws.amazon.com/sdkref/latest/guide/understanding-sso.html) and, with no
    // refresh token, fails before any request.
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(aws.join("sso/cache")).unwrap();
    std::fs::write(
        aws.join("config"),
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = ReadOnly\nregion = us-east-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
    )
    .unwrap();
    // sha1("corp")
    let cache = aws.join("sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json");
    let token = r#"{"accessToken":"expired","expiresAt":"2020-01-01T00:00:00Z","region":"us-east-1","startUrl":"https://corp.awsapps.com/start"}"#;
    std::fs::write(&cache, token).unwrap();
    let config = aws.join("config");
    let env = [
        ("HOME", home.path().to_str().unwrap()),
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_PROFILE", "dev"),
    ];
    let (code, stderr) = scan_with_env(&env, &["--regions", "us-east-1"]);
    assert_eq!(code, Some(3), "{stderr}");
    let line = error_line(&stderr);
    assert!(
        line.contains("SSO (IAM Identity Center) session of profile dev has expired")
            && line.contains("run `aws sso login --profile dev`"),
        "{line}"
    );
}

#[tokio::test]
async fn access_denied_on_the_first_call_is_one_line_naming_the_permission() {
    let account = fresh_account().await;
    let denied = account.denying(&["cloudtrail:*"]).await;
    let output = trailwatch_scan(&denied, &["--regions", "us-east-1,eu-west-1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let line = error_line(&stderr);
    assert!(
        line.contains(&format!(
            "access denied: the credentials of account {} may not call cloudtrail:DescribeTrails",
            account.id
        )) && line.contains("in 2 region(s)")
            && line.contains("member-role.yaml"),
        "{line}"
    );
    // The findings are still printed (nothing is lost): every control NOT_AVAILABLE.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.matches("NOT_AVAILABLE").count(), 5, "{stdout}");
    // One summary line for the same denial in both regions.
    assert_eq!(
        stderr
            .matches("read error: cloudtrail:DescribeTrails in eu-west-1, us-east-1")
            .count(),
        1,
        "{stderr}"
    );
}

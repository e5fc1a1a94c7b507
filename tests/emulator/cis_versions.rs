//! Benchmark versions and CIS 4.16 end to end.
//!
//! - `--cis-version` through the `trailwatch` binary: the chosen version's pattern is what a
//!   filter must cover, and the findings' `RelatedRequirements` name only the versions that
//!   decide the same way; `trailwatch controls` and `pattern covers` say the same.
//! - `securityhub-enabled`: securityhub:DescribeHub in each scanned region, read from moto 5.2.5,
//!   which implements EnableSecurityHub and DescribeHub and answers `InvalidAccessException`
//!   ("Account is not subscribed to AWS Security Hub") in a region without a hub — what AWS
//!   answers. moto has no way to answer `ResourceNotFoundException` for the account's own hub, so
//!   that case is tested on snapshots (`src/controls/tests.rs`).

use crate::support::{fresh_account, ChainSpec, TestAccount};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use trailwatch::collect::CollectPlan;
use trailwatch::controls::{self, CisVersion, Control};
use trailwatch::model::findings::{ComplianceStatus, Finding};
use trailwatch::model::snapshot::Hub;
use trailwatch::run::{scan_account, ScanOutcome};

fn version(text: &str) -> CisVersion {
    CisVersion::parse(text).unwrap()
}

fn pattern(id: &str, under: &str) -> &'static str {
    controls::control(id)
        .unwrap()
        .monitoring(version(under))
        .unwrap()
        .pattern
}

/// `trailwatch <args>` with `stdin`, acting as `account` when one is given.
fn trailwatch(account: Option<&TestAccount>, args: &[&str], stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trailwatch"));
    command
        .args(args)
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in account.map(TestAccount::aws_env).unwrap_or_default() {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the trailwatch binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Scans `account` in `regions` for control `id`, with the plan the control needs.
async fn scan(account: &TestAccount, regions: &[&str], id: &str) -> ScanOutcome {
    let selected: Vec<&'static Control> = vec![controls::control(id).unwrap()];
    let plan = CollectPlan::for_controls(
        Some(regions.iter().map(|r| r.to_string()).collect()),
        &selected,
    );
    scan_account(&account.sdk, &plan, &selected, CisVersion::newest())
        .await
        .expect("scan")
}

fn only(findings: &[Finding]) -> &Finding {
    assert_eq!(findings.len(), 1, "{findings:#?}");
    &findings[0]
}

async fn enable_security_hub(account: &TestAccount, region: &str) {
    aws_sdk_securityhub::Client::new(&account.sdk_in(region))
        .enable_security_hub()
        .send()
        .await
        .expect("securityhub:EnableSecurityHub on moto");
}

// --- CIS 4.16 / 5.16 ------------------------------------------------------------------------

#[tokio::test]
async fn security_hub_must_be_enabled_in_every_scanned_region() {
    let account = fresh_account().await;
    enable_security_hub(&account, "us-east-1").await;

    let scanned = scan(&account, &["us-east-1", "eu-west-1"], "securityhub-enabled").await;
    let finding = only(&scanned.findings);
    assert_eq!(
        (finding.status, finding.summary.as_str()),
        (
            ComplianceStatus::Failed,
            "Security Hub is not enabled in eu-west-1 (InvalidAccessException: Account is not subscribed to AWS Security Hub)"
        )
    );
    let hubs = scanned.snapshot.securityhub.expect("DescribeHub was read");
    assert_eq!(hubs[0].region, "us-east-1");
    assert_eq!(
        hubs[0].hub,
        Ok(Hub::Enabled {
            hub_arn: format!("arn:aws:securityhub:us-east-1:{}:hub/default", account.id)
        })
    );

    enable_security_hub(&account, "eu-west-1").await;
    let scanned = scan(&account, &["us-east-1", "eu-west-1"], "securityhub-enabled").await;
    let finding = only(&scanned.findings);
    assert_eq!(
        (finding.status, finding.summary.as_str()),
        (
            ComplianceStatus::Passed,
            "Security Hub is enabled in every region scanned: us-east-1, eu-west-1"
        )
    );
}

#[tokio::test]
async fn a_denied_describe_hub_is_not_available_naming_the_region() {
    let account = fresh_account().await;
    enable_security_hub(&account, "us-east-1").await;
    let denied = account.denying(&["securityhub:DescribeHub"]).await;
    let scanned = scan(&denied, &["us-east-1"], "securityhub-enabled").await;
    let finding = only(&scanned.findings);
    assert_eq!(
        finding.status,
        ComplianceStatus::NotAvailable,
        "{finding:#?}"
    );
    assert!(
        finding
            .summary
            .starts_with("could not read Security Hub in us-east-1 (securityhub:DescribeHub: "),
        "{}",
        finding.summary
    );
}

#[tokio::test]
async fn describe_hub_is_called_only_when_the_control_runs() {
    let account = fresh_account().await;
    let without = scan(&account, &["us-east-1"], "cloudtrail-changes").await;
    assert_eq!(without.snapshot.securityhub, None);
    let with = scan(&account, &["us-east-1"], "securityhub-enabled").await;
    assert_eq!(with.snapshot.securityhub.map(|hubs| hubs.len()), Some(1));
    assert_eq!(
        with.snapshot.api_calls,
        without.snapshot.api_calls + 1,
        "one DescribeHub per scanned region"
    );
}

// --- --cis-version ---------------------------------------------------------------------------

/// The ASFF findings of `trailwatch scan --controls <id> --cis-version <v>` and its exit code.
fn scan_json(account: &TestAccount, id: &str, cis_version: &str) -> (Option<i32>, Vec<Value>) {
    let output = trailwatch(
        Some(account),
        &[
            "scan",
            "--regions",
            "us-east-1",
            "--controls",
            id,
            "--cis-version",
            cis_version,
            "--format",
            "json",
        ],
        "",
    );
    let findings = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{error}: {}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    });
    (output.status.code(), findings)
}

/// The CIS requirements a finding names, without the benchmark's name (`v1.4.0/4.10`).
fn related(finding: &Value) -> Vec<String> {
    requirements(finding)
        .iter()
        .filter_map(|r| r.strip_prefix("CIS AWS Foundations Benchmark "))
        .map(str::to_string)
        .collect()
}

/// Every requirement a finding names, in order: CIS first, then the other frameworks'.
fn requirements(finding: &Value) -> Vec<String> {
    finding["Compliance"]["RelatedRequirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

/// The other frameworks' requirements a finding names (controls/frameworks), after its CIS ones.
fn framework_requirements(finding: &Value) -> Vec<String> {
    let all = requirements(finding);
    all[related(finding).len()..].to_vec()
}

#[tokio::test]
async fn the_chosen_version_decides_the_pattern_and_the_requirements_named() {
    let account = fresh_account().await;
    // CIS 4.10 as v4.0.1 writes it: without ModifySecurityGroupRules (added in v5.0.0).
    account
        .seed_chain(&ChainSpec::new(
            "sg",
            pattern("security-group-changes", "4.0.1"),
        ))
        .await;

    let (code, findings) = scan_json(&account, "security-group-changes", "4.0");
    assert_eq!(code, Some(0));
    assert_eq!(findings[0]["Compliance"]["Status"], "PASSED");
    assert_eq!(
        related(&findings[0]),
        [
            "v1.2.0/3.10",
            "v1.3.0/4.10",
            "v1.4.0/4.10",
            "v1.5.0/4.10",
            "v2.0.0/4.10",
            "v3.0.0/4.10",
            "v4.0.1/4.10"
        ]
    );

    let (code, findings) = scan_json(&account, "security-group-changes", "v7.0.0");
    assert_eq!(code, Some(1));
    assert_eq!(findings[0]["Compliance"]["Status"], "FAILED");
    assert!(
        findings[0]["Description"]
            .as_str()
            .unwrap()
            .ends_with("eventName=ModifySecurityGroupRules"),
        "{}",
        findings[0]["Description"]
    );
    assert_eq!(
        related(&findings[0]),
        ["v5.0.0/4.10", "v6.0.0/5.10", "v7.0.0/5.10"]
    );
    // The Security Hub page for CloudWatch.10 names these, whatever the CIS version.
    assert_eq!(
        framework_requirements(&findings[0]),
        ["NIST.800-171.r2 3.14.6", "NIST.800-171.r2 3.14.7"]
    );
}

#[tokio::test]
async fn a_requirement_the_version_dropped_is_never_named() {
    let account = fresh_account().await;
    account
        .seed_chain(&ChainSpec::new(
            "dl",
            pattern("cloudtrail-changes", "7.0.0"),
        ))
        .await;
    let (_, findings) = scan_json(&account, "trail-cw-logs", "7.0.0");
    for finding in &findings {
        assert_eq!(
            related(finding),
            [
                "v1.2.0/2.4",
                "v1.3.0/3.4",
                "v1.4.0/3.4",
                "v1.5.0/3.4",
                "v2.0.0/3.4"
            ],
            "{finding:#}"
        );
        let others = framework_requirements(finding);
        assert_eq!(others.len(), 20, "{finding:#}");
        assert_eq!(others[0], "NIST.800-53.r5 AC-2(4)");
        assert_eq!(others[19], "PCI DSS v3.2.1/10.5.3");
    }
}

#[test]
fn pattern_covers_with_a_control_agrees_with_the_scan() {
    let iam = pattern("iam-policy-changes", "7.0.0");
    let inner = iam.trim().trim_start_matches('{').trim_end_matches('}');
    let narrowed = format!("{{ ({inner}) && $.eventSource = iam.amazonaws.com }}");
    let sg_v4 = pattern("security-group-changes", "4.0.1");
    let lines = [
        serde_json::json!({"pattern": iam, "control": "iam-policy-changes"}),
        serde_json::json!({"pattern": narrowed, "control": "iam-policy-changes"}),
        serde_json::json!({"pattern": sg_v4, "control": "security-group-changes"}),
    ]
    .map(|line| line.to_string())
    .join("\n");
    let answers = |args: &[&str]| -> Vec<Value> {
        let output = trailwatch(None, args, &lines);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        text(&output.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    };
    let newest = answers(&["pattern", "covers"]);
    assert_eq!(newest[0]["covers"], true);
    assert_eq!(newest[1]["covers"], false);
    assert_eq!(
        newest[1]["counterexample"]["eventSource"],
        "iot.amazonaws.com"
    );
    assert_eq!(newest[1]["counterexample"]["eventName"], "CreatePolicy");
    assert_eq!(newest[2]["covers"], false);
    let v4 = answers(&["pattern", "covers", "--cis-version", "4.0.1"]);
    assert_eq!(v4[2]["covers"], true);
}

#[test]
fn controls_lists_numbers_per_version_and_with_a_version_the_pattern_in_force() {
    let output = trailwatch(None, &["controls"], "");
    assert_eq!(output.status.code(), Some(0));
    let listing = text(&output.stdout);
    assert!(
        listing.contains("CIS v1.2.0 3.10; v1.3.0–v5.0.0 4.10; v6.0.0–v7.0.0 5.10"),
        "{listing}"
    );
    assert!(
        listing.contains("CIS v1.2.0 2.4; v1.3.0–v2.0.0 3.4\n"),
        "{listing}"
    );
    assert!(listing.contains("securityhub-enabled"), "{listing}");

    let output = trailwatch(None, &["controls", "--cis-version", "5.0.0"], "");
    let listing = text(&output.stdout);
    assert!(
        listing.starts_with("CIS Amazon Web Services Foundations Benchmark v5.0.0\n"),
        "{listing}"
    );
    assert!(
        listing.contains("v5.0.0 4.10 pattern: { ($.eventName = AuthorizeSecurityGroupIngress)"),
        "{listing}"
    );
    assert!(
        listing.contains("related requirements: v5.0.0/4.10, v6.0.0/5.10, v7.0.0/5.10"),
        "{listing}"
    );
    assert!(
        listing.contains("not in v5.0.0: decided as v2.0.0 3.4 defines it"),
        "{listing}"
    );

    let output = trailwatch(None, &["controls", "--cis-version", "2.1"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("unknown CIS version \"2.1\"; known: 1.2.0, 1.3.0, 1.4.0"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn controls_framework_lists_requirements_with_their_controls_and_sources() {
    let output = trailwatch(None, &["controls", "--framework", "nist-800-171-r2"], "");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let listing = text(&output.stdout);
    assert!(
        listing.starts_with("NIST SP 800-171 Revision 2 (nist-800-171-r2)\n"),
        "{listing}"
    );
    let line = |start: &str| {
        listing
            .lines()
            .find(|line| line.starts_with(start))
            .unwrap_or_else(|| panic!("{start:?} in {listing}"))
            .to_string()
    };
    assert!(line("NIST.800-171.r2 3.13.10 ").ends_with(" kms-cmk-disable-delete"));
    assert!(line("NIST.800-171.r2 3.3.1 ")
        .ends_with(" network-gateway-changes, route-table-changes, vpc-changes"));
    let kms = line("kms-cmk-disable-delete ");
    assert!(kms.contains(" CloudWatch.7 "), "{kms}");
    assert!(kms.ends_with(
        " https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-7"
    ));

    // Unknown: one line naming the known frameworks, usage exit code.
    let output = trailwatch(None, &["controls", "--framework", "hipaa"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert_eq!(
        text(&output.stderr),
        "trailwatch: unknown framework \"hipaa\"; known: nist-800-53-r5, nist-800-171-r2, pci-dss-v3.2.1\n"
    );

    // The controls list names what each control also serves.
    let listing = text(&trailwatch(None, &["controls"], "").stdout);
    assert!(
        listing.contains(
            " also serves: NIST.800-171.r2 3.14.6, NIST.800-171.r2 3.14.7, PCI DSS v3.2.1/7.2.1\n"
        ),
        "{listing}"
    );
}

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

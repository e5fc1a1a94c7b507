//! `--format ocsf` and `--format csv` read back by the tools their users have: every OCSF event
//! validated against the OCSF models of `py-ocsf-models` (`tools/validate_ocsf.py`, pinned in
//! requirements-dev.txt), the CSV parsed by Python's `csv` module (an RFC 4180 reader, as a
//! spreadsheet reads it). Offline, from the demo account's saved snapshot.

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/demo-account.snapshot.json"
);

/// `trailwatch evaluate <fixture> --format <format>`: exit code and standard output.
fn evaluate(format: &str) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(["evaluate", FIXTURE, "--format", format])
        .output()
        .expect("the trailwatch binary runs");
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

fn python() -> PathBuf {
    std::env::var_os("TRAILWATCH_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"))
}

/// Runs Python with `args`, `input` on its standard input; returns its exit status and output.
fn run_python(args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(python())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the virtualenv's python (scripts/setup.sh)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The CSV's records as Python's csv module reads them.
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (ok, out, err) = run_python(
        &[
            "-c",
            "import csv, io, json, sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.read(), newline='')))))",
        ],
        text,
    );
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn ocsf_events_are_valid_compliance_findings_with_the_chain_and_evidence() {
    let (code, text) = evaluate("ocsf");
    assert_eq!(code, Some(1), "the demo account fails controls");
    let (ok, out, err) = run_python(&["tools/validate_ocsf.py"], &text);
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "OCSF 1.5.0: 6 Compliance Finding event(s) valid"
    );
    let events: Vec<Value> = serde_json::from_str(&text).unwrap();
    let kms = events
        .iter()
        .find(|event| event["metadata"]["event_code"] == "kms-cmk-disable-delete")
        .unwrap();
    assert_eq!(kms["class_uid"], 2003);
    assert_eq!(kms["status_code"], "FAILED");
    assert_eq!(kms["compliance"]["status_id"], 3);
    assert_eq!(
        kms["compliance"]["standards"][0],
        "CIS AWS Foundations Benchmark v7.0.0"
    );
    assert!(kms["compliance"]["requirements"]
        .as_array()
        .unwrap()
        .contains(&Value::from("CIS AWS Foundations Benchmark v1.4.0/4.7")));
    // And what CloudWatch.7's Security Hub page names (controls/frameworks).
    assert!(kms["compliance"]["requirements"]
        .as_array()
        .unwrap()
        .contains(&Value::from("NIST.800-171.r2 3.13.16")));
    assert_eq!(
        kms["compliance"]["standards"][1],
        "NIST SP 800-171 Revision 2"
    );
    // The account, then the chain's links in order.
    let types: Vec<&str> = kms["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|resource| resource["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "AWS::::Account",
            "AWS::CloudTrail::Trail",
            "AWS::Logs::LogGroup"
        ]
    );
    let missing = &kms["evidences"][0]["data"]["missing"];
    assert_eq!(missing["kind"], "filter_does_not_cover");
    assert_eq!(missing["counterexample"]["eventName"], "DisableKey");
    assert_eq!(kms["cloud"]["account"]["uid"], "123456789012");
    // One event per finding, and the same ids as the ASFF findings.
    let (_, asff) = evaluate("json");
    let asff: Vec<Value> = serde_json::from_str(&asff).unwrap();
    let mut asff_ids: Vec<&str> = asff.iter().map(|f| f["Id"].as_str().unwrap()).collect();
    let mut ocsf_ids: Vec<&str> = events
        .iter()
        .map(|e| e["finding_info"]["uid"].as_str().unwrap())
        .collect();
    asff_ids.sort();
    ocsf_ids.sort();
    assert_eq!(asff_ids, ocsf_ids);
}

#[test]
fn csv_has_one_record_per_finding_with_the_reason() {
    let (code, text) = evaluate("csv");
    assert_eq!(code, Some(1));
    assert!(text.ends_with("\r\n"), "RFC 4180 records end with CRLF");
    let records = csv_records(&text);
    assert_eq!(records[0], trailwatch::report::csv::COLUMNS);
    assert_eq!(records.len(), 1 + 6, "{records:#?}");
    for record in &records {
        assert_eq!(
            record.len(),
            trailwatch::report::csv::COLUMNS.len(),
            "{record:?}"
        );
    }
    let column = |name: &str| {
        trailwatch::report::csv::COLUMNS
            .iter()
            .position(|column| *column == name)
            .unwrap()
    };
    // Failures first.
    assert_eq!(records[1][column("Status")], "FAILED");
    assert_eq!(records.last().unwrap()[column("Status")], "PASSED");
    let kms = records
        .iter()
        .find(|record| record[column("Control")] == "kms-cmk-disable-delete")
        .unwrap();
    assert_eq!(kms[column("Breaks at")], "filter");
    assert_eq!(
        kms[column("Framework requirements")],
        "NIST.800-171.r2 3.13.10; NIST.800-171.r2 3.13.16; NIST.800-171.r2 3.14.6; NIST.800-171.r2 3.14.7"
    );
    assert_eq!(kms[column("Missing link")], "filter_does_not_cover");
    assert!(kms[column("Reason")].starts_with("filter kms-key-changes does not cover"));
    // The counterexample, a JSON object with commas and quotes, survives the quoting.
    let event: Value = serde_json::from_str(&kms[column("Counterexample event")]).unwrap();
    assert_eq!(event["eventName"], "DisableKey");
}

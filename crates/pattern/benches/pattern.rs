//! Benchmarks: parsing, evaluation throughput on CloudTrail-size events, and `covers()` for
//! every CIS pattern against itself and against a ~1000-character customer pattern. Each group
//! has a baseline measured in the same run (a `serde_json` lookup of one field for
//! evaluation, parsing the pattern for `covers`), so results can be reported as ratios.
//!
//! `cargo bench -p trailwatch-pattern --bench pattern -- --warm-up-time 0.3 --measurement-time 1`

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};
use trailwatch_pattern::{covers, parse};

/// CloudTrail-size records (about 1.5 KB of compact JSON each) with assorted names and sources.
fn events() -> Vec<Value> {
    let names = [
        ("CreateTrail", "cloudtrail.amazonaws.com"),
        ("DescribeInstances", "ec2.amazonaws.com"),
        ("PutBucketPolicy", "s3.amazonaws.com"),
        ("ConsoleLogin", "signin.amazonaws.com"),
        ("ScheduleKeyDeletion", "kms.amazonaws.com"),
        ("AssumeRole", "sts.amazonaws.com"),
        ("CreateNetworkAclEntry", "ec2.amazonaws.com"),
        ("GetObject", "s3.amazonaws.com"),
    ];
    (0..256)
        .map(|i| {
            let (name, source) = names[i % names.len()];
            json!({
                "eventVersion": "1.08",
                "userIdentity": {
                    "type": if i % 5 == 0 { "Root" } else { "AssumedRole" },
                    "principalId": format!("AROAEXAMPLE{i}:session"),
                    "arn": format!("arn:aws:sts::123456789012:assumed-role/ops/session-{i}"),
                    "accountId": "123456789012",
                    "accessKeyId": "ASIAEXAMPLEKEY",
                    "sessionContext": {
                        "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE", "arn": "arn:aws:iam::123456789012:role/ops", "accountId": "123456789012", "userName": "ops"},
                        "attributes": {"creationDate": "2026-01-15T12:00:00Z", "mfaAuthenticated": "false"}
                    }
                },
                "eventTime": "2026-01-15T12:34:56Z",
                "eventSource": source,
                "eventName": name,
                "awsRegion": "eu-west-1",
                "sourceIPAddress": "203.0.113.10",
                "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2 prompt/off command/cloudtrail.create-trail",
                "errorCode": if i % 7 == 0 { Value::from("AccessDenied") } else { Value::Null },
                "requestParameters": {"name": format!("trail-{i}"), "s3BucketName": "org-cloudtrail-logs", "isMultiRegionTrail": true, "enableLogFileValidation": true, "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
                "responseElements": {"name": format!("trail-{i}"), "trailARN": format!("arn:aws:cloudtrail:eu-west-1:123456789012:trail/trail-{i}"), "logFileValidationEnabled": true},
                "requestID": "6f1b5c4e-8a2d-4c3b-9e7f-0a1b2c3d4e5f",
                "eventID": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
                "readOnly": false,
                "eventType": "AwsApiCall",
                "managementEvent": true,
                "recipientAccountId": "123456789012",
                "eventCategory": "Management",
                "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "cloudtrail.eu-west-1.amazonaws.com"}
            })
        })
        .collect()
}

fn bench_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    let big = common::big_customer();
    g.bench_function("cis-4.5", |b| {
        b.iter(|| parse(black_box(common::cis("cloudtrail-changes"))))
    });
    g.bench_function("cis-4.15", |b| {
        b.iter(|| parse(black_box(common::cis("organizations-changes"))))
    });
    g.bench_function("customer-1000-chars", |b| b.iter(|| parse(black_box(&big))));
    g.finish();
}

fn bench_eval(c: &mut Criterion) {
    let evs = events();
    let mut g = c.benchmark_group("eval");
    g.throughput(Throughput::Elements(evs.len() as u64));
    g.bench_function("baseline-serde_json-lookup", |b| {
        b.iter(|| {
            evs.iter()
                .filter(|e| e.get("eventName").and_then(Value::as_str) == Some("CreateTrail"))
                .count()
        })
    });
    let big = common::big_customer();
    for (label, p) in [
        ("cis-4.5", common::cis("cloudtrail-changes")),
        ("cis-4.1", common::cis("unauthorized-api-calls")),
        ("cis-4.3", common::cis("root-usage")),
        ("cis-4.15", common::cis("organizations-changes")),
        ("customer-1000-chars", big.as_str()),
        ("terms", "CreateTrail"),
    ] {
        let f = parse(p).unwrap();
        g.bench_function(label, |b| {
            b.iter(|| evs.iter().filter(|e| f.matches(black_box(e))).count())
        });
    }
    // Term patterns on the raw message text (what CloudWatch stores), without re-serializing.
    let texts: Vec<String> = evs.iter().map(Value::to_string).collect();
    let terms = parse("CreateTrail").unwrap();
    g.bench_function("terms-on-raw-text", |b| {
        b.iter(|| {
            texts
                .iter()
                .filter(|t| terms.matches_text(black_box(t)))
                .count()
        })
    });
    g.finish();
}

fn bench_covers(c: &mut Criterion) {
    let big = parse(&common::big_customer()).unwrap();
    let mut g = c.benchmark_group("covers");
    for (id, _, p) in common::CIS {
        let f = parse(p).unwrap();
        g.bench_function(format!("{id}/baseline-parse"), |b| {
            b.iter(|| parse(black_box(p)))
        });
        g.bench_function(format!("{id}/self"), |b| {
            b.iter(|| covers(black_box(&f), black_box(&f)))
        });
        g.bench_function(format!("{id}/customer-1000-chars"), |b| {
            b.iter(|| covers(black_box(&big), black_box(&f)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_parse, bench_eval, bench_covers);
criterion_main!(benches);

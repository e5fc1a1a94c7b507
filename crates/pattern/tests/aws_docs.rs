//! Table-driven tests from the AWS documentation's own examples. Each row cites its source:
//!
//! - [JSON]: "Using filter patterns to match terms in JSON log events" (CloudWatch Logs User
//!   Guide, matching-terms-json-log-events.html), with its example event.
//! - [OLD-JSON]: the older "Filter and pattern syntax" page, section "Using metric filters to
//!   match terms in JSON log events", compound-expression example event.
//! - [OLD]: the older "Filter and pattern syntax" page (the version kept in
//!   awsdocs/amazon-cloudwatch-logs-user-guide, doc_source/FilterAndPatternSyntax.md), in the
//!   section the row names.
//! - [SYNTAX-JSON]: "Filter pattern syntax for metric filters, subscription filters, filter log
//!   events, and Live Tail" (FilterAndPatternSyntax.html), section "Using filter patterns to match
//!   terms in JSON log events" ("Writing filter patterns that match strings" / "… numeric
//!   values", and the examples on its JSON log event).
//! - [TEXT]: "Filter pattern syntax for metric filters, subscription filters, filter log
//!   events, and Live Tail" (FilterAndPatternSyntax.html), section "Using filter patterns to
//!   match terms in unstructured log events", with its example messages.
//! - [REGEX]: same page, sections "Supported regular expressions (regex) syntax" and "Using
//!   filter patterns to match terms with a regular expression (regex)".
//! - [SPACE]: same page, section "Using filter patterns to match terms in space-delimited log
//!   events", with its example log line.
//! - [CDK]: AWS CDK `aws_logs.JsonPattern` / `FilterPattern` reference examples (the patterns
//!   the CDK renders).

use serde_json::{json, Value};
use trailwatch_pattern::parse;

fn json_event() -> Value {
    // [JSON] "Sample JSON log event for testing".
    json!({
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": null,
        "cluster.name": "c"
    })
}

fn compound_event() -> Value {
    // [OLD-JSON] compound expressions example event.
    json!({
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [
            {"id": 2, "email": "John.Doe@example.com"},
            {"id": 3, "email": "Jane.Doe@example.com"}
        ],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1], [2, 3]]
    })
}

#[test]
fn json_examples() {
    let rows: &[(&str, &str, bool)] = &[
        (
            "[JSON] intro: match a CloudTrail event type",
            r#"{ $.eventType = "UpdateTrail" }"#,
            true,
        ),
        (
            "[JSON] intro: traffic from unexpected IP ranges",
            r#"{ $.sourceIPAddress != 123.123.* }"#,
            true,
        ),
        (
            "[JSON] string values",
            r#"{ $.eventType = UpdateTrail }"#,
            true,
        ),
        ("[JSON] wildcard", r#"{ $.eventType = "Update*" }"#, true),
        ("[JSON] wildcard", r#"{ $.eventType = "*Trail" }"#, true),
        (
            "[JSON] case-sensitive",
            r#"{ $.eventType = "updatetrail" }"#,
            false,
        ),
        ("[JSON] arrays", r#"{ $.arrayKey[0] = "value" }"#, true),
        (
            "[JSON] arrays",
            r#"{ $.arrayKey[1] = "another value" }"#,
            true,
        ),
        (
            "[JSON] arrays of objects",
            r#"{ $.objectList[1].id = 2 }"#,
            true,
        ),
        ("[JSON] numbers", r#"{ $.objectList[0].id < 2 }"#, true),
        ("[JSON] numbers", r#"{ $.objectList[1].id >= 3 }"#, false),
        ("[JSON] IS NULL", r#"{ $.SomeObject IS NULL }"#, true),
        (
            "[JSON] NOT EXISTS",
            r#"{ $.SomeOtherObject NOT EXISTS }"#,
            true,
        ),
        (
            "[JSON] NOT EXISTS of a present field",
            r#"{ $.SomeObject NOT EXISTS }"#,
            false,
        ),
        (
            "[JSON] keys containing a period",
            r#"{ $.['cluster.name'] = "c" }"#,
            true,
        ),
        (
            "[JSON] keys containing a period, other spelling",
            r#"{ $['cluster.name'] = c }"#,
            true,
        ),
        (
            "[SYNTAX-JSON] \"Filter pattern that uses a wildcard to match values of any element \
             in the array using regex\" (also [JSON] \"Monitor application data with wildcards\")",
            r#"{ $.arrayKey[*] = %val.{2}% }"#,
            true,
        ),
        (
            "[SYNTAX-JSON] \"… any element with a specific prefix and subnet using regex (IP \
             address)\": matches sourceIPAddress (also [JSON] \"Track network traffic patterns\")",
            r#"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }"#,
            true,
        ),
        (
            "[SYNTAX-JSON] \"Wildcard selector\": any JSON object field",
            r#"{ $.* = "c" }"#,
            true,
        ),
        (
            "[SYNTAX-JSON] \"Wildcard selector\": any array element",
            r#"{ $.objectList[*].id = 2 }"#,
            true,
        ),
        (
            "[SYNTAX-JSON] \"Wildcard selector\": no element has the value",
            r#"{ $.arrayKey[*] = "no such value" }"#,
            false,
        ),
        (
            "[JSON] selector on an array matches neither = nor !=",
            r#"{ $.arrayKey = "value" }"#,
            false,
        ),
        (
            "[JSON] selector on an array matches neither = nor !=",
            r#"{ $.arrayKey != "value" }"#,
            false,
        ),
        (
            "[JSON] != on a missing field does not match",
            r#"{ $.missing != "x" }"#,
            false,
        ),
    ];
    let event = json_event();
    for (source, p, want) in rows {
        let f = parse(p).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(f.matches(&event), *want, "{source}: {p}");
        // The same through the raw-message path.
        assert_eq!(
            f.matches_text(&event.to_string()),
            *want,
            "{source}: {p} (text)"
        );
    }
}

#[test]
fn compound_examples() {
    let rows: &[(&str, &str, bool)] = &[
        (
            "[OLD-JSON] compound &&",
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            true,
        ),
        (
            "[OLD-JSON] compound || with a failing &&",
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            false,
        ),
        (
            "[OLD-JSON] && binds tighter than ||",
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
            true,
        ),
        (
            "[OLD-JSON] parentheses change the grouping",
            r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
            false,
        ),
        (
            "[OLD-JSON] nested arrays",
            r#"{ $.coordinates[1][0] = 2 }"#,
            true,
        ),
        (
            "[OLD-JSON] numbers compare numerically",
            r#"{ $.user.id = 1.0 }"#,
            true,
        ),
    ];
    let event = compound_event();
    for (source, p, want) in rows {
        let f = parse(p).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(f.matches(&event), *want, "{source}: {p}");
    }
}

#[test]
fn numeric_examples() {
    // [SYNTAX-JSON] "Writing filter patterns that match numeric values": "You can use integers
    // that contain plus ("+") or minus ("-") symbols and follow scientific notation." The page
    // gives the patterns, not an event; this event makes each row's outcome checkable.
    let event = json!({
        "bandwidth": 80,
        "latency": 40,
        "refreshRate": 60,
        "responseTime": 5,
        "errorCode": 400,
        "number": [1000, 0.5],
        "delta": -3,
        "count": 100
    });
    let rows: &[(&str, &str, bool)] = &[
        ("[SYNTAX-JSON] greater than", "{ $.bandwidth > 75 }", true),
        ("[SYNTAX-JSON] less than", "{ $.latency < 50 }", true),
        (
            "[SYNTAX-JSON] greater than or equal",
            "{ $.refreshRate >= 60 }",
            true,
        ),
        (
            "[SYNTAX-JSON] less than or equal",
            "{ $.responseTime <= 5 }",
            true,
        ),
        ("[SYNTAX-JSON] equal", "{ $.errorCode = 400}", true),
        ("[SYNTAX-JSON] not equal", "{ $.errorCode != 500 }", true),
        (
            "[SYNTAX-JSON] scientific notation and plus symbol",
            "{ $.number[0] = 1e+3 }",
            true,
        ),
        (
            "[SYNTAX-JSON] scientific notation and minus symbol",
            "{ $.number[0] != 1e-3 }",
            true,
        ),
        (
            "[OLD] \"Numeric Comparisons\": a plus sign",
            "{ $.latency > +1000 }",
            false,
        ),
        (
            "[OLD] \"Numeric Comparisons\": a plus sign",
            "{ $.latency < +1000 }",
            true,
        ),
        (
            "a signed number is a number, not the string \"+100\"",
            "{ $.count = +100 }",
            true,
        ),
        (
            "a signed number is a number, not the string \"+100\"",
            "{ $.count != +100 }",
            false,
        ),
        ("minus sign", "{ $.delta = -3 }", true),
        ("minus sign", "{ $.delta > -3.5 }", true),
    ];
    for (source, p, want) in rows {
        let f = parse(p).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(f.matches(&event), *want, "{source}: {p}");
    }
}

#[test]
fn a_lone_wildcard_matches_numbers() {
    // [SYNTAX-JSON] on numbers: "Use the asterisk ("*") as a wild card to match numbers." [OLD]
    // "Using values in log events to increment a metric's value": `{ $.latency = * }` with
    // metricValue $.latency "publishes a numeric value of 50" for this event.
    let event = json!({"latency": 50, "requestType": "GET"});
    let rows: &[(&str, &str, bool)] = &[
        (
            "[OLD] metric value from a number",
            "{ $.latency = * }",
            true,
        ),
        ("[OLD] the same, quoted", r#"{ $.latency = "*" }"#, true),
        ("[SYNTAX-JSON] and strings", "{ $.requestType = * }", true),
        ("a missing field", "{ $.size = * }", false),
        ("!= * on a number", "{ $.latency != * }", false),
    ];
    for (source, p, want) in rows {
        let f = parse(p).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(f.matches(&event), *want, "{source}: {p}");
        assert_eq!(
            f.matches_text(&event.to_string()),
            *want,
            "{source}: {p} (text)"
        );
    }
}

const MESSAGES: &[&str] = &[
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[ERROR 500] INTERNAL SERVER ERROR",
    "[SUCCESS 200] AUTHORIZED REQUEST",
];

#[test]
fn unstructured_examples() {
    // Which of MESSAGES each pattern matches (by index).
    let rows: &[(&str, &str, &[usize])] = &[
        ("[TEXT] single term", "ERROR", &[0, 1, 2, 3, 4]),
        ("[TEXT] multiple terms (AND)", "ERROR ARGUMENTS", &[2, 3]),
        (
            "[TEXT] optional terms (OR)",
            "?ERROR ?ARGUMENTS",
            &[0, 1, 2, 3, 4],
        ),
        ("[TEXT] optional terms (OR)", "?SUCCESS ?MISSING", &[2, 5]),
        (
            "[TEXT] \"You cant' combine the question mark (\"?\") with other filter patterns, such \
             as include and exclude terms … all question mark terms will be ignored\"",
            "?SUCCESS ?MISSING -ARGUMENTS",
            &[0, 1, 4, 5],
        ),
        ("[TEXT] exact phrase", "\"INTERNAL SERVER ERROR\"", &[4]),
        ("[TEXT] include and exclude", "ERROR -ARGUMENTS", &[0, 1, 4]),
        ("[TEXT] match everything", "\" \"", &[0, 1, 2, 3, 4, 5]),
        ("[TEXT] match everything (empty)", "", &[0, 1, 2, 3, 4, 5]),
        ("[TEXT] case-sensitive", "error", &[]),
        ("[REGEX] standalone regex", "%AUTHORIZED%", &[1, 5]),
        ("[REGEX] anchors", "%^\\[SUCCESS%", &[5]),
        ("[REGEX] alternation", "%MISSING|INVALID%", &[2, 3]),
        (
            "[REGEX] character class and repetition",
            "%4[0-9]{2}%",
            &[0, 1, 2, 3],
        ),
    ];
    for (source, p, want) in rows {
        let f = parse(p).unwrap_or_else(|e| panic!("{source}: {e}"));
        let got: Vec<usize> = (0..MESSAGES.len())
            .filter(|&i| f.matches_text(MESSAGES[i]))
            .collect();
        assert_eq!(got, *want, "{source}: {p}");
    }
}

#[test]
fn optional_terms_beside_other_terms_are_ignored() {
    // [TEXT] "Example: Match optional terms", the note's example and the log events it matches:
    // "the following filter pattern matches all events containing the word REQUEST, but the
    // question mark ("?") filter terms are ignored and have no effect."
    let f = parse("?ERROR ?ARGUMENTS REQUEST").unwrap();
    for line in [
        "[INFO] REQUEST FAILED",
        "[WARN] UNAUTHORIZED REQUEST",
        "[ERROR] 400 BAD REQUEST",
    ] {
        assert!(f.matches_text(line), "{line}");
    }
    assert!(!f.matches_text("[ERROR 419] MISSING ARGUMENTS"));
}

#[test]
fn space_delimited_examples() {
    let line =
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
    let rows: &[(&str, &str, bool)] = &[
        ("[SPACE] all fields named", "[ip, user, username, timestamp, request, status_code, bytes]", true),
        ("[SPACE] wrong number of fields", "[ip, user, username, timestamp, request, status_code]", false),
        ("[SPACE] field equals", "[ip, user, username, timestamp, request, status_code = 200, bytes]", true),
        ("[SPACE] field wildcard", "[ip, user, username, timestamp, request = *GET*, status_code = 2*, bytes]", true),
        ("[SPACE] numeric comparison", "[ip, user, username, timestamp, request, status_code, bytes > 1000]", true),
        ("[SPACE] numeric comparison", "[ip, user, username, timestamp, request, status_code >= 400, bytes]", false),
        ("[SPACE] ellipsis", "[..., status_code = 200, bytes]", true),
        ("[SPACE] ellipsis", "[ip, ..., bytes = 1534]", true),
        ("[SPACE] AND / OR of conditions", "[ip, user, username, timestamp, request, status_code = 404 || status_code = 200, bytes]", true),
        ("[SPACE] AND / OR of conditions", "[ip, user, username, timestamp, request, status_code = 200 && bytes < 1000, bytes]", false),
        ("[SPACE] != ", "[ip, user = -, username != frank, ...]", false),
        ("[REGEX] regex in a space-delimited pattern", "[ip = %127\\.0\\.0\\.1%, ...]", true),
    ];
    for (source, p, want) in rows {
        let f = parse(p).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(f.matches_text(line), *want, "{source}: {p}");
    }
}

#[test]
fn cdk_examples() {
    let event = json!({"component": "HttpServer", "error": false, "latency": 1500, "message": "listen tcp: bind: address already in use"});
    let rows: &[(&str, &str, bool)] = &[
        (
            "[CDK] FilterPattern.all(stringValue, any(booleanValue, numberValue))",
            r#"{ ($.component = "HttpServer") && (($.error IS TRUE) || ($.latency > 1000)) }"#,
            true,
        ),
        (
            "[CDK] FilterPattern.exists renders = \"*\"; its JsonPattern example publishes \
             metricValue $.latency, a number",
            r#"{ $.latency = "*" }"#,
            true,
        ),
        (
            "[CDK] FilterPattern.exists on a string",
            r#"{ $.component = "*" }"#,
            true,
        ),
        (
            "[CDK] FilterPattern.isNull",
            r#"{ $.nothing IS NULL }"#,
            false,
        ),
        (
            "[CDK] FilterPattern.notExists",
            r#"{ $.nothing NOT EXISTS }"#,
            true,
        ),
        (
            "[CDK] FilterPattern.booleanValue(false)",
            r#"{ $.error IS FALSE }"#,
            true,
        ),
        (
            "[CDK] FilterPattern.regexValue",
            r#"{ $.message = %bind: address already in use% }"#,
            true,
        ),
    ];
    for (source, p, want) in rows {
        let f = parse(p).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(f.matches(&event), *want, "{source}: {p}");
    }
}

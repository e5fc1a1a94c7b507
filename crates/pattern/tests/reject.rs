//! What CloudWatch rejects, with the byte offset each error must point at, and the rendered
//! caret. Sources: AWS "Filter pattern syntax …" (regex restrictions and the two-regex quota),
//! PutMetricFilter API reference (`filterPattern` at most 1024 characters), the older "Filter and
//! pattern syntax" page (values that must be quoted); the rest follows
//! from the grammar the documentation describes.

use trailwatch_pattern::{parse, ErrorKind as Kind};

#[test]
fn rejects_with_offsets() {
    let long = format!("{{ $.a = \"{}\" }}", "x".repeat(1020));
    let rows: &[(&str, &str, Kind, usize)] = &[
        // Operators.
        (
            "`==` is not an operator",
            "{ $.eventName == CreateTrail }",
            Kind::UnknownOperator,
            14,
        ),
        (
            "single `|`",
            "{ $.a = 1 | $.b = 2 }",
            Kind::UnknownOperator,
            10,
        ),
        (
            "single `&`",
            "{ $.a = 1 & $.b = 2 }",
            Kind::UnknownOperator,
            10,
        ),
        ("`!` alone", "{ $.a ! 1 }", Kind::UnknownOperator, 6),
        (
            "dangling `&&` at the end",
            "{ $.a = 1 && }",
            Kind::ExpectedCondition,
            13,
        ),
        (
            "dangling `||` at the start",
            "{ || $.a = 1 }",
            Kind::DanglingOperator,
            2,
        ),
        ("missing operator", "{ $.a 1 }", Kind::ExpectedOperator, 6),
        ("missing value", "{ $.a = }", Kind::ExpectedValue, 8),
        (
            "ordering needs a number",
            "{ $.a > abc }",
            Kind::ExpectedNumber,
            8,
        ),
        (
            "IS needs NULL/TRUE/FALSE",
            "{ $.a IS EMPTY }",
            Kind::BadKeyword,
            9,
        ),
        (
            "NOT needs EXISTS",
            "{ $.a NOT THERE }",
            Kind::BadKeyword,
            10,
        ),
        // Balance.
        ("unclosed brace", "{ $.a = 1", Kind::Unbalanced, 0),
        ("unclosed parenthesis", "{ ($.a = 1 }", Kind::Unbalanced, 2),
        (
            "extra closing parenthesis",
            "{ $.a = 1) }",
            Kind::Unbalanced,
            9,
        ),
        (
            "text after the closing brace",
            "{ $.a = 1 } x",
            Kind::TrailingText,
            12,
        ),
        ("empty braces", "{ }", Kind::Empty, 2),
        ("empty parentheses", "{ () }", Kind::Empty, 2),
        (
            "unterminated string",
            "{ $.a = \"abc }",
            Kind::Unterminated,
            8,
        ),
        // Selectors.
        (
            "selector must start with $.",
            "{ a = 1 }",
            Kind::ExpectedCondition,
            2,
        ),
        ("empty key", "{ $..a = 1 }", Kind::BadSelector, 3),
        ("bad index", "{ $.a[-1] = 1 }", Kind::BadSelector, 6),
        ("unclosed index", "{ $.a[0 = 1 }", Kind::BadSelector, 5),
        ("bare $", "{ $ = 1 }", Kind::BadSelector, 3),
        // [SYNTAX] = AWS "Filter pattern syntax …", JSON section, "Quotas": "You can only use up
        // to one wildcard selector in a property selector, and up to three wildcard selectors in
        // a filter pattern with compound expressions."
        (
            "[SYNTAX] two wildcards in a selector",
            "{ $.a[*].b[*] = 1 }",
            Kind::TooManyWildcards,
            11,
        ),
        (
            "[SYNTAX] four wildcard selectors",
            "{ $.a[*] = 1 || $.b.* = 1 || $.* = 1 || $.d[*] = 1 }",
            Kind::TooManyWildcards,
            40,
        ),
        (
            "a wildcard is a whole step",
            "{ $.a.*b = 1 }",
            Kind::BadSelector,
            7,
        ),
        (
            "a wildcard is a whole step",
            "{ $.a[*b] = 1 }",
            Kind::BadSelector,
            5,
        ),
        // Values that must be quoted. [OLD] = the older "Filter and pattern syntax" page,
        // "Matching JSON Terms Using Metric Filters": "Strings that have unicode and other
        // characters such as '@,' '$,' '\\,' etc. must be enclosed in double quotes to be valid."
        // The current page's "Writing filter patterns that match strings" asks the same of every
        // non-alphanumeric; its examples quote "John.Doe@example.com".
        (
            "[OLD] unquoted `@`",
            "{ $.user.email = John.Doe@example.com }",
            Kind::MustQuote,
            25,
        ),
        (
            "[OLD] unquoted `\\`",
            r"{ $.path = C:\temp }",
            Kind::MustQuote,
            13,
        ),
        (
            "[OLD] unquoted `$`",
            "{ $.price = 5$ }",
            Kind::MustQuote,
            13,
        ),
        (
            "[OLD] a value starting with `$`",
            "{ $.a = $.b }",
            Kind::MustQuote,
            8,
        ),
        (
            "[OLD] unquoted unicode",
            "{ $.city = Zürich }",
            Kind::MustQuote,
            12,
        ),
        // Regexes.
        (
            "unsupported regex character",
            "{ $.a = %abc!% }",
            Kind::BadRegex,
            12,
        ),
        ("parentheses in a regex", "%(ab)%", Kind::BadRegex, 1),
        ("multi-byte character in a regex", "%é%", Kind::BadRegex, 1),
        (
            "three regexes",
            "{ $.a = %a% || $.b = %b% || $.c = %c% }",
            Kind::TooManyRegexes,
            34,
        ),
        ("unterminated regex", "%abc", Kind::Unterminated, 0),
        (
            "text after a standalone regex",
            "%abc% def",
            Kind::TrailingText,
            5,
        ),
        // Space-delimited.
        ("unclosed bracket", "[a, b", Kind::Unbalanced, 0),
        ("empty delimited pattern", "[]", Kind::Empty, 1),
        (
            "unknown field in a condition",
            "[a = 1 && c = 2, b]",
            Kind::UnknownField,
            10,
        ),
        (
            "unknown field in a condition",
            "[a = 1 || b = 2 && d > 1, b]",
            Kind::UnknownField,
            19,
        ),
        ("duplicate field", "[a, a]", Kind::DuplicateField, 4),
        ("missing comma", "[a b]", Kind::UnexpectedToken, 3),
        // Terms.
        ("unterminated phrase", "ERROR \"abc", Kind::Unterminated, 6),
        ("lone exclusion", "ERROR -", Kind::BadTerm, 6),
        // Length.
        ("over 1024 characters", long.as_str(), Kind::TooLong, 1024),
    ];
    for (why, p, kind, off) in rows {
        match parse(p) {
            Ok(_) => panic!("{why}: accepted {p:?}"),
            Err(e) => {
                assert_eq!((e.kind(), e.offset()), (*kind, *off), "{why}: {p:?} -> {e}");
                let rendered = e.to_string();
                let caret = rendered.lines().last().unwrap();
                assert_eq!(caret.len() - 1, p[..*off].chars().count(), "{why}: caret");
                assert!(caret.ends_with('^'));
            }
        }
    }
}

#[test]
fn accepts_the_edges() {
    let exactly = format!("{{ $.a = \"{}\" }}", "x".repeat(1012));
    assert_eq!(exactly.chars().count(), 1024);
    for p in [
        exactly.as_str(),
        "{$.a=1}",
        "{ $.a = %a% || $.b = %b% }",
        "{ $.a IS null }",
        "{ $.a not exists }",
        "{ $.a = -1.5e3 }",
        "{ $.a = 'quoted' }",
        "   ",
        "\"\"",
        "{ ((((($.a = 1))))) }",
        "{ $.[\"a.b\"] = 1 && $['c'][0][1] = 2 }",
        // The same values quoted; and the unquoted dots, stars, dashes and colons that the docs'
        // own examples (and the CIS Benchmark's patterns) leave unquoted.
        "{ $.user.email = \"John.Doe@example.com\" }",
        r#"{ $.path = "C:\\temp" }"#,
        "{ $.city = \"Zürich\" }",
        "{ $.sourceIPAddress != 123.123.* }",
        "{ $.eventSource = kms.amazonaws.com }",
        "{ $.awsRegion = us-east-1 && $.arn = arn:aws:iam::123456789012:root }",
        // Wildcard selectors, up to the quota ([SYNTAX] examples first).
        "{ $.arrayKey[*] = %val.{2}% }",
        r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }",
        "{ $.a[*] = 1 || $.b.* = 1 && $['c'][*].d = 2 }",
        // Space-delimited values are not checked (the docs are silent there).
        "[ip, user = a@b, ...]",
    ] {
        assert!(parse(p).is_ok(), "{p}: {:?}", parse(p).err());
    }
}

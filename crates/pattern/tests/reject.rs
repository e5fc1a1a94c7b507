//! What CloudWatch rejects, with the byte offset each error must point at, and the rendered
//! caret. Sources: AWS "Filter pattern syntax …" (regex restrictions and the two-regex quota),
//! PutMetricFilter API reference (`filterPattern` at most 1024 characters); the rest follows
//! from the grammar the documentation describes.

use trailwatch_pattern::parse;

#[test]
fn rejects_with_offsets() {
    let long = format!("{{ $.a = \"{}\" }}", "x".repeat(1020));
    let rows: &[(&str, &str, usize)] = &[
        // Operators.
        (
            "`==` is not an operator",
            "{ $.eventName == CreateTrail }",
            14,
        ),
        ("single `|`", "{ $.a = 1 | $.b = 2 }", 10),
        ("single `&`", "{ $.a = 1 & $.b = 2 }", 10),
        ("`!` alone", "{ $.a ! 1 }", 6),
        ("dangling `&&` at the end", "{ $.a = 1 && }", 13),
        ("dangling `||` at the start", "{ || $.a = 1 }", 2),
        ("missing operator", "{ $.a 1 }", 6),
        ("missing value", "{ $.a = }", 8),
        ("ordering needs a number", "{ $.a > abc }", 8),
        ("IS needs NULL/TRUE/FALSE", "{ $.a IS EMPTY }", 9),
        ("NOT needs EXISTS", "{ $.a NOT THERE }", 10),
        // Balance.
        ("unclosed brace", "{ $.a = 1", 0),
        ("unclosed parenthesis", "{ ($.a = 1 }", 2),
        ("extra closing parenthesis", "{ $.a = 1) }", 9),
        ("text after the closing brace", "{ $.a = 1 } x", 12),
        ("empty braces", "{ }", 2),
        ("empty parentheses", "{ () }", 2),
        ("unterminated string", "{ $.a = \"abc }", 8),
        // Selectors.
        ("selector must start with $.", "{ a = 1 }", 2),
        ("empty key", "{ $..a = 1 }", 3),
        ("bad index", "{ $.a[-1] = 1 }", 6),
        ("unclosed index", "{ $.a[0 = 1 }", 5),
        ("bare $", "{ $ = 1 }", 3),
        ("array wildcard", "{ $.a[*] = 1 }", 6),
        // Regexes.
        ("unsupported regex character", "{ $.a = %abc!% }", 12),
        ("parentheses in a regex", "%(ab)%", 1),
        ("multi-byte character in a regex", "%é%", 1),
        (
            "three regexes",
            "{ $.a = %a% || $.b = %b% || $.c = %c% }",
            34,
        ),
        ("unterminated regex", "%abc", 0),
        ("text after a standalone regex", "%abc% def", 5),
        // Space-delimited.
        ("unclosed bracket", "[a, b", 0),
        ("empty delimited pattern", "[]", 1),
        ("unknown field in a condition", "[a = 1 && c = 2, b]", 10),
        (
            "unknown field in a condition",
            "[a = 1 || b = 2 && d > 1, b]",
            19,
        ),
        ("duplicate field", "[a, a]", 4),
        ("missing comma", "[a b]", 3),
        // Terms.
        ("unterminated phrase", "ERROR \"abc", 6),
        ("lone exclusion", "ERROR -", 6),
        // Length.
        ("over 1024 characters", long.as_str(), 1024),
    ];
    for (why, p, off) in rows {
        match parse(p) {
            Ok(_) => panic!("{why}: accepted {p:?}"),
            Err(e) => {
                assert_eq!(e.offset(), *off, "{why}: {p:?} -> {e}");
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
    ] {
        assert!(parse(p).is_ok(), "{p}: {:?}", parse(p).err());
    }
}

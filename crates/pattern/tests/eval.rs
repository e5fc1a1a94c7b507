//! Evaluation rules, one row each (see the `eval` module docs for the semantics chosen where
//! the AWS documentation is silent).

use serde_json::json;
use trailwatch_pattern::ast::{Ast, JsonExpr};
use trailwatch_pattern::{parse, ErrorKind};

#[test]
fn json_rules() {
    let event = json!({
        "eventName": "CreateTrail",
        "n": 5,
        "f": 2.5,
        "s5": "5",
        "t": true,
        "no": false,
        "z": null,
        "obj": {"k": "v"},
        "arr": ["a", "b"],
        "dotted.key": "d",
        "nested": {"list": [{"x": 1}, {"x": 2}]}
    });
    let rows: &[(&str, bool, &str)] = &[
        (
            "{ $.missing != \"x\" }",
            false,
            "!= on a missing field does not match",
        ),
        ("{ $.missing = \"*\" }", false, "wildcard needs the field"),
        ("{ $.n = * }", true, "a lone wildcard matches a number"),
        (
            "{ $.n = 5* }",
            false,
            "... but a value with text besides the stars does not",
        ),
        (
            "{ $.t = * }",
            false,
            "a lone wildcard does not match true ...",
        ),
        ("{ $.z = * }", false, "... nor null"),
        ("{ $.obj = * }", false, "... nor an object"),
        ("{ $.t != * }", true, "!= * matches booleans and null"),
        ("{ $.obj = \"*\" }", false, "object matches neither = ..."),
        ("{ $.obj != \"x\" }", false, "... nor !="),
        (
            "{ $.arr != \"x\" }",
            false,
            "array matches neither = nor !=",
        ),
        ("{ $.arr[0] = a }", true, "array element"),
        (
            "{ $.arr[2] NOT EXISTS }",
            true,
            "index past the end is absent",
        ),
        (
            "{ $.arr.a NOT EXISTS }",
            true,
            "key step on an array is absent",
        ),
        ("{ $.eventName = CreateTrail }", true, "exact"),
        ("{ $.eventName = createtrail }", false, "case-sensitive"),
        ("{ $.eventName = Create }", false, "no substring match"),
        ("{ $.eventName = Create* }", true, "trailing wildcard"),
        ("{ $.eventName = *Trail }", true, "leading wildcard"),
        ("{ $.eventName = *eateTr* }", true, "both"),
        ("{ $.n = 5 }", true, "number"),
        ("{ $.n = 5.0 }", true, "numbers compare numerically"),
        ("{ $.n = 5e0 }", true, "exponent"),
        ("{ $.n > 4.5 }", true, ">"),
        ("{ $.n <= 5 }", true, "<="),
        ("{ $.n < 5 }", false, "<"),
        ("{ $.f >= 2.5 }", true, "float >="),
        (
            "{ $.s5 = 5 }",
            false,
            "a number does not equal a string (no conversion)",
        ),
        ("{ $.s5 > 4 }", false, "ordering only on numbers"),
        ("{ $.n = \"5\" }", false, "a string does not equal a number"),
        (
            "{ $.n != \"5\" }",
            true,
            "!= on a present scalar of another type",
        ),
        ("{ $.t IS TRUE }", true, "IS TRUE"),
        ("{ $.t = true }", true, "= true"),
        ("{ $.t = \"true\" }", false, "quoted true is a string"),
        ("{ $.no IS FALSE }", true, "IS FALSE"),
        ("{ $.z IS NULL }", true, "IS NULL"),
        ("{ $.z = null }", true, "= null"),
        ("{ $.z NOT EXISTS }", false, "null exists"),
        ("{ $.missing IS NULL }", false, "missing is not null"),
        ("{ $.z != \"x\" }", true, "!= on null (a present scalar)"),
        ("{ $.['dotted.key'] = d }", true, "bracketed key"),
        ("{ $.nested.list[1].x = 2 }", true, "deep path"),
        ("{ $.eventName = %^Create% }", true, "regex"),
        ("{ $.eventName != %^Create% }", false, "regex !="),
        ("{ $.n = %5% }", false, "regex only on strings"),
        // Wildcard selectors (docs silent beyond `=`): existential, and `NOT EXISTS` when
        // nothing is selected; `[*]` and `.*` both select array elements and object members.
        ("{ $.arr[*] = b }", true, "some element"),
        ("{ $.arr[*] = c }", false, "no element"),
        ("{ $.arr[*] != a }", true, "!= holds for some element (b)"),
        ("{ $.arr.* = b }", true, "`.*` on an array"),
        ("{ $.obj[*] = v }", true, "`[*]` on an object"),
        (
            "{ $.nested.list[*].x > 1 }",
            true,
            "through a wildcard, then a key",
        ),
        ("{ $.nested.list[*].x > 2 }", false, "no element is over 2"),
        (
            "{ $.nested.list[*].x NOT EXISTS }",
            false,
            "x exists in some element",
        ),
        ("{ $.nested.list[*].y NOT EXISTS }", true, "y in no element"),
        (
            "{ $.eventName[*] NOT EXISTS }",
            true,
            "a string selects nothing",
        ),
        (
            "{ $.eventName[*] != x }",
            false,
            "... so != does not hold either",
        ),
        ("{ $.* IS NULL }", true, "some field is null"),
        (
            "{ $.* IS TRUE && $.* IS FALSE }",
            true,
            "each wildcard picks its own field",
        ),
        ("{ $.*.k = v }", true, "a member of some field"),
        (
            "{ $.* = 5 || $.* = x }",
            true,
            "|| over one wildcard selector",
        ),
        ("{ $.*.list = * }", false, "an array is not a value"),
        (
            "{ $.n = 1 || $.n = 5 && $.t IS FALSE }",
            false,
            "&& binds tighter than ||",
        ),
        (
            "{ ($.n = 1 || $.n = 5) && $.t IS TRUE }",
            true,
            "parentheses",
        ),
    ];
    for (p, want, why) in rows {
        let f = parse(p).unwrap_or_else(|e| panic!("{why}: {e}"));
        assert_eq!(f.matches(&event), *want, "{why}: {p}");
        assert_eq!(
            f.matches_text(&event.to_string()),
            *want,
            "{why}: {p} (text)"
        );
    }
}

#[test]
fn text_rules() {
    // JSON patterns never match non-JSON messages.
    assert!(!parse("{ $.a NOT EXISTS }")
        .unwrap()
        .matches_text("not json"));
    // Non-JSON patterns see the event's compact JSON text.
    let event = json!({"eventName": "CreateTrail", "errorMessage": "Access Denied"});
    assert!(parse("\"\\\"eventName\\\":\\\"CreateTrail\\\"\"")
        .unwrap()
        .matches(&event));
    assert!(parse("\"Access Denied\"").unwrap().matches(&event));
    assert!(!parse("\"Access  Denied\"").unwrap().matches(&event));
    assert!(parse("CreateTrail -DeleteTrail").unwrap().matches(&event));
    assert!(!parse("?DeleteTrail ?StopLogging").unwrap().matches(&event));
    assert!(parse("%Create[A-Z]%").unwrap().matches(&event));
    assert!(parse("").unwrap().matches(&event));
    assert!(parse("\" \"").unwrap().matches(&json!(1)));
}

#[test]
fn and_exact_adds_a_literal_condition() {
    let base = parse("{ $.a = x || $.n > 1 }").unwrap();
    let value = r#"q"u\o*te"#;
    let p = base.and_exact("$.b", value).unwrap();
    assert_eq!(
        p.source(),
        r#"{ ($.a = x || $.n > 1) && $.b = "q\"u\\o*te" }"#
    );
    // The value is literal: `*` is not a wildcard, `"` and `\` are characters.
    assert!(p.matches(&json!({"a": "x", "b": value})));
    assert!(!p.matches(&json!({"a": "x", "b": r#"q"u\oXXte"#})));
    assert!(!p.matches(&json!({"a": "y", "b": value})));
    assert!(p.matches(&json!({"n": 2, "b": value})));
    assert!(p.matches_text(&json!({"n": 2, "b": value}).to_string()));
    // Its spans point into its own text.
    let Ast::Json(JsonExpr::And(items, span)) = p.ast() else {
        panic!("expected &&: {:?}", p.ast())
    };
    assert_eq!(
        &p.source()[span.start..span.end],
        &p.source()[2..p.source().len() - 2]
    );
    let text = |e: &JsonExpr| &p.source()[e.span().start..e.span().end];
    assert_eq!(text(&items[0]), "$.a = x || $.n > 1");
    assert_eq!(text(&items[1]), r#"$.b = "q\"u\\o*te""#);
    let JsonExpr::Or(inner, _) = &items[0] else {
        panic!()
    };
    assert_eq!(text(&inner[1]), "$.n > 1");
    // Regex spans move too.
    let r = parse("   {$.a = %^x%}")
        .unwrap()
        .and_exact("$.b", "y")
        .unwrap();
    let Ast::Json(JsonExpr::And(items, _)) = r.ast() else {
        panic!()
    };
    let JsonExpr::Cond(c) = &items[0] else {
        panic!()
    };
    let trailwatch_pattern::ast::Test::Compare(_, trailwatch_pattern::ast::Value::Regex(re)) =
        &c.test
    else {
        panic!()
    };
    assert_eq!(&r.source()[re.span().start..re.span().end], "%^x%");
    // The match-everything pattern gives the condition alone.
    let any = parse("").unwrap().and_exact(" $.b ", "y*").unwrap();
    assert_eq!(any.source(), r#"{ $.b = "y*" }"#);
    assert!(any.matches(&json!({"b": "y*"})) && !any.matches(&json!({"b": "yy"})));
}

#[test]
fn and_exact_errors() {
    let rows: &[(&str, &str, ErrorKind, usize)] = &[
        ("{ $.a = 1 }", "eventName", ErrorKind::BadSelector, 0),
        ("{ $.a = 1 }", "$.a = 1", ErrorKind::TrailingText, 4),
        ("{ $.a = 1 }", "$", ErrorKind::BadSelector, 0),
        ("{ $.a = 1 }", "$.a[*][*]", ErrorKind::TooManyWildcards, 7),
        ("ERROR", "$.a", ErrorKind::NotJson, 0),
        ("%x%", "$.a", ErrorKind::NotJson, 0),
        ("[a, b]", "$.a", ErrorKind::NotJson, 0),
    ];
    for (p, sel, kind, off) in rows {
        let e = parse(p).unwrap().and_exact(sel, "v").unwrap_err();
        assert_eq!((e.kind(), e.offset()), (*kind, *off), "{p} / {sel}: {e}");
    }
}

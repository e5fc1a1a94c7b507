//! `trailwatch pattern check|match|covers`: the filter-pattern engine on the command line. The
//! JSON Lines functions read their input, write their answers and return; only [`run`] touches
//! the process's standard streams.
//!
//! JSON Lines conventions for `run_match` and `run_covers`:
//! - one output line per non-blank input line, in input order;
//! - blank (whitespace-only) input lines are skipped and produce no output line, so a trailing
//!   newline or a spacer line never shows up as an error;
//! - a line that is not a JSON object with the expected fields yields
//!   `{"error": {"message": "line N: …"}}` and the run goes on;
//! - an invalid filter pattern yields `{"error": {"message": "…", "offset": N}}`, with the byte
//!   offset of the fault in that pattern (and `"field"` naming which pattern, for `covers`).

use super::CliError;
use crate::controls::{self, CisVersion, Required};
use clap::Subcommand;
use serde_json::{json, Value};
use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use trailwatch_pattern::{parse, Coverage, FilterPattern, ParseError};

#[derive(Debug, Subcommand)]
pub(crate) enum PatternCommand {
    /// Print "valid", or the parse error with a caret under the fault (exit 1).
    Check {
        /// The filter pattern (put `--` before a pattern that begins with `-`).
        #[arg(allow_hyphen_values = true)]
        pattern: String,
    },
    /// Read JSON Lines {"pattern": …, "event": {…}} on stdin; write {"match": bool} per line.
    Match,
    /// Read JSON Lines {"pattern": …, "required": … | "control": id} on stdin; write
    /// {"covers": true|false|null, "counterexample": …, "reason": …} per line. With "control",
    /// the pattern must cover what a metric filter must cover for that control under
    /// --cis-version (its CIS pattern, within the records the services that write its events
    /// can produce), exactly as `scan` decides it.
    Covers {
        #[arg(long, value_name = "VERSION", value_parser = super::cis_version,
            help = super::cis_version_help("whose definition of a \"control\" line's control is used"),
            default_value_t = CisVersion::newest())]
        cis_version: CisVersion,
    },
}

/// Runs one `pattern` command on standard input and output.
pub(crate) fn run(command: PatternCommand) -> Result<ExitCode, CliError> {
    let stdin = io::stdin().lock();
    let stdout = io::stdout().lock();
    let failed = |what: &str, error: io::Error| CliError::CouldNotRun(format!("{what}: {error}"));
    match command {
        PatternCommand::Check { pattern } => {
            let (text, valid) = check(&pattern);
            println!("{text}");
            Ok(if valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        PatternCommand::Match => run_match(stdin, stdout)
            .map(|()| ExitCode::SUCCESS)
            .map_err(|error| failed("pattern match", error)),
        PatternCommand::Covers { cis_version } => run_covers(stdin, stdout, |id| {
            controls::control(id)?
                .monitoring(cis_version)
                .map(|monitoring| monitoring.required_texts().collect())
        })
        .map(|()| ExitCode::SUCCESS)
        .map_err(|error| failed("pattern covers", error)),
    }
}

/// Checks one pattern: `("valid", true)`, or the rendered error (message, pattern, caret line)
/// and `false`.
pub fn check(pattern: &str) -> (String, bool) {
    match parse(pattern) {
        Ok(_) => ("valid".to_string(), true),
        Err(e) => (e.to_string(), false),
    }
}

/// `{"pattern": "...", "event": {...}}` per line → `{"match": bool}` or `{"error": {...}}`.
/// An `event` given as a JSON string is matched as a raw log message; any other JSON value is
/// matched as a JSON log event.
pub fn run_match(input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match_line(&line, i + 1);
        writeln!(output, "{answer}")?;
    }
    output.flush()
}

/// One `match` line's answer: `{"match": bool}` or the error line.
fn match_line(line: &str, n: usize) -> Value {
    let answer = || -> Result<Value, Value> {
        let obj = object(line, n)?;
        let pattern = string_field(&obj, "pattern", n)?;
        let event = obj
            .get("event")
            .ok_or_else(|| line_error(n, "missing field \"event\""))?;
        let p = parse(pattern).map_err(|e| pattern_error(&e, None))?;
        let matched = match event {
            Value::String(message) => p.matches_text(message),
            other => p.matches(other),
        };
        Ok(json!({ "match": matched }))
    };
    answer().unwrap_or_else(|error| error)
}

/// `{"pattern": "...", "required": "..."}` or `{"pattern": "...", "control": "<id>"}` per line
/// → `{"covers": true|false|null, "counterexample": {...}|null, "reason": "..."}` or
/// `{"error": {...}}`. `control_pattern` resolves a control id to what a filter must cover for
/// it (the parts of [`Required`], as pattern text).
pub fn run_covers(
    input: impl BufRead,
    mut output: impl Write,
    control_pattern: impl Fn(&str) -> Option<Vec<&'static str>>,
) -> io::Result<()> {
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = covers_line(&line, i + 1, &control_pattern);
        writeln!(output, "{answer}")?;
    }
    output.flush()
}

/// One `covers` line's answer, or the error line.
fn covers_line(
    line: &str,
    n: usize,
    control_pattern: &dyn Fn(&str) -> Option<Vec<&'static str>>,
) -> Value {
    let verdict = || -> Result<Value, Value> {
        let obj = object(line, n)?;
        let pattern = string_field(&obj, "pattern", n)?;
        let (required_texts, field): (Vec<&str>, &str) =
            match (obj.get("required"), obj.get("control")) {
                (Some(_), Some(_)) => {
                    return Err(line_error(
                        n,
                        "give either \"required\" or \"control\", not both",
                    ))
                }
                (Some(Value::String(r)), None) => (vec![r.as_str()], "required"),
                (None, Some(Value::String(id))) => (
                    control_pattern(id)
                        .ok_or_else(|| line_error(n, &format!("unknown control id {id:?}")))?,
                    "control",
                ),
                (Some(_), None) => {
                    return Err(line_error(n, "field \"required\" must be a string"))
                }
                (None, Some(_)) => return Err(line_error(n, "field \"control\" must be a string")),
                (None, None) => {
                    return Err(line_error(n, "missing field \"required\" or \"control\""))
                }
            };
        let customer = parse(pattern).map_err(|e| pattern_error(&e, Some("pattern")))?;
        let required =
            Required::parse(required_texts).map_err(|e| pattern_error(&e, Some(field)))?;
        Ok(answer(&customer, &required))
    };
    verdict().unwrap_or_else(|error| error)
}

fn answer(customer: &FilterPattern, required: &Required) -> Value {
    match required.covered_by(customer) {
        Coverage::Covers => json!({
            "covers": true,
            "counterexample": null,
            "reason": "covers: every event the required pattern matches is matched by this pattern",
        }),
        Coverage::DoesNotCover { counterexample } => {
            let what = counterexample
                .get("eventName")
                .and_then(Value::as_str)
                .map(|n| format!(" (a {n} event)"))
                .unwrap_or_default();
            json!({
                "covers": false,
                "reason": format!("does not cover: the counterexample{what} is matched by the required pattern but not by this pattern"),
                "counterexample": counterexample,
            })
        }
        Coverage::Unknown { reason } => json!({
            "covers": null,
            "counterexample": null,
            "reason": format!("cannot decide: {reason}"),
        }),
    }
}

fn object(line: &str, n: usize) -> Result<serde_json::Map<String, Value>, Value> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(line_error(n, "expected a JSON object")),
        Err(e) => Err(line_error(n, &format!("not valid JSON: {e}"))),
    }
}

fn string_field<'o>(
    obj: &'o serde_json::Map<String, Value>,
    name: &str,
    n: usize,
) -> Result<&'o str, Value> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(line_error(n, &format!("field {name:?} must be a string"))),
        None => Err(line_error(n, &format!("missing field {name:?}"))),
    }
}

fn line_error(n: usize, message: &str) -> Value {
    json!({ "error": { "message": format!("line {n}: {message}") } })
}

fn pattern_error(e: &ParseError, field: Option<&str>) -> Value {
    let mut err = json!({ "message": e.message(), "offset": e.offset() });
    if let Some(f) = field {
        err["field"] = json!(f);
    }
    json!({ "error": err })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(out: Vec<u8>) -> Vec<Value> {
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn controls(id: &str) -> Option<Vec<&'static str>> {
        match id {
            "cloudtrail-changes" => Some(vec!["{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }"]),
            _ => None,
        }
    }

    #[test]
    fn check_valid_and_caret() {
        assert_eq!(check("{ $.a = 1 }"), ("valid".to_string(), true));
        let (text, ok) = check("{ $.a == 1 }");
        assert!(!ok);
        assert_eq!(
            text,
            "unknown operator `==`: use `=`\n{ $.a == 1 }\n      ^"
        );
    }

    #[test]
    fn match_lines_in_order_with_errors() {
        let input = concat!(
            r#"{"pattern": "{ $.eventName = CreateTrail }", "event": {"eventName": "CreateTrail"}}"#,
            "\n",
            "\n",
            r#"{"pattern": "{ $.eventName = CreateTrail }", "event": {"eventName": "UpdateTrail"}}"#,
            "\n",
            r#"{"pattern": "{ $.eventName == CreateTrail }", "event": {}}"#,
            "\n",
            "not json\n",
            r#"{"pattern": "ERROR", "event": "[ERROR 400] BAD REQUEST"}"#,
            "\n",
            r#"{"event": {}}"#,
            "\n",
            r#"{"pattern": "x"}"#,
            "\n",
        );
        let mut out = Vec::new();
        run_match(input.as_bytes(), &mut out).unwrap();
        let got = lines(out);
        assert_eq!(got.len(), 7);
        assert_eq!(got[0], json!({"match": true}));
        assert_eq!(got[1], json!({"match": false}));
        assert_eq!(got[2]["error"]["offset"], 14);
        assert!(got[3]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 5: not valid JSON"));
        assert!(got[3]["error"].get("offset").is_none());
        assert_eq!(got[4], json!({"match": true}));
        assert_eq!(
            got[5]["error"]["message"],
            "line 7: missing field \"pattern\""
        );
        assert_eq!(
            got[6]["error"]["message"],
            "line 8: missing field \"event\""
        );
    }

    #[test]
    fn covers_lines() {
        let input = concat!(
            r#"{"pattern": "{ $.eventName = *Trail || $.eventName = *Logging }", "control": "cloudtrail-changes"}"#,
            "\n",
            r#"{"pattern": "{ $.eventName = CreateTrail }", "control": "cloudtrail-changes"}"#,
            "\n",
            r#"{"pattern": "{ $.eventName = %Trail|Logging% }", "control": "cloudtrail-changes"}"#,
            "\n",
            r#"{"pattern": "{ $.a = 1 }", "control": "no-such-control"}"#,
            "\n",
            r#"{"pattern": "{ $.a = 1 ", "required": "{ $.a = 1 }"}"#,
            "\n",
            r#"{"pattern": "{ $.a = 1 }", "required": "{ $.a = 1 }"}"#,
            "\n",
            r#"{"pattern": "{ $.a = 1 }", "required": "{ $.a = }"}"#,
            "\n",
            r#"[1]"#,
            "\n",
        );
        let mut out = Vec::new();
        run_covers(input.as_bytes(), &mut out, controls).unwrap();
        let got = lines(out);
        assert_eq!(got.len(), 8);
        assert_eq!(got[0]["covers"], true);
        assert_eq!(got[0]["counterexample"], Value::Null);
        assert_eq!(got[1]["covers"], false);
        assert_eq!(
            got[1]["counterexample"]["eventSource"],
            "cloudtrail.amazonaws.com"
        );
        assert_ne!(got[1]["counterexample"]["eventName"], "CreateTrail");
        assert!(got[1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("does not cover"));
        // A regex against the control's finitely many event names is decided, name by name.
        assert_eq!(got[2]["covers"], true, "{}", got[2]);
        assert_eq!(
            got[3]["error"]["message"],
            "line 4: unknown control id \"no-such-control\""
        );
        assert_eq!(got[4]["error"]["offset"], 0);
        assert_eq!(got[4]["error"]["field"], "pattern");
        assert_eq!(got[5]["covers"], true);
        assert_eq!(got[6]["error"]["field"], "required");
        assert_eq!(got[6]["error"]["offset"], 8);
        assert_eq!(got[7]["error"]["message"], "line 8: expected a JSON object");
    }
}

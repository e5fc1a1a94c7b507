//! CloudWatch composite alarm rules (`AlarmRule`): parsed into an expression over other alarms'
//! states, so the collector knows which alarms a composite alarm watches and the evaluator can
//! tell whether one alarm going into ALARM puts the composite alarm into ALARM.
//!
//! Syntax, as the PutCompositeAlarm API reference gives it: the functions `ALARM(name)`,
//! `OK(name)` and `INSUFFICIENT_DATA(name)` (an alarm name or ARN, double quotes optional),
//! `TRUE`, `FALSE`, the operators `AND`, `OR`, `NOT`, and parentheses. The reference does not
//! state precedence; this parser binds `NOT` tightest, then `AND`, then `OR`, as boolean
//! expressions conventionally do, and keywords are case-sensitive as the reference spells them.

use std::fmt;

/// The three states a CloudWatch alarm can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlarmState {
    Alarm,
    Ok,
    InsufficientData,
}

const STATES: [AlarmState; 3] = [
    AlarmState::Alarm,
    AlarmState::Ok,
    AlarmState::InsufficientData,
];

/// A parsed `AlarmRule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Constant(bool),
    /// `ALARM(name)` and its siblings: the named alarm (name or ARN, unquoted) is in the state.
    State(AlarmState, String),
    Not(Box<Rule>),
    And(Vec<Rule>),
    Or(Vec<Rule>),
}

/// Why a rule does not parse: what was expected, at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for RuleError {}

/// More distinct other alarms than [`Rule::holds_whenever_in_alarm`] enumerates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyAlarms(pub usize);

/// The most other alarms whose 3^n state combinations are enumerated (3^10 = 59,049).
const MAX_ENUMERATED_ALARMS: usize = 10;

/// Parses an `AlarmRule`.
pub fn parse(text: &str) -> Result<Rule, RuleError> {
    let mut parser = Parser { text, at: 0 };
    let rule = parser.or()?;
    parser.skip_blanks();
    if parser.at < text.len() {
        return Err(parser.error("expected AND, OR or the end of the rule"));
    }
    Ok(rule)
}

impl Rule {
    /// The alarms the rule names (names or ARNs as written), each once, in order.
    pub fn alarms(&self) -> Vec<&str> {
        let mut names = Vec::new();
        self.collect_alarms(&mut names);
        names
    }

    fn collect_alarms<'a>(&'a self, into: &mut Vec<&'a str>) {
        match self {
            Rule::Constant(_) => {}
            Rule::State(_, name) => {
                if !into.contains(&name.as_str()) {
                    into.push(name);
                }
            }
            Rule::Not(inner) => inner.collect_alarms(into),
            Rule::And(items) | Rule::Or(items) => {
                for item in items {
                    item.collect_alarms(into);
                }
            }
        }
    }

    /// Whether the rule holds whenever an alarm `is_watched` names is in ALARM, whatever state
    /// every other alarm it names is in: then that alarm's ALARM always puts the composite alarm
    /// into ALARM. Decided by enumerating the other alarms' states.
    pub fn holds_whenever_in_alarm(
        &self,
        is_watched: impl Fn(&str) -> bool,
    ) -> Result<bool, TooManyAlarms> {
        let names = self.alarms();
        let others: Vec<&str> = names
            .iter()
            .copied()
            .filter(|name| !is_watched(name))
            .collect();
        if others.len() > MAX_ENUMERATED_ALARMS {
            return Err(TooManyAlarms(others.len()));
        }
        if others.len() == names.len() {
            // The rule does not name the watched alarm: its state changes nothing.
            return Ok(false);
        }
        let combinations = 3usize.pow(others.len() as u32);
        for combination in 0..combinations {
            let state_of = |name: &str| -> AlarmState {
                match others.iter().position(|other| *other == name) {
                    None => AlarmState::Alarm,
                    Some(position) => STATES[(combination / 3usize.pow(position as u32)) % 3],
                }
            };
            if !self.holds(&state_of) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn holds(&self, state_of: &dyn Fn(&str) -> AlarmState) -> bool {
        match self {
            Rule::Constant(value) => *value,
            Rule::State(state, name) => state_of(name) == *state,
            Rule::Not(inner) => !inner.holds(state_of),
            Rule::And(items) => items.iter().all(|item| item.holds(state_of)),
            Rule::Or(items) => items.iter().any(|item| item.holds(state_of)),
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> RuleError {
        RuleError {
            offset: self.at,
            message: message.to_string(),
        }
    }

    fn skip_blanks(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start().len();
    }

    /// Takes `keyword` if it comes next as a whole word.
    fn keyword(&mut self, keyword: &str) -> bool {
        self.skip_blanks();
        let rest = &self.text[self.at..];
        let whole = rest.starts_with(keyword)
            && !rest[keyword.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if whole {
            self.at += keyword.len();
        }
        whole
    }

    fn punct(&mut self, c: char) -> bool {
        self.skip_blanks();
        if self.text[self.at..].starts_with(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Rule, RuleError> {
        let mut items = vec![self.and()?];
        while self.keyword("OR") {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Rule::Or(items)
        })
    }

    fn and(&mut self) -> Result<Rule, RuleError> {
        let mut items = vec![self.not()?];
        while self.keyword("AND") {
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Rule::And(items)
        })
    }

    fn not(&mut self) -> Result<Rule, RuleError> {
        if self.keyword("NOT") {
            return Ok(Rule::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Rule, RuleError> {
        if self.punct('(') {
            let inner = self.or()?;
            if !self.punct(')') {
                return Err(self.error("expected )"));
            }
            return Ok(inner);
        }
        if self.keyword("TRUE") {
            return Ok(Rule::Constant(true));
        }
        if self.keyword("FALSE") {
            return Ok(Rule::Constant(false));
        }
        // INSUFFICIENT_DATA before the shorter keywords it does not share a prefix with.
        for (keyword, state) in [
            ("INSUFFICIENT_DATA", AlarmState::InsufficientData),
            ("ALARM", AlarmState::Alarm),
            ("OK", AlarmState::Ok),
        ] {
            if self.keyword(keyword) {
                if !self.punct('(') {
                    return Err(self.error("expected ( after the state"));
                }
                let name = self.alarm_name()?;
                if !self.punct(')') {
                    return Err(self.error("expected ) after the alarm name"));
                }
                return Ok(Rule::State(state, name));
            }
        }
        self.skip_blanks();
        Err(self.error("expected ALARM(…), OK(…), INSUFFICIENT_DATA(…), TRUE, FALSE, NOT or ("))
    }

    /// An alarm name or ARN: in double quotes (with `\` escaping the next character), or bare up
    /// to the closing parenthesis.
    fn alarm_name(&mut self) -> Result<String, RuleError> {
        self.skip_blanks();
        let rest = &self.text[self.at..];
        let name = if let Some(quoted) = rest.strip_prefix('"') {
            let mut name = String::new();
            let mut chars = quoted.char_indices();
            loop {
                match chars.next() {
                    None => return Err(self.error("unterminated alarm name")),
                    Some((end, '"')) => {
                        self.at += 1 + end + 1;
                        break;
                    }
                    Some((_, '\\')) => match chars.next() {
                        Some((_, escaped)) => name.push(escaped),
                        None => return Err(self.error("unterminated alarm name")),
                    },
                    Some((_, c)) => name.push(c),
                }
            }
            name
        } else {
            let end = rest.find(')').unwrap_or(rest.len());
            let name = rest[..end].trim_end().to_string();
            self.at += rest[..end].trim_end().len();
            name
        };
        if name.is_empty() {
            return Err(self.error("empty alarm name"));
        }
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlarmState::{Alarm, InsufficientData};

    fn state(state: AlarmState, name: &str) -> Rule {
        Rule::State(state, name.to_string())
    }

    #[test]
    fn parses_the_reference_forms() {
        let table = [
            ("ALARM(cis-4-5)", state(Alarm, "cis-4-5")),
            ("ALARM(\"cis 4.5\")", state(Alarm, "cis 4.5")),
            (
                "ALARM(\"arn:aws:cloudwatch:us-east-1:111122223333:alarm:a\")",
                state(Alarm, "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a"),
            ),
            ("OK( x )", state(AlarmState::Ok, "x")),
            ("INSUFFICIENT_DATA(x)", state(InsufficientData, "x")),
            ("TRUE", Rule::Constant(true)),
            (
                // The API reference's example.
                "ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)",
                Rule::And(vec![
                    state(Alarm, "CPUUtilizationTooHigh"),
                    Rule::Not(Box::new(state(Alarm, "DeploymentInProgress"))),
                ]),
            ),
            (
                "ALARM(a) OR ALARM(b) AND ALARM(c)",
                Rule::Or(vec![
                    state(Alarm, "a"),
                    Rule::And(vec![state(Alarm, "b"), state(Alarm, "c")]),
                ]),
            ),
            (
                "(ALARM(a) OR ALARM(b)) AND FALSE",
                Rule::And(vec![
                    Rule::Or(vec![state(Alarm, "a"), state(Alarm, "b")]),
                    Rule::Constant(false),
                ]),
            ),
        ];
        for (text, expected) in table {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_rule_with_the_offset() {
        let table = [
            ("", 0),
            ("ALARM", 5),
            ("ALARM()", 6),
            ("ALARM(a", 7),
            ("ALARM(a) AND", 12),
            ("ALARM(a) XOR ALARM(b)", 9),
            ("ALARM(\"a)", 6),
            ("alarm(a)", 0),
        ];
        for (text, offset) in table {
            let error = parse(text).unwrap_err();
            assert_eq!(error.offset, offset, "{text}: {error}");
        }
    }

    #[test]
    fn decides_whether_one_alarm_always_triggers_the_rule() {
        let watched = |name: &str| name == "m";
        let table = [
            ("ALARM(m)", true),
            ("ALARM(m) OR ALARM(other)", true),
            ("ALARM(m) AND ALARM(other)", false),
            ("ALARM(m) AND NOT ALARM(maintenance)", false),
            ("ALARM(m) OR OK(m)", true),
            ("NOT OK(m)", true),
            ("OK(m)", false),
            ("ALARM(other)", false),
            ("TRUE", false),
            ("ALARM(m) AND (ALARM(x) OR NOT ALARM(x))", true),
            ("ALARM(m) AND (ALARM(x) OR OK(x))", false),
            (
                "(ALARM(x) OR ALARM(m)) AND (ALARM(m) OR INSUFFICIENT_DATA(y))",
                true,
            ),
        ];
        for (text, expected) in table {
            let rule = parse(text).unwrap();
            assert_eq!(
                rule.holds_whenever_in_alarm(watched),
                Ok(expected),
                "{text}"
            );
        }
        let wide: Vec<String> = (0..11).map(|n| format!("ALARM(a{n})")).collect();
        let rule = parse(&format!("ALARM(m) OR {}", wide.join(" OR "))).unwrap();
        assert_eq!(
            rule.holds_whenever_in_alarm(watched),
            Err(TooManyAlarms(11))
        );
    }

    #[test]
    fn names_each_alarm_once() {
        let rule = parse("ALARM(a) OR (OK(b) AND NOT ALARM(a))").unwrap();
        assert_eq!(rule.alarms(), ["a", "b"]);
    }
}

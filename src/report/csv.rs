//! `--format csv`: one row per finding, for a spreadsheet. RFC 4180
//! (https://www.rfc-editor.org/rfc/rfc4180): a header row, comma-separated fields, CRLF line
//! ends, a field quoted (its quotes doubled) when it holds a comma, quote, CR or LF.
//!
//! A field that starts with `=`, `+`, `-`, `@`, tab or CR is a formula to a spreadsheet, and
//! resource names come from the account: such a field gets a leading `'`, as OWASP's "CSV
//! Injection" page advises (https://owasp.org/www-community/attacks/CSV_Injection).

use super::{broken_link_noun, RunReport};
use crate::model::findings::Finding;

/// The columns, in order.
pub const COLUMNS: [&str; 19] = [
    "Account ID",
    "Account name",
    "Status",
    "Control",
    "Title",
    "CIS requirement",
    "Security Hub control",
    "Framework requirements",
    "Severity",
    "Resource type",
    "Resource ID",
    "Region",
    "Breaks at",
    "Missing link",
    "Reason",
    "Evidence",
    "Counterexample event",
    "Remediation URL",
    "Generated at",
];

/// The whole run: the header, then every finding of every account (failures first).
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    row(&mut out, COLUMNS.iter().map(|column| column.to_string()));
    for account in report.accounts_worst_first() {
        let mut findings: Vec<&Finding> = account.findings.iter().collect();
        findings.sort_by_key(|finding| super::severity_rank(finding.status));
        for finding in findings {
            row(&mut out, fields(report, &account.name, finding));
        }
    }
    out
}

fn fields(
    report: &RunReport,
    account_name: &str,
    finding: &Finding,
) -> impl Iterator<Item = String> {
    let control = report
        .controls
        .iter()
        .find(|control| control.id == finding.control_id);
    let missing = finding.evidence.missing.as_ref();
    [
        finding.account_id.clone(),
        account_name.to_string(),
        finding.status.as_str().to_string(),
        finding.control_id.clone(),
        control
            .map(|control| control.title)
            .unwrap_or_default()
            .to_string(),
        report
            .cis_number(&finding.control_id)
            .unwrap_or_default()
            .to_string(),
        control
            .and_then(|control| control.security_hub)
            .unwrap_or_default()
            .to_string(),
        // One cell: the names (which hold spaces) separated by `; `.
        control
            .map(|control| control.framework_requirements().join("; "))
            .unwrap_or_default(),
        control
            .map(|control| control.severity.label())
            .unwrap_or_default()
            .to_string(),
        finding.resource.kind.noun().to_string(),
        finding.resource.id.clone(),
        finding.resource.region.clone(),
        missing
            .map(|missing| broken_link_noun(missing).to_string())
            .unwrap_or_default(),
        missing.map(|missing| missing.kind()).unwrap_or_default(),
        missing
            .map(|missing| missing.to_string())
            .unwrap_or_default(),
        finding.summary.clone(),
        finding
            .evidence
            .counterexample()
            .map(|event| event.to_string())
            .unwrap_or_default(),
        control
            .map(|control| control.remediation_url)
            .unwrap_or_default()
            .to_string(),
        report.generated_at.clone(),
    ]
    .into_iter()
}

/// One record, CRLF-terminated.
fn row(out: &mut String, fields: impl Iterator<Item = String>) {
    for (position, field) in fields.enumerate() {
        if position > 0 {
            out.push(',');
        }
        out.push_str(&field_text(&field));
    }
    out.push_str("\r\n");
}

/// A field as written: defused if a spreadsheet would read it as a formula, then quoted if
/// RFC 4180 requires it.
fn field_text(field: &str) -> String {
    let defused = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if defused.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(field_text("plain"), "plain");
        assert_eq!(field_text("a,b"), "\"a,b\"");
        assert_eq!(field_text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field_text("two\nlines"), "\"two\nlines\"");
        assert_eq!(field_text(""), "");
    }

    #[test]
    fn formulas_from_the_account_are_not_formulas() {
        assert_eq!(
            field_text("=HYPERLINK(\"x\")"),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(field_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field_text("-1+1"), "'-1+1");
    }
}

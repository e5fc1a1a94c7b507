//! `--format html`: one self-contained page per run (inline style and script, no external asset,
//! no network; it opens from a file). A summary of every control's findings per status; for an
//! organization a filterable table of accounts, failures first; then per account and control the
//! chain drawn as its links, the link where it breaks marked with the exact reason, a filter's
//! counterexample event as JSON, and the remediation plan's steps for the failing controls (beside
//! each finding for one account, once per control at the end of an organization's page).
//!
//! Every text that comes from an account (resource names, patterns, events, messages) is
//! escaped by [`escape`]: the page interprets none of it.

use super::{broken_link_noun, AccountFindings, RunReport, STATUS_ORDER};
use crate::controls::Control;
use crate::model::findings::{ComplianceStatus, Finding, ResourceRef, StatusCounts};
use std::fmt::Write;
use trailwatch_core::remediate::{cli, Plan, Step};

/// `text` with the five characters HTML gives meaning to (in text and quoted attributes)
/// replaced by their character references.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page.
pub fn render(report: &RunReport) -> String {
    let mut page = String::with_capacity(4096 + report.accounts.len() * 8192);
    let title = format!("trailwatch: {}", report.scope);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let _ = writeln!(
        page,
        "<header><h1>{}</h1><p class=\"meta\">CIS AWS Foundations Benchmark v{} · {} account(s) scanned{} · generated {}</p></header>",
        escape(&title),
        report.cis_version,
        report.accounts.len(),
        if report.unscanned.is_empty() {
            String::new()
        } else {
            format!(", {} not scanned", report.unscanned.len())
        },
        escape(&report.generated_at),
    );
    summary(&mut page, report);
    let organization = report.accounts.len() > 1 || !report.unscanned.is_empty();
    if organization {
        account_table(&mut page, report);
    }
    page.push_str("<main>\n");
    for account in report.accounts_worst_first() {
        account_section(&mut page, report, account);
    }
    page.push_str("</main>\n");
    if report.accounts.len() > 1 {
        page.push_str("<section id=\"remediation\"><h2>How to fix</h2>\n");
        for control in &report.controls {
            let _ = writeln!(
                page,
                "<h3 id=\"fix-{}\">{}</h3>",
                escape(control.id),
                escape(control.id)
            );
            remediation(&mut page, control);
            plan_steps(&mut page, &report.plan, control.id);
        }
        page.push_str("</section>\n");
    }
    if organization {
        let _ = writeln!(page, "<script>{SCRIPT}</script>");
    }
    page.push_str("</body>\n</html>\n");
    page
}

/// One header cell per status, worst first, closing the header row and opening the body.
fn status_headers(page: &mut String) {
    for status in STATUS_ORDER {
        let _ = write!(
            page,
            "<th class=\"{}\">{}</th>",
            status_class(status),
            status_label(status)
        );
    }
    page.push_str("</tr></thead>\n<tbody>\n");
}

/// Per control, how many findings (one per account, or per trail for CIS 3.4) have each status.
fn summary(page: &mut String, report: &RunReport) {
    page.push_str(
        "<section id=\"summary\"><h2>Summary: findings per control and status</h2>\n\
         <div class=\"scroll\"><table class=\"summary\"><thead><tr><th>Control</th><th>CIS</th>",
    );
    status_headers(page);
    let mut total = StatusCounts::default();
    for control in &report.controls {
        let findings: Vec<Finding> = report
            .accounts
            .iter()
            .flat_map(|account| account.findings.iter())
            .filter(|finding| finding.control_id == control.id)
            .cloned()
            .collect();
        let counts = StatusCounts::of(&findings);
        add(&mut total, counts);
        let _ = write!(
            page,
            "<tr data-control=\"{}\"><th scope=\"row\">{}<div class=\"control-title\">{}</div>",
            escape(control.id),
            escape(control.id),
            escape(control.title),
        );
        let served = control.framework_requirements();
        if !served.is_empty() {
            let _ = write!(
                page,
                "<div class=\"frameworks\"><span class=\"label\">Also serves:</span> {}</div>",
                escape(&served.join(", ")),
            );
        }
        let _ = write!(
            page,
            "</th><td>{}</td>",
            escape(report.cis_number(control.id).unwrap_or("-")),
        );
        count_cells(page, counts);
        page.push_str("</tr>\n");
    }
    page.push_str("<tr class=\"total\"><th scope=\"row\">All controls</th><td></td>");
    count_cells(page, total);
    page.push_str("</tr>\n</tbody></table></div></section>\n");
}

fn add(total: &mut StatusCounts, counts: StatusCounts) {
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.warning += counts.warning;
    total.not_available += counts.not_available;
}

fn count_of(counts: StatusCounts, status: ComplianceStatus) -> usize {
    match status {
        ComplianceStatus::Passed => counts.passed,
        ComplianceStatus::Warning => counts.warning,
        ComplianceStatus::Failed => counts.failed,
        ComplianceStatus::NotAvailable => counts.not_available,
    }
}

fn count_cells(page: &mut String, counts: StatusCounts) {
    for status in STATUS_ORDER {
        let count = count_of(counts, status);
        let _ = write!(
            page,
            "<td class=\"count{}\">{count}</td>",
            if count > 0 {
                format!(" {}", status_class(status))
            } else {
                String::new()
            }
        );
    }
}

/// The accounts of an organization run, failures first, with a filter.
fn account_table(page: &mut String, report: &RunReport) {
    page.push_str(
        "<section id=\"accounts\"><h2>Accounts</h2>\n<div class=\"filters\">\
         <label>Filter <input id=\"filter\" type=\"search\" placeholder=\"account, name, control or text\"></label> \
         <label>Status <select id=\"status\"><option value=\"\">any</option>\
         <option value=\"failed\">failed</option><option value=\"not-available\">not available</option>\
         <option value=\"warning\">warning</option><option value=\"passed\">all passed</option>\
         <option value=\"unscanned\">not scanned</option></select></label> \
         <span id=\"shown\"></span></div>\n\
         <div class=\"scroll\"><table class=\"accounts\"><thead><tr><th>Account</th><th>Name</th>",
    );
    status_headers(page);
    for unscanned in &report.unscanned {
        let _ = writeln!(
            page,
            "<tr class=\"row unscanned\" data-status=\"unscanned\" data-search=\"{}\"><td>{}</td><td>{}</td><td colspan=\"4\" class=\"reason\">not scanned: {}</td></tr>",
            escape(&format!("{} {} {}", unscanned.account_id, unscanned.name, unscanned.reason).to_lowercase()),
            escape(&unscanned.account_id),
            escape(&unscanned.name),
            escape(&unscanned.reason),
        );
    }
    for account in report.accounts_worst_first() {
        let _ = write!(
            page,
            "<tr class=\"row\" data-status=\"{}\" data-search=\"{}\"><td><a href=\"#account-{}\">{}</a></td><td>{}</td>",
            status_class(account.worst()),
            escape(&search_text(account)),
            escape(&account.account_id),
            escape(&account.account_id),
            escape(&account.name),
        );
        count_cells(page, account.counts());
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table></div></section>\n");
}

/// What the filter box matches an account on: its id, name, and its failing findings' controls
/// and sentences, lowercased.
fn search_text(account: &AccountFindings) -> String {
    let mut text = format!("{} {}", account.account_id, account.name);
    for finding in &account.findings {
        if finding.status != ComplianceStatus::Passed {
            let _ = write!(text, " {} {}", finding.control_id, finding.summary);
        }
    }
    text.to_lowercase()
}

fn account_section(page: &mut String, report: &RunReport, account: &AccountFindings) {
    let _ = write!(
        page,
        "<section class=\"account\" id=\"account-{}\" data-status=\"{}\">\n<h2>Account {}{}</h2>\n",
        escape(&account.account_id),
        status_class(account.worst()),
        escape(&account.account_id),
        if account.name.is_empty() {
            String::new()
        } else {
            format!(" <span class=\"name\">{}</span>", escape(&account.name))
        },
    );
    let mut findings: Vec<&Finding> = account.findings.iter().collect();
    findings.sort_by_key(|finding| {
        (
            super::severity_rank(finding.status),
            report
                .controls
                .iter()
                .position(|control| control.id == finding.control_id),
            finding.resource.id.clone(),
        )
    });
    for finding in findings {
        finding_article(page, report, finding);
    }
    page.push_str("</section>\n");
}

fn finding_article(page: &mut String, report: &RunReport, finding: &Finding) {
    let control = report
        .controls
        .iter()
        .find(|control| control.id == finding.control_id);
    let status = finding.status;
    let mut labels = Vec::new();
    if let Some(number) = report.cis_number(&finding.control_id) {
        labels.push(format!("CIS {number}"));
    }
    if let Some(hub) = control.and_then(|control| control.security_hub) {
        labels.push(hub.to_string());
    }
    let _ = write!(
        page,
        "<article class=\"finding {}\" data-control=\"{}\" data-status=\"{}\">\n\
         <h3><span class=\"badge {}\">{}</span> <span class=\"control\">{}</span> <span class=\"labels\">{}</span></h3>\n",
        status_class(status),
        escape(&finding.control_id),
        status.as_str(),
        status_class(status),
        status_label(status),
        escape(&finding.control_id),
        escape(&labels.join(" · ")),
    );
    if let Some(control) = control {
        let _ = writeln!(page, "<p class=\"title\">{}</p>", escape(control.title));
    }
    if finding.resource.kind != crate::model::findings::ResourceKind::Account {
        let _ = writeln!(
            page,
            "<p class=\"resource\">About {} <code>{}</code></p>",
            escape(finding.resource.kind.noun()),
            escape(&finding.resource.id)
        );
    }
    chain(page, finding);
    // The sentence, where it says more than the chain drawn: the chain's own sentence ends with
    // the missing link's (or is the complete chain), but not `no trail qualifies: …`.
    let drawn = match &finding.evidence.missing {
        Some(missing) => finding.summary.ends_with(&missing.to_string()),
        None => !finding.evidence.chain.is_empty(),
    };
    if !drawn {
        let _ = writeln!(
            page,
            "<p class=\"sentence\"><span class=\"label\">Finding:</span> {}</p>",
            escape(&finding.summary)
        );
    }
    if let Some(event) = finding.evidence.counterexample() {
        let json = serde_json::to_string_pretty(event).unwrap_or_else(|_| event.to_string());
        let _ = writeln!(
            page,
            "<details class=\"counterexample\" open><summary>An event the chain misses</summary><pre>{}</pre></details>",
            escape(&json)
        );
    }
    if status != ComplianceStatus::Passed {
        if let Some(control) = control {
            if report.accounts.len() == 1 {
                remediation(page, control);
                plan_steps(page, &report.plan, control.id);
            } else {
                // Written once per control at the end of a page of many accounts.
                let _ = writeln!(
                    page,
                    "<p class=\"remediation\"><a href=\"#fix-{}\">How to fix</a></p>",
                    escape(control.id)
                );
            }
        }
    }
    page.push_str("</article>\n");
}

/// How to fix a failing control, and where AWS documents it.
fn remediation(page: &mut String, control: &Control) {
    let _ = writeln!(
        page,
        "<p class=\"remediation\">Remediation: {} <a href=\"{}\">{}</a></p>",
        escape(control.remediation),
        escape(control.remediation_url),
        escape(control.remediation_url),
    );
}

/// Most steps the page lists for one control; the rest are one `trailwatch remediate` away.
const STEPS_SHOWN: usize = 20;

/// The remediation plan's steps for `control_id` (the resources' own names, the account and
/// region each runs in, and its AWS CLI commands), in order.
fn plan_steps(page: &mut String, plan: &Plan, control_id: &str) {
    let steps: Vec<&Step> = plan.steps_for(control_id).collect();
    if steps.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<details class=\"plan\" open><summary>The fix for these resources: {} step(s), nothing deleted or replaced (<code>trailwatch remediate --controls {} --format cli|cloudformation|json</code>)</summary>\n<ol>",
        steps.len(),
        escape(control_id)
    );
    for step in steps.iter().take(STEPS_SHOWN) {
        let _ = write!(page, "<li>{}", escape(&step.one_line()));
        let commands = cli::commands(step);
        if !commands.is_empty() {
            let _ = write!(page, "<pre>{}</pre>", escape(&commands.join("\n")));
        }
        page.push_str("</li>\n");
    }
    if steps.len() > STEPS_SHOWN {
        let _ = writeln!(
            page,
            "<li>… and {} more: run <code>trailwatch remediate</code> for the whole plan.</li>",
            steps.len() - STEPS_SHOWN
        );
    }
    page.push_str("</ol></details>\n");
}

/// The chain as its links, in order, and the broken link after the last one found.
fn chain(page: &mut String, finding: &Finding) {
    let evidence = &finding.evidence;
    if evidence.chain.is_empty() && evidence.missing.is_none() {
        return;
    }
    page.push_str("<ol class=\"chain\">");
    for link in &evidence.chain {
        chain_link(page, finding, link);
    }
    if let Some(missing) = &evidence.missing {
        let _ = write!(
            page,
            "<li class=\"link broken {}\" data-missing=\"{}\"><span class=\"kind\">✗ {}</span><span class=\"reason\">{}</span></li>",
            status_class(missing.status()),
            escape(&missing.kind()),
            escape(broken_link_noun(missing)),
            escape(&missing.to_string()),
        );
    }
    page.push_str("</ol>\n");
}

fn chain_link(page: &mut String, finding: &Finding, link: &ResourceRef) {
    let place = if link.account_id != finding.account_id && !link.account_id.is_empty() {
        format!("{} · account {}", link.region, link.account_id)
    } else {
        link.region.clone()
    };
    let _ = write!(
        page,
        "<li class=\"link\" data-kind=\"{}\"><span class=\"kind\">{}</span><span class=\"name\" title=\"{}\">{}</span><span class=\"where\">{}</span></li>",
        escape(link.kind.noun()),
        escape(link.kind.noun()),
        escape(&link.id),
        escape(&link.name),
        escape(&place),
    );
}

/// The CSS class of a status.
fn status_class(status: ComplianceStatus) -> &'static str {
    match status {
        ComplianceStatus::Passed => "passed",
        ComplianceStatus::Warning => "warning",
        ComplianceStatus::Failed => "failed",
        ComplianceStatus::NotAvailable => "not-available",
    }
}

fn status_label(status: ComplianceStatus) -> &'static str {
    match status {
        ComplianceStatus::Passed => "Passed",
        ComplianceStatus::Warning => "Warning",
        ComplianceStatus::Failed => "Failed",
        ComplianceStatus::NotAvailable => "Not available",
    }
}

const STYLE: &str = r#"
:root{--failed:#b3261e;--failed-bg:#fdecea;--warning:#8a5a00;--warning-bg:#fff4d6;--na:#4a4a4a;--na-bg:#ececec;--passed:#1e6b34;--passed-bg:#e6f4ea;--line:#d0d4d9}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;padding:0 1rem 3rem;color:#1b1f24;background:#fafbfc}
header{padding:1rem 0;border-bottom:1px solid var(--line)}
h1{font-size:1.4rem;margin:0}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
h3{font-size:1rem;margin:0 0 .3rem;display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}
.meta,.title,.labels,.where,.control-title{color:#57606a}
.control-title{font-weight:normal;font-size:.85em}
.frameworks{font-weight:normal;font-size:.75em;color:#57606a;max-width:40rem;overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:72rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
td.count{text-align:right;font-variant-numeric:tabular-nums}
td.count.failed{background:var(--failed-bg);color:var(--failed);font-weight:600}
td.count.warning{background:var(--warning-bg);color:var(--warning)}
td.count.not-available{background:var(--na-bg);color:var(--na)}
td.count.passed{background:var(--passed-bg);color:var(--passed)}
tr.total{font-weight:600}
.filters{display:flex;flex-wrap:wrap;gap:.8rem;align-items:center;margin:.5rem 0}
.filters input{min-width:16rem;padding:.25rem}
tr.unscanned td{background:var(--na-bg)}
section.account{margin-top:1.5rem}
.finding{background:#fff;border:1px solid var(--line);border-left:6px solid var(--na);border-radius:4px;padding:.6rem .8rem;margin:.6rem 0;max-width:72rem}
.finding.failed{border-left-color:var(--failed)}
.finding.warning{border-left-color:var(--warning)}
.finding.passed{border-left-color:var(--passed)}
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;font-size:.8rem;font-weight:700;text-transform:uppercase;letter-spacing:.03em}
.badge.failed{background:var(--failed);color:#fff}
.badge.warning{background:var(--warning);color:#fff}
.badge.not-available{background:var(--na);color:#fff}
.badge.passed{background:var(--passed);color:#fff}
.control{font-family:ui-monospace,"DejaVu Sans Mono",monospace}
.title{margin:.1rem 0 .4rem}
ol.chain{list-style:none;display:flex;flex-wrap:wrap;gap:.3rem 0;padding:0;margin:.5rem 0}
ol.chain li{display:flex;flex-direction:column;border:1px solid var(--line);border-radius:4px;padding:.25rem .5rem;background:#f6f8fa;max-width:100%;overflow-wrap:anywhere}
ol.chain li+li{margin-left:1.6rem;position:relative}
ol.chain li+li::before{content:"→";position:absolute;left:-1.3rem;top:.6rem;color:#57606a}
ol.chain .kind{font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:#57606a}
ol.chain .name{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.9rem}
ol.chain .where{font-size:.75rem}
ol.chain li.broken{border:2px dashed var(--failed);background:var(--failed-bg);flex:1 1 18rem}
ol.chain li.broken.warning{border-color:var(--warning);background:var(--warning-bg)}
ol.chain li.broken.not-available{border-color:var(--na);background:var(--na-bg)}
ol.chain li.broken .kind{color:var(--failed);font-weight:700}
ol.chain li.broken .reason{font-size:.9rem}
.sentence{font-size:.9rem;color:#24292f;overflow-wrap:anywhere}
.label{color:#57606a}
.resource code{overflow-wrap:anywhere}
pre{background:#f6f8fa;border:1px solid var(--line);padding:.5rem;overflow-x:auto;font-size:.8rem;max-width:100%}
.remediation{font-size:.85rem;color:#57606a;overflow-wrap:anywhere}
@media (max-width:640px){
 body{padding:0 .5rem 2rem}
 ol.chain{flex-direction:column}
 ol.chain li+li{margin-left:0;margin-top:1.2rem}
 ol.chain li+li::before{content:"↓";left:.5rem;top:-1.2rem}
 ol.chain li.broken{flex:none}
 table.summary .control-title,table.summary .frameworks,table.summary tr>:nth-child(2){display:none}
 thead th{font-size:.75rem}
 td.reason{overflow-wrap:anywhere;min-width:12rem}
 th,td{padding:.2rem .3rem;font-size:.85rem}
 .filters input{min-width:0;width:100%}
}
"#;

/// Filters the account table and the account sections by text and status.
const SCRIPT: &str = r##"
(function(){
  var text=document.getElementById('filter'),status=document.getElementById('status'),shown=document.getElementById('shown');
  var rows=document.querySelectorAll('table.accounts tr.row');
  function apply(){
    var q=text.value.trim().toLowerCase(),s=status.value,n=0;
    rows.forEach(function(r){
      var k=(!q||r.getAttribute('data-search').indexOf(q)>=0)&&(!s||r.getAttribute('data-status')===s);
      r.hidden=!k;if(k)n++;
      var a=r.querySelector('a[href^="#account-"]'),e=a&&document.getElementById(a.getAttribute('href').slice(1));
      if(e)e.hidden=!k;
    });
    shown.textContent=n+' of '+rows.length+' account(s)';
  }
  text.addEventListener('input',apply);status.addEventListener('change',apply);apply();
})();
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::{self, CisVersion};
    use crate::model::findings::{Evidence, ResourceKind};
    use crate::model::missing::MissingLink;
    use crate::report::{AccountFindings, RunReport};

    const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";

    fn link(kind: ResourceKind, name: &str) -> ResourceRef {
        ResourceRef {
            kind,
            id: format!("arn:aws:x:us-east-1:111122223333:{name}"),
            name: name.to_string(),
            region: "us-east-1".to_string(),
            account_id: "111122223333".to_string(),
        }
    }

    fn hostile_report() -> RunReport {
        let missing = MissingLink::FilterDoesNotCover {
            filter: HOSTILE.to_string(),
            other_filters: 0,
            missed: format!("eventName={HOSTILE}"),
            counterexample: serde_json::json!({"eventName": HOSTILE}),
        };
        let finding = Finding {
            control_id: "cloudtrail-changes".to_string(),
            account_id: "111122223333".to_string(),
            partition: "aws".to_string(),
            resource: link(ResourceKind::Account, "111122223333"),
            status: ComplianceStatus::Failed,
            summary: format!("trail {HOSTILE}: {missing}"),
            evidence: Evidence {
                chain: vec![
                    link(ResourceKind::Trail, HOSTILE),
                    link(ResourceKind::LogGroup, HOSTILE),
                ],
                missing: Some(missing),
            },
        };
        RunReport {
            scope: format!("account {HOSTILE}"),
            generated_at: "2026-12-06T05:00:00Z".to_string(),
            cis_version: CisVersion::newest(),
            controls: controls::select("default").unwrap(),
            accounts: vec![AccountFindings {
                account_id: "111122223333".to_string(),
                name: HOSTILE.to_string(),
                findings: vec![finding],
            }],
            unscanned: vec![super::super::Unscanned {
                account_id: "444455556666".to_string(),
                name: HOSTILE.to_string(),
                reason: HOSTILE.to_string(),
            }],
            plan: Plan {
                steps: vec![Step {
                    account_id: "111122223333".to_string(),
                    region: "us-east-1".to_string(),
                    controls: vec!["cloudtrail-changes".to_string()],
                    reason: HOSTILE.to_string(),
                    action: trailwatch_core::remediate::Action::PutMetricFilter {
                        log_group: HOSTILE.to_string(),
                        filter: HOSTILE.to_string(),
                        pattern: HOSTILE.to_string(),
                        metric_name: HOSTILE.to_string(),
                        namespace: HOSTILE.to_string(),
                    },
                }],
                controls: Vec::new(),
            },
        }
    }

    #[test]
    fn text_from_the_account_is_never_markup() {
        let page = render(&hostile_report());
        // The page's own script is the only one, and no image exists.
        assert_eq!(page.matches("<script>").count(), 1, "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(!page.contains("onerror=alert(2)>"), "{page}");
        assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;"));
        // No attribute value is closed early by a quote from the data.
        assert!(!page.contains("\"'&\""), "{page}");
    }

    #[test]
    fn the_broken_link_follows_the_links_found_and_names_its_reason() {
        let page = render(&hostile_report());
        let chain_start = page.find("<ol class=\"chain\">").unwrap();
        let chain = &page[chain_start..page[chain_start..].find("</ol>").unwrap() + chain_start];
        assert_eq!(chain.matches("<li class=\"link\" data-kind=").count(), 2);
        assert!(chain.contains(
            "<li class=\"link broken failed\" data-missing=\"filter_does_not_cover\"><span class=\"kind\">✗ filter</span>"
        ));
        assert!(page.contains("<details class=\"counterexample\" open>"));
    }

    /// The demo account's snapshot, its findings of the default controls, and their plan.
    fn demo() -> (
        crate::model::snapshot::Snapshot,
        Vec<&'static Control>,
        Vec<Finding>,
        Plan,
    ) {
        let snapshot = crate::model::snapshot::Snapshot::from_json(include_str!(
            "../../tests/fixtures/demo-account.snapshot.json"
        ))
        .unwrap();
        let controls = controls::select("default").unwrap();
        let findings = controls::evaluate(&snapshot, &controls, CisVersion::newest());
        let mut plan = Plan::default();
        add_plan(&mut plan, &snapshot, &findings, &controls);
        (snapshot, controls, findings, plan)
    }

    /// Adds the account's plan to `plan`, as `trailwatch scan --format html` does.
    fn add_plan(
        plan: &mut Plan,
        snapshot: &crate::model::snapshot::Snapshot,
        findings: &[Finding],
        controls: &[&'static Control],
    ) {
        plan.add_account(
            snapshot,
            findings,
            &trailwatch_core::remediate::Request {
                controls,
                version: CisVersion::newest(),
                notify: None,
            },
        );
    }

    /// The page of an organization of 1,000 accounts like the demo account (four of five
    /// controls failing, one with a counterexample event): its size, stated in the README.
    #[test]
    fn a_thousand_account_page_stays_within_its_stated_size() {
        let (snapshot, controls, findings, _) = demo();
        let accounts = (0..1000u64)
            .map(|n| AccountFindings {
                account_id: format!("{:012}", 100_000_000_000 + n),
                name: format!("member-{n}"),
                findings: findings.clone(),
            })
            .collect();
        // The members' plans (a copy of one account: the same resources, so the same steps).
        let mut plan = Plan::default();
        for n in 0..1000u64 {
            let member = crate::model::snapshot::Snapshot {
                account_id: format!("{:012}", 100_000_000_000 + n),
                ..snapshot.clone()
            };
            add_plan(&mut plan, &member, &findings, &controls);
        }
        let planned = controls
            .iter()
            .filter(|control| plan.steps_for(control.id).next().is_some())
            .count();
        assert!(planned > 0);
        let report = RunReport {
            scope: "organization".to_string(),
            generated_at: "2026-12-06T05:00:00Z".to_string(),
            cis_version: CisVersion::newest(),
            controls,
            accounts,
            unscanned: Vec::new(),
            plan,
        };
        let page = render(&report);
        let per_account = page.len() / 1000;
        println!(
            "1,000 accounts: {} bytes, {per_account} per account",
            page.len()
        );
        assert!(page.len() < 16_000_000, "{} bytes", page.len());
        assert_eq!(page.matches("<section class=\"account\"").count(), 1000);
        // The plan once per control, at the end: not once per account.
        assert_eq!(page.matches("<details class=\"plan\"").count(), planned);
    }

    /// A control's steps beyond [`STEPS_SHOWN`] are named by their number and the command that
    /// prints them all.
    #[test]
    fn a_long_plan_shows_its_first_steps_and_how_many_more() {
        let mut report = hostile_report();
        let step = report.plan.steps[0].clone();
        report.plan.steps = (0..STEPS_SHOWN + 5)
            .map(|n| Step {
                account_id: format!("{:012}", 100_000_000_000 + n),
                ..step.clone()
            })
            .collect();
        let page = render(&report);
        assert_eq!(page.matches("<li>In account ").count(), STEPS_SHOWN);
        assert!(page.contains("<li>… and 5 more: run <code>trailwatch remediate</code>"));
    }

    /// One account's page shows, beside each failing finding, the steps that fix it with their
    /// commands, filled in with the account's own resources; a passing finding shows none.
    #[test]
    fn a_failing_finding_shows_the_steps_that_fix_it() {
        let (snapshot, controls, findings, plan) = demo();
        assert!(!plan.is_empty());
        let report = RunReport {
            scope: format!("account {}", snapshot.account_id),
            generated_at: "2026-12-06T05:00:00Z".to_string(),
            cis_version: CisVersion::newest(),
            controls,
            accounts: vec![AccountFindings {
                account_id: snapshot.account_id.clone(),
                name: String::new(),
                findings: findings.clone(),
            }],
            unscanned: Vec::new(),
            plan: plan.clone(),
        };
        let page = render(&report);
        let articles: Vec<&str> = page
            .split("<article class=\"finding ")
            .skip(1)
            .map(|rest| &rest[..rest.find("</article>").unwrap()])
            .collect();
        assert_eq!(articles.len(), findings.len());
        for article in articles {
            let control_id = article
                .split("data-control=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap();
            if article.contains("data-status=\"PASSED\"") {
                assert!(!article.contains("class=\"plan\""), "{article}");
                continue;
            }
            let steps: Vec<&Step> = plan.steps_for(control_id).collect();
            assert!(!steps.is_empty(), "{control_id}");
            for step in steps.iter().take(STEPS_SHOWN) {
                assert!(article.contains(&escape(&step.one_line())), "{article}");
                for command in cli::commands(step) {
                    assert!(article.contains(&escape(&command)), "{command}");
                }
            }
        }
    }

    /// The summary names, per control, the other frameworks' requirements it serves
    /// (controls/frameworks), and nothing for a control no source maps.
    #[test]
    fn the_summary_names_the_framework_requirements_each_control_serves() {
        let mut report = hostile_report();
        report.controls =
            controls::select("trail-cw-logs,cloudtrail-changes,organizations-changes").unwrap();
        let page = render(&report);
        let row = |id: &str| {
            let start = page.find(&format!("<tr data-control=\"{id}\">")).unwrap();
            page[start..start + page[start..].find("</tr>").unwrap()].to_string()
        };
        assert!(row("trail-cw-logs").contains("NIST.800-53.r5 AU-6(1)"));
        assert!(row("trail-cw-logs").contains("PCI DSS v3.2.1/10.5.3"));
        assert!(row("cloudtrail-changes").contains(
            "Also serves:</span> NIST.800-171.r2 3.3.8, NIST.800-171.r2 3.14.6, NIST.800-171.r2 3.14.7</div>"
        ));
        assert!(!row("organizations-changes").contains("frameworks"));
    }

    #[test]
    fn escape_replaces_exactly_the_special_characters() {
        assert_eq!(escape("a<b>&\"'c→"), "a&lt;b&gt;&amp;&quot;&#39;c→");
    }
}

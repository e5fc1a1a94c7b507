//! `--format html` in a real browser: the `trailwatch` binary scans an emulator account (and an
//! organization), and headless Chromium — Debian's `chromium`, installed by `scripts/setup.sh` —
//! loads the page from its file, runs it, and dumps the DOM the tests check (every control
//! present, the broken link marked for the failing ones, nothing from the account interpreted);
//! screenshots at a narrow and a wide window go to `target/html-report/` (CI keeps them).

use crate::support::org::{Organization, DENY_ASSUME_TAG, MEMBER_ROLE};
use crate::support::{fresh_account, AlarmSpec, ChainSpec, TestAccount, TrailSpec};
use std::path::{Path, PathBuf};
use std::process::Command;
use trailwatch::controls;

/// An alarm name that runs script if the page interprets it: CloudWatch alarm names may hold
/// any character but ASCII control characters
/// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html,
/// AlarmName: 1–255 characters).
const HOSTILE: &str =
    "<img src=x onerror=\"document.title='PWNED'\"><script>document.body.dataset.pwned=1</script>";

const DEFAULT_CONTROLS: [&str; 5] = [
    "trail-cw-logs",
    "cloudtrail-changes",
    "kms-cmk-disable-delete",
    "config-changes",
    "nacl-changes",
];

fn cis_pattern(id: &str) -> &'static str {
    controls::control(id).unwrap().required_pattern().unwrap()
}

/// Where the pages and screenshots go: `target/html-report/`.
fn report_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("html-report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `trailwatch <args>` as `account`, returning its exit code and standard output.
fn trailwatch(account: &TestAccount, args: &[&str]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trailwatch"));
    command.args(args).env_remove("AWS_PROFILE");
    for (name, value) in account.aws_env() {
        command.env(name, value);
    }
    let output = command.output().expect("the trailwatch binary runs");
    (
        output.status.code(),
        String::from_utf8(output.stdout).expect("the page is UTF-8"),
    )
}

/// Headless Chromium with a fresh profile and nothing that reaches the network.
fn chromium(profile: &Path) -> Command {
    let mut command = Command::new("chromium");
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// Writes `page` as `<name>.html`, screenshots it at a narrow and a wide window, and returns the
/// DOM Chromium built from it (after its script ran).
fn browse(name: &str, page: &str) -> String {
    let dir = report_dir();
    let file = dir.join(format!("{name}.html"));
    std::fs::write(&file, page).unwrap();
    let url = format!("file://{}", file.display());
    let profile = tempfile::tempdir().unwrap();
    let run = |command: &mut Command| {
        let output = command.output().unwrap_or_else(|error| {
            panic!("chromium does not run ({error}): run scripts/setup.sh, which installs it")
        });
        assert!(
            output.status.success(),
            "chromium: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    for (window, size) in [("narrow", "390,1600"), ("wide", "1400,1600")] {
        let shot = dir.join(format!("{name}-{window}.png"));
        let _ = std::fs::remove_file(&shot);
        run(chromium(profile.path())
            .arg(format!("--window-size={size}"))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(&url));
        let png = std::fs::read(&shot).expect("the screenshot was written");
        assert!(png.starts_with(b"\x89PNG"), "{}", shot.display());
    }
    run(chromium(profile.path()).arg("--dump-dom").arg(&url))
}

/// The DOM of each finding, by control id.
fn findings_by_control(dom: &str) -> Vec<(String, String)> {
    dom.split("<article ")
        .skip(1)
        .map(|article| {
            let article = &article[..article.find("</article>").expect("closed article")];
            let control = article
                .split("data-control=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("data-control")
                .to_string();
            (control, article.to_string())
        })
        .collect()
}

/// Nothing of `HOSTILE` ran: the title is the page's own, the body unmarked, and the name shows
/// as text.
fn assert_not_interpreted(dom: &str) {
    assert!(!dom.contains("PWNED</title>"), "the img's onerror ran");
    assert!(!dom.contains("data-pwned"), "the script ran");
    assert!(
        dom.contains("&lt;img src=x onerror=\"document.title='PWNED'\"&gt;&lt;script&gt;")
            || dom.contains("&lt;img src=x onerror=&quot;document.title=&#39;PWNED&#39;&quot;&gt;&lt;script&gt;"),
        "the hostile name is not shown as text"
    );
}

#[tokio::test]
async fn the_page_of_an_account_shows_every_chain_and_where_it_breaks() {
    let account = fresh_account().await;
    // CIS 4.5 complete; 4.7's alarm (named HOSTILE) notifies no topic; 4.9 and 4.11 have no
    // covering filter.
    let seeded = account
        .seed_chain(&ChainSpec::new("page", cis_pattern("cloudtrail-changes")))
        .await;
    account
        .put_metric_filter(
            "us-east-1",
            "CloudTrail/page",
            "kms",
            cis_pattern("kms-cmk-disable-delete"),
            "kms",
            "CISBenchmark",
        )
        .await;
    account
        .put_alarm("us-east-1", &AlarmSpec::new(HOSTILE, "kms", "CISBenchmark"))
        .await;
    assert!(seeded.alarm_arn.is_some());

    let (code, page) = trailwatch(
        &account,
        &["scan", "--regions", "us-east-1", "--format", "html"],
    );
    assert_eq!(code, Some(1), "a control failed");
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    for external in ["src=\"http", "href=\"//", "<link ", "@import", "url("] {
        assert!(!page.contains(external), "external asset {external:?}");
    }
    let dom = browse("account", &page);
    assert_not_interpreted(&dom);

    let findings = findings_by_control(&dom);
    let controls: Vec<&str> = findings.iter().map(|(id, _)| id.as_str()).collect();
    for id in DEFAULT_CONTROLS {
        assert_eq!(
            controls.iter().filter(|c| **c == id).count(),
            1,
            "{id}: {controls:?}"
        );
    }
    for (id, article) in &findings {
        let failed = article.contains("data-status=\"FAILED\"");
        let broken = article.matches("class=\"link broken failed\"").count();
        assert_eq!(broken, usize::from(failed), "{id}: {article}");
        if id == "cloudtrail-changes" {
            assert!(article.contains("data-status=\"PASSED\""), "{article}");
            for kind in [
                "trail",
                "log group",
                "filter",
                "alarm",
                "topic",
                "subscription",
            ] {
                assert!(
                    article.contains(&format!("data-kind=\"{kind}\"")),
                    "{kind}: {article}"
                );
            }
        }
    }
    let kms = &findings
        .iter()
        .find(|(id, _)| id == "kms-cmk-disable-delete")
        .unwrap()
        .1;
    assert!(
        kms.contains("data-missing=\"no_topic_action\"><span class=\"kind\">✗ topic</span>"),
        "{kms}"
    );
    assert!(
        kms.contains("has no SNS topic among its alarm actions"),
        "{kms}"
    );
    let config = &findings
        .iter()
        .find(|(id, _)| id == "config-changes")
        .unwrap()
        .1;
    assert!(
        config.contains("data-missing=\"filter_does_not_cover\""),
        "{config}"
    );
    assert!(
        config.contains("An event the chain misses")
            && config.contains("\"eventSource\": \"config.amazonaws.com\""),
        "{config}"
    );
    // Beside each failing finding, the plan's steps with their commands (a new filter beside the
    // one that does not cover); none beside the passing one.
    assert!(
        config.contains("<details class=\"plan\" open")
            && config.contains("aws logs put-metric-filter --region us-east-1"),
        "{config}"
    );
    assert!(kms.contains("<details class=\"plan\" open"), "{kms}");
    let passing = &findings
        .iter()
        .find(|(id, _)| id == "cloudtrail-changes")
        .unwrap()
        .1;
    assert!(!passing.contains("class=\"plan\""), "{passing}");
}

#[tokio::test]
async fn the_page_of_a_failing_organization_lists_failures_first_and_filters() {
    let organization = Organization::create(3).await;
    let [passing, empty, refusing] = &organization.members[..] else {
        unreachable!()
    };
    let union = [
        "cloudtrail-changes",
        "kms-cmk-disable-delete",
        "config-changes",
        "nacl-changes",
    ]
    .iter()
    .map(|id| format!("({})", crate::support::org::cis_inner(id)))
    .collect::<Vec<_>>()
    .join(" || ");
    // Every control passes: CIS 3.4 too, its trail delivered a minute ago.
    let mut own = ChainSpec::new("own", &format!("{{ {union} }}"));
    own.trail = Some(TrailSpec::new("own-trail").delivered_secs_ago(60));
    passing.seed_chain(&own).await;
    organization
        .tag(refusing, DENY_ASSUME_TAG, MEMBER_ROLE)
        .await;

    let (code, page) = trailwatch(
        &organization.management,
        &[
            "scan",
            "--organization",
            "--role-name",
            MEMBER_ROLE,
            "--regions",
            "us-east-1",
            "--format",
            "html",
        ],
    );
    assert_eq!(code, Some(1));
    let dom = browse("organization", &page);

    // The accounts table: the account that could not be scanned, then failures first.
    let table = &dom[dom
        .find("<table class=\"accounts\">")
        .expect("accounts table")..];
    let table = &table[..table.find("</table>").unwrap()];
    let rows: Vec<&str> = table.split("<tr class=\"row").skip(1).collect();
    assert_eq!(rows.len(), 4, "management, 3 members: {table}");
    assert!(
        rows[0].contains(&refusing.id) && rows[0].contains("not scanned"),
        "{}",
        rows[0]
    );
    let statuses: Vec<&str> = rows[1..]
        .iter()
        .map(|row| {
            row.split("data-status=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(statuses.last(), Some(&"passed"), "{statuses:?}");
    assert!(
        statuses[..statuses.len() - 1]
            .iter()
            .all(|s| *s == "failed"),
        "{statuses:?}"
    );
    assert!(rows.last().unwrap().contains(&passing.id));
    assert!(table.contains(&empty.id));
    // The filter's script ran.
    assert!(
        dom.contains("<span id=\"shown\">4 of 4 account(s)</span>"),
        "{dom}"
    );

    // Every scanned account has a section with every control, broken links where it fails.
    for account in [&organization.management, passing, empty] {
        let start = dom
            .find(&format!("id=\"account-{}\"", account.id))
            .unwrap_or_else(|| panic!("section of {}", account.id));
        let section = &dom[start..];
        let section = &section[..section.find("</section>").unwrap()];
        let findings = findings_by_control(section);
        for id in DEFAULT_CONTROLS {
            assert!(
                findings.iter().any(|(c, _)| c == id),
                "{id} of {}",
                account.id
            );
        }
        for (id, article) in &findings {
            let failed = article.contains("data-status=\"FAILED\"");
            assert_eq!(
                article.contains("class=\"link broken failed\""),
                failed,
                "{id} of {}: {article}",
                account.id
            );
        }
    }
}

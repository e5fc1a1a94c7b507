//! The real Lambda runtime: `trailwatch-lambda` served by cargo-lambda's local runtime
//! (`cargo lambda watch`), invoked with the sample events (`cargo lambda invoke --data-file
//! events/…`) against the moto emulator, and Security Hub read back with GetFindings.
//!
//! One test, in order: an unsupported event is a clear function error (and the function keeps
//! serving); a scheduled run publishes every finding, and a finding the emulator rejects is
//! retried and reported; a rerun keeps the Ids and `CreatedAt` and duplicates nothing; a deleted
//! trail's finding is archived; the direct-invoke sample (a dry run) writes nothing. Then an
//! organization stack: the scheduled event fans out on SQS, and an SQS event made of those
//! messages is scanned, a failing account returned in `batchItemFailures`.
//!
//! cargo-lambda comes from `.venv/bin/cargo-lambda` (`scripts/setup.sh`); `watch` builds the debug
//! binary on the first invocation, so the first call may wait for a build. Its log goes to
//! `target/tmp/cargo-lambda-watch-<port>.log` (`--ignore-changes`: it never rebuilds on its own).

use crate::lambda_organization::sqs_event;
use crate::support::hub::{held_by_id, held_findings};
use crate::support::org::create_stack;
use crate::support::org::{seed_management, Organization, MEMBER_ROLE, THROTTLE_ASSUME_TAG};
use crate::support::{
    fresh_account, on_main_stack, shared_server, ChainSpec, TestAccount, TrailSpec,
};
use aws_sdk_sts::config::ProvideCredentials;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// How long the first invocation may wait for `watch` to build the function.
const BUILD_DEADLINE: Duration = Duration::from_secs(25 * 60);

/// `cargo lambda watch` serving `trailwatch-lambda`, stopped (with its process group) on drop.
struct LocalRuntime {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl LocalRuntime {
    fn start(env: &[(&str, String)]) -> LocalRuntime {
        let port = free_port();
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let env_file = tmp.join(format!("lambda-env-{port}"));
        let lines: String = env
            .iter()
            .map(|(name, value)| {
                // Single quotes: cargo-lambda's env-file parser rejects some bare values (long
                // session tokens).
                assert!(!value.contains('\''), "{name} holds a quote");
                format!("{name}='{value}'\n")
            })
            .collect();
        std::fs::write(&env_file, lines).unwrap();
        let log = tmp.join(format!("cargo-lambda-watch-{port}.log"));
        let log_file = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(cargo_lambda());
        command
            .current_dir(ROOT)
            .args(["lambda", "watch", "--ignore-changes"])
            // The stack's Timeout (template.yaml): the invocation deadline the worker plans by.
            .args(["--timeout", "600"])
            .args(["--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .args(["--bin", "trailwatch-lambda"])
            // The features the deployed function is built with (`package.metadata.lambda` in
            // Cargo.toml, which `watch` does not read): without the command line's `cli`.
            .arg("--no-default-features")
            .arg("--env-file")
            .arg(&env_file)
            .env("PATH", venv_path())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file);
        let child = command.spawn().unwrap_or_else(|error| {
            panic!(
                "cannot run {} (run scripts/setup.sh): {error}",
                cargo_lambda().display()
            )
        });
        LocalRuntime { child, port, log }
    }

    /// Invokes the function with a sample event: its JSON response, or the error output.
    fn invoke(&mut self, event: &str) -> Result<Value, String> {
        self.invoke_file(&Path::new(ROOT).join("events").join(event))
    }

    /// Invokes the function with the event in `path`.
    fn invoke_file(&mut self, path: &Path) -> Result<Value, String> {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "cargo lambda watch exited ({status}); see {}",
                self.log.display()
            );
        }
        let mut invoke = Command::new(cargo_lambda())
            .current_dir(ROOT)
            .args(["lambda", "invoke", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &self.port.to_string()])
            .arg("--data-file")
            .arg(path)
            .args(["--output-format", "json"])
            .arg("trailwatch-lambda")
            .env("PATH", venv_path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cargo lambda invoke");
        // An invocation waits for `watch`'s build; a build that fails would leave it waiting
        // until cargo-lambda's own timeout, so the log is watched meanwhile.
        while invoke.try_wait().expect("cargo lambda invoke").is_none() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains("error: could not compile") {
                let _ = invoke.kill();
                panic!("the function did not build:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let output = invoke.wait_with_output().expect("cargo lambda invoke");
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        if output.status.success() {
            serde_json::from_str(&stdout)
                .map_err(|error| format!("response is not JSON ({error}): {stdout}"))
        } else {
            Err(format!("{stdout}\n{stderr}"))
        }
    }

    /// The first invocation: retried while `watch` is still building or starting.
    fn invoke_when_ready(&mut self, event: &str) -> Result<Value, String> {
        let deadline = Instant::now() + BUILD_DEADLINE;
        loop {
            let outcome = self.invoke(event);
            let answered = match &outcome {
                Ok(_) => true,
                Err(text) => text.contains("errorType") || text.contains("trailwatch."),
            };
            if answered {
                return outcome;
            }
            assert!(
                Instant::now() < deadline,
                "no answer from the function in time: {outcome:?}; see {}",
                self.log.display()
            );
            std::thread::sleep(Duration::from_secs(3));
        }
    }
}

impl Drop for LocalRuntime {
    fn drop(&mut self) {
        // `watch` runs the function in a process group of its own: stop its descendants by id,
        // then `watch` itself.
        let watch = self.child.id();
        for pid in descendants(watch) {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ids of the processes descended from `root`, read from /proc.
fn descendants(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may hold spaces, so split after the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|ppid| ppid.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parents.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(
            parents
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(pid, _)| *pid),
        );
        next += 1;
    }
    found.split_off(1)
}

fn cargo_lambda() -> PathBuf {
    Path::new(ROOT).join(".venv/bin/cargo-lambda")
}

fn venv_path() -> String {
    format!(
        "{}/.venv/bin:{}",
        ROOT,
        std::env::var("PATH").unwrap_or_default()
    )
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The function's environment: the account's credentials on the emulator, one region scanned.
async fn function_env(account: &TestAccount) -> Vec<(&'static str, String)> {
    let mut env = credentials_env(account).await;
    env.extend([
        ("TRAILWATCH_REGIONS", "us-east-1".to_string()),
        ("TRAILWATCH_CONTROLS", "default".to_string()),
        ("RUST_LOG", "info".to_string()),
    ]);
    env
}

/// The emulator's endpoint and `account`'s credentials, as the function's environment.
async fn credentials_env(account: &TestAccount) -> Vec<(&'static str, String)> {
    let credentials = account
        .sdk
        .credentials_provider()
        .expect("credentials")
        .provide_credentials()
        .await
        .expect("credentials");
    vec![
        ("AWS_ENDPOINT_URL", shared_server().endpoint().to_string()),
        ("AWS_ACCESS_KEY_ID", credentials.access_key_id().to_string()),
        (
            "AWS_SECRET_ACCESS_KEY",
            credentials.secret_access_key().to_string(),
        ),
        (
            "AWS_SESSION_TOKEN",
            credentials.session_token().unwrap_or_default().to_string(),
        ),
        ("AWS_REGION", "us-east-1".to_string()),
    ]
}

async fn held(account: &TestAccount) -> BTreeMap<String, (String, String, String)> {
    held_by_id(&account.sdk).await
}

fn count(summary: &Value, field: &str) -> u64 {
    summary[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {summary}"))
}

#[test]
fn the_function_runs_in_the_lambda_runtime_against_the_emulator() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        let pattern = trailwatch::controls::control("cloudtrail-changes")
            .and_then(|control| control.required_pattern())
            .unwrap();
        account.seed_chain(&ChainSpec::new("main", pattern)).await;
        account.create_trail(&TrailSpec::new("extra")).await;
        // The emulator rejects findings whose Id says so: once (then takes it), or always.
        account
            .create_trail(&TrailSpec::new("flaky-trailwatch-test-reject-1"))
            .await;
        account
            .create_trail(&TrailSpec::new("broken-trailwatch-test-reject-99"))
            .await;
        let mut runtime = LocalRuntime::start(&function_env(&account).await);

        // An unsupported event: a function error naming what is expected, not a crash.
        let error = runtime.invoke_when_ready("malformed.json").unwrap_err();
        assert!(error.contains("trailwatch.UnsupportedEvent"), "{error}");
        assert!(error.contains("Scheduled Event"), "{error}");

        // The scheduled event: everything published but the finding rejected every time.
        let first = runtime.invoke("scheduled.json").expect("scheduled run");
        assert_eq!(first["trigger"], "scheduled");
        assert_eq!(first["account_id"], account.id.as_str());
        let failed_ids = first["failed_ids"].as_array().unwrap();
        assert_eq!(failed_ids.len(), 1, "{first}");
        assert!(failed_ids[0]
            .as_str()
            .unwrap()
            .ends_with(":trail/broken-trailwatch-test-reject-99"));
        assert_eq!(first["failures"][0]["code"], "InvalidInput");
        assert_eq!(first["failures"][0]["attempts"], 3);
        let published = count(&first, "published");
        assert!(published >= 7, "{first}");
        assert_eq!(count(&first["api_calls"], "batch_import_findings"), 3);
        let after_first = held(&account).await;
        assert_eq!(after_first.len() as u64, published);
        assert!(after_first
            .keys()
            .any(|id| id.ends_with(":trail/flaky-trailwatch-test-reject-1")));
        assert!(!after_first.contains_key(failed_ids[0].as_str().unwrap()));

        // A rerun: same Ids, CreatedAt kept, nothing duplicated.
        let second = runtime.invoke("scheduled.json").expect("rerun");
        assert_eq!(
            count(&second, "new"),
            1,
            "only the always-rejected one: {second}"
        );
        assert_eq!(count(&second, "updated"), published);
        let after_second = held(&account).await;
        assert_eq!(
            after_second.keys().collect::<Vec<_>>(),
            after_first.keys().collect::<Vec<_>>()
        );
        for (id, (state, created, _)) in &after_second {
            assert_eq!(state, "ACTIVE");
            assert_eq!(created, &after_first[id].1, "CreatedAt of {id} changed");
        }

        // A trail deleted: its finding is archived.
        aws_sdk_cloudtrail::Client::new(&account.sdk)
            .delete_trail()
            .name("extra")
            .send()
            .await
            .unwrap();
        let third = runtime.invoke("scheduled.json").expect("run after delete");
        assert_eq!(count(&third, "archived"), 1, "{third}");
        let after_third = held(&account).await;
        let archived: Vec<_> = after_third
            .iter()
            .filter(|(_, (state, _, _))| state == "ARCHIVED")
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(archived.len(), 1);
        assert!(archived[0].ends_with(":trail/extra"), "{archived:?}");
        assert_eq!(after_third.len(), after_first.len());

        // The direct-invoke sample asks for a dry run: planned, nothing written.
        let dry = runtime.invoke("direct-invoke.json").expect("direct invoke");
        assert_eq!(dry["trigger"], "direct");
        assert_eq!(dry["dry_run"], true);
        assert_eq!(count(&dry["api_calls"], "batch_import_findings"), 0);
        assert_eq!(held(&account).await, after_third);
        drop(runtime);

        organization_stack().await;
    });
}

/// An organization stack under the same runtime: the scheduled event makes the coordinator send
/// one message per member, an SQS event made of those messages has the members scanned, and the
/// member whose AssumeRole is throttled comes back in `batchItemFailures`.
async fn organization_stack() {
    let organization = Organization::create(3).await;
    let [plain, throttled, narrowed_to] = [0, 1, 2].map(|n| &organization.members[n]);
    let management = &organization.management;
    seed_management(management, &narrowed_to.id).await;
    organization.tag(throttled, THROTTLE_ASSUME_TAG, "1").await;
    let stack = create_stack(management).await;
    let mut env = credentials_env(management).await;
    env.extend([
        ("TRAILWATCH_ORGANIZATION", "true".to_string()),
        ("TRAILWATCH_QUEUE_URL", stack.queue.clone()),
        ("TRAILWATCH_MESSAGE_KEY", stack.key.clone()),
        ("TRAILWATCH_MEMBER_ROLE_NAME", MEMBER_ROLE.to_string()),
        ("TRAILWATCH_REGIONS", "us-east-1".to_string()),
        ("RUST_LOG", "info".to_string()),
    ]);
    let mut runtime = LocalRuntime::start(&env);

    let coordinated = runtime
        .invoke_when_ready("scheduled.json")
        .expect("coordinator run");
    assert_eq!(coordinated["messages_sent"], 3, "{coordinated}");
    assert_eq!(coordinated["scanning_account"], management.id.as_str());

    let event = sqs_event(management, &stack.queue, 3).await;
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sqs-{}.json", management.id));
    std::fs::write(&file, event.to_string()).unwrap();
    let worked = runtime.invoke_file(&file).expect("worker run");
    let failures = worked["batchItemFailures"].as_array().expect("{worked}");
    assert_eq!(failures.len(), 1, "{worked}");
    let retried = failures[0]["itemIdentifier"].as_str().unwrap();
    let record = event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|record| record["messageId"] == retried)
        .unwrap();
    assert!(record["body"].as_str().unwrap().contains(&throttled.id));

    for member in [plain, narrowed_to] {
        let findings = held_findings(&member.sdk).await;
        assert_eq!(findings.len(), 4, "member {}", member.id);
        assert!(findings
            .iter()
            .all(|finding| finding.aws_account_id() == Some(member.id.as_str())));
    }
    assert!(held_findings(&throttled.sdk).await.is_empty());
}

//! Test harness: one moto AWS emulator for the test binary, one fresh AWS account per test, and helpers
//! that seed account states through the real SDK calls.
//!
//! # Use
//!
//! ```ignore
//! use crate::support::{fresh_account, TrailSpec};
//!
//! #[tokio::test]
//! async fn something() {
//!     let account = fresh_account().await;           // own account id on the shared server
//!     let group = account.create_log_group("us-east-1", "CloudTrail/main").await;
//!     account.create_trail(&TrailSpec::new("main").log_group(&group)).await;
//!     let sdk = &account.sdk;                         // aws_config::SdkConfig for that account
//!     // … call trailwatch with `sdk`, assert …
//! }
//! ```
//!
//! # What it does
//!
//! - [`MotoServer::start`] runs `tools/moto_wrapper.py` (moto's server plus the patches trailwatch
//!   needs, documented in that file) with the virtualenv's Python — `.venv/bin/python`, installed
//!   by `scripts/setup.sh`; override with `TRAILWATCH_TEST_PYTHON` — on a free 127.0.0.1 port, waits
//!   until it accepts connections, and kills it on drop. Its log goes to
//!   `target/tmp/moto-<port>.log`.
//! - [`shared_server`] starts one server for the test binary, lazily. A static is never dropped, so
//!   the wrapper also exits when its stdin (a pipe held by this process) closes: when the test
//!   binary exits, however it exits.
//! - moto keeps each account's resources apart, keyed by the credentials' account. Credentials
//!   from STS AssumeRole into `arn:aws:iam::<id>:role/…` act as account `<id>`; [`fresh_account`]
//!   does that with a new id for each call, so tests run in parallel on one server without seeing
//!   each other's resources.
//! - [`proxy::FaultProxy`] runs `tools/fault_proxy.py` (latency, throttling, 5xx, resets, slow
//!   answers) in front of the shared server, one per test.
//! - [`TestAccount::denying`] gives the same account through credentials whose AssumeRole session
//!   policy denies some actions (the wrapper enforces such denies): AccessDenied cases.
//! - A region that the wrapper's ListRegions reports DISABLED (`af-south-1`, `ap-east-1`,
//!   `me-south-1`) answers every call with UnrecognizedClientException, as a not-enabled opt-in
//!   region does.
//! - [`TestAccount::sdk`] is an `aws_config::SdkConfig` (endpoint URL, static credentials, region
//!   `us-east-1`) to hand to the code under test; [`TestAccount::sdk_in`] gives another region.
//! - The seeding helpers in [`seed`] (create trail, put event selectors, create log group, put
//!   metric filter, create topic, subscribe, put alarm, and [`ChainSpec`] for a whole CIS chain)
//!   call the same APIs a user would, so the code under test reads what AWS would answer.
//!
//! Emulator controls (see `tools/moto_wrapper.py`): a trail's CloudWatch Logs delivery time comes
//! from its tag `trailwatch-test:latest-cw-delivery` (epoch seconds; no tag, no delivery), set by
//! [`TrailSpec::delivered_secs_ago`]; tag `trailwatch-test:throttle` = N throttles the trail's
//! first N GetTrailStatus calls ([`TrailSpec::throttled`]); an SNS endpoint containing `pending`
//! stays unconfirmed.

pub mod changes;
pub mod hub;
pub mod org;
pub mod proxy;
pub mod seed;
pub mod stack;

pub use seed::{
    log_group_arn, AlarmSettings, AlarmSpec, ChainSpec, SubscriptionSpec, TopicIn, TrailSpec,
};
pub use stack::on_main_stack;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The region of [`TestAccount::sdk`].
pub const DEFAULT_REGION: &str = "us-east-1";

/// A running moto server (the wrapper), killed on drop.
pub struct MotoServer {
    child: Child,
    /// Kept open so the wrapper lives; closing it makes the wrapper exit.
    _stdin: ChildStdin,
    endpoint: String,
    log: PathBuf,
}

impl MotoServer {
    /// Starts the wrapper on a free loopback port and waits until it accepts connections.
    /// Panics (with the log's path) if Python or the wrapper is missing or the server does not
    /// come up within 30 s.
    pub fn start() -> MotoServer {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let python = std::env::var_os("TRAILWATCH_TEST_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".venv/bin/python"));
        let wrapper = root.join("tools/moto_wrapper.py");
        let port = free_port();
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("moto-{port}.log"));
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let mut child = Command::new(&python)
            .arg(&wrapper)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone().expect("clone log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} (run scripts/setup.sh, or set TRAILWATCH_TEST_PYTHON): {e}",
                    python.display()
                )
            });
        let stdin = child.stdin.take().expect("piped stdin");
        let mut server = MotoServer {
            child,
            _stdin: stdin,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_until_listening(port);
        server
    }

    fn wait_until_listening(&mut self, port: u16) {
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "moto wrapper exited with {status}; see {}",
                    self.log.display()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "moto wrapper not listening on {port} after 30 s; see {}",
                    self.log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:<port>`: the endpoint URL for SDK clients.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Account `account_id`, by STS AssumeRole into `role/trailwatch-test` there.
    pub async fn account(&self, account_id: &str) -> TestAccount {
        assume(&self.endpoint, account_id, None).await
    }

    /// A new account id, never returned before by this process.
    pub async fn fresh_account(&self) -> TestAccount {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.account(&format!("{:012}", 210_000_000_000 + n)).await
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test binary's server, started on first use.
pub fn shared_server() -> &'static MotoServer {
    static SERVER: OnceLock<MotoServer> = OnceLock::new();
    SERVER.get_or_init(MotoServer::start)
}

/// A fresh account on the shared server.
pub async fn fresh_account() -> TestAccount {
    shared_server().fresh_account().await
}

/// One emulated AWS account and an SDK configuration that acts as it.
#[derive(Clone)]
pub struct TestAccount {
    /// The 12-digit account id.
    pub id: String,
    /// Endpoint, credentials, region [`DEFAULT_REGION`].
    pub sdk: SdkConfig,
    endpoint: String,
    credentials: Credentials,
}

impl TestAccount {
    /// Environment for a child process (the `trailwatch` binary, a script) to act as this
    /// account on the emulator: endpoint URL, credentials, region, and no shared config files.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            (
                "AWS_ACCESS_KEY_ID",
                self.credentials.access_key_id().to_string(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                self.credentials.secret_access_key().to_string(),
            ),
            (
                "AWS_SESSION_TOKEN",
                self.credentials
                    .session_token()
                    .unwrap_or_default()
                    .to_string(),
            ),
            ("AWS_REGION", DEFAULT_REGION.to_string()),
            ("AWS_CONFIG_FILE", "/dev/null".to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
    }

    /// The same account through credentials whose session policy denies `actions`
    /// (`service:Action`, wildcards allowed; the wrapper enforces session-policy denies): for
    /// AccessDenied cases. Seed with `self`, scan with the result.
    pub async fn denying(&self, actions: &[&str]) -> TestAccount {
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": actions, "Resource": "*"},
            ],
        });
        assume(&self.endpoint, &self.id, Some(&policy.to_string())).await
    }

    /// The same configuration in another region.
    pub fn sdk_in(&self, region: &str) -> SdkConfig {
        self.sdk
            .to_builder()
            .region(Region::new(region.to_string()))
            .build()
    }
}

async fn sdk_config(endpoint: &str, credentials: Credentials, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(credentials)
        .load()
        .await
}

/// STS AssumeRole into `arn:aws:iam::<account_id>:role/trailwatch-test`, optionally with a
/// session policy; moto then treats the credentials as that account's.
async fn assume(endpoint: &str, account_id: &str, session_policy: Option<&str>) -> TestAccount {
    let bootstrap = sdk_config(
        endpoint,
        Credentials::new("test", "test", None, None, "trailwatch-tests"),
        DEFAULT_REGION,
    )
    .await;
    let assumed = aws_sdk_sts::Client::new(&bootstrap)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account_id}:role/trailwatch-test"))
        .role_session_name("trailwatch-test")
        .set_policy(session_policy.map(str::to_string))
        .send()
        .await
        .expect("sts:AssumeRole on moto");
    let credentials = assumed.credentials().expect("AssumeRole credentials");
    let credentials = Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_string()),
        None,
        "trailwatch-tests",
    );
    TestAccount {
        id: account_id.to_string(),
        sdk: sdk_config(endpoint, credentials.clone(), DEFAULT_REGION).await,
        endpoint: endpoint.to_string(),
        credentials,
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

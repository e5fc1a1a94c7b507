//! The latency and fault proxy (`tools/fault_proxy.py`) in front of the shared moto server: one
//! proxy per test, so each test configures its own faults and reads its own stats.
//!
//! ```ignore
//! let account = fresh_account().await;
//! let proxy = FaultProxy::start();                      // in front of shared_server()
//! proxy.configure(&ProxyConfig::seeded(7).fault(Fault::throttle(0.2)));
//! let sdk = proxy.sdk_for(&account);                    // the account's credentials, the proxy's endpoint
//! // … run trailwatch with `sdk` …
//! let stats = proxy.stats();                            // requests per `service:Operation`
//! ```
//!
//! [`FaultProxy::start`] runs the proxy with the virtualenv's Python (as [`super::MotoServer`]
//! does: `.venv/bin/python` or `TRAILWATCH_TEST_PYTHON`) on a port the proxy picks itself (it is
//! given port 0 and announces the one it bound on its first line of output, so no other process
//! can take the port in between), waits for that line, and kills the proxy on drop. Its stdin is
//! a pipe this process holds, so the proxy also exits when the test binary does, however it
//! exits. Its log (the announcement, Python's errors) goes to `target/tmp/fault-proxy-<port>.log`.
//!
//! The control API is spoken over a plain loopback HTTP/1.1 connection: [`FaultProxy::configure`]
//! (`POST /__proxy/config`, which also restarts the seeded generator and the `first` counters),
//! [`FaultProxy::stats`] (`GET /__proxy/stats`) and [`FaultProxy::reset`] (`POST /__proxy/reset`,
//! zeroes the stats). Fault semantics are the proxy's; see its module docstring.

use super::{shared_server, TestAccount};
use aws_config::SdkConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running fault proxy, killed on drop.
pub struct FaultProxy {
    child: Child,
    /// Kept open so the proxy lives; closing it makes the proxy exit.
    _stdin: ChildStdin,
    /// Kept so the proxy never writes into a closed pipe.
    _stdout: Option<ChildStdout>,
    port: u16,
    endpoint: String,
    log: PathBuf,
}

impl FaultProxy {
    /// A proxy in front of the test binary's shared moto server.
    pub fn start() -> FaultProxy {
        Self::start_in_front_of(shared_server().endpoint())
    }

    /// A proxy in front of `upstream` (`http://host:port`). Panics (with the log's path) if Python
    /// or the proxy is missing or it does not announce its port within 30 s.
    pub fn start_in_front_of(upstream: &str) -> FaultProxy {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let python = std::env::var_os("TRAILWATCH_TEST_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".venv/bin/python"));
        let script = root.join("tools/fault_proxy.py");
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        // Named after the port once it is known; until then after this process and a counter.
        static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let early_log = tmp.join(format!("fault-proxy-{}-{n}.log", std::process::id()));
        let log_file = std::fs::File::create(&early_log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", early_log.display()));
        let mut child = Command::new(&python)
            .arg(&script)
            .arg("0")
            .arg(upstream)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} (run scripts/setup.sh, or set TRAILWATCH_TEST_PYTHON): {e}",
                    python.display()
                )
            });
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        // The announcement, read on a thread so that a proxy that never speaks times out.
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line).map(|_| line);
            let _ = sender.send((read, reader.into_inner()));
        });
        let (line, stdout) = match receiver.recv_timeout(Duration::from_secs(30)) {
            Ok((Ok(line), stdout)) if !line.is_empty() => (line, stdout),
            Ok(_) => {
                let status = child.wait().ok();
                panic!(
                    "fault proxy exited ({status:?}) without announcing its port; see {}",
                    early_log.display()
                )
            }
            Err(_) => {
                let _ = child.kill();
                panic!("fault proxy silent for 30 s; see {}", early_log.display())
            }
        };
        let port: u16 = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected announcement {line:?}"));
        let log = tmp.join(format!("fault-proxy-{port}.log"));
        let _ = std::fs::rename(&early_log, &log);
        let _ = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .and_then(|mut file| writeln!(file, "{} (upstream {upstream})", line.trim()));
        FaultProxy {
            child,
            _stdin: stdin,
            _stdout: Some(stdout),
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// `http://127.0.0.1:<port>`: the endpoint URL for SDK clients.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `account`'s SDK configuration (credentials, region) with the proxy as endpoint.
    pub fn sdk_for(&self, account: &TestAccount) -> SdkConfig {
        self.sdk_from(&account.sdk)
    }

    /// `sdk` with the proxy as endpoint.
    pub fn sdk_from(&self, sdk: &SdkConfig) -> SdkConfig {
        sdk.to_builder().endpoint_url(self.endpoint()).build()
    }

    /// Replaces the whole configuration (and restarts the seeded generator and the `first`
    /// counters). Panics if the proxy refuses it.
    pub fn configure(&self, config: &ProxyConfig) {
        let body = serde_json::to_vec(config).expect("config as JSON");
        let (status, answer) = self.control("POST", "/__proxy/config", &body);
        assert_eq!(
            status,
            200,
            "the proxy refused {}: {}",
            String::from_utf8_lossy(&body),
            String::from_utf8_lossy(&answer)
        );
    }

    /// The stats since the start or the last [`FaultProxy::reset`].
    pub fn stats(&self) -> ProxyStats {
        let (status, answer) = self.control("GET", "/__proxy/stats", b"");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
        serde_json::from_slice(&answer).unwrap_or_else(|e| {
            panic!("unexpected stats {}: {e}", String::from_utf8_lossy(&answer))
        })
    }

    /// The stats once no request is in flight any more (the proxy counts a request out only
    /// after its answer is sent, so a client may be done a moment before the proxy): polled for
    /// up to 5 s, then returned as they are.
    pub fn settled_stats(&self) -> ProxyStats {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let stats = self.stats();
            if stats.in_flight == 0 || std::time::Instant::now() > deadline {
                return stats;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Zeroes the stats (the configuration, its generator and `first` counters go on).
    pub fn reset(&self) {
        let (status, answer) = self.control("POST", "/__proxy/reset", b"");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    }

    /// One control request on its own connection: (status, body).
    fn control(&self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let fail = |what: &str, e: std::io::Error| -> ! {
            panic!(
                "fault proxy on {}: {what}: {e}; see {}",
                self.port,
                self.log.display()
            )
        };
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).unwrap_or_else(|e| fail("connect", e));
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap_or_else(|e| fail("timeout", e));
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body))
            .unwrap_or_else(|e| fail("send", e));
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .unwrap_or_else(|e| fail("read", e));
        let split = answer
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no HTTP answer: {}", String::from_utf8_lossy(&answer)));
        let status = String::from_utf8_lossy(&answer[..split])
            .split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or_else(|| panic!("no status: {}", String::from_utf8_lossy(&answer)));
        (status, answer[split + 4..].to_vec())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The proxy's configuration (`POST /__proxy/config`); absent keys take the proxy's defaults.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProxyConfig {
    /// Fixed delay before each request is handled.
    pub latency_ms: u64,
    pub seed: u64,
    /// Which requests the proxy interferes with at all; `None`: every one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    pub faults: Vec<Fault>,
}

impl ProxyConfig {
    /// Forward everything, with no latency, seed `seed`.
    pub fn seeded(seed: u64) -> ProxyConfig {
        ProxyConfig {
            seed,
            ..ProxyConfig::default()
        }
    }

    /// Forward everything after `latency_ms`.
    #[allow(dead_code)] // benches/scan_latency.rs
    pub fn latency(latency_ms: u64) -> ProxyConfig {
        ProxyConfig {
            latency_ms,
            ..ProxyConfig::default()
        }
    }

    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }
}

/// One fault of the configuration (see the proxy's docstring for what each kind does).
#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    pub kind: FaultKind,
    /// The fraction of the eligible requests it takes; `None`: all of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// The operations (`service:Operation`, fnmatch wildcards) it applies to; `None`: all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// Only the first N requests of each matching operation are eligible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<u32>,
    /// HTTP status of a `status` fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Hold of a `slow` fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    /// The protocol's throttling error, not forwarded.
    Throttle,
    /// An HTTP error status in the protocol's shape, not forwarded.
    Status,
    /// A TCP reset instead of an answer, not forwarded.
    Reset,
    /// Forwarded, the answer held for `delay_ms`.
    Slow,
}

impl Fault {
    fn of(kind: FaultKind, rate: f64) -> Fault {
        Fault {
            kind,
            rate: Some(rate),
            operations: None,
            first: None,
            status: None,
            delay_ms: None,
        }
    }

    pub fn throttle(rate: f64) -> Fault {
        Fault::of(FaultKind::Throttle, rate)
    }

    pub fn status(status: u16, rate: f64) -> Fault {
        Fault {
            status: Some(status),
            ..Fault::of(FaultKind::Status, rate)
        }
    }

    pub fn reset(rate: f64) -> Fault {
        Fault::of(FaultKind::Reset, rate)
    }

    pub fn slow(rate: f64, delay_ms: u64) -> Fault {
        Fault {
            delay_ms: Some(delay_ms),
            ..Fault::of(FaultKind::Slow, rate)
        }
    }

    /// Only on these operations.
    pub fn on(mut self, operations: &[&str]) -> Self {
        self.operations = Some(operations.iter().map(|op| op.to_string()).collect());
        self
    }

    /// Only the first `n` requests of each matching operation are eligible.
    pub fn first(mut self, n: u32) -> Self {
        self.first = Some(n);
        self
    }
}

/// `GET /__proxy/stats`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProxyStats {
    /// Per `service:Operation` as IAM spells it.
    pub operations: BTreeMap<String, OperationStats>,
    pub total: OperationStats,
    pub in_flight: u64,
    pub max_in_flight: u64,
}

/// The counters of one operation (or their sums).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct OperationStats {
    /// Every request the proxy saw.
    pub requests: u64,
    /// Sent to moto (slow ones included).
    pub forwarded: u64,
    pub throttled: u64,
    pub status_500: u64,
    pub status_503: u64,
    pub reset: u64,
    pub slow: u64,
    /// Forwarded but not answered by moto.
    pub upstream_failed: u64,
    /// `status_<N>` counters of other statuses.
    #[serde(flatten)]
    pub other: BTreeMap<String, u64>,
}

impl ProxyStats {
    /// Requests per operation, operations with none left out.
    pub fn requests(&self) -> BTreeMap<String, u64> {
        self.operations
            .iter()
            .filter(|(_, stats)| stats.requests > 0)
            .map(|(operation, stats)| (operation.clone(), stats.requests))
            .collect()
    }

    /// The counters of `operation` (zeros if the proxy saw none).
    pub fn of(&self, operation: &str) -> OperationStats {
        self.operations.get(operation).cloned().unwrap_or_default()
    }

    /// Requests the proxy answered with a fault instead of forwarding them.
    pub fn faulted(&self) -> u64 {
        let total = &self.total;
        total.throttled
            + total.status_500
            + total.status_503
            + total.reset
            + total.other.values().sum::<u64>()
    }
}

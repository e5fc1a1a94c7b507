//! What a panicking handler does to its invocation and to the next one, under each panic strategy
//! (issue 12, item 10: the evidence for the Lambda's `panic` setting, README "Performance").
//!
//! A function process is this test binary run again as a child: its ignored test
//! [`function_process`] runs `lambda_runtime::run(service_fn(..))` on a multi-threaded Tokio
//! runtime, wired as `src/bin/trailwatch-lambda.rs` wires the real handler, with a handler that
//! panics on the event `{"panic": true}` and answers any other. The production function has no
//! way to be made to panic: the panicking handler exists only here.
//!
//! The parent plays the Lambda service: a Runtime API emulator on loopback (the documented
//! endpoints lambda_runtime uses: `GET invocation/next`, `POST invocation/<id>/response|error`)
//! hands out two events in order, the panicking one then a normal one, and when the function
//! process exits during an invocation it records that invocation as Lambda does
//! (`Runtime.ExitError`) and starts a new process for the next one (a cold start).
//!
//! - `unwind`: the panic unwinds into lambda_runtime's `CatchPanicService`, which reports it to
//!   the Runtime API as that invocation's error ("Lambda panicked: …"); the same process then
//!   serves the next invocation, warm.
//! - `abort`: tests always build with `panic = "unwind"`, so the child installs a panic hook that
//!   runs the default hook (the message on stderr) and then `std::process::abort()`, which is
//!   what `panic = "abort"` does at a panic: nothing unwinds, so lambda_runtime never sees it.
//!   The process dies with SIGABRT and reports nothing; the invocation fails as
//!   `Runtime.ExitError`, and the next one needs a new process and its init.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Set in the child's environment: the panic strategy it behaves as (`unwind` or `abort`).
const ROLE: &str = "TRAILWATCH_PANIC_TEST_STRATEGY";
const PANIC_MESSAGE: &str = "the handler panicked on purpose";

/// The function process (run only as the child of [`run_function`]).
#[test]
#[ignore = "the function process of the panic-strategy tests, which run it as a child"]
fn function_process() {
    let strategy = std::env::var(ROLE).expect("run by the panic-strategy tests");
    if strategy == "abort" {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default_hook(info);
            std::process::abort();
        }));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(lambda_runtime::run(service_fn(
            |event: LambdaEvent<Value>| async move {
                if event.payload["panic"] == json!(true) {
                    panic!("{PANIC_MESSAGE}");
                }
                Ok::<Value, Diagnostic>(json!({ "handled": event.context.request_id }))
            },
        )))
        .unwrap();
}

#[test]
fn with_unwind_the_panic_is_the_invocations_error_and_the_same_process_serves_the_next() {
    let run = run_function("unwind");
    assert_eq!(run.processes, 1, "{run:#?}");
    match &run.outcomes[0] {
        Outcome::Error {
            process: 1,
            error_type,
            body,
        } => {
            assert_eq!(error_type.as_deref(), Some("unhandled"), "{run:#?}");
            let body: Value = serde_json::from_str(body).unwrap();
            // The error type is the panic payload's type name, not the handler's error types.
            assert_eq!(
                body["errorType"],
                json!("&alloc::boxed::Box<dyn core::any::Any + core::marker::Send>"),
                "{run:#?}"
            );
            assert_eq!(
                body["errorMessage"],
                json!(format!("Lambda panicked: {PANIC_MESSAGE}")),
                "{run:#?}"
            );
        }
        other => panic!("the panicking invocation: {other:?}\n{run:#?}"),
    }
    assert!(
        matches!(&run.outcomes[1], Outcome::Response { process: 1, body } if body.contains("request-1")),
        "the next invocation is served warm by the same process: {run:#?}"
    );
}

#[test]
fn with_abort_the_process_dies_and_the_next_invocation_needs_a_new_one() {
    let run = run_function("abort");
    match &run.outcomes[0] {
        Outcome::ProcessExited { process: 1, status } => {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(6), "SIGABRT: {run:#?}");
        }
        other => panic!("the panicking invocation: {other:?}\n{run:#?}"),
    }
    assert_eq!(
        run.processes, 2,
        "a second process (a cold start): {run:#?}"
    );
    assert!(
        matches!(&run.outcomes[1], Outcome::Response { process: 2, body } if body.contains("request-1")),
        "the next invocation is served by the new process: {run:#?}"
    );
    assert!(
        run.stderr.contains(PANIC_MESSAGE),
        "the panic message still reaches the log: {run:#?}"
    );
}

/// What became of one invocation, and which function process (1, 2, …) had it.
#[derive(Debug, Clone)]
enum Outcome {
    Response {
        process: usize,
        body: String,
    },
    Error {
        process: usize,
        error_type: Option<String>,
        body: String,
    },
    /// The process exited before answering: Lambda's `Runtime.ExitError`.
    ProcessExited {
        process: usize,
        status: ExitStatus,
    },
}

#[derive(Debug)]
struct Run {
    outcomes: Vec<Outcome>,
    /// Function processes started (1 + one per restart).
    processes: usize,
    stderr: String,
}

/// The events handed out, in order.
fn events() -> Vec<Value> {
    vec![json!({ "panic": true }), json!({ "panic": false })]
}

#[derive(Default)]
struct State {
    /// The function process now running (1-based).
    process: usize,
    next_event: usize,
    /// Request id → (event index, process it was handed to).
    in_flight: Vec<(String, usize, usize)>,
    outcomes: Vec<Option<Outcome>>,
    finished: bool,
}

struct Api {
    state: Mutex<State>,
    changed: Condvar,
}

impl Api {
    fn all_answered(state: &State) -> bool {
        state.outcomes.iter().all(Option::is_some)
    }
}

/// Runs function processes behaving as `strategy` against the emulated Runtime API until every
/// event has an outcome.
fn run_function(strategy: &str) -> Run {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let api = Arc::new(Api {
        state: Mutex::new(State {
            outcomes: vec![None; events().len()],
            ..State::default()
        }),
        changed: Condvar::new(),
    });
    {
        let api = Arc::clone(&api);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let api = Arc::clone(&api);
                std::thread::spawn(move || serve(stream, &api));
            }
        });
    }
    let stderr_path = std::env::temp_dir().join(format!(
        "trailwatch-lambda-panic-{strategy}-{}.log",
        std::process::id()
    ));
    let start = |process: usize| -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr_path)
            .unwrap();
        api.state.lock().unwrap().process = process;
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "function_process", "--ignored", "--nocapture"])
            .env(ROLE, strategy)
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "trailwatch")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "panic-test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/trailwatch")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap()
    };
    let mut processes = 1;
    let mut child = start(processes);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if Api::all_answered(&api.state.lock().unwrap()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no outcome for every event in 60 s"
        );
        if let Some(status) = child.try_wait().unwrap() {
            // The Lambda service: the invocation the process held fails with Runtime.ExitError,
            // and the next invocation gets a new process.
            let mut state = api.state.lock().unwrap();
            for (_, index, process) in std::mem::take(&mut state.in_flight) {
                state.outcomes[index] = Some(Outcome::ProcessExited { process, status });
            }
            let pending = !Api::all_answered(&state);
            drop(state);
            if pending {
                processes += 1;
                child = start(processes);
            }
            continue;
        }
        let state = api.state.lock().unwrap();
        let _ = api
            .changed
            .wait_timeout(state, Duration::from_millis(50))
            .unwrap();
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut state = api.state.lock().unwrap();
    state.finished = true;
    api.changed.notify_all();
    Run {
        outcomes: state.outcomes.iter().map(|o| o.clone().unwrap()).collect(),
        processes,
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    }
}

/// One keep-alive connection from the function's Runtime API client.
fn serve(stream: TcpStream, api: &Api) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or_default().to_string(),
            parts.next().unwrap_or_default().to_string(),
        );
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            read_chunked(&mut reader)
        } else {
            let length = header("content-length").map_or(0, |v| v.parse().unwrap());
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            body
        };
        let body = String::from_utf8_lossy(&body).into_owned();
        let reply = match (method.as_str(), path.as_str()) {
            ("GET", "/2018-06-01/runtime/invocation/next") => match next_invocation(api) {
                Some(reply) => reply,
                None => return,
            },
            ("POST", path) if path.starts_with("/2018-06-01/runtime/invocation/") => {
                let rest = &path["/2018-06-01/runtime/invocation/".len()..];
                let (request_id, kind) = rest.split_once('/').unwrap_or((rest, ""));
                let mut state = api.state.lock().unwrap();
                if let Some(at) = state.in_flight.iter().position(|(id, ..)| id == request_id) {
                    let (_, index, process) = state.in_flight.remove(at);
                    state.outcomes[index] = Some(match kind {
                        "response" => Outcome::Response { process, body },
                        _ => Outcome::Error {
                            process,
                            error_type: header("lambda-runtime-function-error-type"),
                            body,
                        },
                    });
                    api.changed.notify_all();
                }
                (202, Vec::new(), r#"{"status":"OK"}"#.to_string())
            }
            _ => (404, Vec::new(), String::new()),
        };
        let (status, extra, body) = reply;
        let mut response = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in extra {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(&body);
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

type Reply = (u16, Vec<(&'static str, String)>, String);

/// The next event for the current process, held until there is one; `None` once the run is over.
fn next_invocation(api: &Api) -> Option<Reply> {
    let mut state = api.state.lock().unwrap();
    while state.next_event >= events().len() {
        if state.finished {
            return None;
        }
        state = api
            .changed
            .wait_timeout(state, Duration::from_millis(100))
            .unwrap()
            .0;
    }
    let index = state.next_event;
    state.next_event += 1;
    let request_id = format!("request-{index}");
    let process = state.process;
    state.in_flight.push((request_id.clone(), index, process));
    let deadline_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 60_000;
    Some((
        200,
        vec![
            ("Lambda-Runtime-Aws-Request-Id", request_id),
            ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
            (
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:us-east-1:123456789012:function:trailwatch".to_string(),
            ),
            (
                "Lambda-Runtime-Trace-Id",
                "Root=1-00000000-000000000000000000000000;Sampled=0".to_string(),
            ),
        ],
        events()[index].to_string(),
    ))
}

fn read_chunked(reader: &mut impl BufRead) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        if reader.read_line(&mut size).unwrap_or(0) == 0 {
            return body;
        }
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap(), 16).unwrap_or(0);
        let mut chunk = vec![0; size + 2]; // the chunk and its CRLF
        if reader.read_exact(&mut chunk).is_err() {
            return body;
        }
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

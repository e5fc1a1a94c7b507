//! Running a test body on a thread with a process main thread's stack.

use std::future::Future;

/// Runs `test` on a current-thread runtime in a thread with the 8 MB stack of a process's main
/// thread (where the trailwatch binaries poll their futures). A test thread's 2 MB are too few for
/// a debug build of the SDK deserializing Security Hub findings (GetFindings) under a few layers
/// of futures. Panics in `test` are re-raised.
pub fn on_main_stack<F: Future<Output = ()>>(test: impl FnOnce() -> F + Send + 'static) {
    let thread = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime")
                .block_on(test())
        })
        .expect("test thread");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

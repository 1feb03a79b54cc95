//! How native work becomes a JavaScript promise: the I/O thread it runs on (`runtime.rs`), the
//! hand-over of an answer to a JS thread waiting in place (`slot.rs`, pure and unit-tested),
//! and settling through one ordered queue per JS environment, callback calls included
//! (`settle.rs`, where all of the binding's unsafe code is); reads answered on the calling
//! thread (`read.rs`), and listings' parts, gathered there or streamed (`parts.rs`).

mod parts;
mod read;
mod runtime;
mod settle;
mod slot;

pub(crate) use parts::{list_now, WholeParts};
pub(crate) use read::read_now;
pub(crate) use settle::{js, run_here, run_now, spawn, spawn_with, Callback};

/// Runs `fut` on the I/O thread with no promise of its own: a task that outlives the call
/// that started it (a streamed batch, whose parts come in later calls).
pub(crate) fn spawn_task(fut: impl std::future::Future<Output = ()> + Send + 'static) {
    runtime::spawn(fut);
}

/// A duration given in µs by the environment variable `name` (the tuning knobs the README's
/// "Threads" section lists), or `default` when unset or not a number.
fn micros_from_env(name: &str, default: std::time::Duration) -> std::time::Duration {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(std::time::Duration::from_micros)
        .unwrap_or(default)
}

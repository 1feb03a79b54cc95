//! The thread every native operation runs on (see settle.rs for how answers reach JavaScript).
//!
//! Everything runs on one single-threaded tokio runtime on a dedicated thread. The kernel
//! answers route requests inside `sendmsg`, queueing one ACK per request; on a multi-threaded
//! runtime each ACK could wake another worker parked in epoll, and those cross-thread wakeups
//! cost more than the kernel's own work for cheap requests (1000 pipelined address additions:
//! 24–28 ms on a two-worker runtime, 13–15 ms on one thread, the raw-socket floor 14 ms). The
//! kernel serialises link changes under one lock anyway, so a single thread loses nothing there.
//!
//! After it finishes a request the thread stays awake for a short while (`TENUS_SPIN_US`,
//! default 300 µs, 0 turns it off) instead of parking: a program awaiting requests one at a
//! time sends the next within microseconds, and waking a parked thread costs tens of
//! microseconds on virtual machines (awaited link reads: ~170 µs each parked, ~50 µs spinning).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Handle};
use tokio::sync::Notify;

const DEFAULT_SPIN: Duration = Duration::from_micros(300);

struct Runtime {
    handle: Handle,
    started: Instant,
    /// When the last request began or ended, in µs since `started`.
    last_activity: AtomicU64,
    spin: Duration,
    wake_spinner: Notify,
}

impl Runtime {
    fn touch(&self) {
        let now = self.started.elapsed().as_micros() as u64;
        self.last_activity.store(now, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = self.last_activity.load(Ordering::Relaxed);
        let now = self.started.elapsed().as_micros() as u64;
        Duration::from_micros(now.saturating_sub(last))
    }

    /// Keeps the thread busy (yielding to every other task) until `spin` passes with no request
    /// starting or ending, then sleeps until the next request.
    async fn spinner(&'static self) {
        loop {
            self.wake_spinner.notified().await;
            while self.idle_for() < self.spin {
                tokio::task::yield_now().await;
            }
        }
    }
}

fn spin_from_env() -> Duration {
    super::micros_from_env("TENUS_SPIN_US", DEFAULT_SPIN)
}

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let rt = Builder::new_current_thread()
            .enable_all()
            .thread_name("tenus-blocking")
            .build()
            .expect("tenus: cannot build the tokio runtime");
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name("tenus-io".into())
            .spawn(move || {
                rt.block_on(async {
                    let runtime = runtime();
                    if runtime.spin.is_zero() {
                        std::future::pending::<()>().await
                    } else {
                        runtime.spinner().await
                    }
                })
            })
            .expect("tenus: cannot start its I/O thread");
        Runtime {
            handle,
            started: Instant::now(),
            last_activity: AtomicU64::new(0),
            spin: spin_from_env(),
            wake_spinner: Notify::new(),
        }
    })
}

/// Makes the runtime's timers and sockets usable from the calling thread (for a future polled
/// there first, `settle::run_here`) until the guard drops.
pub(crate) fn enter() -> tokio::runtime::EnterGuard<'static> {
    runtime().handle.enter()
}

/// Runs `fut` on the I/O thread.
pub(crate) fn spawn(fut: impl Future<Output = ()> + Send + 'static) {
    let rt = runtime();
    rt.handle.spawn(async move {
        rt.touch();
        rt.wake_spinner.notify_one();
        fut.await;
        rt.touch();
    });
}

//! Whether the kernel has lately been slow to take a single request in, so that the calling
//! thread should not send one itself.
//!
//! The kernel handles a route request inside `sendmsg`, under its RTNL lock: while another
//! process holds that lock (deleting a group of 1,000 veth pairs: ~200 ms), every `sendmsg` of
//! a change waits for it, and nothing can take a thread out of that wait. The calling thread,
//! a JavaScript thread, would hold its event loop as long. So once a lone request took longer
//! than `SLOW` to be taken in, to whichever thread sent it, the calling thread sends none
//! itself for `AFTER_SLOW`: its requests go through the sending thread (relay.rs, woken if
//! parked), and one unanswered after `IN_PLACE` is left for another thread (direct.rs). The
//! first slow request of a spell is not avoided: nothing says in advance that the lock is held.
//!
//! Measured (awaited MTU changes in a loop for 8 s, while another process deleted a group of
//! 1,000 veth pairs every ~0.5 s): event-loop stalls of ~180–250 ms, 11–17 before, 2–3 with the
//! 2 ms limit alone (the caller sent half the requests itself: the sending thread, short of CPU,
//! paused), 0–1 with this (AFTER_SLOW 1 s still let a spell through now and then; 10 s did not).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Longer than any request run on the calling thread takes by itself, even in an emulated guest
/// (a veth pair: ~0.3 ms here, ~5–10 ms in the CI's QEMU guest, where 2 ms, the calling thread's
/// own limit, marked most of a test run slow and sent its calls round through other threads);
/// shorter than another process's spells under the lock (a group deletion: ~200 ms).
const SLOW: Duration = Duration::from_millis(50);

/// How long the calling thread sends nothing itself after a slow request.
const AFTER_SLOW: Duration = Duration::from_secs(10);

/// The spells of slow requests of the whole process (RTNL is the kernel's, not a socket's).
static SLOW_SENDS: SlowSends = SlowSends::new();

/// Runs `send` (one request's `sendmsg`), noting it when the kernel took long to take it in.
pub(super) fn timed<R>(send: impl FnOnce() -> R) -> R {
    SLOW_SENDS.timed(send)
}

/// Whether a request was slow to be taken in within the last `AFTER_SLOW`.
pub(super) fn lately() -> bool {
    SLOW_SENDS.lately()
}

struct SlowSends {
    /// Microseconds since `epoch()` at the last slow request's end, plus one (0: none yet).
    last: AtomicU64,
}

impl SlowSends {
    const fn new() -> Self {
        SlowSends {
            last: AtomicU64::new(0),
        }
    }

    fn timed<R>(&self, send: impl FnOnce() -> R) -> R {
        let started = Instant::now();
        let result = send();
        let ended = Instant::now();
        if ended.duration_since(started) > SLOW {
            self.last.store(micros_since_epoch(ended) + 1, Ordering::Relaxed);
        }
        result
    }

    fn lately(&self) -> bool {
        let last = self.last.load(Ordering::Relaxed);
        last != 0 && micros_since_epoch(Instant::now()) < last - 1 + AFTER_SLOW.as_micros() as u64
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn micros_since_epoch(at: Instant) -> u64 {
    at.saturating_duration_since(epoch()).as_micros() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_send_is_remembered_for_a_while_and_a_quick_one_is_not() {
        let slow = SlowSends::new();
        assert!(!slow.lately());
        assert_eq!(slow.timed(|| 7), 7);
        assert!(!slow.lately(), "a quick send counted as slow");
        slow.timed(|| std::thread::sleep(SLOW + Duration::from_millis(1)));
        assert!(slow.lately());
    }
}

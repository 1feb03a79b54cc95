//! Whether the kernel has lately been slow to take a single request in, so that the calling
//! thread should not send one itself.
//!
//! The kernel handles a route request inside `sendmsg`, under its RTNL lock: while another
//! process holds that lock (deleting a group of 1,000 veth pairs: ~200 ms), every `sendmsg` of
//! a change waits for it, and nothing can take a thread out of that wait. The calling thread,
//! a JavaScript thread, would hold its event loop as long. So once a lone request took longer
//! than the calling thread may be held (`IN_PLACE`), to whichever thread sent it, the calling
//! thread sends none itself for `AFTER_SLOW`: its requests go through the sending thread
//! (relay.rs, woken if parked), and one unanswered after `IN_PLACE` is left for another thread
//! (direct.rs). The first slow request of a spell is not avoided: nothing says in advance that
//! the lock is held.
//!
//! Measured (awaited MTU changes in a loop for 8 s, while another process deleted a group of
//! 1,000 veth pairs every ~0.5 s): event-loop stalls of ~180–250 ms, 11–17 before, 2–3 with the
//! 2 ms limit alone (the caller sent half the requests itself: the sending thread, short of CPU,
//! paused), 0–1 with this (AFTER_SLOW 1 s still let a spell through now and then; 10 s did not).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::direct::IN_PLACE;

/// How long the calling thread sends nothing itself after a slow request.
const AFTER_SLOW: Duration = Duration::from_secs(10);

/// The spells of slow requests of the whole process (RTNL is the kernel's, not a socket's).
static SLOW: SlowSends = SlowSends::new();

/// Runs `send` (one request's `sendmsg`), noting it when the kernel took long to take it in.
pub(super) fn timed<R>(send: impl FnOnce() -> R) -> R {
    SLOW.timed(send)
}

/// Whether a request was slow to be taken in within the last `AFTER_SLOW`.
pub(super) fn lately() -> bool {
    SLOW.lately()
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
        if ended.duration_since(started) > IN_PLACE {
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
        slow.timed(|| std::thread::sleep(IN_PLACE + Duration::from_millis(1)));
        assert!(slow.lately());
    }
}

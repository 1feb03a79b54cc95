//! When the sending thread (relay.rs) stops taking requests for a while: pure bookkeeping,
//! shared by that thread and its callers.
//!
//! Trouble is the thread found taken off its CPU while spinning, or a caller that had to take
//! a request back from it. A lone hiccup costs only the request concerned (its caller sent
//! it); trouble again within `CALM` turns means the machine is busy: callers send their own
//! requests for a pause that doubles each time it comes back (`SHORTEST` to `LONGEST`), and is
//! the shortest again once the thread has served `CALM` turns without trouble. A short pause
//! rides out a burst of other work (V8 compiling on the other CPU); a long one keeps a thread
//! that can never get a CPU in time from spinning at all.
//!
//! Before, every hiccup paused, and only a lost CPU (not a take-back) restarted the count of
//! calm turns: on a quiet but noisy virtual machine (a take-back every 100–200 requests) the
//! pauses grew to 16–64 ms, and 10–22 % of 1,000 awaited macvlans were sent by their callers,
//! each 30–70 µs slower than one sent by the thread (the kernel's work lands on the caller's
//! CPU, and the thread parks meanwhile); now 1–8 % in the same sittings (more in a run where
//! the trouble kept coming back).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const SHORTEST: Duration = Duration::from_millis(1);
const LONGEST: Duration = Duration::from_millis(128);
/// Turns of requests (usually one each).
const CALM: u32 = 64;

pub(super) struct Pauses {
    started: Instant,
    /// Until when (µs since `started`) callers send their own requests.
    until_us: AtomicU64,
    /// The next pause's length, µs.
    next_us: AtomicU64,
    /// Turns served since the last trouble, counted up to `CALM`.
    served: AtomicU32,
}

impl Pauses {
    pub(super) fn new() -> Self {
        Pauses {
            started: Instant::now(),
            until_us: AtomicU64::new(0),
            next_us: AtomicU64::new(SHORTEST.as_micros() as u64),
            // No trouble yet: the first is a lone one.
            served: AtomicU32::new(CALM),
        }
    }

    /// Whether callers send their own requests now.
    pub(super) fn paused(&self) -> bool {
        self.paused_at(self.now_us())
    }

    /// The thread sent a turn of requests.
    pub(super) fn sent_turn(&self) {
        // Counted up to `CALM` only: a thread that runs for weeks never wraps around to trouble.
        let counted = self
            .served
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < CALM).then_some(n + 1)
            });
        if counted == Ok(CALM - 1) {
            self.next_us.store(SHORTEST.as_micros() as u64, Ordering::Relaxed);
        }
    }

    /// The thread was descheduled, or too slow to take a request up.
    pub(super) fn trouble(&self) {
        self.trouble_at(self.now_us());
    }

    fn now_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }

    fn paused_at(&self, now_us: u64) -> bool {
        now_us < self.until_us.load(Ordering::Relaxed)
    }

    fn trouble_at(&self, now_us: u64) {
        if self.served.swap(0, Ordering::Relaxed) >= CALM {
            return;
        }
        let pause = self.next_us.load(Ordering::Relaxed);
        self.until_us.store(now_us + pause, Ordering::Relaxed);
        let longest = LONGEST.as_micros() as u64;
        self.next_us.store((pause * 2).min(longest), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pause trouble at `now` starts, in µs (0: none).
    fn pause_after_trouble(p: &Pauses, now: u64) -> u64 {
        p.trouble_at(now);
        p.until_us.load(Ordering::Relaxed).saturating_sub(now)
    }

    fn serve(p: &Pauses, turns: u32) {
        for _ in 0..turns {
            p.sent_turn();
        }
    }

    #[test]
    fn a_lone_hiccup_does_not_pause_but_trouble_again_soon_does_and_longer_each_time() {
        let p = Pauses::new();
        assert_eq!(pause_after_trouble(&p, 10), 0);
        assert!(!p.paused_at(11));
        serve(&p, CALM - 1);
        assert_eq!(pause_after_trouble(&p, 1_000), 1_000);
        assert!(p.paused_at(1_999) && !p.paused_at(2_000));
        serve(&p, 5);
        assert_eq!(pause_after_trouble(&p, 3_000), 2_000);
        assert_eq!(pause_after_trouble(&p, 5_000), 4_000);
    }

    #[test]
    fn pauses_stop_growing_at_the_longest() {
        let p = Pauses::new();
        p.trouble_at(0);
        let pauses: Vec<u64> = (1..=10).map(|i| pause_after_trouble(&p, i * 1_000_000)).collect();
        assert_eq!(pauses[..4], [1_000, 2_000, 4_000, 8_000]);
        assert_eq!(pauses[9], LONGEST.as_micros() as u64);
    }

    #[test]
    fn after_calm_turns_trouble_is_lone_again_and_the_next_pause_the_shortest() {
        let p = Pauses::new();
        p.trouble_at(0);
        for i in 1..=4 {
            pause_after_trouble(&p, i * 1_000_000);
        }
        serve(&p, CALM + 10);
        assert_eq!(p.served.load(Ordering::Relaxed), CALM);
        assert_eq!(pause_after_trouble(&p, 10_000_000), 0);
        assert_eq!(pause_after_trouble(&p, 11_000_000), 1_000);
    }
}

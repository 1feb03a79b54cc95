//! Where the I/O thread leaves an answer for a JS thread that may still be waiting for it in
//! place (see settle.rs). Pure synchronisation, tested here without Node.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WAITING: u8 = 0;
const READY: u8 = 1;
const DETACHED: u8 = 2;

/// Where the I/O thread leaves an answer for a JS thread that may still be waiting for it.
/// Exactly one side settles the promise: the JS thread if the answer is READY before it
/// gives up (DETACHED), the I/O thread otherwise.
pub(crate) struct Slot<T> {
    state: AtomicU8,
    value: Mutex<Option<T>>,
}

impl<T> Slot<T> {
    pub(crate) fn new() -> Self {
        Slot {
            state: AtomicU8::new(WAITING),
            value: Mutex::new(None),
        }
    }

    /// I/O thread: leaves the answer; gives it back when the JS thread stopped waiting.
    pub(crate) fn offer(&self, outcome: T) -> Option<T> {
        let mut value = self.value.lock().unwrap_or_else(|p| p.into_inner());
        *value = Some(outcome);
        match self
            .state
            .compare_exchange(WAITING, READY, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => None,
            Err(_) => value.take(),
        }
    }

    /// JS thread: waits up to `wait` for the answer; None once it has stopped waiting.
    pub(crate) fn wait(&self, wait: Duration) -> Option<T> {
        let start = Instant::now();
        while self.state.load(Ordering::Acquire) == WAITING && start.elapsed() < wait {
            std::hint::spin_loop();
        }
        let ready = match self
            .state
            .compare_exchange(WAITING, DETACHED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => false,
            Err(state) => state == READY,
        };
        if ready {
            self.value.lock().unwrap_or_else(|p| p.into_inner()).take()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn an_answer_in_time_is_taken_by_the_waiter() {
        let slot = Arc::new(Slot::<u32>::new());
        let io = slot.clone();
        let t = std::thread::spawn(move || io.offer(7));
        assert_eq!(slot.wait(Duration::from_secs(5)), Some(7));
        assert!(t.join().unwrap().is_none(), "the I/O side must not settle it too");
    }

    #[test]
    fn an_answer_after_the_waiter_gave_up_goes_back_to_the_io_side() {
        let slot = Slot::<u32>::new();
        assert!(slot.wait(Duration::from_micros(10)).is_none());
        assert_eq!(slot.offer(9), Some(9), "the I/O side settles it");
    }

    #[test]
    fn exactly_one_side_settles_under_races() {
        for i in 0..2000u32 {
            let slot = Arc::new(Slot::<u32>::new());
            let io = slot.clone();
            let t = std::thread::spawn(move || io.offer(i).is_some());
            let js = slot.wait(Duration::from_micros(u64::from(i % 7))).is_some();
            let io_settles = t.join().unwrap();
            assert!(js ^ io_settles, "round {i}: js {js}, io {io_settles}");
        }
    }
}

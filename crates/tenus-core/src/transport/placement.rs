//! Keeps a worker thread (the sending thread, relay.rs) off the CPU of the thread that hands it
//! work. Woken by a caller, the scheduler tends to place a thread on the caller's CPU
//! (wake-affine), where the two take turns instead of working side by side while the other core
//! idles: 1,000 awaited addresses, 10–12 fresh processes, 30.3 ms with the sending thread placed
//! by the scheduler, 25.7–27.8 ms kept off. Only the worker's own affinity changes, within the
//! CPUs it was allowed when it started. (The I/O thread, kept off the JavaScript thread's CPU
//! the same way, gained nothing: 64 address additions in flight, 16.1 ms either way, 12 runs.)

use std::sync::atomic::{AtomicI32, Ordering};

/// The CPU a worker's caller last ran on, as the caller notes it when it hands over work.
#[derive(Debug)]
pub(super) struct CallerCpu(AtomicI32);

impl CallerCpu {
    pub(super) const fn new() -> Self {
        CallerCpu(AtomicI32::new(-1))
    }

    /// Notes the calling thread's CPU.
    pub(super) fn note(&self) {
        self.0.store(unsafe { libc::sched_getcpu() }, Ordering::Relaxed);
    }

    /// The CPU noted last (-1: none yet).
    pub(super) fn get(&self) -> i32 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One worker thread's placement: make it on that thread, and call `keep_off` there.
#[derive(Debug)]
pub(super) struct Placement {
    /// The CPUs this thread may run on, as it started (none: only one, nowhere to go).
    allowed: Option<libc::cpu_set_t>,
    /// The CPU excluded now (-1: none).
    avoiding: i32,
}

impl Placement {
    pub(super) fn new() -> Self {
        Placement {
            allowed: affinity().filter(|set| unsafe { libc::CPU_COUNT(set) } >= 2),
            avoiding: -1,
        }
    }

    /// Moves off `cpu` if this thread runs on it (and may run elsewhere). Cheap when there is
    /// nothing to do (`sched_getcpu` reads the CPU without a system call).
    pub(super) fn keep_off(&mut self, cpu: i32) {
        let Some(allowed) = self.allowed else { return };
        if cpu < 0 || cpu == self.avoiding || unsafe { libc::sched_getcpu() } != cpu {
            return;
        }
        let at = cpu as usize;
        if !unsafe { libc::CPU_ISSET(at, &allowed) } {
            return;
        }
        let mut set = allowed;
        unsafe { libc::CPU_CLR(at, &mut set) };
        if unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) } == 0 {
            self.avoiding = cpu;
        }
    }
}

/// The CPUs the calling thread may run on (None if they cannot be read).
fn affinity() -> Option<libc::cpu_set_t> {
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } == 0;
    ok.then_some(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affinity() -> libc::cpu_set_t {
        super::affinity().expect("this thread's affinity")
    }

    /// Has `placement` keep off the CPU a caller notes on this thread, the way a worker is
    /// told it; returns that CPU. Retried: the thread may move between noting and checking.
    fn keep_off_this_cpu(placement: &mut Placement) -> i32 {
        let caller = CallerCpu::new();
        for _ in 0..1000 {
            caller.note();
            placement.keep_off(caller.get());
            if placement.avoiding == caller.get() {
                return caller.get();
            }
        }
        panic!("never moved off the caller's CPU");
    }

    #[test]
    fn a_worker_moves_off_its_callers_cpu_and_back_onto_it_when_the_caller_moves() {
        std::thread::spawn(|| {
            let mut placement = Placement::new();
            if placement.allowed.is_none() {
                return; // one CPU: nowhere to go
            }
            let here = keep_off_this_cpu(&mut placement);
            assert_ne!(unsafe { libc::sched_getcpu() }, here, "still on the caller's CPU");
            assert!(!unsafe { libc::CPU_ISSET(here as usize, &affinity()) });

            // The caller is now where the worker went: the worker leaves that CPU and may
            // use the first one again.
            let there = keep_off_this_cpu(&mut placement);
            assert_ne!(unsafe { libc::sched_getcpu() }, there);
            assert!(unsafe { libc::CPU_ISSET(here as usize, &affinity()) });
            assert!(!unsafe { libc::CPU_ISSET(there as usize, &affinity()) });
        })
        .join()
        .unwrap();
    }

    #[test]
    fn nothing_changes_while_the_worker_is_elsewhere_or_no_caller_was_noted() {
        std::thread::spawn(|| {
            let mut placement = Placement::new();
            let before = affinity();
            placement.keep_off(CallerCpu::new().get());
            // A CPU this thread is not on: nothing to move off.
            placement.keep_off(libc::CPU_SETSIZE - 1);
            assert_eq!(placement.avoiding, -1);
            assert!(unsafe { libc::CPU_EQUAL(&before, &affinity()) });
        })
        .join()
        .unwrap();
    }
}

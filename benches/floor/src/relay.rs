//! The shape of tenus' awaited call, with nothing of tenus in it (`-relayecho`): each request
//! is sent by a second thread that spins waiting for it, while the calling thread polls the
//! socket for the echo and the ACK — what `tenus-send` and the calling thread do
//! (crates/tenus-core/src/transport/relay.rs). Its difference to `-reqecho` is what that
//! shape costs by itself: the hand-over, and the kernel's work and its answer on two CPUs.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::socket::fail;

/// The sending thread; stopped when dropped.
pub struct Relay {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    fd: RawFd,
    /// How many requests the caller has handed over: the thread sends when it grows.
    posted: AtomicU64,
    message: Mutex<Vec<u8>>,
    stop: AtomicBool,
}

impl Relay {
    /// Starts the thread that sends on `fd` (the caller keeps the socket open until it drops
    /// this). The two threads are kept on different CPUs, as tenus keeps them (placement.rs):
    /// the caller stays on the CPU it runs on, the thread on the others.
    pub fn start(fd: RawFd) -> Self {
        let others = apart();
        let shared = Arc::new(Shared {
            fd,
            posted: AtomicU64::new(0),
            message: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let serving = shared.clone();
        let thread = std::thread::spawn(move || {
            if let Some(set) = others {
                set_affinity(&set);
            }
            serving.serve()
        });
        Relay {
            shared,
            thread: Some(thread),
        }
    }

    /// Hands `message` to the thread. The caller reads its answer before handing over the next,
    /// so the thread has always taken the one before.
    pub fn send(&self, message: &[u8]) {
        let mut slot = self.shared.message.lock().unwrap();
        slot.clear();
        slot.extend_from_slice(message);
        drop(slot);
        self.shared.posted.fetch_add(1, Ordering::Release);
    }
}

/// Pins the calling thread to its CPU; the set of the other CPUs it may use (None: only one).
fn apart() -> Option<libc::cpu_set_t> {
    let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    if unsafe { libc::sched_getaffinity(0, size, &mut allowed) } != 0
        || unsafe { libc::CPU_COUNT(&allowed) } < 2
    {
        return None;
    }
    let here = unsafe { libc::sched_getcpu() };
    if here < 0 {
        return None;
    }
    let mut mine: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    unsafe { libc::CPU_SET(here as usize, &mut mine) };
    set_affinity(&mine);
    let mut others = allowed;
    unsafe { libc::CPU_CLR(here as usize, &mut others) };
    Some(others)
}

fn set_affinity(set: &libc::cpu_set_t) {
    if unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) } != 0 {
        fail(&format!("sched_setaffinity: {}", std::io::Error::last_os_error()));
    }
}

impl Shared {
    fn serve(&self) {
        let mut sent = 0;
        // Copied out of the slot, so that the caller can hand over the next request while
        // this one's `send` is still returning (its answer came before).
        let mut message = Vec::new();
        while !self.stop.load(Ordering::Relaxed) {
            if self.posted.load(Ordering::Acquire) == sent {
                std::hint::spin_loop();
                continue;
            }
            sent += 1;
            message.clear();
            message.extend_from_slice(&self.message.lock().unwrap());
            // SAFETY: a valid buffer and its length; the caller keeps `fd` open until it drops
            // the Relay, which stops this loop first.
            let n = unsafe { libc::send(self.fd, message.as_ptr().cast(), message.len(), 0) };
            if n != message.len() as isize {
                fail(&format!("send: {}", std::io::Error::last_os_error()));
            }
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

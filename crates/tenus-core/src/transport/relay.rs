//! The thread that sends a direct request (direct.rs) while the calling thread reads its answer.
//!
//! The kernel queues deferred work on the CPU that makes a change: every IPv4 address addition
//! queues `check_lifetime`, whose kworker is bound to that CPU and preempts the sending thread as
//! its `sendmsg` returns, before it can read the answer that is already queued (~10 µs a call,
//! plus two context switches, on the critical path of every awaited addition). Sent from this
//! thread, such work runs on this thread's CPU while the caller, on its own, reads the answer as
//! soon as the kernel has queued it; the kernel's work no longer evicts the caller's caches
//! either.
//!
//! It takes a request only while awake: after its last send it spins for `TENUS_SPIN_US`
//! (default 300 µs, as the I/O thread does) and then parks. Waking a parked thread costs more
//! than it saves, so a request that finds it parked is sent by the caller, which wakes it for
//! the requests that follow; so is one it has not taken up within 10 µs (direct.rs: it is
//! busy, or waits for the caller's own CPU). When it finds itself taken off its CPU while
//! spinning, or a request had to be taken back, twice within 64 turns of requests, requests
//! are sent by their callers for a pause (pauses.rs): on a machine whose cores are all busy it
//! stops spinning for the CPU time of the threads it serves. It keeps itself off its callers' CPU
//! (placement.rs). `TENUS_RELAY=0` turns it off.
//!
//! Measured with the bench's own program (1,000 calls awaited one at a time, fresh processes,
//! 6–10 runs, medians, off → on): address additions 30.6 → 22.1 ms, macvlans 189 → 158 ms,
//! veth pairs 431 → 395 ms; 64 additions in flight 16.0 → 14.2 ms (not on this path: noise);
//! with 8 busy loops on the 2 cores, 140 → 160 ms (runs spread 100–232 ms). A fixed 10 ms
//! pause, before, lost most of the gain (28.7 ms: runs split ~23/~31 ms), none at all did
//! worse under load (309 vs 154 ms).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use netlink_sys::Socket;

use super::contended;
use super::pauses::Pauses;
use super::placement::{CallerCpu, Placement};
use super::socket::send_one;

const DEFAULT_SPIN: Duration = Duration::from_micros(300);
/// A turn of the spinning loop takes well under a microsecond: a gap this long means the thread
/// was taken off its CPU.
const DESCHEDULED: Duration = Duration::from_micros(200);

/// Where one relayed request stands, as the calling thread sees it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Not taken by the sending thread yet, since then.
    Queued(Instant),
    Sending,
    /// Sent, by the sending thread or (taken back) by the caller.
    Sent,
    /// `sendmsg` failed with this errno.
    Failed(i32),
}

const QUEUED: i32 = 0;
const SENT: i32 = 1;
const SENDING: i32 = 2;
const TAKEN_BACK: i32 = 3;

struct Request {
    /// QUEUED, SENDING, SENT, TAKEN_BACK, or the negated errno `sendmsg` failed with.
    state: AtomicI32,
    queued_at: Instant,
    message: Vec<u8>,
}

/// One relayed request, shared by the caller and the sending thread.
#[derive(Clone)]
pub(super) struct Relayed(Arc<Request>);

impl Relayed {
    pub(super) fn state(&self) -> State {
        match self.0.state.load(Ordering::Acquire) {
            QUEUED => State::Queued(self.0.queued_at),
            SENDING => State::Sending,
            SENT | TAKEN_BACK => State::Sent,
            e => State::Failed(-e),
        }
    }

    /// Takes the request back if the sending thread has not begun to send it (it is busy, or
    /// shares this thread's CPU), for the caller to send: its bytes.
    pub(super) fn take_back(&self) -> Option<&[u8]> {
        self.0
            .state
            .compare_exchange(QUEUED, TAKEN_BACK, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| self.0.message.as_slice())
    }
}

struct Job {
    /// Held until sent: the socket stays open even if its namespace handle closes meanwhile.
    socket: Arc<Socket>,
    request: Relayed,
}

impl Job {
    /// Sends the request unless its caller took it back meanwhile (and sent it).
    fn send(&self) {
        let request = &self.request.0;
        if request
            .state
            .compare_exchange(QUEUED, SENDING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let code = match contended::timed(|| send_one(&self.socket, &request.message)) {
            Ok(()) => SENT,
            Err(e) => -e.raw_os_error().unwrap_or(libc::EIO),
        };
        request.state.store(code, Ordering::Release);
    }
}

struct Relay {
    queue: Mutex<VecDeque<Job>>,
    has_work: AtomicBool,
    parked: AtomicBool,
    thread: Thread,
    spin: Duration,
    /// When callers send their own requests: the thread found every core busy, or was too
    /// slow to take requests up.
    pauses: Pauses,
    /// The CPU the last caller ran on: the thread keeps off it.
    caller_cpu: CallerCpu,
}

/// Whether direct requests are relayed: not with `TENUS_RELAY=0`, nor with `TENUS_SPIN_US=0`
/// (a thread that parks after every send would be woken for every request).
pub(super) fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var("TENUS_RELAY").map_or(true, |v| v.trim() != "0") && !spin_from_env().is_zero()
    })
}

fn spin_from_env() -> Duration {
    std::env::var("TENUS_SPIN_US")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_SPIN, Duration::from_micros)
}

fn relay() -> &'static Relay {
    static RELAY: OnceLock<Relay> = OnceLock::new();
    RELAY.get_or_init(|| {
        let handle = std::thread::Builder::new()
            .name("tenus-send".into())
            .spawn(|| relay().serve())
            .expect("tenus: cannot start its sending thread");
        Relay {
            queue: Mutex::new(VecDeque::new()),
            has_work: AtomicBool::new(false),
            // Parked until the first request wakes it: that one is sent by its caller.
            parked: AtomicBool::new(true),
            thread: handle.thread().clone(),
            spin: spin_from_env(),
            pauses: Pauses::new(),
            caller_cpu: CallerCpu::new(),
        }
    })
}

impl Relay {
    fn serve(&self) {
        let mut placement = Placement::new();
        // Starts parked (see `parked`'s initial value) until a first request wakes it.
        self.sleep();
        let mut last = Instant::now();
        let mut turn = last;
        loop {
            placement.keep_off(self.caller_cpu.get());
            if self.has_work.swap(false, Ordering::AcqRel) {
                let jobs: Vec<Job> = self
                    .queue
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .drain(..)
                    .collect();
                for job in jobs {
                    job.send();
                }
                self.pauses.sent_turn();
                last = Instant::now();
                turn = last;
                continue;
            }
            let now = Instant::now();
            // Off its CPU between two turns of this loop: every core is busy, and spinning
            // takes CPU time from the threads it would serve.
            let descheduled = now.duration_since(turn) > DESCHEDULED;
            turn = now;
            if descheduled {
                self.pauses.trouble();
            }
            if descheduled || now.duration_since(last) > self.spin {
                self.parked.store(true, Ordering::SeqCst);
                self.sleep();
                last = Instant::now();
                turn = last;
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// Parks until a request is queued or a caller wakes it (clearing `parked`).
    fn sleep(&self) {
        // Dekker with `try_send`: either this sees the work, or the caller sees `parked`.
        while self.parked.load(Ordering::SeqCst) && !self.has_work.load(Ordering::SeqCst) {
            std::thread::park();
        }
        self.parked.store(false, Ordering::SeqCst);
    }
}

/// Hands `message` to the sending thread if it is awake, or if `queue` (an earlier request of
/// the caller's is still queued there: this one must not overtake it). Otherwise gives it back,
/// for the caller to send, and wakes the thread for the requests that follow.
pub(super) fn try_send(socket: &Arc<Socket>, message: Vec<u8>, queue: bool) -> Result<Relayed, Vec<u8>> {
    let r = relay();
    r.caller_cpu.note();
    if !queue && r.pauses.paused() {
        return Err(message);
    }
    if !queue && r.parked.load(Ordering::SeqCst) {
        if r.parked.swap(false, Ordering::SeqCst) {
            r.thread.unpark();
        }
        return Err(message);
    }
    let sent = Relayed(Arc::new(Request {
        state: AtomicI32::new(QUEUED),
        queued_at: Instant::now(),
        message,
    }));
    r.queue.lock().unwrap_or_else(|p| p.into_inner()).push_back(Job {
        socket: socket.clone(),
        request: sent.clone(),
    });
    r.has_work.store(true, Ordering::SeqCst);
    // It may have parked since it was seen awake.
    if r.parked.load(Ordering::SeqCst) {
        r.thread.unpark();
    }
    Ok(sent)
}

/// A caller had to take a request back: the thread is not getting a CPU in time; when that
/// happens again soon, callers send their own requests for a while.
pub(super) fn too_slow() {
    relay().pauses.trouble();
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testpeer::{message, pair, requests};
    use super::*;

    fn settled(sent: &Relayed) -> State {
        let started = Instant::now();
        while matches!(sent.state(), State::Queued(_) | State::Sending) {
            assert!(started.elapsed() < Duration::from_secs(5), "the send never ended");
            std::thread::yield_now();
        }
        sent.state()
    }

    #[test]
    fn queued_requests_are_sent_in_order_and_a_failed_send_reports_its_errno() {
        let (sock, peer) = pair();
        let sock = Arc::new(sock);
        let sent: Vec<Relayed> = (1..=3)
            .map(|seq| try_send(&sock, message(18, 0x5, seq, &[0; 16]), true).expect("queued"))
            .collect();
        let mut buf = vec![0u8; 4096];
        let mut seqs = Vec::new();
        for s in &sent {
            assert_eq!(settled(s), State::Sent);
            let n = peer.recv(&mut buf).unwrap();
            seqs.extend(requests(&buf[..n]).iter().map(|(seq, _)| *seq));
        }
        assert_eq!(seqs, [1, 2, 3]);
        drop(peer);
        let failed = try_send(&sock, message(18, 0x5, 4, &[0; 16]), true).expect("queued");
        assert_eq!(settled(&failed), State::Failed(libc::ECONNREFUSED));
    }

    #[test]
    fn a_request_taken_back_before_it_is_sent_is_not_sent_by_the_thread() {
        let request = |seq| {
            Relayed(Arc::new(Request {
                state: AtomicI32::new(QUEUED),
                queued_at: Instant::now(),
                message: message(18, 0x5, seq, &[0; 16]),
            }))
        };
        let taken = request(7);
        assert_eq!(taken.take_back(), Some(taken.0.message.as_slice()));
        assert_eq!(taken.state(), State::Sent);
        assert_eq!(taken.take_back(), None, "taken back once");
        let sending = request(8);
        sending.0.state.store(SENDING, Ordering::Release);
        assert_eq!(sending.take_back(), None, "the thread is sending it");

        // Queued behind it, a request the thread does send: the peer sees only that one.
        let (sock, peer) = pair();
        let sock = Arc::new(sock);
        let r = relay();
        r.queue.lock().unwrap().push_back(Job {
            socket: sock.clone(),
            request: taken,
        });
        let sent = try_send(&sock, message(18, 0x5, 9, &[0; 16]), true).expect("queued");
        assert_eq!(settled(&sent), State::Sent);
        let mut buf = vec![0u8; 4096];
        let n = peer.recv(&mut buf).unwrap();
        assert_eq!(
            requests(&buf[..n])
                .iter()
                .map(|(seq, _)| *seq)
                .collect::<Vec<_>>(),
            [9]
        );
    }

    #[test]
    fn a_request_that_finds_the_thread_parked_is_given_back_untouched() {
        let (sock, _peer) = pair();
        let sock = Arc::new(sock);
        let r = relay();
        // Tests run in parallel: another's request may wake it between the two steps.
        for _ in 0..100 {
            // Wait until it has parked (it spins for `spin` after its last send).
            let started = Instant::now();
            while !r.parked.load(Ordering::SeqCst) {
                assert!(started.elapsed() < Duration::from_secs(5), "it never parked");
                std::thread::sleep(r.spin.max(Duration::from_micros(100)));
            }
            if let Err(given_back) = try_send(&sock, vec![1, 2, 3], false) {
                assert_eq!(given_back, [1, 2, 3]);
                return;
            }
        }
        panic!("a request that found it parked was never given back");
    }
}

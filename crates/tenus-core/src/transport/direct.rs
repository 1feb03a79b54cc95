//! Answering a request on the calling thread, with no hand-over to the driver task.
//!
//! The kernel handles a route request inside `sendmsg` and queues its answer before the call
//! returns (a dump's next part is made inside `recvmsg`), so a thread that sends a request can
//! read the answer at once: one `sendmsg` and one `recvmsg`, as a C program does. Waking the
//! driver's thread and being woken by it costs more than that for cheap requests (adding an
//! address: ~15 µs in the kernel, tens of µs per thread hop on a virtual machine).
//!
//! It uses its own socket, opened in the namespace beside the driver's, so that the two never
//! read each other's answers; requests on it are not ordered with the driver's, which is why
//! callers use it only when nothing of theirs is waiting on the driver. The same `Pending`
//! state decides what an answer means, so timeouts, dumps and errors behave as on the driver.
//!
//! The requests themselves are sent by another thread when it is awake (relay.rs), so that
//! the work the kernel defers to the sending CPU does not stand between this thread and the
//! answer; this thread reads the answer meanwhile.
//!
//! A request is served here for `IN_PLACE` at most: the calling thread is a JavaScript thread,
//! whose event loop a table of 100,000 routes held for ~75 ms, and a link's MTU change 250 ms
//! while another process deleted a group of 1,000 veth pairs (the kernel's RTNL lock held all
//! along). `run` then leaves the rest (`Ran::Unfinished`) for `finish`, which its caller runs
//! on another thread (driver.rs `finish_direct`); a dump's parts read so far are already with
//! its consumer, and the rest follow as they are read.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use netlink_sys::Socket;
use tokio::time::Instant;

use super::ack::NLM_F_ACK;
use super::contended;
use super::driver::recv_now;
use super::header;
use super::pending::{Job, Pending};
use super::relay::{self, Relayed, State};
use super::socket::send_one;
use crate::error::{Error, Result};

/// A dump part is at most 32 KiB; an ACK with its extended-ACK text far less.
const RECV_BUFFER: usize = 64 * 1024;

/// How long this thread polls the socket without sleeping while a relayed request is being
/// sent (the kernel may sleep in it: a veth pair waits for RCU grace periods, ~0.3 ms); then
/// it sleeps in `poll`, waking every `RELAYED_POLL` to see whether the send failed.
const RELAYED_SPIN: Duration = Duration::from_millis(1);
const RELAYED_POLL: Duration = Duration::from_millis(1);
/// A request the sending thread has not taken up within this (~1 µs when it is awake on
/// another CPU) is taken back and sent from here: that thread is busy, or waits for this CPU.
const TAKE_BACK_AFTER: Duration = Duration::from_micros(10);
/// How long a request is served on the calling thread before the rest is left to `finish`:
/// the event loop of the thread calling goes without a turn for no longer than a run of
/// answers settled in place does (the binding's settle.rs). Requests the kernel usually takes
/// longer over are not run here at all (settle.rs `may_run_here`).
const IN_PLACE: Duration = Duration::from_millis(2);

/// What `Direct::run` leaves to do.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ran {
    /// Every request answered (or timed out).
    Done,
    /// Served here for `IN_PLACE` and not answered yet: the rest is for `finish`.
    Unfinished,
}

pub(super) struct Direct {
    /// Shared with the sending thread while it sends on it.
    socket: Arc<Socket>,
    pending: Pending,
    inbuf: Vec<u8>,
    /// Whether requests go through the sending thread (relay.rs).
    relay: bool,
    /// The relayed requests not known to be sent yet.
    relayed: Vec<Relayed>,
}

impl Direct {
    pub(super) fn new(socket: Socket) -> Self {
        Self::with_relay(socket, relay::enabled())
    }

    fn with_relay(socket: Socket, relay: bool) -> Self {
        Direct {
            socket: Arc::new(socket),
            pending: Pending::new(),
            inbuf: vec![0; RECV_BUFFER],
            relay,
            relayed: Vec::new(),
        }
    }

    /// Sends `job` and reads until it is answered (its reply sent) or its deadline passed, for
    /// `IN_PLACE` at most.
    pub(super) fn run(&mut self, job: Job) -> Ran {
        self.pending.enqueue(job);
        self.serve(Some(Instant::now() + IN_PLACE))
    }

    /// Reads until every request is answered: the rest of what `run` left.
    pub(super) fn finish(&mut self) {
        self.serve(None);
    }

    /// Sends and reads until every request is answered or its deadline passed, or `until`.
    fn serve(&mut self, until: Option<Instant>) -> Ran {
        let mut spinning_since = None;
        // The calling thread (`until` set) sends nothing itself while the kernel has lately
        // been slow to take requests in (contended.rs): the sending thread does, or else
        // `finish`'s thread.
        let shy = until.is_some() && contended::lately();
        if shy && !self.relay && self.pending.queued() > 0 {
            return Ran::Unfinished;
        }
        // A dump abandoned at its deadline is read to its end too: the next dump needs that.
        while !self.pending.is_idle() {
            let now = Instant::now();
            if until.is_some_and(|until| now >= until) {
                return Ran::Unfinished;
            }
            let left_here = until.map(|until| until - now);
            if let Err(e) = self.send_ready(now, shy) {
                self.pending.fail_all(&e);
                return Ran::Done;
            }
            match recv_now(self.socket.as_raw_fd(), &mut self.inbuf) {
                Ok(Some(n)) => {
                    self.pending.on_datagram(&self.inbuf[..n], Instant::now());
                }
                Ok(None) => match self.relayed_state() {
                    Err(e) => self.pending.fail_all(&e),
                    Ok(None) => self.wait_readable(left_here),
                    // Not taken up by the sending thread (busy, or on this CPU): sent from here.
                    Ok(Some(State::Queued(at)))
                        if !shy && at.elapsed() > TAKE_BACK_AFTER && self.relayed.len() == 1 =>
                    {
                        if let Some(message) = self.relayed[0].take_back() {
                            relay::too_slow();
                            let sent = send(&self.socket, message);
                            self.relayed.clear();
                            if let Err(e) = sent {
                                self.pending.fail_all(&e);
                            }
                        }
                    }
                    // Being sent: the answer comes as soon as the kernel has handled it.
                    Ok(Some(_)) if now.duration_since(*spinning_since.get_or_insert(now)) < RELAYED_SPIN => {
                        std::hint::spin_loop()
                    }
                    Ok(Some(_)) => {
                        self.wait_readable(Some(left_here.map_or(RELAYED_POLL, |l| l.min(RELAYED_POLL))))
                    }
                },
                Err(e) => self.pending.fail_all(&e),
            }
        }
        Ran::Done
    }

    /// Where the oldest relayed request not sent yet stands (None: all are sent); the error of
    /// one that failed.
    fn relayed_state(&mut self) -> Result<Option<State>> {
        let mut failed = None;
        self.relayed.retain(|request| match request.state() {
            State::Sent => false,
            State::Failed(errno) => {
                failed.get_or_insert(errno);
                false
            }
            _ => true,
        });
        match failed {
            Some(errno) => Err(Error::os(
                "netlink.send",
                "sendmsg",
                &io::Error::from_raw_os_error(errno),
            )),
            None => Ok(self.relayed.first().map(Relayed::state)),
        }
    }

    /// Sends every request that may go now, one per `sendmsg`, each asking for its ACK (through
    /// the sending thread when it is awake, or always when `shy`).
    fn send_ready(&mut self, now: Instant, shy: bool) -> Result<()> {
        while let Some((seq, mut message)) = self.pending.next_to_send(now) {
            if self.pending.ask_ack(seq) {
                header::add_flags(&mut message, NLM_F_ACK);
            }
            if self.relay {
                // Behind a request of ours still queued there, this one must be queued too.
                let queue = shy || self.relayed_state()?.is_some();
                match relay::try_send(&self.socket, message, queue) {
                    Ok(sent) => {
                        self.relayed.push(sent);
                        continue;
                    }
                    Err(unsent) => message = unsent,
                }
            }
            send(&self.socket, &message)?;
        }
        Ok(())
    }

    /// Nothing queued yet (the kernel answers inside `sendmsg`, so rarely): waits for the socket
    /// until the earliest deadline, or at most `at_most`, and times out what is late.
    fn wait_readable(&mut self, at_most: Option<Duration>) {
        let Some(deadline) = self.pending.next_deadline() else {
            return;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let left = at_most.map_or(left, |most| left.min(most));
        let mut fd = libc::pollfd {
            fd: self.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().min(i32::MAX as u128) as i32;
        // EINTR or a timeout alike: the loop reads again and deadlines are checked here. An
        // answer waiting is read first, late or not: it says whether the request took effect.
        let ready = unsafe { libc::poll(&mut fd, 1, ms.max(1)) };
        if ready > 0 && fd.revents & libc::POLLIN != 0 {
            return;
        }
        self.pending.expire(Instant::now());
    }
}

/// One request, one `sendmsg`.
fn send(socket: &Socket, message: &[u8]) -> Result<()> {
    contended::timed(|| send_one(socket, message)).map_err(|e| Error::os("netlink.send", "sendmsg", &e))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::oneshot;

    use super::super::testpeer::{ack_for, message, pair, requests};
    use super::super::Expect;
    use super::*;

    fn job(expect: Expect, timeout: Duration) -> (Job, oneshot::Receiver<Result<super::super::Reply>>) {
        let (reply, rx) = oneshot::channel();
        (
            Job {
                message: message(18, 0x5, 0, &[0; 16]),
                expect,
                deadline: Instant::now() + timeout,
                timeout,
                reply,
                parts: None,
            },
            rx,
        )
    }

    /// `run`, and `finish` when it left the job unanswered (a busy machine can take longer
    /// than `IN_PLACE` to schedule the peer's thread).
    fn run_to_end(direct: &mut Direct, job: Job) {
        if direct.run(job) == Ran::Unfinished {
            direct.finish();
        }
    }

    #[test]
    fn a_request_is_answered_and_a_quiet_one_asks_for_its_ack() {
        let (sock, peer) = pair();
        let mut direct = Direct::new(sock);
        // The peer answers from another thread.
        let answering = std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            let mut flags = Vec::new();
            for errno in [0, 17] {
                let n = peer.recv(&mut buf).unwrap();
                let (seq, f) = requests(&buf[..n])[0];
                flags.push(f);
                peer.send(&ack_for(seq, errno, Some("exists"))).unwrap();
            }
            flags
        });
        let (quiet, mut r1) = job(Expect::Quiet, Duration::from_secs(5));
        run_to_end(&mut direct, quiet);
        assert!(r1.try_recv().unwrap().is_ok());
        let (ack, mut r2) = job(Expect::Ack, Duration::from_secs(5));
        run_to_end(&mut direct, ack);
        assert!(matches!(
            r2.try_recv().unwrap(),
            Err(Error::Kernel { errno: 17, extack: Some(t), .. }) if t == "exists"
        ));
        let flags = answering.join().unwrap();
        assert!(flags.iter().all(|f| f & NLM_F_ACK != 0), "{flags:?}");
    }

    #[test]
    fn through_the_sending_thread_requests_are_answered_in_order_and_a_failed_send_fails_at_once() {
        let (sock, peer) = pair();
        let mut direct = Direct::with_relay(sock, true);
        const JOBS: usize = 200;
        // Answers at once, as the kernel does: most requests after the first find the sending
        // thread awake and go through it.
        let answering = std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            let mut seqs = Vec::new();
            while seqs.len() < JOBS {
                let n = peer.recv(&mut buf).unwrap();
                for (seq, _) in requests(&buf[..n]) {
                    seqs.push(seq);
                    peer.send(&ack_for(seq, 0, None)).unwrap();
                }
            }
            (seqs, peer)
        });
        for _ in 0..JOBS {
            let (j, mut rx) = job(Expect::Ack, Duration::from_secs(5));
            run_to_end(&mut direct, j);
            assert!(rx.try_recv().unwrap().is_ok());
        }
        let (seqs, peer) = answering.join().unwrap();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        drop(peer);
        let (j, mut rx) = job(Expect::Ack, Duration::from_secs(5));
        let started = std::time::Instant::now();
        run_to_end(&mut direct, j);
        assert!(matches!(
            rx.try_recv().unwrap(),
            Err(Error::Os {
                errno: libc::ECONNREFUSED,
                ..
            })
        ));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_dump_longer_than_its_time_here_is_left_unfinished_and_finished_elsewhere() {
        let (sock, peer) = pair();
        let mut direct = Direct::new(sock);
        const PARTS: usize = 10;
        // Parts 1 ms apart: the dump takes several times its time on the calling thread.
        let answering = std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            let n = peer.recv(&mut buf).unwrap();
            let (seq, _) = requests(&buf[..n])[0];
            for _ in 0..PARTS {
                std::thread::sleep(Duration::from_millis(1));
                peer.send(&message(16, 0x2, seq, &[0; 16])).unwrap();
            }
            peer.send(&message(3, 0x2, seq, &[0; 4])).unwrap();
            peer
        });
        let (dump, mut rx) = job(Expect::Dump, Duration::from_secs(5));
        assert_eq!(direct.run(dump), Ran::Unfinished);
        assert!(rx.try_recv().is_err(), "answered before its last part");
        direct.finish();
        let reply = rx.try_recv().unwrap().unwrap();
        assert_eq!(reply.messages.iter().count(), PARTS);
        answering.join().unwrap();
    }

    #[test]
    fn a_change_unanswered_in_its_time_here_is_left_unfinished_and_finished_elsewhere() {
        let (sock, peer) = pair();
        let mut direct = Direct::new(sock);
        // The kernel waiting for its lock, held by another process.
        let answering = std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            let n = peer.recv(&mut buf).unwrap();
            let (seq, _) = requests(&buf[..n])[0];
            std::thread::sleep(IN_PLACE * 10);
            peer.send(&ack_for(seq, 0, None)).unwrap();
            peer
        });
        let (change, mut rx) = job(Expect::Ack, Duration::from_secs(5));
        // Returns before the answer comes (IN_PLACE × 10 later).
        assert_eq!(direct.run(change), Ran::Unfinished);
        assert!(rx.try_recv().is_err(), "answered before the peer answered");
        direct.finish();
        assert!(rx.try_recv().unwrap().is_ok());
        answering.join().unwrap();
    }

    #[test]
    fn an_answer_that_never_comes_times_out_at_the_deadline() {
        let (sock, _peer) = pair();
        let mut direct = Direct::new(sock);
        let (j, mut rx) = job(Expect::Ack, Duration::from_millis(20));
        let started = std::time::Instant::now();
        run_to_end(&mut direct, j);
        assert!(matches!(
            rx.try_recv().unwrap(),
            Err(Error::Timeout { millis: 20, .. })
        ));
        assert!(started.elapsed() >= Duration::from_millis(20));
    }
}

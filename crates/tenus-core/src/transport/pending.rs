//! The requests of one socket, from queued to answered: sequence numbers, the window, dumps
//! one at a time and nothing overtaking them, quiet requests (done by the answer to a later one), deadlines. Pure state:
//! no socket, no clock of its own (callers pass `now`), so every rule is unit-tested here; the
//! driver (`driver.rs`) moves bytes and calls in.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::ack::{self, Header, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN};
use super::header;
use super::{Expect, Messages, Reply};
use crate::error::{Error, Result};

/// Requests in flight at once. Each ACK costs the receive queue about 1 KiB of skb truesize.
pub const WINDOW: usize = 256;
/// A streamed dump hands its data messages over this many at a time, once its parts have grown
/// to it from `FIRST_PART_MESSAGES`.
pub const PART_MESSAGES: usize = 256;
/// A streamed dump's first part; each next one holds twice as many, up to `PART_MESSAGES`. The
/// consumer (JavaScript, building records) then starts while the kernel is still filling the
/// dump's first datagrams, instead of waiting for a full part.
pub const FIRST_PART_MESSAGES: usize = 32;

/// A request as a caller hands it in.
pub struct Job {
    pub message: Vec<u8>,
    pub expect: Expect,
    /// When the caller stops waiting: set when the request is submitted, so that time spent
    /// queued behind others counts too.
    pub deadline: Instant,
    pub timeout: Duration,
    pub reply: oneshot::Sender<Result<Reply>>,
    pub parts: Option<mpsc::UnboundedSender<Messages>>,
}

struct Request {
    expect: Expect,
    /// Position in sending order (quiet requests are done by answers to later ones).
    order: u64,
    deadline: Instant,
    timeout: Duration,
    reply: oneshot::Sender<Result<Reply>>,
    collected: Reply,
    /// Where a streamed dump's messages go as they arrive (the reply then holds the rest).
    parts: Option<mpsc::UnboundedSender<Messages>>,
    /// How many messages the next part holds.
    part_size: usize,
}

/// What happened to the answer a message brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Nothing for the driver to do.
    Nothing,
    /// A streamed dump handed a part over: stop reading for a moment, so its consumer runs.
    HandedOver,
}

#[derive(Default)]
pub struct Pending {
    /// By sequence number (hashed plainly: SipHash cost every request two hashes).
    requests: FxHashMap<u32, Request>,
    queue: VecDeque<Job>,
    /// The kernel runs one dump per socket at a time (a second gets EBUSY): dumps wait their turn.
    dump_running: bool,
    /// A dump that timed out while the kernel was still producing it: the kernel goes on
    /// until its NLMSG_DONE is read, so the next dump waits for that (and its messages are
    /// read and dropped).
    abandoned_dump: Option<u32>,
    next_seq: u32,
    next_order: u64,
    /// Quiet requests in flight, oldest first: (order, seq).
    quiet: VecDeque<(u64, u32)>,
}

impl Pending {
    pub fn new() -> Self {
        Pending {
            next_seq: 1,
            ..Default::default()
        }
    }

    pub fn in_flight(&self) -> usize {
        self.requests.len()
    }

    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    pub fn is_idle(&self) -> bool {
        self.requests.is_empty() && self.queue.is_empty() && self.abandoned_dump.is_none()
    }

    /// Whether the kernel has answers to send: requests in flight, or an abandoned dump's rest.
    pub fn awaits_answers(&self) -> bool {
        !self.requests.is_empty() || self.abandoned_dump.is_some()
    }

    /// Whether another job may be taken in (the window counts queued and in-flight ones).
    pub fn has_room(&self) -> bool {
        self.requests.len() + self.queue.len() < WINDOW
    }

    pub fn enqueue(&mut self, job: Job) {
        self.queue.push_back(job);
    }

    /// The next request to send, with its sequence number stamped in (and NLM_F_ACK cleared
    /// for a quiet one), or None when the window is full or nothing can go yet.
    ///
    /// Requests go in the order they were queued, and a dump is one of them: nothing queued
    /// after a dump goes until its end. A change sent while a dump runs makes the kernel flag
    /// the dump's next part as interrupted (the table changed underway), and the dump is read
    /// again: 50 link deletions started after a listing of 300 pairs interrupted it on every
    /// attempt, and the listing failed with EINTR, all by the caller's own doing. A dump also
    /// waits for the one before it, even abandoned at its deadline: the kernel runs one dump
    /// per socket (a second gets EBUSY) until its NLMSG_DONE is read.
    pub fn next_to_send(&mut self, now: Instant) -> Option<(u32, Vec<u8>)> {
        if self.dump_running && self.abandoned_dump.is_none() {
            return None;
        }
        let mut out = None;
        while let Some(job) = self.queue.pop_front() {
            if self.requests.len() >= WINDOW {
                self.queue.push_front(job);
                break;
            }
            if job.reply.is_closed() {
                continue; // the caller gave up before it was sent
            }
            if job.deadline <= now {
                let _ = job.reply.send(Err(timeout(job.timeout)));
                continue;
            }
            if job.expect == Expect::Dump && self.dump_running {
                self.queue.push_front(job);
                break;
            }
            let mut message = job.message;
            if message.len() < ack::NLMSG_HDRLEN {
                let _ = job.reply.send(Err(Error::Protocol {
                    op: String::new(),
                    detail: "request shorter than a netlink header".into(),
                }));
                continue;
            }
            let seq = self.take_seq();
            header::set_seq(&mut message, seq);
            if matches!(job.expect, Expect::Quiet | Expect::Reply) {
                header::clear_flags(&mut message, ack::NLM_F_ACK);
            }
            self.dump_running |= job.expect == Expect::Dump;
            let order = self.next_order;
            self.next_order += 1;
            if job.expect == Expect::Quiet {
                self.quiet.push_back((order, seq));
            }
            self.requests.insert(
                seq,
                Request {
                    expect: job.expect,
                    order,
                    deadline: job.deadline,
                    timeout: job.timeout,
                    reply: job.reply,
                    collected: Reply::default(),
                    parts: job.parts,
                    part_size: FIRST_PART_MESSAGES,
                },
            );
            out = Some((seq, message));
            break;
        }
        out
    }

    /// A quiet request last in a `sendmsg` must ask for an ACK after all: its answer tells
    /// that the quiet ones before it are done. True when `seq` was quiet (the caller sets
    /// NLM_F_ACK on it in the bytes it is about to send).
    pub fn ask_ack(&mut self, seq: u32) -> bool {
        match self.requests.get_mut(&seq) {
            Some(r) if r.expect == Expect::Quiet => {
                r.expect = Expect::Ack;
                true
            }
            _ => false,
        }
    }

    fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        seq
    }

    /// Forgets a request; a finished dump lets the next one go.
    fn finish(&mut self, seq: u32) -> Option<Request> {
        let request = self.requests.remove(&seq)?;
        if request.expect == Expect::Dump {
            self.dump_running = false;
        }
        Some(request)
    }

    /// Answers a request: late answers (past the deadline) are timeouts, whatever they say, but
    /// one that says done is a timeout of a request that took effect (a rollback undoes it).
    fn answer(request: Request, result: Result<Reply>, now: Instant) {
        let result = if now > request.deadline {
            Err(late(request.timeout, result.is_ok()))
        } else {
            result
        };
        let _ = request.reply.send(result);
    }

    /// Quiet requests sent before the one of `order` got no failure: they are done.
    fn settle_quiet_before(&mut self, order: u64, now: Instant) {
        while let Some(&(o, seq)) = self.quiet.front() {
            if o >= order {
                break;
            }
            self.quiet.pop_front();
            // Skipped when it failed (answered already) or was turned into an acked one.
            if self
                .requests
                .get(&seq)
                .is_some_and(|r| r.order == o && r.expect == Expect::Quiet)
            {
                if let Some(mut r) = self.finish(seq) {
                    let collected = std::mem::take(&mut r.collected);
                    Self::answer(r, Ok(collected), now);
                }
            }
        }
    }

    /// One message the kernel sent.
    pub fn on_message(&mut self, msg: &[u8], hdr: &Header, now: Instant) -> Received {
        // Only while quiet requests are in flight does an answer need its request's order.
        if !self.quiet.is_empty() {
            if let Some(order) = self.requests.get(&hdr.seq).map(|r| r.order) {
                self.settle_quiet_before(order, now);
            }
        }
        if self.abandoned_dump == Some(hdr.seq) {
            if matches!(hdr.kind, NLMSG_DONE | NLMSG_ERROR) {
                self.abandoned_dump = None;
                self.dump_running = false;
            }
            return Received::Nothing;
        }
        let Some(request) = self.requests.get_mut(&hdr.seq) else {
            return Received::Nothing; // late reply to a request that timed out, or a notification
        };
        if hdr.flags & ack::NLM_F_DUMP_INTR != 0 {
            request.collected.interrupted = true;
        }
        match hdr.kind {
            NLMSG_NOOP | NLMSG_OVERRUN => Received::Nothing,
            NLMSG_ERROR => {
                self.complete(hdr.seq, ack::parse_error(msg, hdr), now);
                Received::Nothing
            }
            NLMSG_DONE if request.expect == Expect::Dump => {
                self.complete(hdr.seq, ack::parse_done(msg, hdr), now);
                Received::Nothing
            }
            _ if request.expect == Expect::Reply => {
                request.collected.messages.push(msg);
                self.complete(hdr.seq, ack::Ack::default(), now);
                Received::Nothing
            }
            _ => {
                request.collected.messages.push(msg);
                match &request.parts {
                    Some(parts) if request.collected.messages.len() >= request.part_size => {
                        let _ = parts.send(std::mem::take(&mut request.collected.messages));
                        request.part_size = (request.part_size * 2).min(PART_MESSAGES);
                        Received::HandedOver
                    }
                    _ => Received::Nothing,
                }
            }
        }
    }

    /// Every message of one datagram; HandedOver when a streamed dump handed a part over.
    pub fn on_datagram(&mut self, mut buf: &[u8], now: Instant) -> Received {
        let mut received = Received::Nothing;
        while let Some(hdr) = ack::header(buf) {
            if self.on_message(&buf[..hdr.len], &hdr, now) == Received::HandedOver {
                received = Received::HandedOver;
            }
            buf = &buf[ack::align4(hdr.len).min(buf.len())..];
        }
        received
    }

    fn complete(&mut self, seq: u32, outcome: ack::Ack, now: Instant) {
        let Some(mut request) = self.finish(seq) else {
            return;
        };
        let result = if outcome.errno == 0 {
            request.collected.warning = outcome.message;
            Ok(std::mem::take(&mut request.collected))
        } else {
            Err(Error::Kernel {
                errno: outcome.errno,
                op: String::new(),
                link: None,
                extack: outcome.message,
                extack_offset: outcome.offset,
            })
        };
        Self::answer(request, result, now);
    }

    /// The earliest deadline of anything in flight or queued.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.requests
            .values()
            .map(|r| r.deadline)
            .chain(self.queue.iter().map(|j| j.deadline))
            .min()
    }

    /// Times out everything whose deadline has passed.
    pub fn expire(&mut self, now: Instant) {
        let expired: Vec<u32> = self
            .requests
            .iter()
            .filter(|(_, r)| r.deadline <= now)
            .map(|(s, _)| *s)
            .collect();
        for seq in expired {
            if let Some(r) = self.finish(seq) {
                if r.expect == Expect::Dump {
                    self.abandoned_dump = Some(seq);
                    self.dump_running = true;
                }
                let _ = r.reply.send(Err(timeout(r.timeout)));
            }
        }
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for job in self.queue.drain(..) {
            if job.deadline <= now {
                let _ = job.reply.send(Err(timeout(job.timeout)));
            } else {
                kept.push_back(job);
            }
        }
        self.queue = kept;
    }

    /// Fails everything (the socket broke: ENOBUFS, a closed peer, ...).
    pub fn fail_all(&mut self, error: &Error) {
        self.dump_running = false;
        self.abandoned_dump = None;
        self.quiet.clear();
        for (_, r) in self.requests.drain() {
            let _ = r.reply.send(Err(error.clone()));
        }
        for job in self.queue.drain(..) {
            let _ = job.reply.send(Err(error.clone()));
        }
    }
}

/// A request with no answer by its deadline (sent or not, nothing says it took effect).
fn timeout(timeout: Duration) -> Error {
    late(timeout, false)
}

/// A request whose answer came after its deadline; `applied`: the answer said done.
fn late(timeout: Duration, applied: bool) -> Error {
    Error::Timeout {
        op: String::new(),
        link: None,
        millis: timeout.as_millis() as u64,
        applied,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testpeer::{ack_for, message};
    use super::*;

    fn job(expect: Expect, timeout_ms: u64, now: Instant) -> (Job, oneshot::Receiver<Result<Reply>>) {
        let (reply, rx) = oneshot::channel();
        let timeout = Duration::from_millis(timeout_ms);
        (
            Job {
                message: message(18, 0x5, 0, &[0; 16]),
                expect,
                deadline: now + timeout,
                timeout,
                reply,
                parts: None,
            },
            rx,
        )
    }

    fn answer(p: &mut Pending, bytes: &[u8], now: Instant) {
        let hdr = ack::header(bytes).unwrap();
        p.on_message(bytes, &hdr, now);
    }

    #[test]
    fn sequence_numbers_are_stamped_and_quiet_requests_lose_their_ack_flag() {
        let now = Instant::now();
        let mut p = Pending::new();
        let (a, _ra) = job(Expect::Ack, 1000, now);
        let (q, _rq) = job(Expect::Quiet, 1000, now);
        p.enqueue(a);
        p.enqueue(q);
        let (s1, m1) = p.next_to_send(now).unwrap();
        let (s2, m2) = p.next_to_send(now).unwrap();
        assert_eq!((s1, s2), (1, 2));
        assert_eq!(header::seq(&m1), 1);
        assert_ne!(header::flags(&m1) & ack::NLM_F_ACK, 0);
        assert_eq!(header::flags(&m2) & ack::NLM_F_ACK, 0);
        assert!(p.next_to_send(now).is_none());
    }

    #[test]
    fn an_answer_after_the_deadline_is_a_timeout_that_says_whether_it_was_done() {
        let now = Instant::now();
        let mut p = Pending::new();
        let (done, mut r1) = job(Expect::Ack, 1, now);
        let (refused, mut r2) = job(Expect::Ack, 1, now);
        let (quiet, mut r3) = job(Expect::Quiet, 1, now);
        let (last, mut r4) = job(Expect::Ack, 1, now);
        for j in [done, refused, quiet, last] {
            p.enqueue(j);
        }
        let seqs: Vec<u32> = (0..4).map(|_| p.next_to_send(now).unwrap().0).collect();
        // The kernel answered, but 30 ms later (a slow request inside sendmsg, say); the quiet
        // request is done by the answer to the one after it.
        let later = now + Duration::from_millis(30);
        answer(&mut p, &ack_for(seqs[0], 0, None), later);
        answer(&mut p, &ack_for(seqs[1], 17, None), later);
        answer(&mut p, &ack_for(seqs[3], 0, None), later);
        for (rx, done) in [
            (&mut r1, true),
            (&mut r2, false),
            (&mut r3, true),
            (&mut r4, true),
        ] {
            assert!(matches!(
                rx.try_recv().unwrap(),
                Err(Error::Timeout { millis: 1, applied, .. }) if applied == done
            ));
        }
    }

    #[test]
    fn a_job_queued_past_its_deadline_times_out_unsent() {
        let now = Instant::now();
        let mut p = Pending::new();
        let (d1, _r1) = job(Expect::Dump, 1000, now);
        let (d2, mut r2) = job(Expect::Dump, 5, now);
        p.enqueue(d1);
        p.enqueue(d2);
        assert!(p.next_to_send(now).is_some());
        assert!(
            p.next_to_send(now).is_none(),
            "the second dump waits for the first"
        );
        assert_eq!(p.next_deadline(), Some(now + Duration::from_millis(5)));
        p.expire(now + Duration::from_millis(6));
        assert!(matches!(r2.try_recv().unwrap(), Err(Error::Timeout { .. })));
        assert_eq!(p.queued(), 0);
    }

    #[test]
    fn a_dump_that_timed_out_holds_the_next_until_the_kernel_finishes_it() {
        let now = Instant::now();
        let mut p = Pending::new();
        let (d1, mut r1) = job(Expect::Dump, 1, now);
        let (d2, mut r2) = job(Expect::Dump, 1000, now);
        p.enqueue(d1);
        p.enqueue(d2);
        let (s1, _) = p.next_to_send(now).unwrap();
        p.expire(now + Duration::from_millis(2));
        assert!(matches!(r1.try_recv().unwrap(), Err(Error::Timeout { .. })));
        // The kernel is still producing the first dump: a second now would get EBUSY.
        assert!(p.next_to_send(now).is_none());
        assert!(p.awaits_answers() && !p.is_idle());
        answer(&mut p, &message(16, 0x2, s1, &[0; 16]), now);
        assert!(
            p.next_to_send(now).is_none(),
            "a data message of the old dump is dropped"
        );
        answer(&mut p, &message(NLMSG_DONE, 0x2, s1, &[0; 4]), now);
        let (s2, _) = p.next_to_send(now).unwrap();
        answer(&mut p, &message(NLMSG_DONE, 0x2, s2, &[0; 4]), now);
        assert!(r2.try_recv().unwrap().is_ok());
        assert!(p.is_idle());
    }

    #[test]
    fn quiet_requests_are_done_by_a_later_answer_and_failures_land_on_their_own() {
        let now = Instant::now();
        let mut p = Pending::new();
        let mut rx = Vec::new();
        for _ in 0..5 {
            let (j, r) = job(Expect::Quiet, 1000, now);
            p.enqueue(j);
            rx.push(r);
        }
        let seqs: Vec<u32> = (0..5).map(|_| p.next_to_send(now).unwrap().0).collect();
        assert!(p.ask_ack(seqs[4]), "the last of a sendmsg asks for an ACK");
        answer(&mut p, &ack_for(seqs[1], 17, Some("exists")), now);
        answer(&mut p, &ack_for(seqs[4], 0, None), now);
        let results: Vec<bool> = rx.iter_mut().map(|r| r.try_recv().unwrap().is_ok()).collect();
        assert_eq!(results, [true, false, true, true, true]);
        assert!(p.is_idle());
    }

    #[test]
    fn a_reply_request_asks_for_no_ack_and_is_done_at_its_answer_or_its_error() {
        let now = Instant::now();
        let mut p = Pending::new();
        let (quiet, mut rq) = job(Expect::Quiet, 1000, now);
        let (found, mut r1) = job(Expect::Reply, 1000, now);
        let (missing, mut r2) = job(Expect::Reply, 1000, now);
        for j in [quiet, found, missing] {
            p.enqueue(j);
        }
        let sent: Vec<(u32, Vec<u8>)> = (0..3).map(|_| p.next_to_send(now).unwrap()).collect();
        assert_eq!(header::flags(&sent[1].1) & ack::NLM_F_ACK, 0);
        assert!(!p.ask_ack(sent[2].0), "a reply comes without an ACK");
        // The object (an RTM_NEWLINK) answers the first: done, and the quiet one before it too.
        let object = message(16, 0, sent[1].0, &[0; 16]);
        answer(&mut p, &object, now);
        let reply = r1.try_recv().unwrap().unwrap();
        assert_eq!(
            reply.messages.iter().map(<[u8]>::to_vec).collect::<Vec<_>>(),
            vec![object]
        );
        assert!(rq.try_recv().unwrap().is_ok());
        // The second has no object: the kernel says why.
        answer(&mut p, &ack_for(sent[2].0, libc::ENODEV, None), now);
        assert!(matches!(
            r2.try_recv().unwrap(),
            Err(Error::Kernel {
                errno: libc::ENODEV,
                ..
            })
        ));
        assert!(p.is_idle());
    }

    #[test]
    fn nothing_queued_after_a_dump_goes_before_its_end() {
        let now = Instant::now();
        let mut p = Pending::new();
        let (before, _r0) = job(Expect::Ack, 1000, now);
        let (dump, mut rd) = job(Expect::Dump, 1000, now);
        let (after, _r1) = job(Expect::Ack, 1000, now);
        let (second_dump, _r2) = job(Expect::Dump, 1000, now);
        let (last, _r3) = job(Expect::Ack, 1000, now);
        for j in [before, dump, after, second_dump, last] {
            p.enqueue(j);
        }
        // What was queued before the dump goes with it; what came after waits.
        let s0 = p.next_to_send(now).unwrap().0;
        let sd = p.next_to_send(now).unwrap().0;
        assert!(p.next_to_send(now).is_none(), "a request overtook a running dump");
        answer(&mut p, &ack_for(s0, 0, None), now);
        answer(&mut p, &message(16, 0x2, sd, &[0; 16]), now);
        assert!(
            p.next_to_send(now).is_none(),
            "a request went out before the dump's end"
        );
        answer(&mut p, &message(NLMSG_DONE, 0x2, sd, &[0; 4]), now);
        assert!(rd.try_recv().unwrap().is_ok());
        // Then in order: the request, the second dump, and the last waits for that one.
        let s1 = p.next_to_send(now).unwrap().0;
        let sd2 = p.next_to_send(now).unwrap().0;
        assert!(s1 < sd2);
        assert!(
            p.next_to_send(now).is_none(),
            "a request overtook the second dump"
        );
        answer(&mut p, &message(NLMSG_DONE, 0x2, sd2, &[0; 4]), now);
        assert!(p.next_to_send(now).is_some());
    }

    #[test]
    fn the_window_bounds_what_is_in_flight() {
        let now = Instant::now();
        let mut p = Pending::new();
        let mut rx = Vec::new();
        for _ in 0..WINDOW + 10 {
            let (j, r) = job(Expect::Ack, 1000, now);
            p.enqueue(j);
            rx.push(r);
        }
        let mut sent = 0;
        while p.next_to_send(now).is_some() {
            sent += 1;
        }
        assert_eq!(sent, WINDOW);
        assert_eq!(p.queued(), 10);
    }
}

//! The task that owns a socket: it takes serialized requests from callers through a channel,
//! packs as many as the window allows into one `sendmsg`, reads the answers and hands each to
//! the request's state (`pending.rs`), which completes the caller's oneshot. Everything about
//! which request an answer belongs to, and when it is done or late, is decided there.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use netlink_sys::Socket;
use tokio::io::unix::AsyncFd;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::ack::NLM_F_ACK;
use super::direct::{Direct, Ran};
use super::header;
use super::pending::{Job, Pending, Received};
use super::socket::send_one;
use crate::error::{Error, Result};

/// Upper bound on bytes handed to one `sendmsg` (the default netlink send buffer is 208 KiB).
const SEND_CHUNK: usize = 64 * 1024;
/// Upper bound on requests in one `sendmsg`: the kernel handles them all inside the call, and
/// on a non-preemptible kernel 256 address changes hold a CPU for tens of milliseconds.
const SEND_MAX_MESSAGES: usize = 32;
/// The kernel caps a dump skb at 32 KiB; twice that leaves room.
const RECV_BUFFER: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A request with NLM_F_ACK: done at the NLMSG_ERROR (errno 0 = success).
    Ack,
    /// A dump: done at NLMSG_DONE.
    Dump,
    /// A request the kernel answers with one message (a `get` of one object), sent without
    /// NLM_F_ACK: done at that message, or at the NLMSG_ERROR saying why there is none. The
    /// ACK after the answer, a second message to queue and read, is not asked for.
    Reply,
    /// A request sent without NLM_F_ACK: the kernel answers it only if it fails. It is done
    /// (successfully) once a request sent after it is answered, since the kernel handles a
    /// socket's requests in order; the driver asks for an ACK on the last request of every
    /// `sendmsg`, so that there always is one. Batches use it to spare the kernel and the
    /// reader an ACK per item.
    Quiet,
}

/// Raw netlink messages (header included) kept end to end in one buffer: a dump of thousands
/// of links is then a handful of allocations, not one per link.
#[derive(Debug, Default, Clone)]
pub struct Messages {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Messages {
    pub fn push(&mut self, msg: &[u8]) {
        self.data.extend_from_slice(msg);
        self.ends.push(self.data.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The messages' bytes, all together.
    pub fn byte_len(&self) -> usize {
        self.data.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter())
            .map(|(start, end)| &self.data[start..*end])
    }
}

impl<'a> IntoIterator for &'a Messages {
    type Item = &'a [u8];
    type IntoIter = Box<dyn Iterator<Item = &'a [u8]> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// The data messages a request produced.
#[derive(Debug, Default)]
pub struct Reply {
    pub messages: Messages,
    /// Some part of the dump carried NLM_F_DUMP_INTR.
    pub interrupted: bool,
    /// A warning the kernel attached to a successful ACK.
    pub warning: Option<String>,
}

/// A cheap, cloneable sender of requests to one socket's driver task, or (a clone made by
/// `on_calling_thread`) to a second socket served on the calling thread (`direct.rs`).
#[derive(Clone)]
pub struct Connection {
    jobs: mpsc::UnboundedSender<Queued>,
    direct: Option<Arc<Mutex<Direct>>>,
    on_calling_thread: bool,
    /// Requests submitted through this connection and its clones (`requests`).
    submitted: Arc<AtomicU64>,
}

impl Connection {
    /// Starts the driver on the current tokio runtime; `direct`, a second socket opened in the
    /// same namespace, serves clones made by `on_calling_thread`. Sockets must be non-blocking.
    pub fn spawn(socket: Socket, direct: Option<Socket>) -> io::Result<Self> {
        // SAFETY: the socket is owned by the AsyncFd for its whole life, and nothing else
        // closes its descriptor.
        let fd = unsafe { AsyncFd::register(socket) }.map_err(|e| e.into_parts().1)?;
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(Driver::new().run(fd, rx));
        Ok(Connection {
            jobs,
            direct: direct.map(|s| Arc::new(Mutex::new(Direct::new(s)))),
            on_calling_thread: false,
            submitted: Arc::default(),
        })
    }

    /// A clone whose requests are sent and answered on the thread that submits them, before
    /// `submit` returns (None without a second socket). Its requests are not ordered with the
    /// driver's: use it only when nothing sent through the driver is waiting for an answer.
    pub fn on_calling_thread(&self) -> Option<Connection> {
        self.direct.as_ref()?;
        Some(Connection {
            on_calling_thread: true,
            ..self.clone()
        })
    }

    /// Whether requests are answered on the thread that submits them (`on_calling_thread`).
    pub fn answers_here(&self) -> bool {
        self.on_calling_thread && self.direct.is_some()
    }

    /// Sends one serialized message (its sequence number is filled in here) and waits for
    /// its completion or the timeout.
    pub async fn request(&self, message: Vec<u8>, expect: Expect, timeout: Duration) -> Result<Reply> {
        self.submit(message, expect, timeout)?
            .await
            .unwrap_or_else(|_| Err(Error::Closed { op: String::new() }))
    }

    /// Queues a request without waiting; the receiver completes when the kernel answers, or
    /// with a timeout once `timeout` has passed since now (an answer after that is a timeout
    /// too, even if the kernel did the work). Queuing many before awaiting any lets the driver
    /// pipeline them.
    pub fn submit(
        &self,
        message: Vec<u8>,
        expect: Expect,
        timeout: Duration,
    ) -> Result<oneshot::Receiver<Result<Reply>>> {
        self.queue(message, expect, timeout, None)
    }

    /// Queues a dump whose data messages are sent to `parts` a few hundred at a time as they
    /// arrive; the reply holds the last of them. The driver pauses reading after each part so
    /// that its consumer can run while the kernel has the next one to produce.
    pub fn submit_streamed(
        &self,
        message: Vec<u8>,
        timeout: Duration,
        parts: mpsc::UnboundedSender<Messages>,
    ) -> Result<oneshot::Receiver<Result<Reply>>> {
        self.queue(message, Expect::Dump, timeout, Some(parts))
    }

    /// How many requests were submitted so far (reads and dumps included): what an operation
    /// costs in round trips, for tests.
    pub fn requests(&self) -> u64 {
        self.submitted.load(Ordering::Relaxed)
    }

    fn queue(
        &self,
        message: Vec<u8>,
        expect: Expect,
        timeout: Duration,
        parts: Option<mpsc::UnboundedSender<Messages>>,
    ) -> Result<oneshot::Receiver<Result<Reply>>> {
        self.submitted.fetch_add(1, Ordering::Relaxed);
        let (reply, rx) = oneshot::channel();
        let job = Job {
            message,
            expect,
            deadline: Instant::now() + timeout,
            timeout,
            reply,
            parts,
        };
        // Another thread using the direct socket right now: the driver takes this one.
        let direct = self.direct.as_ref().filter(|_| self.on_calling_thread);
        if let Some(mut direct) = direct.and_then(|d| d.try_lock().ok()) {
            if direct.run(job) == Ran::Unfinished {
                drop(direct);
                self.finish_direct();
            }
            return Ok(rx);
        }
        self.jobs
            .send(Queued::Job(job))
            .map_err(|_| Error::Closed { op: String::new() })?;
        Ok(rx)
    }

    /// Serves what the calling thread left unanswered (`Ran::Unfinished`) on a thread of the
    /// runtime's blocking pool: its caller, a future that moves on to the runtime, gets the
    /// answer (a dump's parts) as it is read. Outside a runtime, here.
    ///
    /// What is left so is still ahead of every later request: the driver sends nothing
    /// submitted after it until it is answered (`Queued::After`), as it holds requests behind a
    /// dump of its own (pending.rs). Without that, a later change, sent on the driver's socket
    /// while this one waits for the RTNL lock in the sending thread's `sendmsg`, could take the
    /// lock first, or interrupt the dump.
    fn finish_direct(&self) {
        let Some(direct) = self.direct.clone() else {
            return;
        };
        let (answered, after) = oneshot::channel::<()>();
        // A closed driver has nothing to hold back.
        let _ = self.jobs.send(Queued::After(after));
        // Another caller that takes the socket first serves the rest itself (`run` serves
        // every request pending): then there is nothing left to finish.
        let finish = move || {
            direct.lock().unwrap_or_else(PoisonError::into_inner).finish();
            drop(answered);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(finish)),
            Err(_) => finish(),
        }
    }
}

/// What the driver's queue carries.
enum Queued {
    Job(Job),
    /// Nothing queued after this is sent before it completes (or its sender is dropped): what
    /// the calling thread left unanswered is ahead of them (`finish_direct`).
    After(oneshot::Receiver<()>),
}

struct Driver {
    pending: Pending,
    out: Vec<u8>,
    inbuf: Vec<u8>,
    /// Where the last request in `out` starts, and its seq: it must ask for an ACK.
    last_out: Option<(usize, u32)>,
}

impl Driver {
    fn new() -> Self {
        Driver {
            pending: Pending::new(),
            out: Vec::with_capacity(SEND_CHUNK),
            inbuf: vec![0; RECV_BUFFER],
            last_out: None,
        }
    }

    async fn run(mut self, socket: AsyncFd<Socket>, mut jobs: mpsc::UnboundedReceiver<Queued>) {
        let mut open = true;
        // Jobs queued behind this wait in the channel until it completes (`Queued::After`).
        let mut held: Option<oneshot::Receiver<()>> = None;
        loop {
            while open && held.is_none() && self.pending.has_room() {
                match jobs.try_recv() {
                    Ok(queued) => self.take(queued, &mut held),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                }
            }
            let before = self.pending.in_flight();
            let more = self.flush(&socket).await.unwrap_or_else(|e| {
                self.pending.fail_all(&e);
                false
            });
            // The kernel handles route requests inside sendmsg: the answers are usually queued
            // already, so read them now instead of waiting for the poller to say so.
            if self.pending.in_flight() > before {
                let sent = self.pending.in_flight();
                let handed_over = match self.read_available(socket.get_ref().as_raw_fd()) {
                    Ok(read_all) => !read_all,
                    Err(e) => {
                        self.pending.fail_all(&e);
                        false
                    }
                };
                // A dump's part handed over, or (more to send) the tasks whose answers came:
                // they run before the driver goes on (one yield for both).
                if handed_over || more {
                    tokio::task::yield_now().await;
                }
                if more {
                    continue;
                }
                // Something finished (a dump, say): queued requests may go now.
                if self.pending.in_flight() < sent && self.pending.queued() > 0 {
                    continue;
                }
            }
            if !open && self.pending.is_idle() {
                return;
            }
            let deadline = self.pending.next_deadline();
            let room = self.pending.has_room();
            let busy = self.pending.awaits_answers();
            tokio::select! {
                biased;
                // Deadlines first: a socket that is always readable must not starve them.
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    // Answers queued already are read first: a late one still says whether the
                    // request took effect (the kernel answers route requests inside sendmsg, so
                    // a request sent has its answer queued), which a rollback needs to know.
                    if self.pending.awaits_answers() {
                        if let Err(e) = self.read_available(socket.get_ref().as_raw_fd()) {
                            self.pending.fail_all(&e);
                        }
                    }
                    self.pending.expire(Instant::now());
                }
                ready = socket.readable(), if busy => match ready {
                    Ok(mut guard) => match self.read_available(socket.get_ref().as_raw_fd()) {
                        Ok(true) => guard.clear_ready(),
                        // More is waiting; the socket stays marked readable for the next turn.
                        Ok(false) => {
                            drop(guard);
                            tokio::task::yield_now().await;
                        }
                        Err(e) => {
                            self.pending.fail_all(&e);
                            guard.clear_ready();
                        }
                    },
                    Err(e) => self.pending.fail_all(&Error::os("netlink.recv", "poll", &e)),
                },
                queued = jobs.recv(), if open && room && held.is_none() => match queued {
                    Some(queued) => self.take(queued, &mut held),
                    None => open = false,
                },
                () = released(&mut held), if held.is_some() => {}
            }
        }
    }

    fn take(&mut self, queued: Queued, held: &mut Option<oneshot::Receiver<()>>) {
        match queued {
            Queued::Job(job) => self.pending.enqueue(job),
            Queued::After(after) => *held = Some(after),
        }
    }

    /// Moves queued jobs into flight, up to the window, and writes one large `sendmsg` of them.
    /// Returns whether more are ready (the next one starts the next `sendmsg`'s buffer): the
    /// driver reads the answers queued meanwhile and lets the tasks they complete run before it
    /// calls this again, so that the callers of the first requests hear of them while the
    /// kernel works on the rest. Before, everything queued went first: 64 awaited address
    /// additions in flight (four runs of 16 crossing together) were all answered at once,
    /// after both `sendmsg` calls, and JavaScript and the kernel took turns (1,000 of them,
    /// 16 fresh processes each: 16.7 → 15.6 ms, medians; batches unchanged).
    async fn flush(&mut self, socket: &AsyncFd<Socket>) -> Result<bool> {
        // The buffer holds at most the request the last call carried over.
        let mut in_chunk = usize::from(!self.out.is_empty());
        while let Some((seq, message)) = self.pending.next_to_send(Instant::now()) {
            let full = self.out.len() + message.len() > SEND_CHUNK || in_chunk == SEND_MAX_MESSAGES;
            if full && !self.out.is_empty() {
                self.send_out(socket).await?;
                self.last_out = Some((0, seq));
                self.out.extend_from_slice(&message);
                return Ok(true);
            }
            self.last_out = Some((self.out.len(), seq));
            self.out.extend_from_slice(&message);
            in_chunk += 1;
        }
        if !self.out.is_empty() {
            self.send_out(socket).await?;
        }
        Ok(false)
    }

    /// The last request of a `sendmsg` asks for an ACK (see `Expect::Quiet`).
    fn ack_last_out(&mut self) {
        let Some((at, seq)) = self.last_out.take() else {
            return;
        };
        if self.pending.ask_ack(seq) {
            header::add_flags(&mut self.out[at..], NLM_F_ACK);
        }
    }

    async fn send_out(&mut self, socket: &AsyncFd<Socket>) -> Result<()> {
        self.ack_last_out();
        // A netlink datagram goes whole or not at all (`send_one`).
        let sent = loop {
            let mut guard = match socket.writable().await {
                Ok(guard) => guard,
                Err(e) => break Err(Error::os("netlink.send", "poll", &e)),
            };
            match guard.try_io(|s| send_one(s.get_ref(), &self.out)) {
                Ok(sent) => break sent.map_err(|e| Error::os("netlink.send", "sendmsg", &e)),
                Err(_would_block) => continue,
            }
        };
        self.out.clear();
        sent
    }

    /// Reads until the socket is empty (true) or a streamed dump handed a part over (false).
    fn read_available(&mut self, fd: std::os::fd::RawFd) -> Result<bool> {
        loop {
            let n = match recv_now(fd, &mut self.inbuf) {
                Ok(Some(n)) => n,
                Ok(None) => return Ok(true),
                Err(e) => return Err(e),
            };
            if self.pending.on_datagram(&self.inbuf[..n], Instant::now()) == Received::HandedOver {
                return Ok(false);
            }
        }
    }
}

/// Completes once what holds the driver's queue back (`Queued::After`) is done; then nothing does.
async fn released(held: &mut Option<oneshot::Receiver<()>>) {
    if let Some(after) = held {
        // Answered or dropped alike: the change it stood for is over.
        let _ = after.await;
    }
    *held = None;
}

/// One datagram if one is queued (None when the socket is empty).
pub(super) fn recv_now(fd: std::os::fd::RawFd, buf: &mut [u8]) -> Result<Option<usize>> {
    loop {
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if n >= 0 {
            return Ok(Some(n as usize));
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::WouldBlock => return Ok(None),
            io::ErrorKind::Interrupted => continue,
            // ENOBUFS: the kernel dropped replies; callers waiting for them must learn it.
            _ => return Err(Error::os("netlink.recv", "recvmsg", &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ack::{NLMSG_DONE, NLM_F_DUMP_INTR, NLM_F_MULTI};
    use super::super::testpeer::{ack_for, message, pair, requests};
    use super::*;

    fn request() -> Vec<u8> {
        message(18, 0x5, 0, &[0; 16])
    }

    #[tokio::test]
    async fn a_reply_that_never_comes_times_out() {
        let (sock, _peer) = pair();
        let conn = Connection::spawn(sock, None).unwrap();
        let err = conn
            .request(request(), Expect::Ack, Duration::from_millis(50))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            Error::Timeout {
                op: String::new(),
                link: None,
                millis: 50,
                applied: false,
            }
        );
    }

    #[tokio::test]
    async fn pipelined_requests_share_sendmsg_calls_and_get_their_own_replies() {
        let (sock, peer) = pair();
        let conn = Connection::spawn(sock, None).unwrap();
        let n = 300;
        let receivers: Vec<_> = (0..n)
            .map(|_| {
                conn.submit(request(), Expect::Ack, Duration::from_secs(5))
                    .unwrap()
            })
            .collect();
        let peer = tokio::task::spawn_blocking(move || {
            let mut seqs = Vec::new();
            let mut datagrams = 0;
            let mut buf = vec![0u8; 1 << 20];
            while seqs.len() < n {
                let len = peer.recv(&mut buf).unwrap();
                datagrams += 1;
                let batch: Vec<u32> = requests(&buf[..len]).into_iter().map(|(s, _)| s).collect();
                // Answer each batch in reverse order; every tenth request with an error and a message.
                for seq in batch.iter().rev() {
                    let i = seqs.len() + batch.iter().position(|s| s == seq).unwrap();
                    let reply = if i % 10 == 0 {
                        ack_for(*seq, 17, Some("exists"))
                    } else {
                        ack_for(*seq, 0, None)
                    };
                    peer.send(&reply).unwrap();
                }
                seqs.extend(batch);
            }
            (seqs, datagrams)
        });
        let mut outcomes = Vec::new();
        for rx in receivers {
            outcomes.push(rx.await.unwrap());
        }
        let (seqs, datagrams) = peer.await.unwrap();
        assert!(datagrams < n / 10, "{n} requests took {datagrams} sendmsg calls");
        let mut unique = seqs.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), n, "sequence numbers must be distinct");
        expect_failures(&outcomes, |i| i % 10 == 0);
    }

    #[tokio::test]
    async fn the_first_requests_are_answered_before_the_next_sendmsg() {
        let (sock, peer) = pair();
        peer.set_nonblocking(true).unwrap();
        // The kernel answers inside sendmsg: here the answers to the first sendmsg's requests
        // (sequence numbers 1 to 32) are queued before anything is sent.
        for seq in 1..=SEND_MAX_MESSAGES as u32 {
            peer.send(&ack_for(seq, 0, None)).unwrap();
        }
        let conn = Connection::spawn(sock, None).unwrap();
        let receivers: Vec<_> = (0..2 * SEND_MAX_MESSAGES)
            .map(|_| {
                conn.submit(request(), Expect::Ack, Duration::from_secs(5))
                    .unwrap()
            })
            .collect();
        let mut receivers = receivers.into_iter();
        let first = receivers.next().unwrap().await.unwrap();
        assert!(first.is_ok());
        // Its caller runs before the driver writes the second sendmsg.
        let mut buf = vec![0u8; 1 << 20];
        let len = peer.recv(&mut buf).expect("the first sendmsg");
        assert_eq!(requests(&buf[..len]).len(), SEND_MAX_MESSAGES);
        assert_eq!(
            peer.recv(&mut buf).map_err(|e| e.kind()),
            Err(io::ErrorKind::WouldBlock),
            "the second sendmsg went before the first requests' callers ran"
        );
        // The rest go on.
        let len = loop {
            match peer.recv(&mut buf) {
                Ok(len) => break len,
                Err(_) => tokio::task::yield_now().await,
            }
        };
        let rest = requests(&buf[..len]);
        assert_eq!(rest.len(), SEND_MAX_MESSAGES);
        for (seq, _) in rest {
            peer.send(&ack_for(seq, 0, None)).unwrap();
        }
        for rx in receivers {
            assert!(rx.await.unwrap().is_ok());
        }
    }

    /// Every request succeeded but those `failed` picks, which got EEXIST with the text "exists".
    fn expect_failures(outcomes: &[Result<Reply>], failed: impl Fn(usize) -> bool) {
        for (i, outcome) in outcomes.iter().enumerate() {
            if failed(i) {
                assert!(
                    matches!(outcome, Err(Error::Kernel { errno: 17, extack: Some(t), .. }) if t == "exists"),
                    "request {i}: {outcome:?}"
                );
            } else {
                assert!(outcome.is_ok(), "request {i}: {outcome:?}");
            }
        }
    }

    #[tokio::test]
    async fn quiet_requests_are_done_by_the_answer_to_a_later_one() {
        let (sock, peer) = pair();
        let conn = Connection::spawn(sock, None).unwrap();
        let n = 100;
        let receivers: Vec<_> = (0..n)
            .map(|_| {
                conn.submit(request(), Expect::Quiet, Duration::from_secs(5))
                    .unwrap()
            })
            .collect();
        // Behaves as the kernel does: a failure is always answered, a success only when the
        // request has NLM_F_ACK. Requests 7 and 40 fail.
        let peer = tokio::task::spawn_blocking(move || {
            let mut seen = Vec::new();
            let mut buf = vec![0u8; 1 << 20];
            while seen.len() < n {
                let len = peer.recv(&mut buf).unwrap();
                let batch = requests(&buf[..len]);
                let last = batch.len() - 1;
                for (k, (seq, flags)) in batch.iter().enumerate() {
                    let acked = flags & NLM_F_ACK != 0;
                    // Only the last request of each sendmsg asks for an ACK.
                    assert_eq!(acked, k == last, "request {} flags {flags:#x}", seen.len() + k);
                    let i = seen.len() + k;
                    if i == 7 || i == 40 {
                        peer.send(&ack_for(*seq, 17, Some("exists"))).unwrap();
                    } else if acked {
                        peer.send(&ack_for(*seq, 0, None)).unwrap();
                    }
                }
                seen.extend(batch);
            }
        });
        let mut outcomes = Vec::new();
        for rx in receivers {
            outcomes.push(rx.await.unwrap());
        }
        peer.await.unwrap();
        expect_failures(&outcomes, |i| i == 7 || i == 40);
    }

    #[tokio::test]
    async fn a_quiet_request_without_a_later_answer_times_out() {
        // The peer never answers: the ACK asked of the last request never comes, and nothing
        // is taken for done.
        let (sock, _peer) = pair();
        let conn = Connection::spawn(sock, None).unwrap();
        let rx: Vec<_> = (0..3)
            .map(|_| {
                conn.submit(request(), Expect::Quiet, Duration::from_millis(50))
                    .unwrap()
            })
            .collect();
        for r in rx {
            assert!(matches!(r.await.unwrap(), Err(Error::Timeout { .. })));
        }
    }

    /// The scripted kernel end, driven asynchronously so that it never blocks the driver.
    fn async_peer(peer: std::os::unix::net::UnixDatagram) -> tokio::net::UnixDatagram {
        peer.set_nonblocking(true).unwrap();
        tokio::net::UnixDatagram::from_std(peer).unwrap()
    }

    /// Reads datagrams until `n` requests have arrived.
    async fn read_requests(peer: &tokio::net::UnixDatagram, n: usize) -> Vec<(u32, u16)> {
        let mut buf = vec![0u8; 65536];
        let mut out = Vec::new();
        while out.len() < n {
            let len = peer.recv(&mut buf).await.unwrap();
            out.extend(requests(&buf[..len]));
        }
        out
    }

    #[tokio::test]
    async fn dump_parts_are_collected_and_interruption_is_reported() {
        let (sock, peer) = pair();
        let peer = async_peer(peer);
        let conn = Connection::spawn(sock, None).unwrap();
        let rx = conn
            .submit(
                message(18, 0x301, 0, &[0; 16]),
                Expect::Dump,
                Duration::from_secs(5),
            )
            .unwrap();
        let (seq, _) = read_requests(&peer, 1).await[0];
        let mut datagram = message(16, NLM_F_MULTI, seq, &[1; 16]);
        datagram.extend(message(16, NLM_F_MULTI | NLM_F_DUMP_INTR, seq, &[2; 16]));
        peer.send(&datagram).await.unwrap();
        peer.send(&message(NLMSG_DONE, NLM_F_MULTI, seq, &0i32.to_ne_bytes()))
            .await
            .unwrap();
        let reply = rx.await.unwrap().unwrap();
        assert_eq!(reply.messages.len(), 2);
        assert!(reply.interrupted);
    }

    #[tokio::test]
    async fn a_streamed_dump_hands_over_parts_in_order_and_the_reply_holds_the_rest() {
        let (sock, peer) = pair();
        let peer = async_peer(peer);
        let conn = Connection::spawn(sock, None).unwrap();
        let (tx, mut parts) = mpsc::unbounded_channel();
        let rx = conn
            .submit_streamed(message(18, 0x301, 0, &[0; 16]), Duration::from_secs(5), tx)
            .unwrap();
        let (seq, _) = read_requests(&peer, 1).await[0];
        // 600 data messages, 20 per datagram (as a kernel dump skb would carry them).
        for first in (0..600u32).step_by(20) {
            let mut datagram = Vec::new();
            for n in first..first + 20 {
                datagram.extend(message(16, NLM_F_MULTI, seq, &n.to_ne_bytes()));
            }
            peer.send(&datagram).await.unwrap();
        }
        peer.send(&message(NLMSG_DONE, NLM_F_MULTI, seq, &0i32.to_ne_bytes()))
            .await
            .unwrap();
        let reply = rx.await.unwrap().unwrap();
        let mut sizes = Vec::new();
        let mut numbers = Vec::new();
        while let Ok(part) = parts.try_recv() {
            sizes.push(part.len());
            numbers.extend(
                part.iter()
                    .map(|m| u32::from_ne_bytes(m[16..20].try_into().unwrap())),
            );
        }
        assert_eq!(
            sizes,
            vec![32, 64, 128, 256],
            "small parts first, then full ones, in order"
        );
        numbers.extend(
            reply
                .messages
                .iter()
                .map(|m| u32::from_ne_bytes(m[16..20].try_into().unwrap())),
        );
        assert_eq!(numbers, (0..600).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_dump_holds_back_what_was_submitted_after_it_until_its_end() {
        let (sock, peer) = pair();
        let peer = async_peer(peer);
        let conn = Connection::spawn(sock, None).unwrap();
        let timeout = Duration::from_secs(5);
        let dump = || message(18, 0x301, 0, &[0; 16]);
        let before = conn.submit(request(), Expect::Ack, timeout).unwrap();
        let first = conn.submit(dump(), Expect::Dump, timeout).unwrap();
        let after = conn.submit(request(), Expect::Ack, timeout).unwrap();
        let second = conn.submit(dump(), Expect::Dump, timeout).unwrap();
        // The request before the dump and the dump go out; the rest waits for the dump's end.
        let sent = read_requests(&peer, 2).await;
        let (before_seq, dump_seq) = (sent[0].0, sent[1].0);
        let mut buf = vec![0u8; 4096];
        let early = tokio::time::timeout(Duration::from_millis(100), peer.recv(&mut buf)).await;
        assert!(early.is_err(), "a request went out while the dump ran");
        peer.send(&ack_for(before_seq, 0, None)).await.unwrap();
        before.await.unwrap().unwrap();
        peer.send(&message(NLMSG_DONE, NLM_F_MULTI, dump_seq, &0i32.to_ne_bytes()))
            .await
            .unwrap();
        first.await.unwrap().unwrap();
        // Then the request submitted after it and the second dump, in that order.
        let sent = read_requests(&peer, 2).await;
        assert!(sent[0].0 < sent[1].0);
        peer.send(&ack_for(sent[0].0, 0, None)).await.unwrap();
        after.await.unwrap().unwrap();
        peer.send(&message(NLMSG_DONE, NLM_F_MULTI, sent[1].0, &0i32.to_ne_bytes()))
            .await
            .unwrap();
        second.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_change_the_calling_thread_left_unanswered_lands_before_later_requests() {
        let (sock, peer) = pair();
        let (direct_sock, direct_peer) = pair();
        let peer = async_peer(peer);
        let conn = Connection::spawn(sock, Some(direct_sock)).unwrap();
        let timeout = Duration::from_secs(5);
        // The direct socket's peer answers late: the kernel waiting for its lock.
        let (answer, answer_now) = std::sync::mpsc::channel::<()>();
        let late = std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            let n = direct_peer.recv(&mut buf).unwrap();
            let (seq, _) = requests(&buf[..n])[0];
            answer_now.recv().unwrap();
            direct_peer.send(&ack_for(seq, 0, None)).unwrap();
            direct_peer
        });
        let here = conn.on_calling_thread().unwrap();
        let mut first = here.submit(request(), Expect::Ack, timeout).unwrap();
        assert!(first.try_recv().is_err(), "answered before its peer answered");
        // Submitted after it, through the driver: held back until the first is answered.
        let second = conn.submit(request(), Expect::Ack, timeout).unwrap();
        let mut buf = vec![0u8; 4096];
        let early = tokio::time::timeout(Duration::from_millis(50), peer.recv(&mut buf)).await;
        assert!(
            early.is_err(),
            "a later request went out before the first was answered"
        );
        answer.send(()).unwrap();
        first.await.unwrap().unwrap();
        let (seq, _) = read_requests(&peer, 1).await[0];
        peer.send(&ack_for(seq, 0, None)).await.unwrap();
        second.await.unwrap().unwrap();
        // Nothing holds the queue any longer: the next request goes out at once.
        let third = conn.submit(request(), Expect::Ack, timeout).unwrap();
        let (seq, _) = read_requests(&peer, 1).await[0];
        peer.send(&ack_for(seq, 0, None)).await.unwrap();
        third.await.unwrap().unwrap();
        late.join().unwrap();
    }

    #[tokio::test]
    async fn a_closed_peer_fails_requests_instead_of_hanging() {
        let (sock, peer) = pair();
        drop(peer);
        let conn = Connection::spawn(sock, None).unwrap();
        let err = conn
            .request(request(), Expect::Ack, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Os { .. }), "{err:?}");
    }
}

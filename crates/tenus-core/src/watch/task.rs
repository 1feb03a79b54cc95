//! The task that runs a watcher on the I/O runtime: it opens the subscription socket in the
//! namespace, reads it as fast as the kernel writes, feeds `Sync`, sends the dumps `Sync` asks
//! for, and hands events to the consumer a batch at a time when the consumer asks for more
//! (`Control::want`). Closing it (`Control::close`) ends the task, which closes the socket.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::event::Event;
use super::socket::{self, Received};
use super::sync::{Settings, Sync};
use crate::error::{Error, Result};
use crate::netns::Namespace;

/// Events handed over at once, at most.
pub const BATCH: usize = 1024;
/// Datagrams read before the task lets the consumer and other tasks in.
const READ_BUDGET: usize = 256;
/// The kernel caps a dump datagram at 32 KiB (events are far smaller); twice that leaves room.
const RECV_BUFFER: usize = 64 * 1024;

/// The consumer's side of a running watcher, shared with its task.
#[derive(Default)]
pub struct Control {
    closed: AtomicBool,
    want: AtomicBool,
    wake: Notify,
    status: Mutex<WatchStatus>,
}

/// What a watcher reports about itself (`watcher.status`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct WatchStatus {
    /// Announcements of the kernel's read and decoded (repeats and the ones raced by a dump
    /// included).
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub notifications: u64,
    /// Change events queued for the consumer so far (synthesised ones included).
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub events: u64,
    /// Resync markers queued.
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub resyncs: u64,
    /// Events synthesised by resyncs.
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub synthesised: u64,
    /// Times the kernel dropped events for the watcher (ENOBUFS).
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub overruns: u64,
    /// Dumps run (one per kind of object per sync, and every retry).
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub dumps: u64,
    /// Dumps the kernel reported interrupted by changes, and ran again.
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub interrupted: u64,
    /// Events waiting in the watcher for the consumer.
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub queued: u64,
    /// Objects the watcher knows.
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub objects: u64,
    /// The socket's receive buffer as the kernel granted it (bytes; it doubles what is asked).
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub receive_buffer: u64,
}

impl Control {
    pub fn new() -> Arc<Control> {
        Arc::new(Control::default())
    }

    /// The consumer is ready for the next batch.
    pub fn want(&self) {
        self.want.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Ends the watcher; its socket closes as the task ends.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub fn status(&self) -> WatchStatus {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_status(&self, sync: &Sync, receive_buffer: u64) {
        let c = sync.counters();
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = WatchStatus {
            notifications: c.notifications,
            events: c.events,
            resyncs: c.resyncs,
            synthesised: c.synthesised,
            overruns: c.overruns,
            dumps: c.dumps,
            interrupted: c.interrupted,
            queued: sync.queued() as u64,
            objects: sync.live().len() as u64,
            receive_buffer,
        };
    }
}

/// Runs a watcher until it is closed (Ok) or fails. `deliver` gets each batch; it is called
/// only after `control.want()`, once per call.
pub async fn run(
    ns: Namespace,
    settings: Settings,
    receive_buffer: u64,
    control: Arc<Control>,
    mut deliver: impl FnMut(Vec<Event>),
) -> Result<()> {
    let groups: Vec<u32> = settings
        .kinds
        .iter()
        .flat_map(|k| k.groups().iter().copied())
        .collect();
    let subscribed = ns
        .run_in(move || socket::open(&groups, receive_buffer))
        .await?
        .map_err(|e| Error::os("watch", "subscription socket", &e))?;
    let granted = subscribed.receive_buffer;
    // SAFETY: the socket is owned by the AsyncFd for its whole life, and nothing else closes
    // its descriptor.
    let fd = unsafe { AsyncFd::register(subscribed.socket) }
        .map_err(|e| Error::os("watch", "register socket", &e.into_parts().1))?;
    let (mut sync, first) = Sync::new(settings, subscribed.port);
    send(&fd, &first.message)?;
    let mut reader = Reader::new();
    let mut wanting = false;
    loop {
        if control.is_closed() {
            return Ok(());
        }
        wanting |= control.want.swap(false, Ordering::AcqRel);
        if wanting && sync.has_output() {
            deliver(sync.take(BATCH));
            wanting = false;
        }
        control.set_status(&sync, granted);
        let recheck = reader.recheck;
        tokio::select! {
            biased;
            _ = control.wake.notified() => {}
            // Readable, or an error waits (the kernel reports dropped events so, and with
            // nothing queued that is all the socket shows).
            ready = fd.ready(Interest::READABLE | Interest::ERROR) => {
                let mut guard = ready.map_err(|e| Error::os("watch", "poll", &e))?;
                if reader.read(&fd, &mut sync)? {
                    guard.clear_ready();
                }
            }
            _ = tokio::time::sleep_until(recheck.unwrap_or_else(Instant::now)), if recheck.is_some() => {
                reader.recheck = None;
                reader.read(&fd, &mut sync)?;
            }
        }
    }
}

/// Reads the subscription socket for `Sync`, and knows when it is really empty.
///
/// Two kernel behaviours make "recv said EAGAIN" not enough. After dropping an event for a full
/// socket, the kernel drops every later one silently (NETLINK_S_CONGESTED) until a receive
/// ends with nothing charged to the socket; but a multicast datagram already read stays
/// charged until its sender has offered it to every listener, so the receive that found the
/// socket empty may not have lifted the flag, and with nothing arriving no receive would ever
/// come again. And a dump goes on only in a receive that takes a datagram while the socket is
/// at most half full: one that was not gone on (its first part found the socket full, or the
/// charged memory was high at that moment) waits for a datagram that may never come. So the
/// socket counts as empty only after a receive made with nothing charged (SO_MEMINFO), and a
/// dump found waiting then is given a datagram to read: the acknowledgement of a no-op.
struct Reader {
    buf: Vec<u8>,
    /// The socket read empty with nothing charged: the next empty receive lifts the flag.
    settled: bool,
    /// When to look at the socket again without being woken (it read empty but not settled).
    recheck: Option<Instant>,
    /// The last no-op sent to a waiting dump, and datagrams read since.
    nudged: Option<(Instant, u32)>,
}

/// How soon to look again at a socket that read empty with memory still charged.
const SETTLE_WAIT: Duration = Duration::from_millis(1);
/// A dump still waiting this long after a no-op's answer is given another.
const NUDGE_AGAIN: Duration = Duration::from_millis(10);

impl Reader {
    fn new() -> Reader {
        Reader {
            buf: vec![0u8; RECV_BUFFER],
            settled: false,
            recheck: None,
            nudged: None,
        }
    }

    /// Reads up to `READ_BUDGET` datagrams into `sync`, sending the dumps it asks for; true
    /// when the socket was found empty (its readiness may be cleared).
    fn read(&mut self, fd: &AsyncFd<netlink_sys::Socket>, sync: &mut Sync) -> Result<bool> {
        for _ in 0..READ_BUDGET {
            let received = socket::receive(fd.get_ref(), &mut self.buf)
                .map_err(|e| Error::os("watch", "recvmsg", &e))?;
            let next = match received {
                Received::Datagram(n) => {
                    self.settled = false;
                    if let Some((_, read)) = &mut self.nudged {
                        *read += 1;
                    }
                    sync.on_datagram(&self.buf[..n])?
                }
                Received::Truncated | Received::Overrun => {
                    self.settled = false;
                    sync.on_overrun();
                    None
                }
                Received::Empty if !self.settled => {
                    let charged = socket::receive_memory(fd.get_ref())
                        .map_err(|e| Error::os("watch", "getsockopt", &e))?;
                    if charged > 0 {
                        self.recheck = Some(Instant::now() + SETTLE_WAIT);
                        return Ok(true);
                    }
                    // Once more, with nothing charged.
                    self.settled = true;
                    continue;
                }
                Received::Empty => {
                    self.settled = false;
                    self.on_empty(fd, sync)?;
                    return Ok(true);
                }
            };
            if let Some(dump) = next {
                send(fd, &dump.message)?;
            }
        }
        Ok(false)
    }

    fn on_empty(&mut self, fd: &AsyncFd<netlink_sys::Socket>, sync: &mut Sync) -> Result<()> {
        if let Some(dump) = sync.on_empty() {
            self.nudged = None;
            return send(fd, &dump.message);
        }
        if !sync.is_dumping() {
            self.nudged = None;
            return Ok(());
        }
        // A dump runs and nothing is queued: it waits for a datagram to be read. A no-op whose
        // answer alone came back (read once) did not move it: wait a little before the next.
        match self.nudged {
            Some((at, read)) if read <= 1 && at.elapsed() < NUDGE_AGAIN => {
                self.recheck = Some(at + NUDGE_AGAIN);
                Ok(())
            }
            _ => {
                self.nudged = Some((Instant::now(), 0));
                send(fd, &socket::nudge())
            }
        }
    }
}

fn send(fd: &AsyncFd<netlink_sys::Socket>, message: &[u8]) -> Result<()> {
    socket::send(fd.get_ref(), message).map_err(|e| Error::os("watch", "sendmsg", &e))
}

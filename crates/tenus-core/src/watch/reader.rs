//! Reading a watcher's subscription socket into `Sync`, and knowing when it is really empty.

use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

use super::socket::{self, Received};
use super::sync::Sync;
use crate::error::{Error, Result};
use crate::message;

/// Datagrams read before the task lets the consumer and other tasks in.
const READ_BUDGET: usize = 256;
/// The kernel caps a dump datagram at 32 KiB (events are far smaller); twice that leaves room.
const RECV_BUFFER: usize = 64 * 1024;

/// Reads the subscription socket for `Sync`.
///
/// Two kernel behaviours make "recv said EAGAIN" not enough. After dropping an event for a full
/// socket, the kernel drops every later one silently (NETLINK_S_CONGESTED) until a receive
/// ends with nothing charged to the socket; but a multicast datagram already read stays
/// charged until its sender has offered it to every listener, so the receive that found the
/// socket empty may not have lifted the flag, and with nothing arriving no receive would ever
/// come again. And a dump goes on only in a receive that takes a datagram while the socket is
/// at most half full: one that was not gone on (its first part found the socket full, or the
/// charged memory was high at that moment) waits for a datagram that may never come. So the
/// socket counts as empty only after a receive made with nothing charged (SO_MEMINFO) — where
/// it matters: before a dump is sent after an overrun, and while one runs —, and a dump found
/// waiting then is given a datagram to read: the acknowledgement of a no-op.
pub(super) struct Reader {
    buf: Vec<u8>,
    /// The socket read empty with nothing charged: the next empty receive lifts the flag.
    settled: bool,
    /// When to look at the socket again without being woken (it read empty but not settled).
    pub(super) recheck: Option<Instant>,
    /// The last no-op sent to a waiting dump, and datagrams read since.
    nudged: Option<(Instant, u32)>,
}

/// How soon to look again at a socket that read empty with memory still charged.
const SETTLE_WAIT: Duration = Duration::from_millis(1);
/// A dump still waiting this long after a no-op's answer is given another.
const NUDGE_AGAIN: Duration = Duration::from_millis(10);

impl Reader {
    pub(super) fn new() -> Reader {
        Reader {
            buf: vec![0u8; RECV_BUFFER],
            settled: false,
            recheck: None,
            nudged: None,
        }
    }

    /// Reads up to `READ_BUDGET` datagrams into `sync`, sending the dumps it asks for; true
    /// when the socket was found empty (its readiness may be cleared).
    pub(super) fn read(&mut self, fd: &AsyncFd<netlink_sys::Socket>, sync: &mut Sync) -> Result<bool> {
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
                // Following events, an empty socket is just that: a drop from now on is
                // reported (the flag was lifted before the last dump began).
                Received::Empty if !self.settled && !sync.is_streaming() => {
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
        // answer alone came back (read once) did not move it: wait a little before the next. Its
        // acknowledgement (sequence number 0, which no dump uses) means nothing to `Sync`.
        match self.nudged {
            Some((at, read)) if read <= 1 && at.elapsed() < NUDGE_AGAIN => {
                self.recheck = Some(at + NUDGE_AGAIN);
                Ok(())
            }
            _ => {
                self.nudged = Some((Instant::now(), 0));
                send(fd, &message::acked_noop())
            }
        }
    }
}

/// Sends a request (a dump, a no-op) on the subscription socket.
pub(super) fn send(fd: &AsyncFd<netlink_sys::Socket>, message: &[u8]) -> Result<()> {
    socket::send(fd.get_ref(), message).map_err(|e| Error::os("watch", "sendmsg", &e))
}

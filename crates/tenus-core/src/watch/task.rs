//! The task that runs a watcher on the I/O runtime: it opens the subscription socket in the
//! namespace, reads it as fast as the kernel writes, feeds `Sync`, sends the dumps `Sync` asks
//! for, and hands events to the consumer a batch at a time when the consumer asks for more
//! (`Control::want`). Closing it (`Control::close`) ends the task, which closes the socket.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::event::Event;
use super::reader::{send, Reader};
use super::socket;
use super::sync::{Settings, Sync};
use crate::error::{Error, Result};
use crate::netns::Namespace;

/// Events handed over at once, at most.
pub const BATCH: usize = 1024;

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

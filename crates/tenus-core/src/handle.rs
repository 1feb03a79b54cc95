//! A handle on one network namespace: its namespace fd and one netlink socket opened inside it.
//! All link, address and route operations are methods on `Handle` (see `link/`, `addr/`, `route.rs`).

use std::time::Duration;

use futures::FutureExt;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::netns::Namespace;
use crate::transport::{open_route_socket, Connection, Expect, Messages, Reply};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// A dump flagged NLM_F_DUMP_INTR is read again this many times before giving up.
pub const DUMP_ATTEMPTS: u32 = 5;

#[derive(Clone)]
pub struct Handle {
    ns: Namespace,
    conn: Connection,
    timeout: Duration,
}

impl Handle {
    /// Opens two route sockets inside `ns` (on a native thread) and starts the driver of the
    /// first on the current tokio runtime; the second serves `on_calling_thread`.
    pub async fn open(ns: Namespace) -> Result<Self> {
        let (socket, direct) = ns
            .run_in(|| Ok::<_, std::io::Error>((open_route_socket()?, open_route_socket()?)))
            .await?
            .map_err(|e| Error::os("netns.open", "netlink socket", &e))?;
        let conn = Connection::spawn(socket, Some(direct))
            .map_err(|e| Error::os("netns.open", "register socket", &e))?;
        Ok(Handle {
            ns,
            conn,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    pub fn namespace(&self) -> &Namespace {
        &self.ns
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Replies slower than this reject with `Error::Timeout`.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A clone whose requests are sent and answered on the calling thread, inside the call
    /// that submits them (see `Connection::on_calling_thread` for when that is right).
    pub fn on_calling_thread(&self) -> Option<Handle> {
        Some(Handle {
            conn: self.conn.on_calling_thread()?,
            ..self.clone()
        })
    }

    /// Sends a request that ends in an ACK; errors get `op` and `link` attached.
    pub async fn ack(&self, op: &str, link: Option<&str>, message: Vec<u8>) -> Result<Reply> {
        self.conn
            .request(message, Expect::Ack, self.timeout)
            .await
            .map_err(|e| e.context(op, link))
    }

    /// Sends a request the kernel answers with one message (a `get` of one object), without
    /// asking for the ACK after it (`Expect::Reply`); errors get `op` and `link` attached.
    pub async fn reply(&self, op: &str, link: Option<&str>, message: Vec<u8>) -> Result<Reply> {
        self.conn
            .request(message, Expect::Reply, self.timeout)
            .await
            .map_err(|e| e.context(op, link))
    }

    /// Runs a dump, handing its messages to `part(attempt, messages)` a few hundred at a time
    /// as they arrive, so that the caller can work on one part while the kernel produces the
    /// next. When the kernel says the dump changed underway it is read again from the start
    /// with the next `attempt` number: parts of an earlier attempt are stale.
    pub async fn dump_parts(
        &self,
        op: &str,
        message: Vec<u8>,
        mut part: impl FnMut(u32, Messages),
    ) -> Result<()> {
        for attempt in 0..DUMP_ATTEMPTS {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let mut done = self
                .conn
                .submit_streamed(message.clone(), self.timeout, tx)
                .map_err(|e| e.context(op, None))?;
            // Answered on the calling thread, a dump is either read whole when `submit_streamed`
            // returns, or left for another thread to finish (too long for this one: direct.rs).
            // Then this future goes on elsewhere too, rather than turning the parts that thread
            // reads into the caller's on the calling thread.
            let mut answered = None;
            if self.conn.answers_here() {
                answered = (&mut done).now_or_never();
                if answered.is_none() {
                    tokio::task::yield_now().await;
                }
            }
            let reply = match answered {
                Some(reply) => reply,
                None => loop {
                    tokio::select! {
                        biased;
                        Some(messages) = rx.recv() => part(attempt, messages),
                        reply = &mut done => break reply,
                    }
                },
            };
            // Parts are sent before the reply completes: whatever is left is waiting here.
            while let Ok(messages) = rx.try_recv() {
                part(attempt, messages);
            }
            let reply = reply
                .unwrap_or_else(|_| Err(Error::Closed { op: String::new() }))
                .map_err(|e| e.context(op, None))?;
            if !reply.interrupted {
                part(attempt, reply.messages);
                return Ok(());
            }
        }
        Err(Error::DumpInterrupted {
            op: op.into(),
            attempts: DUMP_ATTEMPTS,
        })
    }

    /// Runs a dump, reading it again when the kernel says it changed underway.
    pub async fn dump(&self, op: &str, message: Vec<u8>) -> Result<Messages> {
        for _ in 0..DUMP_ATTEMPTS {
            let reply = self
                .conn
                .request(message.clone(), Expect::Dump, self.timeout)
                .await
                .map_err(|e| e.context(op, None))?;
            if !reply.interrupted {
                return Ok(reply.messages);
            }
        }
        Err(Error::DumpInterrupted {
            op: op.into(),
            attempts: DUMP_ATTEMPTS,
        })
    }
}

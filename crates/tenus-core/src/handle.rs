//! A handle on one network namespace: its namespace fd and one netlink socket opened inside it.
//! All link, address and route operations are methods on `Handle` (see `link/`, `addr/`, `route.rs`).

use std::time::Duration;

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
    /// Opens a route socket inside `ns` (on a native thread) and starts its driver on the
    /// current tokio runtime.
    pub async fn open(ns: Namespace) -> Result<Self> {
        let socket = ns
            .run_in(open_route_socket)
            .await?
            .map_err(|e| Error::os("netns.open", "netlink socket", &e))?;
        let conn = Connection::spawn(socket).map_err(|e| Error::os("netns.open", "register socket", &e))?;
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

    /// Sends a request that ends in an ACK; errors get `op` and `link` attached.
    pub async fn ack(&self, op: &str, link: Option<&str>, message: Vec<u8>) -> Result<Reply> {
        self.conn
            .request(message, Expect::Ack, self.timeout)
            .await
            .map_err(|e| e.context(op, link))
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

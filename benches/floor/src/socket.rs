//! The floor's one NETLINK_ROUTE socket (`netlink-sys`), with the socket options tenus uses.

use std::os::fd::AsRawFd;
use std::process::exit;

use netlink_sys::{protocols::NETLINK_ROUTE, Socket};

use crate::messages::*;
use crate::relay::Relay;

/// The socket, its sequence numbers and buffers.
pub struct Nl {
    /// Requests sent one at a time by a second thread, the answers polled for here (relay.rs).
    /// Before `sock`: fields drop in order, and the thread stops before the socket closes.
    relay: Option<Relay>,
    sock: Socket,
    seq: u32,
    /// Requests per sendmsg (1: request, then wait for its ACK).
    pub per_send: usize,
    /// Requests carry NLM_F_ECHO: the kernel sends back what each made (read and dropped).
    pub echo: bool,
    out: Vec<u8>,
    inbuf: Vec<u8>,
}

pub fn fail(what: &str) -> ! {
    eprintln!("tenus-bench-floor: {what}");
    exit(1)
}

impl Nl {
    pub fn open() -> Self {
        Self::try_open().unwrap_or_else(|e| fail(&e.to_string()))
    }

    /// Opens the socket, or says why it could not (`open` exits instead).
    pub fn try_open() -> std::io::Result<Self> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(named("socket"))?;
        sock.bind_auto().map_err(named("bind"))?;
        // The same socket options tenus uses: small ACKs, extended ACKs, dump filters applied
        // by the kernel (the route dump asks for one table).
        sock.set_cap_ack(true).map_err(named("cap_ack"))?;
        sock.set_ext_ack(true).map_err(named("ext_ack"))?;
        sock.set_netlink_get_strict_chk(true)
            .map_err(named("strict_chk"))?;
        Ok(Nl {
            relay: None,
            sock,
            seq: 0,
            per_send: PER_SEND,
            echo: false,
            out: Vec::with_capacity(64 * 1024),
            inbuf: vec![0; 64 * 1024],
        })
    }

    /// Sends one request alone and waits for its ACK: the kernel's error when it refused it.
    pub fn request(&mut self, mut msg: Vec<u8>) -> std::io::Result<()> {
        self.stamp(&mut msg);
        self.sock.send(&msg, 0)?;
        let mut code = None;
        while code.is_none() {
            let mut slice: &mut [u8] = &mut self.inbuf[..];
            let n = self.sock.recv(&mut slice, 0)?;
            messages(&self.inbuf[..n], |kind, msg| {
                if kind == NLMSG_ERROR {
                    code = Some(i32::from_ne_bytes(msg[16..20].try_into().unwrap()));
                }
                code.is_none()
            });
        }
        match code {
            Some(0) | None => Ok(()),
            Some(c) => Err(std::io::Error::from_raw_os_error(-c)),
        }
    }

    pub fn stamp(&mut self, msg: &mut [u8]) {
        self.seq += 1;
        msg[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        if self.echo {
            msg[6] |= 0x08; // NLM_F_ECHO
        }
    }

    /// Sends each request alone from a second thread from now on (relay.rs).
    pub fn relay(&mut self) {
        self.per_send = 1;
        self.relay = Some(Relay::start(self.sock.as_raw_fd()));
    }

    /// Sends `msgs`, `per_send` per sendmsg, reading each batch's ACKs after the send.
    pub fn pipelined(&mut self, mut msgs: Vec<Vec<u8>>) {
        if let Some(relay) = self.relay.take() {
            for m in msgs.iter_mut() {
                self.stamp(m);
                relay.send(m);
                self.read_acks_polling();
            }
            self.relay = Some(relay);
            return;
        }
        let per_send = self.per_send;
        for chunk in msgs.chunks_mut(per_send) {
            self.out.clear();
            for m in chunk.iter_mut() {
                self.stamp(m);
                self.out.extend_from_slice(m);
            }
            let sent = self
                .sock
                .send(&self.out, 0)
                .unwrap_or_else(|e| fail(&format!("send: {e}")));
            if sent != self.out.len() {
                fail("short send");
            }
            self.read_acks(chunk.len());
        }
    }

    pub fn read_acks(&mut self, mut want: usize) {
        while want > 0 {
            let n = self.recv();
            want -= acks(&self.inbuf[..n]);
        }
    }

    /// Reads one request's answer, polling the socket without sleeping (as tenus' calling
    /// thread does while its request is being sent).
    fn read_acks_polling(&mut self) {
        loop {
            let mut slice: &mut [u8] = &mut self.inbuf[..];
            match self.sock.recv(&mut slice, libc::MSG_DONTWAIT) {
                Ok(n) if acks(&self.inbuf[..n]) > 0 => return,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::hint::spin_loop(),
                Err(e) => fail(&format!("recv: {e}")),
            }
        }
    }

    pub fn recv(&mut self) -> usize {
        let mut slice: &mut [u8] = &mut self.inbuf[..];
        self.sock
            .recv(&mut slice, 0)
            .unwrap_or_else(|e| fail(&format!("recv: {e}")))
    }

    /// Runs a dump, handing each data message (header included) to `each`.
    pub fn dump(&mut self, mut msg: Vec<u8>, mut each: impl FnMut(&[u8])) {
        self.stamp(&mut msg);
        self.sock
            .send(&msg, 0)
            .unwrap_or_else(|e| fail(&format!("send: {e}")));
        let mut done = false;
        while !done {
            let n = self.recv();
            messages(&self.inbuf[..n], |kind, msg| match kind {
                NLMSG_DONE => {
                    done = true;
                    false
                }
                NLMSG_ERROR => fail("dump failed"),
                _ => {
                    each(msg);
                    true
                }
            });
        }
    }

    /// Sends one stamped request and reads its one answer (no ACK asked): `read` of its
    /// message, None for an error.
    pub fn answer<T>(&mut self, msg: Vec<u8>, read: impl FnOnce(&[u8]) -> Option<T>) -> Option<T> {
        self.sock
            .send(&msg, 0)
            .unwrap_or_else(|e| fail(&format!("send: {e}")));
        let n = self.recv();
        read(&self.inbuf[..n])
    }

    pub fn index_of(&mut self, name: &str) -> u32 {
        let mut msg = by_name(RTM_GETLINK, PLAIN, name).finish();
        self.stamp(&mut msg);
        self.sock
            .send(&msg, 0)
            .unwrap_or_else(|e| fail(&format!("send: {e}")));
        let n = self.recv();
        let kind = u16::from_ne_bytes(self.inbuf[4..6].try_into().unwrap());
        if n < 24 || kind != RTM_NEWLINK {
            fail(&format!("no link {name}"));
        }
        let index = u32::from_ne_bytes(self.inbuf[20..24].try_into().unwrap());
        self.read_acks(1);
        index
    }
}

/// Hands each netlink message of a datagram (header included) to `each(type, message)`
/// until it returns false.
pub fn messages(buf: &[u8], mut each: impl FnMut(u16, &[u8]) -> bool) {
    let mut off = 0;
    while off + 16 <= buf.len() {
        let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
        let kind = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
        if len < 16 || off + len > buf.len() {
            fail("bad message length");
        }
        if !each(kind, &buf[off..off + len]) {
            return;
        }
        off += (len + 3) & !3;
    }
}

/// The ACKs in a datagram (an echo before them is skipped); exits on one carrying an error.
fn acks(buf: &[u8]) -> usize {
    let mut acked = 0;
    messages(buf, |kind, msg| {
        if kind == NLMSG_ERROR {
            let code = i32::from_ne_bytes(msg[16..20].try_into().unwrap());
            if code != 0 {
                fail(&format!(
                    "request failed: {}",
                    std::io::Error::from_raw_os_error(-code)
                ));
            }
            acked += 1;
        }
        true
    });
    acked
}

/// `e`, saying which step of opening the socket met it.
fn named(what: &'static str) -> impl Fn(std::io::Error) -> std::io::Error {
    move |e| std::io::Error::new(e.kind(), format!("{what}: {e}"))
}

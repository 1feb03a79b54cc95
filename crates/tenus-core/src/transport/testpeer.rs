//! A scripted netlink peer for unit tests of the driver's own logic: timeouts, sequence
//! matching, pipelining and NLM_F_DUMP_INTR handling are behaviours the real kernel cannot be
//! made to show on demand. Everything else is tested against the real kernel.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixDatagram;

use netlink_sys::Socket;

use super::ack::{self, NLMSG_HDRLEN};

/// A connected pair: the `Socket` goes to the driver, the datagram end plays the kernel.
pub fn pair() -> (Socket, UnixDatagram) {
    let (a, b) = UnixDatagram::pair().expect("socketpair");
    a.set_nonblocking(true).expect("nonblocking");
    let fd: RawFd = OwnedFd::from(a).into_raw_fd_for_test();
    // SAFETY: the fd was just released by OwnedFd and is owned by the Socket from here on.
    (unsafe { Socket::from_raw_fd(fd) }, b)
}

trait IntoRawFdForTest {
    fn into_raw_fd_for_test(self) -> RawFd;
}

impl IntoRawFdForTest for OwnedFd {
    fn into_raw_fd_for_test(self) -> RawFd {
        std::os::fd::IntoRawFd::into_raw_fd(self)
    }
}

/// Splits one datagram into (seq, flags) of each request in it.
pub fn requests(datagram: &[u8]) -> Vec<(u32, u16)> {
    let mut out = Vec::new();
    let mut buf = datagram;
    while let Some(h) = ack::header(buf) {
        out.push((h.seq, h.flags));
        buf = &buf[ack::align4(h.len).min(buf.len())..];
    }
    out
}

pub fn message(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + payload.len();
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&(len as u32).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.extend_from_slice(payload);
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
    v
}

/// An ACK (errno 0) or error for `seq`, capped, optionally with an extended-ACK message.
pub fn ack_for(seq: u32, errno: i32, text: Option<&str>) -> Vec<u8> {
    let mut payload = (-errno).to_ne_bytes().to_vec();
    payload.extend_from_slice(&message(16, 0, seq, &[])[..NLMSG_HDRLEN]);
    let mut flags = ack::NLM_F_CAPPED;
    if let Some(t) = text {
        flags |= ack::NLM_F_ACK_TLVS;
        let mut value = t.as_bytes().to_vec();
        value.push(0);
        payload.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        payload.extend_from_slice(&1u16.to_ne_bytes());
        payload.extend_from_slice(&value);
        while !payload.len().is_multiple_of(4) {
            payload.push(0);
        }
    }
    message(ack::NLMSG_ERROR, flags, seq, &payload)
}

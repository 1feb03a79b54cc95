//! Netlink messages written and read by hand, for the objects `netlink-packet-route` does not
//! cover (nexthop objects) or covers too slowly for bulk work (routes by the hundred thousand,
//! rules): a writer that lays out a message in one buffer, and a reader of attributes.
//! Attributes are written in the order iproute2 writes them, so requests compare byte for byte
//! with its own (tests/iproute2_routes.rs).

use crate::transport::ack::{align4, NLMSG_HDRLEN};

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_ROOT: u16 = 0x100;
pub const NLM_F_MATCH: u16 = 0x200;
pub const NLM_F_REPLACE: u16 = 0x100;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_APPEND: u16 = 0x800;
pub const NLA_F_NESTED: u16 = 0x8000;

/// A request that ends in an ACK.
pub const PLAIN: u16 = NLM_F_REQUEST | NLM_F_ACK;
/// A dump.
pub const DUMP: u16 = NLM_F_REQUEST | NLM_F_ROOT | NLM_F_MATCH;

/// One message being written: header, family header, attributes.
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// A message of `kind` with netlink `flags` and the family header `fixed` (rtmsg, ...).
    pub fn new(kind: u16, flags: u16, fixed: &[u8]) -> Self {
        let mut buf = Vec::with_capacity(NLMSG_HDRLEN + fixed.len() + 96);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&[0; 8]); // seq (the driver stamps it), pid
        buf.extend_from_slice(fixed);
        Writer { buf }
    }

    pub fn bytes(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        attr(&mut self.buf, kind, value);
        self
    }

    pub fn u8(&mut self, kind: u16, value: u8) -> &mut Self {
        self.bytes(kind, &[value])
    }

    pub fn u16(&mut self, kind: u16, value: u16) -> &mut Self {
        self.bytes(kind, &value.to_ne_bytes())
    }

    pub fn u32(&mut self, kind: u16, value: u32) -> &mut Self {
        self.bytes(kind, &value.to_ne_bytes())
    }

    /// An attribute without a value (a flag such as NHA_BLACKHOLE).
    pub fn flag(&mut self, kind: u16) -> &mut Self {
        self.bytes(kind, &[])
    }

    /// A NUL-terminated string.
    pub fn string(&mut self, kind: u16, value: &str) -> &mut Self {
        let start = self.buf.len();
        let len = 4 + value.len() + 1;
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value.as_bytes());
        self.buf.push(0);
        debug_assert_eq!(self.buf.len() - start, len);
        pad(&mut self.buf);
        self
    }

    /// Attributes written by `fill` straight into the buffer (with `attr` and `nest`).
    pub fn raw(&mut self, fill: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        fill(&mut self.buf);
        self
    }

    /// A nest whose content `fill` writes into the buffer it is given.
    pub fn nest(&mut self, kind: u16, fill: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        nest(&mut self.buf, kind, fill);
        self
    }

    pub fn finish(mut self) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

fn pad(buf: &mut Vec<u8>) {
    buf.resize(align4(buf.len()), 0);
}

/// Appends one attribute (header, value, padding).
pub fn attr(buf: &mut Vec<u8>, kind: u16, value: &[u8]) {
    buf.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(value);
    pad(buf);
}

/// Appends a nest: its header, whatever `fill` writes, and the length patched in.
pub fn nest(buf: &mut Vec<u8>, kind: u16, fill: impl FnOnce(&mut Vec<u8>)) {
    let start = buf.len();
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&kind.to_ne_bytes());
    fill(buf);
    let len = (buf.len() - start) as u16;
    buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    pad(buf);
}

/// The attributes in `buf`, as (type without flag bits, value); a malformed one ends the walk.
pub fn attrs(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    whole_attrs(buf).map(|(kind, attr)| (kind, &attr[4..]))
}

/// The attributes in `buf`, as (type without flag bits, the attribute with its header).
pub fn whole_attrs(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if buf.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let kind = u16::from_ne_bytes([buf[2], buf[3]]) & 0x3fff;
        if len < 4 || len > buf.len() {
            return None;
        }
        let attr = &buf[..len];
        buf = &buf[align4(len).min(buf.len())..];
        Some((kind, attr))
    })
}

/// The message type of a whole netlink message (header included).
pub fn message_type(msg: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(msg.get(4..6)?.try_into().ok()?))
}

/// The payload of attribute `kind` among attributes kept as read (`(type, payload)`: what an
/// object read from the kernel had that tenus has no option for).
pub fn kept(kept: &[(u16, Vec<u8>)], kind: u16) -> Option<&[u8]> {
    kept.iter().find(|(k, _)| *k == kind).map(|(_, v)| v.as_slice())
}

pub fn u32_of(v: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(v.get(0..4)?.try_into().ok()?))
}

pub fn u16_of(v: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(v.get(0..2)?.try_into().ok()?))
}

/// A NUL-terminated (or not) string attribute.
pub fn str_of(v: &[u8]) -> String {
    let end = v.iter().position(|c| *c == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).into_owned()
}

/// An address attribute of either family.
pub fn ip_of(v: &[u8]) -> Option<std::net::IpAddr> {
    match v.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(v).ok()?).into()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(v).ok()?).into()),
        _ => None,
    }
}

/// An address as the kernel takes it (network order, 4 or 16 bytes).
pub fn ip_bytes(ip: &std::net::IpAddr) -> ([u8; 16], usize) {
    let mut out = [0u8; 16];
    match ip {
        std::net::IpAddr::V4(a) => {
            out[..4].copy_from_slice(&a.octets());
            (out, 4)
        }
        std::net::IpAddr::V6(a) => (a.octets(), 16),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_read_back() {
        let mut w = Writer::new(24, PLAIN, &[0; 12]);
        w.u32(1, 7)
            .string(3, "eth0")
            .flag(4)
            .nest(9, |b| attr(b, 5, &[1, 2, 3]));
        let msg = w.finish();
        assert_eq!(msg.len() % 4, 0);
        assert_eq!(u32_of(&msg).unwrap() as usize, msg.len());
        let got: Vec<(u16, Vec<u8>)> = attrs(&msg[28..]).map(|(k, v)| (k, v.to_vec())).collect();
        assert_eq!(got[0], (1, 7u32.to_ne_bytes().to_vec()));
        assert_eq!(got[1], (3, b"eth0\0".to_vec()));
        assert_eq!(got[2], (4, vec![]));
        assert_eq!(got[3].0, 9);
        let inner: Vec<_> = attrs(&got[3].1).collect();
        assert_eq!(inner, vec![(5, &[1u8, 2, 3][..])]);
    }

    #[test]
    fn a_malformed_attribute_ends_the_walk() {
        let buf = [8u8, 0, 1, 0, 1, 2, 3, 4, 40, 0, 2, 0];
        assert_eq!(attrs(&buf).count(), 1);
    }
}

//! Framing: a route message plus netlink flags, serialized into the bytes the driver sends.

use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::{Error, Result};

/// Request flags for the kinds of request tenus makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flags {
    /// Create, failing if it exists (`ip ... add`).
    Create,
    /// Create or replace (`ip ... replace`).
    Replace,
    /// Create, or add to what is there (`bridge fdb append`: one more VXLAN remote).
    Append,
    /// Change, delete or get one object.
    Plain,
    /// A dump.
    Dump,
}

impl Flags {
    fn bits(self) -> u16 {
        match self {
            Flags::Create => NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            Flags::Replace => NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            Flags::Append => NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND,
            Flags::Plain => NLM_F_REQUEST | NLM_F_ACK,
            Flags::Dump => NLM_F_REQUEST | NLM_F_DUMP,
        }
    }
}

pub fn encode(payload: RouteNetlinkMessage, flags: Flags) -> Vec<u8> {
    frame(NetlinkPayload::InnerMessage(payload), flags)
}

/// A no-op the kernel answers with an acknowledgement and nothing else (sequence number 0).
pub fn acked_noop() -> Vec<u8> {
    frame(NetlinkPayload::Noop, Flags::Plain)
}

fn frame(payload: NetlinkPayload<RouteNetlinkMessage>, flags: Flags) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = flags.bits();
    let mut msg = NetlinkMessage::new(header, payload);
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

pub fn decode(op: &str, bytes: &[u8]) -> Result<RouteNetlinkMessage> {
    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes) {
        Ok(NetlinkMessage {
            payload: NetlinkPayload::InnerMessage(m),
            ..
        }) => Ok(m),
        Ok(other) => Err(Error::Protocol {
            op: op.into(),
            detail: format!("unexpected payload {:?}", other.payload),
        }),
        Err(e) => Err(Error::Protocol {
            op: op.into(),
            detail: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{ack, header};

    #[test]
    fn the_acked_noop_is_a_bare_header_asking_for_an_ack() {
        let m = acked_noop();
        let h = ack::header(&m).expect("a header");
        assert_eq!((m.len(), h.len), (ack::NLMSG_HDRLEN, ack::NLMSG_HDRLEN));
        assert_eq!(h.kind, ack::NLMSG_NOOP);
        assert_eq!(header::flags(&m), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(h.seq, 0);
    }
}

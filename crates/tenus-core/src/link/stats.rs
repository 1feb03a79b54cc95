//! A link's 64-bit counters on demand, without a dump: RTM_GETSTATS with IFLA_STATS_LINK_64
//! for a link named by index (`ip stats show dev LINK group link`), or the IFLA_STATS64 of one
//! targeted RTM_GETLINK for a link named by name (one request either way). Both carry the
//! kernel's `struct rtnl_link_stats64`, read here field by field (it grew over time: fields a
//! kernel does not send are left out).

use netlink_packet_route::stats::{StatsFilterMask, StatsMessage};
use netlink_packet_route::RouteNetlinkMessage;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::message::{encode, Flags};
use crate::transport::ack::{align4, NLMSG_HDRLEN};

use super::get::encode_link_get;
use super::LinkRef;

const RTM_NEWLINK: u16 = 16;
const RTM_NEWSTATS: u16 = 92;
const IFINFOMSG_LEN: usize = 16;
const IF_STATS_MSG_LEN: usize = 12;
const IFLA_STATS64: u16 = 23;
const IFLA_STATS_LINK_64: u16 = 1;

macro_rules! stats64 {
    ($($field:ident),* ; $($newer:ident),* $(,)?) => {
        /// `struct rtnl_link_stats64`, as `ip -s -j link` reports it. Exact up to 2^53 in
        /// JavaScript. Fields newer kernels added are absent where the kernel does not send them.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "camelCase")]
        #[cfg_attr(
            feature = "napi",
            napi_derive::napi(object, object_to_js = false, object_from_js = false)
        )]
        pub struct LinkStats64 {
            $(
                #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
                pub $field: u64,
            )*
            $(
                #[serde(skip_serializing_if = "Option::is_none")]
                #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
                pub $newer: Option<u64>,
            )*
        }

        impl LinkStats64 {
            /// Reads the struct's bytes (native endian, one u64 per field, in this order).
            pub fn from_bytes(b: &[u8]) -> Self {
                let mut fields = b
                    .chunks_exact(8)
                    .map(|c| u64::from_ne_bytes(c.try_into().unwrap_or_default()));
                LinkStats64 {
                    $($field: fields.next().unwrap_or_default(),)*
                    $($newer: fields.next(),)*
                }
            }
        }
    };
}

// The fields in the kernel's order; after the `;` those added since (rx_otherhost_dropped: Linux 5.19).
stats64!(
    rx_packets,
    tx_packets,
    rx_bytes,
    tx_bytes,
    rx_errors,
    tx_errors,
    rx_dropped,
    tx_dropped,
    multicast,
    collisions,
    rx_length_errors,
    rx_over_errors,
    rx_crc_errors,
    rx_frame_errors,
    rx_fifo_errors,
    rx_missed_errors,
    tx_aborted_errors,
    tx_carrier_errors,
    tx_fifo_errors,
    tx_heartbeat_errors,
    tx_window_errors,
    rx_compressed,
    tx_compressed,
    rx_nohandler;
    rx_otherhost_dropped,
);

/// `ip stats show dev INDEX group link`.
pub fn encode_stats_get(index: u32) -> Vec<u8> {
    let mut m = StatsMessage::default();
    m.header.ifindex = index;
    m.header.filter_mask = StatsFilterMask::Link64;
    encode(RouteNetlinkMessage::GetStats(m), Flags::Plain)
}

/// The value of attribute `kind` among the top-level attributes of a message whose family
/// header is `header` bytes long, if the message is of type `msg_type`.
fn attribute(msg: &[u8], msg_type: u16, header: usize, kind: u16) -> Option<&[u8]> {
    if msg.len() < NLMSG_HDRLEN + header || u16::from_ne_bytes([msg[4], msg[5]]) != msg_type {
        return None;
    }
    let mut at = NLMSG_HDRLEN + header;
    while at + 4 <= msg.len() {
        let len = u16::from_ne_bytes([msg[at], msg[at + 1]]) as usize;
        let ty = u16::from_ne_bytes([msg[at + 2], msg[at + 3]]) & 0x3fff;
        if len < 4 || at + len > msg.len() {
            return None;
        }
        if ty == kind {
            return Some(&msg[at + 4..at + len]);
        }
        at += align4(len);
    }
    None
}

impl Handle {
    /// The link's counters, in one request.
    pub async fn link_stats(&self, link: &LinkRef) -> Result<LinkStats64> {
        link.validate("link")?;
        let label = link.describe();
        let (request, msg_type, header, kind) = match link {
            LinkRef::Index(i) => (
                encode_stats_get(*i),
                RTM_NEWSTATS,
                IF_STATS_MSG_LEN,
                IFLA_STATS_LINK_64,
            ),
            LinkRef::Name(_) => (encode_link_get(link), RTM_NEWLINK, IFINFOMSG_LEN, IFLA_STATS64),
        };
        let reply = self.reply("link.stats", Some(&label), request).await?;
        let stats = reply
            .messages
            .iter()
            .find_map(|m| attribute(m, msg_type, header, kind))
            .map(LinkStats64::from_bytes);
        stats.ok_or_else(|| Error::Protocol {
            op: "link.stats".into(),
            detail: "no 64-bit counters in the reply".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_in_the_kernels_order_and_newer_ones_absent() {
        let bytes: Vec<u8> = (1..=24u64).flat_map(|v| v.to_ne_bytes()).collect();
        let s = LinkStats64::from_bytes(&bytes);
        assert_eq!(s.rx_packets, 1);
        assert_eq!(s.tx_bytes, 4);
        assert_eq!(s.rx_nohandler, 24);
        assert_eq!(s.rx_otherhost_dropped, None);
    }
}

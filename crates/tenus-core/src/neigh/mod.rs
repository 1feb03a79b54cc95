//! Neighbours, the ARP (IPv4) and NDP (IPv6) entries of a link: `ip neigh add|replace|del|get|
//! show|flush`. The record and the states are here; what a request names (`spec.rs`), one file
//! per verb (`add.rs`, `del.rs`, `get.rs`, `flush.rs`); what a link going down takes
//! (`flushed.rs`). Bridge FDB entries travel in the same
//! messages (family AF_BRIDGE) and live in `fdb/`.

pub mod add;
pub mod del;
pub mod flush;
pub(crate) mod flushed;
pub mod get;
pub mod spec;

use std::net::IpAddr;

use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use serde::Serialize;

use crate::args::format_lladdr;
use crate::message::decode;
use crate::transport::Messages;

pub use spec::{Neighbour, NeighbourKey, NeighbourOptions};

crate::js_enum!(NeighbourState {
    Incomplete = "incomplete",
    Reachable = "reachable",
    Stale = "stale",
    Delay = "delay",
    Probe = "probe",
    Failed = "failed",
    Noarp = "noarp",
    Permanent = "permanent",
    NoState = "none",
});

impl NeighbourState {
    /// NUD_* (linux/neighbour.h).
    pub fn bits(self) -> u16 {
        match self {
            NeighbourState::Incomplete => 0x01,
            NeighbourState::Reachable => 0x02,
            NeighbourState::Stale => 0x04,
            NeighbourState::Delay => 0x08,
            NeighbourState::Probe => 0x10,
            NeighbourState::Failed => 0x20,
            NeighbourState::Noarp => 0x40,
            NeighbourState::Permanent => 0x80,
            NeighbourState::NoState => 0,
        }
    }

    /// The state the kernel reports. An entry is in one state at a time; should a report carry
    /// several bits, the strongest (highest) one is named.
    pub fn from_bits(bits: u16) -> Self {
        Self::ALL
            .iter()
            .rev()
            .copied()
            .find(|s| s.bits() != 0 && bits & s.bits() != 0)
            .unwrap_or(NeighbourState::NoState)
    }

    /// Whether an entry in this state needs a link-layer address (NUD_VALID): the kernel
    /// refuses to make one without it ("No link layer address given"), and keeps the empty
    /// entry it made before refusing. (It does without on a device that has no link-layer
    /// address, a tun, and for an address it resolves itself (broadcast, multicast, on a NOARP
    /// device), which a request cannot tell: such entries need a MAC here all the same.)
    pub fn needs_lladdr(self) -> bool {
        matches!(
            self,
            NeighbourState::Permanent
                | NeighbourState::Noarp
                | NeighbourState::Reachable
                | NeighbourState::Stale
                | NeighbourState::Delay
                | NeighbourState::Probe
        )
    }
}

/// One neighbour entry, as `ip -j neigh` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NeighbourRecord {
    /// The link's index.
    pub index: u32,
    /// 'inet' or 'inet6'.
    #[cfg_attr(feature = "napi", napi(ts_type = "Family"))]
    pub family: String,
    /// The neighbour's IP address.
    pub address: String,
    /// Its link-layer address (absent for proxy and incomplete entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    pub state: NeighbourState,
    /// NTF_ROUTER: the neighbour is an IPv6 router.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub router: Option<bool>,
    /// NTF_PROXY: a proxy entry (`ip neigh add proxy`): this host answers for the address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<bool>,
    /// NTF_EXT_LEARNED: learnt by something outside the kernel (a control plane).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extern_learn: Option<bool>,
}

fn yes(set: bool) -> Option<bool> {
    set.then_some(true)
}

pub(crate) fn family_name(f: AddressFamily) -> Option<&'static str> {
    match f {
        AddressFamily::Inet => Some("inet"),
        AddressFamily::Inet6 => Some("inet6"),
        _ => None,
    }
}

impl NeighbourRecord {
    /// An IPv4 or IPv6 entry (None for other families: the bridge's FDB entries come in the
    /// same messages).
    pub fn from_message(m: &NeighbourMessage) -> Option<Self> {
        let family = family_name(m.header.family)?;
        let mut address = None;
        let mut mac = None;
        for a in &m.attributes {
            match a {
                NeighbourAttribute::Destination(NeighbourAddress::Inet(ip)) => {
                    address = Some(IpAddr::V4(*ip))
                }
                NeighbourAttribute::Destination(NeighbourAddress::Inet6(ip)) => {
                    address = Some(IpAddr::V6(*ip))
                }
                NeighbourAttribute::LinkLayerAddress(bytes) if !bytes.is_empty() => {
                    mac = Some(format_lladdr(bytes))
                }
                _ => {}
            }
        }
        let flags = m.header.flags;
        Some(NeighbourRecord {
            index: m.header.ifindex,
            family: family.into(),
            address: address?.to_string(),
            mac,
            state: NeighbourState::from_bits(m.header.state.into()),
            router: yes(flags.contains(NeighbourFlags::Router)),
            proxy: yes(flags.contains(NeighbourFlags::Proxy)),
            extern_learn: yes(flags.contains(NeighbourFlags::ExtLearned)),
        })
    }
}

/// The neighbour messages among `messages`.
pub(crate) fn messages(op: &str, messages: &Messages) -> Vec<NeighbourMessage> {
    messages
        .iter()
        .filter_map(|bytes| match decode(op, bytes) {
            Ok(RouteNetlinkMessage::NewNeighbour(m)) => Some(m),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_the_strongest_bit_wins() {
        for s in NeighbourState::ALL {
            assert_eq!(NeighbourState::from_bits(s.bits()), *s);
        }
        assert_eq!(NeighbourState::from_bits(0x40 | 0x80), NeighbourState::Permanent);
        assert_eq!(NeighbourState::from_bits(0x100), NeighbourState::NoState);
    }
}

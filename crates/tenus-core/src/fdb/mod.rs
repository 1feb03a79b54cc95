//! The bridge forwarding database: `bridge fdb add|append|replace|del|show`, the entries a
//! bridge forwards by and the remote VTEPs a VXLAN device sends to. They travel as neighbour
//! messages of family AF_BRIDGE. The record and the states are here; what a request names
//! (`spec.rs`), one file per verb (`add.rs`, `del.rs`, `get.rs`); what a port leaving its bridge
//! takes (`left.rs`).

pub mod add;
pub mod del;
pub mod get;
pub(crate) mod left;
pub mod spec;

use netlink_packet_route::neighbour::{NeighbourAttribute, NeighbourFlags, NeighbourMessage};
use netlink_packet_route::AddressFamily;
use serde::Serialize;

use crate::args::format_mac;

pub use spec::{FdbEntry, FdbOptions};

// States as `bridge fdb` sets and shows them.
crate::js_enum!(FdbState {
    Permanent = "permanent",
    Static = "static",
    Dynamic = "dynamic",
    Stale = "stale",
});

const NUD_REACHABLE: u16 = 0x02;
const NUD_STALE: u16 = 0x04;
const NUD_NOARP: u16 = 0x40;
const NUD_PERMANENT: u16 = 0x80;

impl FdbState {
    /// The NUD bits `bridge fdb` sends for the keyword: it starts from NOARP, `permanent` adds
    /// PERMANENT, `static` REACHABLE, `dynamic` makes it REACHABLE alone, and with neither
    /// PERMANENT nor REACHABLE it assumes permanent. The bridge reads PERMANENT as a local
    /// entry, NOARP as static, anything else as dynamic.
    pub fn bits(self) -> u16 {
        match self {
            FdbState::Permanent => NUD_NOARP | NUD_PERMANENT,
            FdbState::Static => NUD_NOARP | NUD_REACHABLE,
            FdbState::Dynamic | FdbState::Stale => NUD_REACHABLE,
        }
    }

    /// The state as `bridge fdb show` names it.
    pub fn from_bits(bits: u16) -> Self {
        if bits & NUD_PERMANENT != 0 {
            FdbState::Permanent
        } else if bits & NUD_NOARP != 0 {
            FdbState::Static
        } else if bits & NUD_STALE != 0 {
            FdbState::Stale
        } else {
            FdbState::Dynamic
        }
    }
}

/// One FDB entry, as `bridge -j fdb show` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct FdbRecord {
    /// The link the entry is on (a bridge port, a VXLAN device, the bridge itself).
    pub index: u32,
    pub mac: String,
    /// The bridge whose table holds it (`master br0`); absent for the device's own entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    /// A VXLAN entry's remote VTEP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<String>,
    /// A VXLAN entry's VNI, when not the device's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vni: Option<u32>,
    /// A VXLAN entry's UDP port, when not the device's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// A VXLAN entry's source VNI (collect-metadata devices).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_vni: Option<u32>,
    /// The link a VXLAN entry's packets leave by (`via`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<u32>,
    /// NTF_SELF: in the device's own table (a VXLAN device's remotes, a port's own addresses).
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "napi", napi(js_name = "self"))]
    pub own: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub router: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extern_learn: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offloaded: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sticky: Option<bool>,
    pub state: FdbState,
}

fn yes(set: bool) -> Option<bool> {
    set.then_some(true)
}

impl FdbRecord {
    /// An AF_BRIDGE neighbour message (None for other families).
    pub fn from_message(m: &NeighbourMessage) -> Option<Self> {
        if m.header.family != AddressFamily::Bridge {
            return None;
        }
        let flags = m.header.flags;
        let mut r = FdbRecord {
            index: m.header.ifindex,
            mac: String::new(),
            master: None,
            vlan: None,
            dst: None,
            vni: None,
            port: None,
            src_vni: None,
            via: None,
            own: yes(flags.contains(NeighbourFlags::Own)),
            router: yes(flags.contains(NeighbourFlags::Router)),
            extern_learn: yes(flags.contains(NeighbourFlags::ExtLearned)),
            offloaded: yes(flags.contains(NeighbourFlags::Offloaded)),
            sticky: yes(flags.contains(NeighbourFlags::Sticky)),
            state: FdbState::from_bits(m.header.state.into()),
        };
        for a in &m.attributes {
            match a {
                NeighbourAttribute::LinkLayerAddress(b) => r.mac = format_mac(b),
                NeighbourAttribute::Controller(i) => r.master = Some(*i),
                NeighbourAttribute::Vlan(v) => r.vlan = Some(*v),
                NeighbourAttribute::Destination(d) => r.dst = spec::dst_text(d),
                NeighbourAttribute::Vni(v) => r.vni = Some(*v),
                NeighbourAttribute::Port(p) => r.port = Some(*p),
                NeighbourAttribute::SourceVni(v) => r.src_vni = Some(*v),
                NeighbourAttribute::IfIndex(i) => r.via = Some(*i),
                _ => {}
            }
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_as_bridge_sends_and_shows_them() {
        assert_eq!(FdbState::Permanent.bits(), 0xc0);
        assert_eq!(FdbState::Static.bits(), 0x42);
        assert_eq!(FdbState::Dynamic.bits(), 0x02);
        for s in [FdbState::Permanent, FdbState::Static, FdbState::Dynamic] {
            assert_eq!(FdbState::from_bits(s.bits()), s);
        }
        assert_eq!(FdbState::from_bits(NUD_STALE), FdbState::Stale);
    }
}

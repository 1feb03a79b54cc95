//! Decoding RTM_NEWLINK replies into plain records, in the vocabulary of `ip -j link`.

use netlink_packet_route::link::{LinkAttribute, LinkInfo, LinkMessage, State};

use std::borrow::Cow;

use serde::Serialize;

use crate::args::format_lladdr;

use super::kinds::KindInfo;

/// Byte and packet counters (IFLA_STATS64). Exact up to 2^53 in JavaScript, which is plenty.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct LinkStats {
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub rx_bytes: u64,
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub tx_bytes: u64,
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub rx_packets: u64,
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub tx_packets: u64,
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub rx_errors: u64,
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub tx_errors: u64,
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub rx_dropped: u64,
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub tx_dropped: u64,
}

/// One link as the kernel reports it, in the vocabulary of `ip -j link` where it fits. Crosses
/// to JavaScript as JSON, absent fields left out; the same record for `link()`, `links()` and
/// change events.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct LinkRecord {
    pub index: u32,
    pub name: String,
    /// IFLA_INFO_KIND ('bridge', 'veth', ...); absent for devices without one (lo, physical NICs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// IFF_* flags by their iproute2 names ('UP', 'BROADCAST', 'LOWER_UP', ...).
    pub flags: Vec<&'static str>,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// 'UP', 'DOWN', 'UNKNOWN', 'LOWERLAYERDOWN', ...
    pub operstate: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_mtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_mtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<String>,
    /// Index of the bridge, bond or VRF this link is attached to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<u32>,
    /// IFLA_LINK: the parent (macvlan, vlan, tunnels) or, for veth, the peer's index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<u32>,
    /// Set when `parent` lives in another namespace (its id as seen from this one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_netnsid: Option<i32>,
    pub group: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txqlen: Option<u32>,
    /// Kind of the master this link is a port of ('bridge', 'bond', 'vrf').
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<LinkStats>,
    /// The kind's own details, tagged with the kind ('vxlan': vni, port, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkInfo"))]
    pub info: Option<KindInfo>,
    /// Only in the removal event of a link that left this namespace for another (moved, not
    /// deleted): where it went.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<LinkMove>,
}

/// Where a link that left this namespace went (IFLA_NEW_NETNSID, IFLA_NEW_IFINDEX of its
/// RTM_DELLINK).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct LinkMove {
    /// The namespace's id as seen from this one (as `linkNetnsid`).
    pub netnsid: i32,
    /// Its index there (absent before Linux 4.16).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

impl LinkMove {
    /// From a message's IFLA_NEW_NETNSID and IFLA_NEW_IFINDEX: a move always has the first.
    pub(crate) fn of(netnsid: Option<i32>, index: Option<u32>) -> Option<LinkMove> {
        netnsid.map(|netnsid| LinkMove { netnsid, index })
    }
}

const FLAG_NAMES: [(u32, &str); 19] = [
    (1 << 0, "UP"),
    (1 << 1, "BROADCAST"),
    (1 << 2, "DEBUG"),
    (1 << 3, "LOOPBACK"),
    (1 << 4, "POINTOPOINT"),
    (1 << 5, "NOTRAILERS"),
    (1 << 6, "RUNNING"),
    (1 << 7, "NOARP"),
    (1 << 8, "PROMISC"),
    (1 << 9, "ALLMULTI"),
    (1 << 10, "MASTER"),
    (1 << 11, "SLAVE"),
    (1 << 12, "MULTICAST"),
    (1 << 13, "PORTSEL"),
    (1 << 14, "AUTOMEDIA"),
    (1 << 15, "DYNAMIC"),
    (1 << 16, "LOWER_UP"),
    (1 << 17, "DORMANT"),
    (1 << 18, "ECHO"),
];

pub fn flag_names(bits: u32) -> Vec<&'static str> {
    flags_named(bits).collect()
}

/// The names of the IFF_* flags set in `bits`, in bit order.
pub(super) fn flags_named(bits: u32) -> impl Iterator<Item = &'static str> {
    FLAG_NAMES
        .iter()
        .filter(move |(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
}

/// Borrowed for the states iproute2 names (a listing writes thousands), else made up.
pub(crate) fn operstate_name(s: &State) -> Cow<'static, str> {
    match s {
        State::Unknown => "UNKNOWN".into(),
        State::NotPresent => "NOTPRESENT".into(),
        State::Down => "DOWN".into(),
        State::LowerLayerDown => "LOWERLAYERDOWN".into(),
        State::Testing => "TESTING".into(),
        State::Dormant => "DORMANT".into(),
        State::Up => "UP".into(),
        other => format!("{other:?}").to_uppercase().into(),
    }
}

impl LinkRecord {
    pub fn from_message(msg: &LinkMessage) -> Self {
        let bits = msg.header.flags.bits();
        let mut r = LinkRecord {
            index: msg.header.index,
            flags: flag_names(bits),
            up: bits & 1 != 0,
            operstate: "UNKNOWN".into(),
            ..Default::default()
        };
        let (mut new_netnsid, mut new_index) = (None, None);
        for attr in &msg.attributes {
            match attr {
                LinkAttribute::IfName(n) => r.name = n.clone(),
                LinkAttribute::Mtu(v) => r.mtu = Some(*v),
                LinkAttribute::MinMtu(v) => r.min_mtu = Some(*v),
                LinkAttribute::MaxMtu(v) => r.max_mtu = Some(*v),
                LinkAttribute::Address(a) if !a.is_empty() => r.mac = Some(format_lladdr(a)),
                LinkAttribute::Broadcast(a) if !a.is_empty() => r.broadcast = Some(format_lladdr(a)),
                LinkAttribute::Controller(m) if *m != 0 => r.master = Some(*m),
                // The kernel leaves IFLA_LINK out when it equals the link's own index, except (Linux
                // 5.2 and later) for a peer in another namespace, named with IFLA_LINK_NETNSID.
                LinkAttribute::Link(l) if *l != 0 => r.parent = Some(*l),
                LinkAttribute::LinkNetNsId(id) => r.link_netnsid = Some(*id),
                LinkAttribute::NewNetnsId(id) => new_netnsid = Some(*id),
                LinkAttribute::NewIfIndex(i) => new_index = u32::try_from(*i).ok().filter(|i| *i > 0),
                LinkAttribute::Group(g) => r.group = *g,
                LinkAttribute::IfAlias(a) if !a.is_empty() => r.alias = Some(a.clone()),
                LinkAttribute::TxQueueLen(q) => r.txqlen = Some(*q),
                LinkAttribute::OperState(s) => r.operstate = operstate_name(s).into_owned(),
                LinkAttribute::Stats64(s) => {
                    r.stats = Some(LinkStats {
                        rx_bytes: s.rx_bytes,
                        tx_bytes: s.tx_bytes,
                        rx_packets: s.rx_packets,
                        tx_packets: s.tx_packets,
                        rx_errors: s.rx_errors,
                        tx_errors: s.tx_errors,
                        rx_dropped: s.rx_dropped,
                        tx_dropped: s.tx_dropped,
                    })
                }
                LinkAttribute::LinkInfo(infos) => r.read_link_info(infos),
                _ => {}
            }
        }
        r.moved_to = LinkMove::of(new_netnsid, new_index);
        r
    }

    pub(crate) fn read_link_info(&mut self, infos: &[LinkInfo]) {
        let mut data = None;
        for info in infos {
            match info {
                LinkInfo::Kind(k) => self.kind = Some(k.to_string()),
                LinkInfo::PortKind(k) => self.port_kind = Some(k.to_string()),
                LinkInfo::Data(d) => data = Some(d),
                _ => {}
            }
        }
        if let Some(kind) = &self.kind {
            self.info = KindInfo::decode(kind, data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_use_iproute2_names() {
        assert_eq!(
            flag_names(0x11043),
            vec!["UP", "BROADCAST", "RUNNING", "MULTICAST", "LOWER_UP"]
        );
        assert!(flag_names(0).is_empty());
    }
}

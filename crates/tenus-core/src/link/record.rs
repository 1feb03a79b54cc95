//! Decoding RTM_NEWLINK replies into plain records, in the vocabulary of `ip -j link`.

use netlink_packet_route::link::{
    InfoBond, InfoData, InfoGre, InfoGre6, InfoIpVlan, InfoMacVlan, InfoMacVtap, InfoVlan, InfoVrf,
    InfoVxlan, LinkAttribute, LinkInfo, LinkMessage, State,
};

use serde::Serialize;

use crate::validate::format_lladdr;

use super::{bond, ipvlan, macvlan, vlan};

/// Byte and packet counters (IFLA_STATS64).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkStats {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
}

/// One link as the kernel reports it. Serializes to JSON with camelCase names and absent
/// fields left out (how listings cross to JavaScript).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkRecord {
    pub index: u32,
    pub name: String,
    /// IFLA_INFO_KIND ("bridge", "veth", ...); None for devices without one (lo, physical NICs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// IFF_* flags by their iproute2 names ("UP", "BROADCAST", "LOWER_UP", ...).
    pub flags: Vec<&'static str>,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// "UP", "DOWN", "UNKNOWN", "LOWERLAYERDOWN", ...
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
    /// Index of the bridge/bond this link is attached to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<u32>,
    /// IFLA_LINK: the parent (macvlan, vlan) or, for veth, the peer's index.
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
    /// Kind of the master this link is a port of ("bridge", "bond").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<LinkStats>,
    /// macvlan/macvtap mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan_id: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan_protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vni: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vxlan_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vxlan_local: Option<String>,
    /// vxlan remote or group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vxlan_remote: Option<String>,
    /// vrf routing table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vrf_table: Option<u32>,
    /// bond link monitoring interval (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bond_miimon: Option<u32>,
    /// gre/gretap/ip6gre local endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_local: Option<String>,
    /// gre/gretap/ip6gre remote endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_remote: Option<String>,
    /// gre key (input key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_key: Option<u32>,
    /// Tunnel TTL (vxlan, gre); 0 means inherit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
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
    FLAG_NAMES
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect()
}

pub(crate) fn operstate_name(s: &State) -> String {
    match s {
        State::Unknown => "UNKNOWN".into(),
        State::NotPresent => "NOTPRESENT".into(),
        State::Down => "DOWN".into(),
        State::LowerLayerDown => "LOWERLAYERDOWN".into(),
        State::Testing => "TESTING".into(),
        State::Dormant => "DORMANT".into(),
        State::Up => "UP".into(),
        other => format!("{other:?}").to_uppercase(),
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
        for attr in &msg.attributes {
            match attr {
                LinkAttribute::IfName(n) => r.name = n.clone(),
                LinkAttribute::Mtu(v) => r.mtu = Some(*v),
                LinkAttribute::MinMtu(v) => r.min_mtu = Some(*v),
                LinkAttribute::MaxMtu(v) => r.max_mtu = Some(*v),
                LinkAttribute::Address(a) if !a.is_empty() => r.mac = Some(format_lladdr(a)),
                LinkAttribute::Broadcast(a) if !a.is_empty() => r.broadcast = Some(format_lladdr(a)),
                LinkAttribute::Controller(m) if *m != 0 => r.master = Some(*m),
                // The kernel leaves IFLA_LINK out when it equals the link's own index (a veth whose peer
                // has the same index in another namespace): callers must allow for that.
                LinkAttribute::Link(l) if *l != 0 => r.parent = Some(*l),
                LinkAttribute::LinkNetNsId(id) => r.link_netnsid = Some(*id),
                LinkAttribute::Group(g) => r.group = *g,
                LinkAttribute::IfAlias(a) if !a.is_empty() => r.alias = Some(a.clone()),
                LinkAttribute::TxQueueLen(q) => r.txqlen = Some(*q),
                LinkAttribute::OperState(s) => r.operstate = operstate_name(s),
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
        r
    }

    pub(crate) fn read_link_info(&mut self, infos: &[LinkInfo]) {
        for info in infos {
            match info {
                LinkInfo::Kind(k) => self.kind = Some(k.to_string()),
                LinkInfo::PortKind(k) => self.port_kind = Some(k.to_string()),
                LinkInfo::Data(data) => self.read_info_data(data),
                _ => {}
            }
        }
    }

    fn read_info_data(&mut self, data: &InfoData) {
        match data {
            InfoData::MacVlan(items) => {
                for i in items {
                    if let InfoMacVlan::Mode(m) = i {
                        self.mode = Some(macvlan::Mode::name(m));
                    }
                }
            }
            InfoData::MacVtap(items) => {
                for i in items {
                    if let InfoMacVtap::Mode(m) = i {
                        self.mode = Some(macvlan::Mode::name(m));
                    }
                }
            }
            InfoData::Vlan(items) => {
                for i in items {
                    match i {
                        InfoVlan::Id(id) => self.vlan_id = Some(*id),
                        InfoVlan::Protocol(p) => self.vlan_protocol = Some(vlan::protocol_name(*p).into()),
                        _ => {}
                    }
                }
            }
            InfoData::Vxlan(items) => {
                for i in items {
                    match i {
                        InfoVxlan::Id(v) => self.vni = Some(*v),
                        InfoVxlan::Port(p) => self.vxlan_port = Some(*p),
                        InfoVxlan::Local(a) => self.vxlan_local = Some(a.to_string()),
                        InfoVxlan::Local6(a) => self.vxlan_local = Some(a.to_string()),
                        InfoVxlan::Group(a) if !a.is_unspecified() => self.vxlan_remote = Some(a.to_string()),
                        InfoVxlan::Group6(a) if !a.is_unspecified() => {
                            self.vxlan_remote = Some(a.to_string())
                        }
                        InfoVxlan::Ttl(t) => self.ttl = Some(u32::from(*t)),
                        _ => {}
                    }
                }
            }
            InfoData::IpVlan(items) => {
                for i in items {
                    if let InfoIpVlan::Mode(m) = i {
                        self.mode = Some(ipvlan::mode_name(m));
                    }
                }
            }
            InfoData::Bond(items) => {
                for i in items {
                    match i {
                        InfoBond::Mode(m) => self.mode = Some(bond::mode_name(m)),
                        InfoBond::MiiMon(ms) => self.bond_miimon = Some(*ms),
                        _ => {}
                    }
                }
            }
            InfoData::Vrf(items) => {
                for i in items {
                    if let InfoVrf::TableId(t) = i {
                        self.vrf_table = Some(*t);
                    }
                }
            }
            InfoData::GreTun(items) | InfoData::GreTap(items) => {
                for i in items {
                    match i {
                        InfoGre::Local(a) if !a.is_unspecified() => self.tunnel_local = Some(a.to_string()),
                        InfoGre::Remote(a) if !a.is_unspecified() => self.tunnel_remote = Some(a.to_string()),
                        InfoGre::IKey(k) if *k != 0 => self.tunnel_key = Some(*k),
                        InfoGre::Ttl(t) => self.ttl = Some(u32::from(*t)),
                        InfoGre::Link(l) if *l != 0 => self.parent = Some(*l),
                        _ => {}
                    }
                }
            }
            InfoData::GreTun6(items) | InfoData::GreTap6(items) => {
                for i in items {
                    match i {
                        InfoGre6::Local(a) if !a.is_unspecified() => self.tunnel_local = Some(a.to_string()),
                        InfoGre6::Remote(a) if !a.is_unspecified() => {
                            self.tunnel_remote = Some(a.to_string())
                        }
                        InfoGre6::IKey(k) if *k != 0 => self.tunnel_key = Some(*k),
                        InfoGre6::Ttl(t) => self.ttl = Some(u32::from(*t)),
                        InfoGre6::Link(l) if *l != 0 => self.parent = Some(*l),
                        _ => {}
                    }
                }
            }
            _ => {}
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

//! A direct reader of RTM_NEWLINK messages for listings. A dump of a few thousand links is
//! megabytes of attributes (per-link IPv4/IPv6 settings, statistics, ...); decoding all of it
//! into `netlink-packet-route` types costs more than the kernel takes to send it. This reads
//! only what a `LinkRecord` holds, and hands the small IFLA_LINKINFO nest to
//! `netlink-packet-route` only when it carries kind details (IFLA_INFO_DATA).

use netlink_packet_route::link::{LinkAttribute, LinkMessage, State};

use netlink_packet_core::Parseable;

use crate::args::format_lladdr;
use crate::nla::{attrs, whole_attrs};
use crate::transport::ack::{align4, NLMSG_HDRLEN};

use super::record::{flag_names, operstate_name, LinkMove, LinkRecord, LinkStats};
use super::KindInfo;

const RTM_NEWLINK: u16 = 16;
const IFINFO_LEN: usize = 16;

pub(super) const IFLA_ADDRESS: u16 = 1;
pub(super) const IFLA_BROADCAST: u16 = 2;
pub(super) const IFLA_IFNAME: u16 = 3;
pub(super) const IFLA_MTU: u16 = 4;
pub(super) const IFLA_LINK: u16 = 5;
pub(super) const IFLA_MASTER: u16 = 10;
pub(super) const IFLA_TXQLEN: u16 = 13;
pub(super) const IFLA_OPERSTATE: u16 = 16;
pub(super) const IFLA_LINKINFO: u16 = 18;
pub(super) const IFLA_IFALIAS: u16 = 20;
pub(super) const IFLA_STATS64: u16 = 23;
pub(super) const IFLA_GROUP: u16 = 27;
pub(super) const IFLA_LINK_NETNSID: u16 = 37;
pub(super) const IFLA_NEW_NETNSID: u16 = 45;
pub(super) const IFLA_NEW_IFINDEX: u16 = 49;
pub(super) const IFLA_MIN_MTU: u16 = 50;
pub(super) const IFLA_MAX_MTU: u16 = 51;

pub(super) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(super) fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_ne_bytes)
        .unwrap_or(0)
}

fn text(b: &[u8]) -> String {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// An RTM_NEWLINK's struct ifinfomsg and the attributes after it; None for any other message.
pub(super) fn new_link_parts(msg: &[u8]) -> Option<(&[u8], &[u8])> {
    if crate::nla::message_type(msg)? != RTM_NEWLINK {
        return None;
    }
    ifinfo_parts(msg)
}

/// A link message's struct ifinfomsg and the attributes after it, whatever its type.
fn ifinfo_parts(msg: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = msg.get(NLMSG_HDRLEN..)?;
    (body.len() >= IFINFO_LEN).then(|| body.split_at(IFINFO_LEN))
}

/// The index an RTM_NEWLINK describes, nothing else read; None for any other message.
pub(super) fn new_link_index(msg: &[u8]) -> Option<u32> {
    let (ifinfo, _) = new_link_parts(msg)?;
    u32_at(ifinfo, 4)
}

/// Reads one netlink message; None unless it is an RTM_NEWLINK.
pub fn read_link(msg: &[u8]) -> Option<LinkRecord> {
    let (ifinfo, attributes) = new_link_parts(msg)?;
    read_parts(ifinfo, attributes)
}

/// Reads the link an RTM_NEWLINK or RTM_DELLINK message describes (the type is not checked:
/// change events come as both).
pub fn read_ifinfo(msg: &[u8]) -> Option<LinkRecord> {
    let (ifinfo, attributes) = ifinfo_parts(msg)?;
    read_parts(ifinfo, attributes)
}

/// The record of a link message's struct ifinfomsg and attributes.
fn read_parts(ifinfo: &[u8], attributes: &[u8]) -> Option<LinkRecord> {
    let index = u32_at(ifinfo, 4)?;
    let flags = u32_at(ifinfo, 8)?;
    let mut r = LinkRecord {
        index,
        flags: flag_names(flags),
        up: flags & 1 != 0,
        operstate: "UNKNOWN".into(),
        ..Default::default()
    };
    // A move's removal event says where the link went: the namespace always, the index since
    // Linux 4.16.
    let (mut new_netnsid, mut new_index) = (None, None);
    for (kind, attr) in whole_attrs(attributes) {
        let v = &attr[4..];
        match kind {
            IFLA_IFNAME => r.name = text(v),
            IFLA_MTU => r.mtu = u32_at(v, 0),
            IFLA_MIN_MTU => r.min_mtu = u32_at(v, 0),
            IFLA_MAX_MTU => r.max_mtu = u32_at(v, 0),
            IFLA_ADDRESS if !v.is_empty() => r.mac = Some(format_lladdr(v)),
            IFLA_BROADCAST if !v.is_empty() => r.broadcast = Some(format_lladdr(v)),
            IFLA_MASTER => r.master = u32_at(v, 0).filter(|m| *m != 0),
            IFLA_LINK => r.parent = u32_at(v, 0).filter(|l| *l != 0),
            IFLA_LINK_NETNSID => r.link_netnsid = u32_at(v, 0).map(|n| n as i32),
            IFLA_NEW_NETNSID => new_netnsid = u32_at(v, 0).map(|n| n as i32),
            IFLA_NEW_IFINDEX => new_index = u32_at(v, 0).filter(|i| *i as i32 > 0),
            IFLA_GROUP => r.group = u32_at(v, 0).unwrap_or(0),
            IFLA_IFALIAS => r.alias = Some(text(v)).filter(|a| !a.is_empty()),
            IFLA_TXQLEN => r.txqlen = u32_at(v, 0),
            IFLA_OPERSTATE if !v.is_empty() => r.operstate = operstate_name(&State::from(v[0])).into_owned(),
            IFLA_STATS64 if v.len() >= 64 => {
                r.stats = Some(LinkStats {
                    rx_packets: u64_at(v, 0),
                    tx_packets: u64_at(v, 8),
                    rx_bytes: u64_at(v, 16),
                    tx_bytes: u64_at(v, 24),
                    rx_errors: u64_at(v, 32),
                    tx_errors: u64_at(v, 40),
                    rx_dropped: u64_at(v, 48),
                    tx_dropped: u64_at(v, 56),
                })
            }
            IFLA_LINKINFO => read_link_info(&mut r, ifinfo, attr),
            _ => {}
        }
    }
    r.moved_to = LinkMove::of(new_netnsid, new_index);
    Some(r)
}

pub(super) const IFLA_INFO_KIND: u16 = 1;
pub(super) const IFLA_INFO_DATA: u16 = 2;
pub(super) const IFLA_INFO_SLAVE_KIND: u16 = 4;

/// Reads the IFLA_LINKINFO nest: its names directly when it carries no kind details (veth,
/// and every link of a kind that reports none), else all of it with `netlink-packet-route`.
pub(super) fn read_link_info(r: &mut LinkRecord, ifinfo: &[u8], nla: &[u8]) {
    let (mut kind, mut port_kind) = (None, None);
    for (attr, value) in attrs(nla.get(4..).unwrap_or_default()) {
        match attr {
            IFLA_INFO_KIND => kind = Some(value),
            IFLA_INFO_SLAVE_KIND => port_kind = Some(value),
            IFLA_INFO_DATA => return read_link_info_parsed(r, ifinfo, nla),
            _ => {}
        }
    }
    r.kind = kind.map(text);
    r.port_kind = port_kind.map(text);
    if let Some(kind) = &r.kind {
        r.info = KindInfo::decode(kind, None);
    }
}

/// Parses the IFLA_LINKINFO nest with `netlink-packet-route`, wrapped in a minimal message.
fn read_link_info_parsed(r: &mut LinkRecord, ifinfo: &[u8], nla: &[u8]) {
    let mut buf = Vec::with_capacity(IFINFO_LEN + nla.len() + 3);
    buf.extend_from_slice(ifinfo);
    buf.extend_from_slice(nla);
    buf.resize(align4(buf.len()), 0);
    if let Ok(msg) = LinkMessage::parse(buf.as_slice()) {
        for attr in &msg.attributes {
            if let LinkAttribute::LinkInfo(infos) = attr {
                r.read_link_info(infos);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use netlink_packet_route::link::{InfoData, InfoKind, InfoPortKind, InfoVxlan, LinkInfo};
    use netlink_packet_route::RouteNetlinkMessage;

    use super::*;
    use crate::message::{encode, Flags};

    /// Both readers of a link message: this one (listings, events) and `netlink-packet-route`'s
    /// (single replies) make the same record, whichever way the link details are read.
    #[test]
    fn link_details_read_directly_are_those_netlink_packet_route_reads() {
        let cases = [
            vec![LinkInfo::Kind(InfoKind::Veth)],
            vec![
                LinkInfo::Kind(InfoKind::MacVtap),
                LinkInfo::PortKind(InfoPortKind::Bridge),
            ],
            vec![LinkInfo::Kind(InfoKind::Other("netkit".into()))],
            vec![LinkInfo::PortKind(InfoPortKind::Bond)],
            vec![
                LinkInfo::Kind(InfoKind::Dummy),
                LinkInfo::PortKind(InfoPortKind::Other("team".into())),
            ],
            // Details: read by netlink-packet-route.
            vec![
                LinkInfo::Kind(InfoKind::Vxlan),
                LinkInfo::Data(InfoData::Vxlan(vec![InfoVxlan::Id(42), InfoVxlan::Port(4789)])),
            ],
            vec![],
        ];
        for infos in cases {
            let mut msg = LinkMessage::default();
            msg.header.index = 7;
            msg.attributes.push(LinkAttribute::IfName("x0".into()));
            msg.attributes.push(LinkAttribute::LinkInfo(infos.clone()));
            let bytes = encode(RouteNetlinkMessage::NewLink(msg.clone()), Flags::Plain);
            let direct = read_link(&bytes).expect("an RTM_NEWLINK");
            assert_eq!(direct, LinkRecord::from_message(&msg), "{infos:?}");
            if matches!(infos.first(), Some(LinkInfo::Kind(_))) {
                assert!(direct.kind.is_some(), "{infos:?}: the kind is read");
            }
        }
    }
}

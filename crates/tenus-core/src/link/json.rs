//! Listings written as JSON straight from the RTM_NEWLINK bytes. A dump of thousands of links
//! is bound by whichever thread is slower: the I/O thread reading the kernel's parts, or the JS
//! thread parsing them. Building a `LinkRecord` per link and serialising it with serde costs
//! both sides more than writing its JSON directly, allocation-free. The output is exactly
//! `serde_json::to_string` of what `fast::read_link` reads (the tests hold it to that); the kind
//! details (`info`) still go through the record's reader and serde.

use netlink_packet_route::link::State;

use crate::args::{format_lladdr, write_mac};
use crate::nla::whole_attrs;

use super::fast::*;
use super::record::{flags_named, operstate_name, LinkRecord};

/// Every top-level attribute of one message by type, the last of each (the kernel sends each
/// once), so that the record's fields can then be written in the record's order.
struct Slots<'m>([Option<&'m [u8]>; SLOTS]);

/// IFLA_* types are below 70 today; later ones are not shown in records.
const SLOTS: usize = 80;

impl<'m> Slots<'m> {
    /// The attributes of `body`, each with its header (IFLA_LINKINFO is read as a nest).
    fn of(body: &'m [u8]) -> Self {
        let mut slots = Slots([None; SLOTS]);
        for (kind, attr) in whole_attrs(body) {
            if let Some(slot) = slots.0.get_mut(kind as usize) {
                *slot = Some(attr);
            }
        }
        slots
    }

    /// The value of attribute `kind`, without its header.
    fn value(&self, kind: u16) -> Option<&'m [u8]> {
        self.0[kind as usize].map(|a| &a[4..])
    }

    fn u32(&self, kind: u16) -> Option<u32> {
        self.value(kind).and_then(|v| u32_at(v, 0))
    }
}

/// Appends the JSON of the link one netlink message describes, as `serde_json::to_string` of
/// `fast::read_link(msg)` would (without `stats` the counters are left out). False, with
/// nothing written, when the message is not an RTM_NEWLINK.
pub fn write_link(out: &mut Vec<u8>, msg: &[u8], stats: bool) -> bool {
    let Some((ifinfo, attributes)) = new_link_parts(msg) else {
        return false;
    };
    let (Some(index), Some(flags)) = (u32_at(ifinfo, 4), u32_at(ifinfo, 8)) else {
        return false;
    };
    let at = Slots::of(attributes);
    let mut w = Writer(out);
    w.raw(b"{\"index\":");
    w.number(index);
    w.raw(b",\"name\":");
    w.text(at.value(IFLA_IFNAME).unwrap_or_default());
    // The kind, its port kind and its details, read as the record reads them.
    let mut info = LinkRecord::default();
    if let Some(nla) = at.0[IFLA_LINKINFO as usize] {
        read_link_info(&mut info, ifinfo, nla);
    }
    if let Some(kind) = &info.kind {
        w.raw(b",\"kind\":");
        w.serde(kind);
    }
    w.raw(b",\"flags\":[");
    for (i, name) in flags_named(flags).enumerate() {
        if i > 0 {
            w.raw(b",");
        }
        w.raw(b"\"");
        w.raw(name.as_bytes());
        w.raw(b"\"");
    }
    w.raw(if flags & 1 != 0 {
        b"],\"up\":true"
    } else {
        b"],\"up\":false"
    });
    w.raw(b",\"operstate\":");
    match at.value(IFLA_OPERSTATE).and_then(|v| v.first()) {
        Some(&state) => w.serde(&operstate_name(&State::from(state))),
        None => w.raw(b"\"UNKNOWN\""),
    }
    w.optional_u32(b"mtu", at.u32(IFLA_MTU));
    w.optional_u32(b"minMtu", at.u32(IFLA_MIN_MTU));
    w.optional_u32(b"maxMtu", at.u32(IFLA_MAX_MTU));
    if let Some(mac) = at.value(IFLA_ADDRESS).filter(|v| !v.is_empty()) {
        w.raw(b",\"mac\":");
        w.lladdr(mac);
    }
    if let Some(broadcast) = at.value(IFLA_BROADCAST).filter(|v| !v.is_empty()) {
        w.raw(b",\"broadcast\":");
        w.lladdr(broadcast);
    }
    w.optional_u32(b"master", at.u32(IFLA_MASTER).filter(|m| *m != 0));
    w.optional_u32(b"parent", at.u32(IFLA_LINK).filter(|l| *l != 0));
    if let Some(id) = at.u32(IFLA_LINK_NETNSID) {
        w.raw(b",\"linkNetnsid\":");
        w.number(id as i32);
    }
    w.raw(b",\"group\":");
    w.number(at.u32(IFLA_GROUP).unwrap_or(0));
    if let Some(alias) = at.value(IFLA_IFALIAS).filter(|a| !a.is_empty() && a[0] != 0) {
        w.raw(b",\"alias\":");
        w.text(alias);
    }
    w.optional_u32(b"txqlen", at.u32(IFLA_TXQLEN));
    if let Some(port_kind) = &info.port_kind {
        w.raw(b",\"portKind\":");
        w.serde(port_kind);
    }
    if let Some(v) = at.value(IFLA_STATS64).filter(|v| stats && v.len() >= 64) {
        // IFLA_STATS64 starts rx/tx packets, rx/tx bytes, rx/tx errors, rx/tx dropped; the
        // record names bytes first.
        let fields: [(&[u8], usize); 8] = [
            (b"{\"rxBytes\":", 16),
            (b",\"txBytes\":", 24),
            (b",\"rxPackets\":", 0),
            (b",\"txPackets\":", 8),
            (b",\"rxErrors\":", 32),
            (b",\"txErrors\":", 40),
            (b",\"rxDropped\":", 48),
            (b",\"txDropped\":", 56),
        ];
        w.raw(b",\"stats\":");
        for (key, at) in fields {
            w.raw(key);
            w.number(u64_at(v, at));
        }
        w.raw(b"}");
    }
    if let Some(details) = &info.info {
        w.raw(b",\"info\":");
        w.serde(details);
    }
    if let Some(netnsid) = at.u32(IFLA_NEW_NETNSID) {
        w.raw(b",\"movedTo\":{\"netnsid\":");
        w.number(netnsid as i32);
        if let Some(index) = at.u32(IFLA_NEW_IFINDEX).filter(|i| *i as i32 > 0) {
            w.raw(b",\"index\":");
            w.number(index);
        }
        w.raw(b"}");
    }
    w.raw(b"}");
    true
}

/// Appends a JSON array of the links in `messages` (messages that are not links are skipped).
pub fn write_links<'m>(out: &mut Vec<u8>, messages: impl Iterator<Item = &'m [u8]>, stats: bool) {
    out.push(b'[');
    for msg in messages {
        let before = out.len();
        if before > 1 {
            out.push(b',');
        }
        if !write_link(out, msg, stats) {
            out.truncate(before);
        }
    }
    out.push(b']');
}

struct Writer<'o>(&'o mut Vec<u8>);

impl Writer<'_> {
    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn number(&mut self, n: impl itoa::Integer) {
        self.0.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }

    fn optional_u32(&mut self, key: &[u8], value: Option<u32>) {
        if let Some(value) = value {
            self.raw(b",\"");
            self.raw(key);
            self.raw(b"\":");
            self.number(value);
        }
    }

    fn serde(&mut self, value: &impl serde::Serialize) {
        // Writing into a Vec cannot fail, and these values serialise without error.
        let _ = serde_json::to_writer(&mut *self.0, value);
    }

    /// A C string attribute as a JSON string: up to its NUL, invalid UTF-8 replaced, as
    /// `fast::text` reads it. Plain ASCII, which names almost always are, is copied as is.
    fn text(&mut self, bytes: &[u8]) {
        let bytes = &bytes[..bytes.iter().position(|c| *c == 0).unwrap_or(bytes.len())];
        if bytes
            .iter()
            .all(|c| (0x20..0x7f).contains(c) && *c != b'"' && *c != b'\\')
        {
            self.raw(b"\"");
            self.raw(bytes);
            self.raw(b"\"");
        } else {
            self.serde(&String::from_utf8_lossy(bytes));
        }
    }

    /// A hardware address, as `format_lladdr` writes it (tunnels carry IP addresses here).
    fn lladdr(&mut self, bytes: &[u8]) {
        if matches!(bytes.len(), 4 | 16) {
            return self.serde(&format_lladdr(bytes));
        }
        self.0.push(b'"');
        write_mac(self.0, bytes);
        self.0.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use netlink_packet_route::link::{
        InfoData, InfoKind, InfoPortKind, InfoVxlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, Stats64,
    };
    use netlink_packet_route::RouteNetlinkMessage;

    use super::*;
    use crate::message::{encode, Flags};

    /// An attribute as raw (type, value).
    type Raw<'v> = (u16, &'v [u8]);

    /// The JSON written directly, and the record's JSON, for one message.
    fn both(bytes: &[u8], stats: bool) -> (String, String) {
        let mut direct = Vec::new();
        assert!(write_link(&mut direct, bytes, stats), "an RTM_NEWLINK is written");
        let mut record = read_link(bytes).expect("an RTM_NEWLINK");
        if !stats {
            record.stats = None;
        }
        (
            String::from_utf8(direct).unwrap(),
            serde_json::to_string(&record).unwrap(),
        )
    }

    /// A message with these attributes, then these raw ones (type, value) as the kernel could
    /// send them and `netlink-packet-route` would not write them.
    fn message(flags: u32, attributes: Vec<LinkAttribute>, raw: &[Raw]) -> Vec<u8> {
        let mut msg = LinkMessage::default();
        msg.header.index = 7;
        msg.header.flags = LinkFlags::from_bits_retain(flags);
        msg.attributes = attributes;
        let mut bytes = encode(RouteNetlinkMessage::NewLink(msg), Flags::Plain);
        for (kind, value) in raw {
            crate::nla::attr(&mut bytes, *kind, value);
        }
        let len = bytes.len() as u32;
        bytes[..4].copy_from_slice(&len.to_ne_bytes());
        bytes
    }

    #[test]
    fn direct_json_is_the_records_json() {
        let mut stats = Stats64::default();
        (stats.rx_packets, stats.tx_packets, stats.rx_bytes, stats.tx_bytes) = (1, 2, 3, 4);
        (
            stats.rx_errors,
            stats.tx_errors,
            stats.rx_dropped,
            stats.tx_dropped,
        ) = (5, 6, 7, u64::MAX);
        let cases: Vec<(u32, Vec<LinkAttribute>, Vec<Raw>)> = vec![
            (0, vec![], vec![]),
            (
                0x11043,
                vec![
                    LinkAttribute::IfName("v0a".into()),
                    LinkAttribute::TxQueueLen(1000),
                    LinkAttribute::OperState(netlink_packet_route::link::State::Up),
                    LinkAttribute::Mtu(1500),
                    LinkAttribute::MinMtu(68),
                    LinkAttribute::MaxMtu(65535),
                    LinkAttribute::Group(3),
                    LinkAttribute::Controller(4),
                    LinkAttribute::Link(9),
                    LinkAttribute::LinkNetNsId(2),
                    LinkAttribute::Address(vec![0x02, 0xab, 0, 1, 0xfe, 0x10]),
                    LinkAttribute::Broadcast(vec![0xff; 6]),
                    LinkAttribute::IfAlias("uplink \"a\"\\b\n\u{e9}".into()),
                    LinkAttribute::Stats64(stats),
                    LinkAttribute::LinkInfo(vec![
                        LinkInfo::Kind(InfoKind::Veth),
                        LinkInfo::PortKind(InfoPortKind::Bridge),
                    ]),
                ],
                vec![],
            ),
            (
                0x1,
                vec![
                    LinkAttribute::IfName("vx\u{263a}".into()),
                    LinkAttribute::Controller(0),
                    LinkAttribute::Link(0),
                    LinkAttribute::IfAlias(String::new()),
                    LinkAttribute::Address(vec![]),
                    LinkAttribute::OperState(netlink_packet_route::link::State::Other(9)),
                    LinkAttribute::LinkInfo(vec![
                        LinkInfo::Kind(InfoKind::Vxlan),
                        LinkInfo::Data(InfoData::Vxlan(vec![InfoVxlan::Id(42), InfoVxlan::Port(4789)])),
                    ]),
                    LinkAttribute::NewNetnsId(5),
                    LinkAttribute::NewIfIndex(12),
                ],
                vec![],
            ),
            (
                0x80,
                vec![
                    LinkAttribute::IfName("gre1".into()),
                    LinkAttribute::Address(vec![10, 0, 0, 1]),
                    LinkAttribute::Broadcast(vec![0; 16]),
                    LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Other("netkit".into()))]),
                    LinkAttribute::NewNetnsId(-1),
                    LinkAttribute::NewIfIndex(-3),
                ],
                vec![],
            ),
            // What a kernel could send that the encoder does not write: a short MTU after a
            // good one, a name and an alias that are not UTF-8 or hold a NUL, a short stats
            // block, an empty operstate, a group too short to read.
            (
                0,
                vec![LinkAttribute::Mtu(1500)],
                vec![
                    (3, b"a\xffb\0junk"),
                    (4, b"\x01\x02"),
                    (20, b"\0alias"),
                    (23, &[1; 8]),
                    (16, b""),
                    (27, b"\x01"),
                    (10, b"\x05\0\0\0"),
                ],
            ),
            (0, vec![], vec![(3, b"\x01ctl\x7f"), (20, b"x\0")]),
        ];
        for (flags, attributes, raw) in cases {
            let bytes = message(flags, attributes, &raw);
            for stats in [true, false] {
                let (direct, record) = both(&bytes, stats);
                assert_eq!(direct, record);
                serde_json::from_str::<serde_json::Value>(&direct).expect("valid JSON");
            }
        }
    }

    #[test]
    fn a_part_is_an_array_of_the_links_alone() {
        let a = message(1, vec![LinkAttribute::IfName("a".into())], &[]);
        let b = message(0, vec![LinkAttribute::IfName("b".into())], &[]);
        let mut not_a_link = a.clone();
        not_a_link[4] = 3; // NLMSG_DONE
        let mut out = Vec::new();
        write_links(
            &mut out,
            [&not_a_link[..], &a, &not_a_link, &b, &not_a_link].into_iter(),
            false,
        );
        let links: Vec<serde_json::Value> = serde_json::from_slice(&out).unwrap();
        let names: Vec<_> = links.iter().map(|l| l["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["a", "b"]);
        let mut empty = Vec::new();
        write_links(&mut empty, [&not_a_link[..]].into_iter(), false);
        assert_eq!(empty, b"[]");
    }
}

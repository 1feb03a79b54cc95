//! Bridge VLANs as the watcher follows them, keyed by link and VLAN id. The kernel announces
//! them per link, not per VLAN: an AF_BRIDGE RTM_NEWLINK of RTNLGRP_LINK whose IFLA_AF_SPEC
//! carries every VLAN of the port (or of the bridge itself) after a change, compressed into
//! ranges (`br_ifinfo_notify`, RTEXT_FILTER_BRVLAN_COMPRESSED); an RTM_DELLINK when the port
//! leaves its bridge. So each message replaces the link's whole set (`Object::read_set`); the
//! watcher turns the difference into one event per VLAN. The kernel's RTM_NEWVLAN messages
//! (RTNLGRP_BRVLAN, per-VLAN options such as STP state) carry nothing a `BridgeVlanRecord`
//! holds. A bridge's own VLANs go silently with the bridge: the watcher follows links to know.

use netlink_packet_core::Parseable;
use netlink_packet_route::link::{AfSpecBridge, BridgeVlanInfoFlags, LinkAttribute, LinkMessage};

use crate::bridge::BridgeVlanRecord;
use crate::transport::ack::NLMSG_HDRLEN;
use crate::watch::object::{Object, Read, Set};
use crate::watch::objects::Names;

const RTNLGRP_LINK: u32 = 1;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const AF_BRIDGE: u8 = 7;

/// Link index, VLAN id.
pub type BridgeVlanKey = (u32, u16);

pub struct BridgeVlans;

impl Object for BridgeVlans {
    const NAME: &'static str = "bridgeVlan";
    const GROUPS: &'static [u32] = &[RTNLGRP_LINK];
    const TYPES: &'static [u16] = &[RTM_NEWLINK, RTM_DELLINK];
    const GOES_WITH_LINK: bool = true;

    type Key = BridgeVlanKey;
    type Record = BridgeVlanRecord;
    type Js = BridgeVlanRecord;

    /// `bridge vlan show`.
    fn dump() -> Vec<u8> {
        crate::bridge::list::dump_request()
    }

    fn read(_: &[u8], _: &Names) -> Option<Read<BridgeVlanKey, BridgeVlanRecord>> {
        None
    }

    fn link_of(key: &BridgeVlanKey) -> Option<u32> {
        Some(key.0)
    }

    fn read_set(msg: &[u8], _: &Names) -> Option<Set<BridgeVlanKey, BridgeVlanRecord>> {
        // The family byte first: most link messages are AF_UNSPEC, not worth parsing here.
        if *msg.get(NLMSG_HDRLEN)? != AF_BRIDGE {
            return None;
        }
        let m = LinkMessage::parse(msg.get(NLMSG_HDRLEN..)?).ok()?;
        let index = m.header.index;
        let entries = if crate::nla::message_type(msg)? == RTM_DELLINK {
            Vec::new()
        } else {
            let spec = m.attributes.iter().find_map(|a| match a {
                LinkAttribute::AfSpecBridge(s) => Some(s),
                _ => None,
            });
            match spec {
                // No VLANs: the kernel leaves the attribute out.
                None => Vec::new(),
                // Bridge MRP/CFM notices carry other things in it, and no VLANs: not about them.
                Some(s) if !s.iter().any(|s| matches!(s, AfSpecBridge::VlanInfo(_))) => return None,
                Some(s) => expand(
                    index,
                    s.iter().filter_map(|s| match s {
                        AfSpecBridge::VlanInfo(v) => Some((v.vid, v.flags)),
                        _ => None,
                    }),
                ),
            }
        };
        Some(Set {
            link: index,
            entries: entries
                .into_iter()
                .map(|r| ((r.index, r.vid), r))
                .collect(),
        })
    }
}

/// One record per VLAN, ranges (RANGE_BEGIN .. RANGE_END, the flags of both alike) unrolled.
fn expand(
    index: u32,
    infos: impl Iterator<Item = (u16, BridgeVlanInfoFlags)>,
) -> Vec<BridgeVlanRecord> {
    let record = |vid, flags: BridgeVlanInfoFlags| BridgeVlanRecord {
        index,
        vid,
        pvid: flags.contains(BridgeVlanInfoFlags::Pvid).then_some(true),
        untagged: flags.contains(BridgeVlanInfoFlags::Untagged).then_some(true),
    };
    let mut out = Vec::new();
    let mut begin = None;
    for (vid, flags) in infos {
        if flags.contains(BridgeVlanInfoFlags::RangeBegin) {
            begin = Some(vid);
        } else if flags.contains(BridgeVlanInfoFlags::RangeEnd) {
            let first = begin.take().unwrap_or(vid);
            out.extend((first..=vid).map(|v| record(v, flags)));
        } else {
            out.push(record(vid, flags));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_unrolled_with_their_flags() {
        let u = BridgeVlanInfoFlags::Untagged;
        let got = expand(
            7,
            [
                (1, BridgeVlanInfoFlags::Pvid | u),
                (10, BridgeVlanInfoFlags::RangeBegin),
                (12, BridgeVlanInfoFlags::RangeEnd),
                (20, u | BridgeVlanInfoFlags::RangeBegin),
                (21, u | BridgeVlanInfoFlags::RangeEnd),
            ]
            .into_iter(),
        );
        let got: Vec<_> = got.iter().map(|r| (r.vid, r.pvid, r.untagged)).collect();
        assert_eq!(
            got,
            vec![
                (1, Some(true), Some(true)),
                (10, None, None),
                (11, None, None),
                (12, None, None),
                (20, None, Some(true)),
                (21, None, Some(true)),
            ]
        );
    }
}

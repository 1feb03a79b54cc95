//! Neighbours (ARP and NDP entries) as the watcher follows them: RTNLGRP_NEIGH, IPv4 and IPv6
//! (the same group carries FDB entries: `fdb.rs`), keyed by link and address. Proxy entries
//! (`ip neigh add proxy`) are left out: the kernel does not announce them.

use netlink_packet_core::Parseable;
use netlink_packet_route::neighbour::{NeighbourFlags, NeighbourMessage};
use netlink_packet_route::AddressFamily;

use crate::neigh::get::dump_request;
use crate::neigh::NeighbourRecord;
use crate::transport::ack::NLMSG_HDRLEN;
use crate::watch::object::{Object, Read};
use crate::watch::objects::Names;

pub(super) const RTNLGRP_NEIGH: u32 = 3;
pub(super) const RTM_NEWNEIGH: u16 = 28;
pub(super) const RTM_DELNEIGH: u16 = 29;

pub struct Neighbours;

impl Object for Neighbours {
    const NAME: &'static str = "neighbour";
    const GROUPS: &'static [u32] = &[RTNLGRP_NEIGH];
    const TYPES: &'static [u16] = &[RTM_NEWNEIGH, RTM_DELNEIGH];

    /// The link's index and the address.
    type Key = (u32, String);
    type Record = NeighbourRecord;
    type Js = NeighbourRecord;

    /// `ip neigh show nud all`, both families in one dump (which also carries the bridges'
    /// FDB entries: they are not this object's).
    fn dump() -> Vec<u8> {
        dump_request(AddressFamily::Unspec, NeighbourFlags::empty(), &[])
    }

    fn read(msg: &[u8], _: &Names) -> Option<Read<(u32, String), NeighbourRecord>> {
        let m = NeighbourMessage::parse(msg.get(NLMSG_HDRLEN..)?).ok()?;
        if m.header.flags.contains(NeighbourFlags::Proxy) {
            return None;
        }
        let record = NeighbourRecord::from_message(&m)?;
        Some(Read {
            key: (record.index, record.address.clone()),
            record,
            gone: crate::nla::message_type(msg)? == RTM_DELNEIGH,
        })
    }
}

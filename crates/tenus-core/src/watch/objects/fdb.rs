//! Bridge forwarding database entries as the watcher follows them: AF_BRIDGE messages of
//! RTNLGRP_NEIGH, keyed as the kernel tells entries apart (a MAC once per link, VLAN and
//! table; a VXLAN device's all-zeros entry once per remote).

use netlink_packet_core::Parseable;
use netlink_packet_route::neighbour::{NeighbourFlags, NeighbourMessage};
use netlink_packet_route::AddressFamily;

use super::neighbour::{RTM_DELNEIGH, RTM_NEWNEIGH, RTNLGRP_NEIGH};
use crate::fdb::FdbRecord;
use crate::neigh::get::dump_request;
use crate::transport::ack::NLMSG_HDRLEN;
use crate::watch::object::{Object, Read};
use crate::watch::objects::Names;

/// Link, MAC, VLAN, the device's own table or the bridge's, remote, VNI, source VNI.
pub type FdbKey = (
    u32,
    String,
    Option<u16>,
    bool,
    Option<String>,
    Option<u32>,
    Option<u32>,
);

pub struct FdbEntries;

impl Object for FdbEntries {
    const NAME: &'static str = "fdb";
    const GROUPS: &'static [u32] = &[RTNLGRP_NEIGH];
    const TYPES: &'static [u16] = &[RTM_NEWNEIGH, RTM_DELNEIGH];

    type Key = FdbKey;
    type Record = FdbRecord;
    type Js = FdbRecord;

    /// `bridge fdb show`.
    fn dump() -> Vec<u8> {
        dump_request(AddressFamily::Bridge, NeighbourFlags::empty(), &[])
    }

    fn read(msg: &[u8], _: &Names) -> Option<Read<FdbKey, FdbRecord>> {
        let m = NeighbourMessage::parse(msg.get(NLMSG_HDRLEN..)?).ok()?;
        let r = FdbRecord::from_message(&m)?;
        Some(Read {
            key: (
                r.index,
                r.mac.clone(),
                r.vlan,
                r.own == Some(true),
                r.dst.clone(),
                r.vni,
                r.src_vni,
            ),
            record: r,
            gone: crate::nla::message_type(msg)? == RTM_DELNEIGH,
        })
    }
}

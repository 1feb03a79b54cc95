//! Bridge forwarding database entries as the watcher follows them: AF_BRIDGE messages of
//! RTNLGRP_NEIGH, keyed as the kernel tells entries apart (a MAC once per link, VLAN and
//! table; a VXLAN device's all-zeros or multicast entry once per remote, a unicast one once
//! whatever its remote: a replace changes the remote in place and announces only the new
//! one). Entries go with their link: a deleted port's own entries are announced under its
//! bridge, where they were never seen.

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

    const GOES_WITH_LINK: bool = true;

    type Key = FdbKey;
    type Record = FdbRecord;
    type Js = FdbRecord;

    fn link_of(key: &FdbKey) -> Option<u32> {
        Some(key.0)
    }

    /// `bridge fdb show`.
    fn dump() -> Vec<u8> {
        dump_request(AddressFamily::Bridge, NeighbourFlags::empty(), &[])
    }

    fn read(msg: &[u8], _: &Names) -> Option<Read<FdbKey, FdbRecord>> {
        let m = NeighbourMessage::parse(msg.get(NLMSG_HDRLEN..)?).ok()?;
        let r = FdbRecord::from_message(&m)?;
        let remotes = has_remotes(&r.mac);
        Some(Read {
            key: (
                r.index,
                r.mac.clone(),
                r.vlan,
                r.own == Some(true),
                r.dst.clone().filter(|_| remotes),
                r.vni.filter(|_| remotes),
                r.src_vni,
            ),
            record: r,
            gone: crate::nla::message_type(msg)? == RTM_DELNEIGH,
        })
    }
}

/// Whether a VXLAN device keeps several remotes for this MAC (`bridge fdb append`): only the
/// all-zeros and multicast MACs; a unicast MAC has one remote, which a replace changes.
fn has_remotes(mac: &str) -> bool {
    let first = mac.get(..2).and_then(|o| u8::from_str_radix(o, 16).ok());
    first.is_some_and(|o| o & 1 == 1) || mac.bytes().all(|b| b == b'0' || b == b':')
}

#[cfg(test)]
mod tests {
    use super::has_remotes;

    #[test]
    fn only_all_zeros_and_multicast_macs_have_several_remotes() {
        assert!(has_remotes("00:00:00:00:00:00"));
        assert!(has_remotes("01:00:5e:00:00:01"));
        assert!(has_remotes("ff:ff:ff:ff:ff:ff"));
        assert!(!has_remotes("02:00:00:00:00:b1"));
        assert!(!has_remotes("00:00:00:00:00:01"));
    }
}

//! Links as the watcher follows them: RTNLGRP_LINK, keyed by index.

use crate::link::{fast, LinkRecord};
use crate::transport::ack::NLMSG_HDRLEN;
use crate::watch::object::{Object, Read};

const RTNLGRP_LINK: u32 = 1;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
/// The family byte of `struct ifinfomsg`: AF_UNSPEC for the link itself. The same group also
/// carries AF_BRIDGE messages about bridge ports and AF_INET6 ones with IPv6 settings only,
/// which describe no link as a whole.
const AF_UNSPEC: u8 = 0;

pub struct Links;

impl Object for Links {
    const NAME: &'static str = "link";
    const GROUPS: &'static [u32] = &[RTNLGRP_LINK];
    const TYPES: &'static [u16] = &[RTM_NEWLINK, RTM_DELLINK];

    type Key = u32;
    type Record = LinkRecord;

    /// `ip link show`, without the per-protocol statistics.
    fn dump() -> Vec<u8> {
        crate::link::get::list_request(false)
    }

    fn read(msg: &[u8]) -> Option<Read<u32, LinkRecord>> {
        if *msg.get(NLMSG_HDRLEN)? != AF_UNSPEC {
            return None;
        }
        let mut record = fast::read_ifinfo(msg)?;
        // Counters change with every packet and are not announced: events carry none.
        record.stats = None;
        Some(Read {
            key: record.index,
            gone: u16::from_ne_bytes([msg[4], msg[5]]) == RTM_DELLINK,
            record,
        })
    }
}

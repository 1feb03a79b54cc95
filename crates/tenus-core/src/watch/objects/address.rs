//! Addresses as the watcher follows them: RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR, keyed
//! as the kernel tells them apart.

use std::net::IpAddr;

use netlink_packet_core::Parseable;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::addr::{ends, AddressRecord};
use crate::message::{encode, Flags};
use crate::transport::ack::NLMSG_HDRLEN;
use crate::watch::object::{Object, Read};
use crate::watch::objects::Names;

const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV6_IFADDR: u32 = 9;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;

/// An address as the kernel tells one from another: IPv4 allows one local address several
/// times on a link with different prefix lengths (or peers), IPv6 once per link.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressKey {
    pub index: u32,
    pub local: IpAddr,
    /// IPv4 only (0 for IPv6, whose prefix length can change in place).
    pub prefix_len: u8,
    /// IPv4 point-to-point: IFA_ADDRESS when it differs from IFA_LOCAL.
    pub peer: Option<IpAddr>,
}

pub struct Addresses;

impl Object for Addresses {
    const NAME: &'static str = "address";
    const GROUPS: &'static [u32] = &[RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR];
    const TYPES: &'static [u16] = &[RTM_NEWADDR, RTM_DELADDR];

    type Key = AddressKey;
    type Record = AddressRecord;
    type Js = AddressRecord;

    /// `ip addr show`: every family's addresses in one dump.
    fn dump() -> Vec<u8> {
        encode(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            Flags::Dump,
        )
    }

    fn read(msg: &[u8], _: &Names) -> Option<Read<AddressKey, AddressRecord>> {
        let m = AddressMessage::parse(msg.get(NLMSG_HDRLEN..)?).ok()?;
        let v4 = match m.header.family {
            AddressFamily::Inet => true,
            AddressFamily::Inet6 => false,
            _ => return None,
        };
        let record = AddressRecord::from_message(&m)?;
        let (local, peer) = ends(&m)?;
        let key = AddressKey {
            index: m.header.index,
            local,
            prefix_len: if v4 { m.header.prefix_len } else { 0 },
            peer: peer.filter(|_| v4),
        };
        Some(Read {
            key,
            record,
            gone: u16::from_ne_bytes([msg[4], msg[5]]) == RTM_DELADDR,
        })
    }

    /// Lifetimes count down between two reads without the kernel announcing it: a lifetime
    /// that did not grow (`b` is the newer record) is the same one. One that grew was renewed
    /// (a DHCP lease: the kernel announces it), and a change to or from `forever` is a change
    /// (the deprecation a preferred lifetime's end brings comes as a flag). A lifetime
    /// shortened by more than the time between the reads is not told from its countdown.
    fn same(a: &AddressRecord, b: &AddressRecord) -> bool {
        let counted_down = |old: Option<u32>, new: Option<u32>| match (old, new) {
            (None, None) => true,
            (Some(old), Some(new)) => new <= old,
            _ => false,
        };
        counted_down(a.valid_lifetime, b.valid_lifetime)
            && counted_down(a.preferred_lifetime, b.preferred_lifetime)
            && AddressRecord {
                valid_lifetime: None,
                preferred_lifetime: None,
                ..a.clone()
            } == AddressRecord {
                valid_lifetime: None,
                preferred_lifetime: None,
                ..b.clone()
            }
    }
}

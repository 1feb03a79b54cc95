//! Addresses as the watcher follows them: RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR, keyed
//! as the kernel tells them apart.

use std::net::IpAddr;
use std::ops::Deref;
use std::time::Instant;

use netlink_packet_core::Parseable;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use serde::Serialize;
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

/// An address's record, when its lifetimes were last set (IFA_CACHEINFO's `tstamp`, in
/// hundredths of a second since boot) and when it was read: what tells a lifetime counting
/// down from one set anew (`Addresses::same`).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct WatchedAddress {
    pub record: AddressRecord,
    #[serde(skip)]
    pub updated: Option<u32>,
    #[serde(skip)]
    pub seen: Option<Instant>,
}

/// The same record set at the same time, whenever read.
impl PartialEq for WatchedAddress {
    fn eq(&self, other: &Self) -> bool {
        self.record == other.record && self.updated == other.updated
    }
}

impl Deref for WatchedAddress {
    type Target = AddressRecord;
    fn deref(&self) -> &AddressRecord {
        &self.record
    }
}

impl From<AddressRecord> for WatchedAddress {
    fn from(record: AddressRecord) -> Self {
        WatchedAddress {
            record,
            updated: None,
            seen: None,
        }
    }
}

pub struct Addresses;

impl Object for Addresses {
    const NAME: &'static str = "address";
    const GROUPS: &'static [u32] = &[RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR];
    const TYPES: &'static [u16] = &[RTM_NEWADDR, RTM_DELADDR];

    type Key = AddressKey;
    type Record = WatchedAddress;
    type Js = AddressRecord;

    /// `ip addr show`: every family's addresses in one dump.
    fn dump() -> Vec<u8> {
        encode(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            Flags::Dump,
        )
    }

    fn read(msg: &[u8], _: &Names) -> Option<Read<AddressKey, WatchedAddress>> {
        let m = AddressMessage::parse(msg.get(NLMSG_HDRLEN..)?).ok()?;
        let v4 = match m.header.family {
            AddressFamily::Inet => true,
            AddressFamily::Inet6 => false,
            _ => return None,
        };
        let updated = m.attributes.iter().find_map(|a| match a {
            AddressAttribute::CacheInfo(c) => Some(c.tstamp),
            _ => None,
        });
        let record = WatchedAddress {
            record: AddressRecord::from_message(&m)?,
            updated,
            seen: Some(Instant::now()),
        };
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

    /// Lifetimes count down between two reads without the kernel announcing it: lifetimes set
    /// at the same time (`updated`) that did not grow (`b` is the newer record) by more than
    /// the time between the reads (a second more: the kernel rounds down) are the same ones.
    /// Set anew (a DHCP lease renewed, or shortened), they are a change unless both are
    /// `forever`; a change to or from `forever` is one too (the deprecation a preferred
    /// lifetime's end brings comes as a flag). The kernel's stamp counts hundredths of a
    /// second: two settings within one share it, and the time between the reads tells them.
    fn same(a: &WatchedAddress, b: &WatchedAddress) -> bool {
        let forever = |r: &AddressRecord| r.valid_lifetime.is_none() && r.preferred_lifetime.is_none();
        let set_anew = matches!((a.updated, b.updated), (Some(x), Some(y)) if x != y);
        if set_anew && !(forever(a) && forever(b)) {
            return false;
        }
        // Whole seconds that may have gone by between the reads (unknown: any).
        let went_by = match (a.seen, b.seen) {
            (Some(x), Some(y)) => y.saturating_duration_since(x).as_secs().saturating_add(1),
            _ => u64::MAX,
        };
        let counted_down = |old: Option<u32>, new: Option<u32>| match (old, new) {
            (None, None) => true,
            (Some(old), Some(new)) => new <= old && u64::from(old - new) <= went_by,
            _ => false,
        };
        counted_down(a.valid_lifetime, b.valid_lifetime)
            && counted_down(a.preferred_lifetime, b.preferred_lifetime)
            && AddressRecord {
                valid_lifetime: None,
                preferred_lifetime: None,
                ..a.record.clone()
            } == AddressRecord {
                valid_lifetime: None,
                preferred_lifetime: None,
                ..b.record.clone()
            }
    }
}

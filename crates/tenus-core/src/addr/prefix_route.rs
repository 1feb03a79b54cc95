//! The prefix route the kernel adds with an IPv6 address (`addrconf_prefix_route`) and deletes
//! with it only when the address is permanent: an address with a finite valid lifetime leaves
//! its prefix route behind, expiring with that lifetime. So the undo of such an addition reads
//! the link's IPv6 routes before it (`dump_through`), and once the address is deleted again, deletes the prefix
//! route too when it was not there before (another address of the prefix, a router
//! advertisement, or a route added by hand keeps it).

use std::net::{IpAddr, Ipv6Addr};

use crate::nla::{Writer, PLAIN};
use crate::route::encode::{rtmsg, RTA_DST, RTA_OIF, RTA_PRIORITY, RTA_TABLE, RTM_DELROUTE};
use crate::route::names::{Coded, RouteProtocol, RouteType, RT_TABLE_MAIN};
use crate::route::record::read_route;
use crate::route::spec::Family;
use crate::transport::Messages;

use super::options::{AddressExtras, FOREVER};

/// The metric of a prefix route when the address has none (IP6_RT_PRIO_ADDRCONF).
const ADDRCONF_METRIC: u32 = 256;

/// The prefix route of an IPv6 address on a link.
pub(super) struct PrefixRoute {
    dst: Ipv6Addr,
    len: u8,
    metric: u32,
}

impl PrefixRoute {
    /// The prefix route an addition of `addr/len` with `extras` makes and leaves behind when it
    /// is deleted again; None when it makes none (`noprefixroute`, a peer) or takes it away
    /// itself (a permanent address).
    pub(super) fn left_by(addr: IpAddr, len: u8, extras: &AddressExtras) -> Option<Self> {
        let IpAddr::V6(a) = addr else { return None };
        let finite = extras.lifetimes.is_some_and(|(_, valid)| valid != FOREVER);
        let makes = !extras
            .flags
            .contains(netlink_packet_route::address::AddressFlags::Noprefixroute)
            && extras.peer.is_none();
        let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
        (finite && makes).then(|| PrefixRoute {
            dst: Ipv6Addr::from(u128::from(a) & mask),
            len,
            metric: extras.metric.filter(|m| *m != 0).unwrap_or(ADDRCONF_METRIC),
        })
    }

    /// The request that deletes it from the link `index`, when the read before the addition
    /// (`before`) did not find it; in the table the kernel's routes of the link are in (main,
    /// or its VRF's).
    pub(super) fn encode_del_unless_there(&self, before: &Messages, index: u32) -> Option<Vec<u8>> {
        let kernel = RouteProtocol::Kernel.code() as u8;
        let routes: Vec<_> = before.iter().filter_map(read_route).collect();
        let there = routes.iter().any(|r| {
            r.protocol == kernel
                && r.effective_metric() == self.metric
                && r.dst
                    .is_some_and(|d| d.addr == IpAddr::V6(self.dst) && d.len == self.len)
        });
        if there {
            return None;
        }
        let unicast = RouteType::Unicast.code() as u8;
        let table = routes
            .iter()
            .find(|r| r.protocol == kernel && r.kind == unicast)
            .map_or(RT_TABLE_MAIN, |r| r.table);
        let header = rtmsg(Family::Inet6.code(), self.len, 0, 0, 0, kernel, 0, unicast, 0);
        let mut w = Writer::new(RTM_DELROUTE, PLAIN, &header);
        w.bytes(RTA_DST, &self.dst.octets())
            .u32(RTA_OIF, index)
            .u32(RTA_PRIORITY, self.metric)
            .u32(RTA_TABLE, table);
        Some(w.finish())
    }
}

//! Routes as the watcher follows them: RTNLGRP_IPV4_ROUTE and RTNLGRP_IPV6_ROUTE, every table,
//! keyed as the kernel tells routes apart (`ip route replace` changes the rest in place).
//! Records name links, so a watcher of routes follows links too (for their names, and because
//! the kernel removes IPv4 routes without a word when their link goes: `fallout.rs`).

use std::net::IpAddr;

use serde::Serialize;

use crate::link::LinkRef;
use crate::route::encode::RTM_DELROUTE;
use crate::route::list::{dump_request, RouteFilter};
use crate::route::record::read_route_message;
use crate::route::spec::{Family, Prefix};
use crate::route::RouteRecord;
use crate::watch::object::{Object, Read};
use crate::watch::objects::Names;

const RTNLGRP_IPV4_ROUTE: u32 = 7;
const RTNLGRP_IPV6_ROUTE: u32 = 11;
const RTM_NEWROUTE: u16 = 24;
const RT_SCOPE_HOST: u8 = 254;
const RTPROT_KERNEL: u8 = 2;

/// A route as the kernel tells one from another: its table, destination and source prefixes,
/// TOS and metric; for IPv6, also its (first leg's) link and gateway: IPv6 keeps a route to the
/// same prefix with the same metric on each link (every link's fe80::/64). Not followed here:
/// IPv4 routes appended beside one with the same key (`ip route append`) are one object, and
/// an IPv6 `ip route replace` that moves a route to another link or gateway leaves the old
/// one in the view until the next resync (the kernel announces the new route only).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteKey {
    pub family: u8,
    pub table: u32,
    pub dst: Option<(IpAddr, u8)>,
    pub src: Option<(IpAddr, u8)>,
    pub tos: u8,
    pub metric: u32,
    /// IPv6: the first leg's link index and gateway.
    pub leg: Option<(u32, Option<IpAddr>)>,
}

/// A route's record, and what the watcher needs to know that the record says by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct WatchedRoute {
    pub record: RouteRecord,
    /// The links its packets leave by (each leg's), by index.
    #[serde(skip)]
    pub links: Vec<u32>,
    #[serde(skip)]
    pub ipv4: bool,
    /// Scope host (local addresses): such a route outlives its link going down.
    #[serde(skip)]
    pub host: bool,
    /// Made by the kernel for an address (protocol 'kernel').
    #[serde(skip)]
    pub kernel: bool,
}

pub struct Routes;

fn prefix(p: Option<Prefix>) -> Option<(IpAddr, u8)> {
    p.map(|p| (p.addr, p.len))
}

/// Flags the kernel sets and clears without announcing it (a link losing carrier, a leg's
/// link going down).
const SILENT_FLAGS: [&str; 2] = ["dead", "linkdown"];

fn without_silent(flags: &Option<Vec<String>>) -> Vec<&str> {
    flags
        .iter()
        .flatten()
        .map(String::as_str)
        .filter(|f| !SILENT_FLAGS.contains(f))
        .collect()
}

impl Object for Routes {
    const NAME: &'static str = "route";
    const GROUPS: &'static [u32] = &[RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE];
    const TYPES: &'static [u16] = &[RTM_NEWROUTE, RTM_DELROUTE];
    const NAMES_LINKS: bool = true;

    type Key = RouteKey;
    type Record = WatchedRoute;
    type Js = RouteRecord;

    /// `ip route show table all`, both families.
    fn dump() -> Vec<u8> {
        dump_request(&RouteFilter::default())
    }

    fn read(msg: &[u8], names: &Names) -> Option<Read<RouteKey, WatchedRoute>> {
        let r = read_route_message(msg)?;
        let index = |l: &Option<LinkRef>| match l {
            Some(LinkRef::Index(i)) => Some(*i),
            _ => None,
        };
        let links = std::iter::once(index(&r.dev))
            .chain(r.multipath.iter().map(|l| index(&l.dev)))
            .flatten()
            .collect();
        let leg = match (r.family, r.multipath.first()) {
            (Family::Inet, _) => None,
            (Family::Inet6, Some(l)) => Some((index(&l.dev).unwrap_or(0), l.gateway)),
            (Family::Inet6, None) => Some((index(&r.dev).unwrap_or(0), r.gateway)),
        };
        let key = RouteKey {
            leg,
            family: r.family.code(),
            table: r.table,
            dst: prefix(r.dst),
            src: prefix(r.src),
            tos: r.tos,
            metric: r.metric.unwrap_or(0),
        };
        Some(Read {
            key,
            record: WatchedRoute {
                record: r.record(&|i| names.get(&i).cloned()),
                links,
                ipv4: r.family == Family::Inet,
                host: r.scope == Some(RT_SCOPE_HOST),
                kernel: r.protocol == RTPROT_KERNEL,
            },
            gone: crate::nla::message_type(msg)? == RTM_DELROUTE,
        })
    }

    fn same(a: &WatchedRoute, b: &WatchedRoute) -> bool {
        if a.record == b.record {
            return true;
        }
        let (mut x, mut y) = (a.record.clone(), b.record.clone());
        for r in [&mut x, &mut y] {
            r.flags = None;
            for leg in r.multipath.iter_mut().flatten() {
                leg.flags = None;
            }
        }
        x == y
            && without_silent(&a.record.flags) == without_silent(&b.record.flags)
            && a.record.multipath.iter().flatten().map(|l| without_silent(&l.flags)).eq(b
                .record
                .multipath
                .iter()
                .flatten()
                .map(|l| without_silent(&l.flags)))
    }
}

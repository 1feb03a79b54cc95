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
use crate::route::record::NexthopLegRecord;
use crate::route::RouteRecord;
use crate::watch::object::{Object, Read};
use crate::watch::objects::Names;

const RTNLGRP_IPV4_ROUTE: u32 = 7;
const RTNLGRP_IPV6_ROUTE: u32 = 11;
const RTM_NEWROUTE: u16 = 24;
const RT_SCOPE_HOST: u8 = 254;
const RTPROT_KERNEL: u8 = 2;
/// Routes from router advertisements: the kernel does not merge them into multipath routes.
const RTPROT_RA: u8 = 9;

/// A route as the kernel tells one from another: its table, destination and source prefixes,
/// TOS and metric; for an IPv6 route without a gateway, also its link: IPv6 keeps a route to
/// the same prefix with the same metric on each link (every link's fe80::/64). IPv6 routes
/// through gateways with one key are the legs of one multipath route (`fold_legs`), and a
/// route on a nexthop object is that object's (its legs change with it). Not followed here:
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
        // IPv6 routes through gateways to one prefix and metric are legs of one multipath route
        // (`fold_legs`); a route on a nexthop object is that object's (its legs change with it).
        let ecmp = r.family == Family::Inet6
            && r.protocol != RTPROT_RA
            && (r.gateway.is_some() && r.multipath.is_empty()
                || !r.multipath.is_empty() && r.multipath.iter().all(|l| l.gateway.is_some()));
        let leg = match (r.family, r.multipath.first()) {
            (Family::Inet, _) => None,
            (Family::Inet6, _) if r.nexthop.is_some() || ecmp => None,
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

/// One leg of a route, and the index of its link when known.
type Leg = (NexthopLegRecord, Option<u32>);

/// The legs of a route: its multipath legs, or itself as one leg.
fn legs(r: &WatchedRoute) -> Vec<Leg> {
    match &r.record.multipath {
        Some(legs) => {
            let links: Vec<Option<u32>> = if r.links.len() == legs.len() {
                r.links.iter().copied().map(Some).collect()
            } else {
                vec![None; legs.len()]
            };
            legs.iter().cloned().zip(links).collect()
        }
        None => vec![(
            NexthopLegRecord {
                via: r.record.via.clone(),
                dev: r.record.dev.clone(),
                weight: 1,
                flags: r.record.flags.clone(),
            },
            r.links.first().copied(),
        )],
    }
}

fn same_leg(a: &NexthopLegRecord, b: &NexthopLegRecord) -> bool {
    a.via == b.via && a.dev == b.dev
}

/// `route` with these legs, as the kernel lists it: one leg is a plain route (its gateway and
/// link on the route), more are a multipath route.
fn with_legs(route: &WatchedRoute, legs: Vec<Leg>) -> WatchedRoute {
    let mut r = route.clone();
    r.links = legs.iter().filter_map(|(_, i)| *i).collect();
    if let [(leg, _)] = legs.as_slice() {
        r.record.via = leg.via.clone();
        r.record.dev = leg.dev.clone();
        r.record.flags = leg.flags.clone();
        r.record.multipath = None;
    } else {
        if r.record.multipath.is_none() {
            r.record.flags = None; // a plain route's flags were its leg's
        }
        r.record.via = None;
        r.record.dev = None;
        r.record.multipath = Some(legs.into_iter().map(|(l, _)| l).collect());
    }
    r
}

/// An IPv6 multipath route as the kernel announces it, a leg at a time: a leg appended comes
/// as the whole route with the new leg first (listed last: it went after the others), a leg
/// deleted (by its gateway, or with its link) as that leg alone. Folded into the route `old`
/// the watcher holds: the route with its legs now, and whether it is gone. None where the
/// message stands as it is (no route held; a replace, which announces the route whole).
pub fn fold_legs(old: &WatchedRoute, new: &WatchedRoute, gone: bool) -> Option<(WatchedRoute, bool)> {
    if new.ipv4 || new.record.nexthop.is_some() {
        return None;
    }
    let (was, said) = (legs(old), legs(new));
    if gone {
        let left: Vec<Leg> = was
            .iter()
            .filter(|(l, _)| !said.iter().any(|(s, _)| same_leg(l, s)))
            .cloned()
            .collect();
        return match left.len() {
            n if n == was.len() => None, // not a leg it holds: the message as it is
            0 => Some((old.clone(), true)),
            _ => Some((with_legs(old, left), false)),
        };
    }
    let appended = said.len() > was.len() && was.iter().all(|(l, _)| said.iter().any(|(s, _)| same_leg(l, s)));
    if !appended {
        return None;
    }
    // The legs held, as now announced (weights, flags), in their order; then the new ones.
    let mut merged: Vec<Leg> = was
        .iter()
        .map(|(l, i)| {
            let now = said.iter().find(|(s, _)| same_leg(l, s));
            now.map_or((l.clone(), *i), |(s, j)| (s.clone(), j.or(*i)))
        })
        .collect();
    merged.extend(said.into_iter().filter(|(s, _)| !was.iter().any(|(l, _)| same_leg(l, s))));
    Some((with_legs(old, merged), false))
}

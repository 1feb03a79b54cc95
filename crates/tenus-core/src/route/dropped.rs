//! Routes through a link that the kernel deletes along with something done to the link, and
//! that nothing brings back by itself: every route through it as it leaves its namespace
//! (`link/mv.rs`), those whose every leg is on it as it goes down (`link/set.rs`: a `down()`,
//! or a VRF it joins or leaves, which the kernel takes down and up). Read before, put back
//! after the link is back.
//!
//! The kernel's own routes (prefix and local routes) come back with the addresses, and routes
//! on nexthop objects go with their objects, so neither is read. A route with a leg on another
//! link outlives a down (that leg is marked dead and comes back alive): only one whose every
//! leg is on the link is deleted then.

use std::net::IpAddr;

use crate::error::Result;
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::transport::Messages;

use super::list::{dump_request, RouteFilter};
use super::names::{Coded, RouteProtocol, RouteType, RT_TABLE_LOCAL, RT_TABLE_MAIN};
use super::record::read_route;
use super::spec::{Family, Route};
use super::verbs::encode_readd;

/// The families read: one dump each (a dump of every family would also ask the multicast
/// routing families, which refuse an output-link filter).
pub(crate) const FAMILIES: [Family; 2] = [Family::Inet, Family::Inet6];

/// The dump of the routes of `family` with an output link `index`, in every table.
pub(crate) fn dump_through(family: Family, index: u32) -> Vec<u8> {
    dump_request(&RouteFilter {
        family: Some(family),
        oif: Some(index),
        ..Default::default()
    })
}

/// The dump of the routes of `family` through any link, in every table.
pub(crate) fn dump_family(family: Family) -> Vec<u8> {
    dump_request(&RouteFilter {
        family: Some(family),
        ..Default::default()
    })
}

/// What deletes the routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The link leaves the namespace, or IPv6 is turned off on it (an MTU below 1280): every
    /// route through it (of an IPv6 multipath route, the legs on it).
    Leaves,
    /// The link goes down: routes whose every leg is on it.
    GoesDown,
}

/// The routes of a `dump_through(family, index)` answer that `cause` deletes and nothing brings
/// back by itself.
pub(crate) fn dropped(messages: &Messages, family: Family, index: u32, cause: Cause) -> Vec<Route> {
    dropped_of(messages.iter().filter_map(read_route), family, index, cause)
}

/// `dropped`, of the answer's routes decoded already.
pub(crate) fn dropped_of(
    routes: impl IntoIterator<Item = Route>,
    family: Family,
    index: u32,
    cause: Cause,
) -> Vec<Route> {
    let kernel = RouteProtocol::Kernel.code() as u8;
    routes
        .into_iter()
        // (A kernel without IPv6 would answer the IPv6 dump with every family.)
        .filter(move |r| r.family == family && r.protocol != kernel && r.nexthop.is_none())
        .filter(move |r| cause == Cause::Leaves || only_through(r, index))
        .collect()
}

/// Whether every leg of `r` is on the link `index`.
pub(crate) fn only_through(r: &Route, index: u32) -> bool {
    let on_link = |dev: &Option<LinkRef>| *dev == Some(LinkRef::Index(index));
    if r.multipath.is_empty() {
        on_link(&r.dev)
    } else {
        r.multipath.iter().all(|leg| on_link(&leg.dev))
    }
}

/// Whether any leg of `r` is on the link `index`.
pub(crate) fn any_through(r: &Route, index: u32) -> bool {
    r.dev == Some(LinkRef::Index(index))
        || r.multipath
            .iter()
            .any(|leg| leg.dev == Some(LinkRef::Index(index)))
}

/// The address a route is the kernel's local route of (one per address of a link, in table
/// local or the link's VRF table), if it is one.
pub(crate) fn local_address(r: &Route) -> Option<IpAddr> {
    let kernel = RouteProtocol::Kernel.code() as u8;
    let local = RouteType::Local.code() as u8;
    (r.kind == local && r.protocol == kernel)
        .then_some(r.dst)
        .flatten()
        .map(|d| d.addr)
}

/// The dump of every IPv4 route, every table: what reading the routes that name an address
/// as their preferred source needs (no kernel filter selects them).
pub(crate) fn dump_inet() -> Vec<u8> {
    dump_family(Family::Inet)
}

/// The IPv4 routes the kernel deletes when the addresses `locals` leave the link `index`,
/// for having one as their preferred source (`fib_sync_down_addr`), through any link: those
/// of the one table it looks in (main, or the table of the VRF the link is in, where the link's
/// local routes are), unless the address is still another link's. `routes`: every IPv4 route
/// of every table (`dump_inet`), read before; the kernel's own are not among those returned.
pub(crate) fn by_source(routes: &[Route], index: u32, locals: &[IpAddr]) -> Vec<Route> {
    let local_of = |r: &Route, a: &IpAddr| local_address(r) == Some(*a);
    let table = routes
        .iter()
        .find(|r| r.dev == Some(LinkRef::Index(index)) && locals.iter().any(|a| local_of(r, a)))
        .map_or(RT_TABLE_MAIN, |r| {
            if r.table == RT_TABLE_LOCAL {
                RT_TABLE_MAIN
            } else {
                r.table
            }
        });
    let gone: Vec<IpAddr> = locals
        .iter()
        .filter(|a| {
            !routes
                .iter()
                .any(|r| local_of(r, a) && r.dev != Some(LinkRef::Index(index)))
        })
        .copied()
        .collect();
    let named = routes
        .iter()
        .filter(|r| r.table == table && r.prefsrc.is_some_and(|p| gone.contains(&p)));
    dropped_of(named.cloned(), Family::Inet, index, Cause::Leaves)
}

/// `by_source`, of the routes through other links than `index` only.
pub(crate) fn by_source_elsewhere(routes: &[Route], index: u32, locals: &[IpAddr]) -> Vec<Route> {
    let mut found = by_source(routes, index, locals);
    found.retain(|r| !any_through(r, index));
    found
}

/// The requests that add `routes` (through the link `index`) again, appended after the routes
/// of their key (`encode_readd`); one that cannot be encoded is left out (they were read from
/// the kernel, so none is).
pub(crate) fn readd(routes: impl IntoIterator<Item = Route>, index: u32) -> impl Iterator<Item = Vec<u8>> {
    routes
        .into_iter()
        .filter_map(move |r| encode_readd(&r.as_request(), index).ok())
}

/// The routes through the link `index` that `cause` deletes, read now (both families).
pub(crate) async fn read_dropped(h: &Handle, op: &str, index: u32, cause: Cause) -> Result<Vec<Route>> {
    let mut routes = Vec::new();
    for family in FAMILIES {
        let messages = h.dump(op, dump_through(family, index)).await?;
        routes.extend(dropped(&messages, family, index, cause));
    }
    Ok(routes)
}

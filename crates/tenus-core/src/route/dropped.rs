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

use crate::error::Result;
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::transport::Messages;

use super::list::{dump_request, RouteFilter};
use super::names::{Coded, RouteProtocol};
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

/// What deletes the routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The link leaves the namespace: every route through it.
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
    let on_link = |dev: &Option<LinkRef>| *dev == Some(LinkRef::Index(index));
    routes
        .into_iter()
        // (A kernel without IPv6 would answer the IPv6 dump with every family.)
        .filter(move |r| r.family == family && r.protocol != kernel && r.nexthop.is_none())
        .filter(move |r| {
            cause == Cause::Leaves
                || if r.multipath.is_empty() {
                    on_link(&r.dev)
                } else {
                    r.multipath.iter().all(|leg| on_link(&leg.dev))
                }
        })
        .collect()
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

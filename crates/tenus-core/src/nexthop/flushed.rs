//! Nexthop objects the kernel deletes along with something else, and what goes with them: an
//! object taken by `ip nexthop del`, or every object on a link that goes down or away
//! (`nexthop_flush_dev` on NETDEV_DOWN, NETDEV_UNREGISTER: a `down()`, a VRF the link joins or
//! leaves, a move to another namespace). The kernel
//! takes each out of its groups (a group left empty goes too) and deletes the routes on it or
//! on such a group. Every object is read before (the groups hold the places), and the routes;
//! the undo adds the objects back, then their groups as they were, then those routes where they
//! stood among the routes of their key.

use crate::error::Result;
use crate::link::LinkRef;
use crate::route::spec::Route;
use crate::route::verbs::index_only;
use crate::transport::Messages;

use super::encode::{dump_request, encode_nexthop, read_nexthop, Verb};
use super::spec::{Kind, Nexthop};

/// The dump of every object, groups included.
pub(crate) fn dump_every() -> Vec<u8> {
    dump_request(None, false, false)
}

/// The objects of `objects` (a `dump_every` answer).
fn read(objects: &Messages) -> impl Iterator<Item = Nexthop> + '_ {
    objects.iter().filter_map(read_nexthop)
}

/// The ids of the objects on the link `index` that its going down or away deletes: every one
/// with the link as its `dev` (not blackholes, which have none: the kernel puts them on the
/// loopback, and keeps them).
pub(crate) fn on_link(objects: &Messages, index: u32) -> Vec<u32> {
    read(objects)
        .filter(|n| matches!(&n.kind, Kind::Path { dev: Some(LinkRef::Index(i)), .. } if *i == index))
        .map(|n| n.id)
        .collect()
}

/// The requests that put back the objects `gone` (as `objects` had them), then their places in
/// their groups (a group they alone made up is added again); and every id that went: theirs and
/// those groups'. The routes on any of them went too: the caller puts them back after these
/// (`readd_in_order`), from the routes it read.
pub(crate) fn readd(objects: &Messages, gone: &[u32]) -> Result<(Vec<Vec<u8>>, Vec<u32>)> {
    readd_renumbered(objects, gone, |index| index)
}

/// `readd`, for objects whose link came back under another index (`now` of the old one).
pub(crate) fn readd_renumbered(
    objects: &Messages,
    gone: &[u32],
    now: impl Fn(u32) -> u32,
) -> Result<(Vec<Vec<u8>>, Vec<u32>)> {
    let mut out = Vec::new();
    let went = went(objects, gone);
    if gone.is_empty() {
        return Ok((out, went));
    }
    for n in read(objects).filter(|n| gone.contains(&n.id)) {
        let mut n = n.as_request();
        if let Kind::Path {
            dev: Some(LinkRef::Index(i)),
            ..
        } = &mut n.kind
        {
            *i = now(*i);
        }
        out.push(encode_nexthop(&n, Verb::Add, index_only)?);
    }
    for group in read(objects) {
        let Kind::Group { members, .. } = &group.kind else {
            continue;
        };
        if !members.iter().any(|(id, _)| gone.contains(id)) {
            continue;
        }
        let verb = if went.contains(&group.id) {
            Verb::Add
        } else {
            Verb::Replace
        };
        out.push(encode_nexthop(&group.as_request(), verb, index_only)?);
    }
    Ok((out, went))
}

/// The objects `gone`, and the groups they alone made up (which the kernel deletes with them):
/// every id whose routes go too.
pub(crate) fn went(objects: &Messages, gone: &[u32]) -> Vec<u32> {
    let mut went = gone.to_vec();
    for group in read(objects) {
        if let Kind::Group { members, .. } = &group.kind {
            if !members.is_empty() && members.iter().all(|(id, _)| gone.contains(id)) {
                went.push(group.id);
            }
        }
    }
    went
}

/// Whether `route` is on one of the objects `went`.
pub(crate) fn on_any(route: &Route, went: &[u32]) -> bool {
    route.nexthop.is_some_and(|id| went.contains(&id))
}

//! What the kernel changes without announcing it, inferred from what it does announce.
//!
//! When a link goes down, the kernel removes the IPv4 routes whose every leg leaves by it
//! (those of scope host stay: its addresses' local routes), and when it goes away, those with
//! any leg on it; either way also the nexthop objects on it (with the groups left empty, and
//! the routes using them), and says nothing of it (only IPv6 routes are announced as they go). When a link loses its
//! last IPv4 address, its IPv4 routes go the same way (the nexthop objects stay; the
//! address's own routes are announced). When a nexthop object
//! is deleted, so are the routes using it (announced for IPv6 only), and the routes on a group
//! it leaves (not emptied) leave by the members left, unannounced. A bridge's own VLANs go
//! with the bridge unannounced (its ports' are announced as they leave it). A watcher that believed
//! only announcements would keep those forever; these rules keep its view the kernel's. (Not
//! inferred: IPv4 routes whose preferred source address was deleted; a resync corrects them.)
//!
//! Route and nexthop records name their links: when a link is renamed, the kernel announces
//! the link alone, and the records naming it by its old name are renamed here (`renamed`).
//!
//! The kernel announces the first end of a veth pair before the pair is joined (no
//! `IFLA_LINK`), and not again: the other end's announcement names it, and the first end's
//! `parent` is inferred from it (either order: a veth without a parent is given the end in the
//! view that names it).
//!
//! When one end of a veth pair moves to another namespace, only its removal is announced (with
//! where it went); the end that stays now names it there (`linkNetnsid`, its index there). When
//! it comes back, its arrival names the end that stayed, which names it here again. (Not
//! inferred: a peer moving on from that other namespace to a third; a resync corrects it.)

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::link::LinkRecord;
use crate::nexthop::spec::GroupMember;
use crate::route::record::NexthopLegRecord;
use crate::rule::RuleRecord;

use super::objects::nexthop::WatchedNexthop;
use super::objects::route::WatchedRoute;
use super::objects::{Decoded, Key, Record};
use super::view::View;

/// The changes the kernel made silently along with `d` (which `view` already holds; `was`: what
/// it held before), to be applied after it, in order.
pub fn after(view: &View, d: &Decoded, was: Option<&Record>) -> Vec<Decoded> {
    let mut out = gone_with(view, d, was);
    // A link come or gone attaches or detaches the rules naming it.
    if let Record::Link(link) = &*d.record {
        if d.gone || was.is_none() {
            out.extend(attached(view, &[link.name.as_str()]));
        }
    }
    out.extend(veth_peer(view, d, was));
    out.extend(veth_peer_moved(view, d));
    out
}

/// The route and nexthop records that name a link renamed from `old` to `new`, renamed (the
/// kernel announces only the link).
pub fn renamed(view: &View, old: &str, new: &str) -> Vec<Decoded> {
    let rename = |name: &mut Option<String>| {
        let hit = name.as_deref() == Some(old);
        if hit {
            *name = Some(new.to_string());
        }
        hit
    };
    let mut out: Vec<Decoded> = view
        .iter()
        .filter_map(|(key, record)| {
            let record = match &**record {
                Record::Route(r) => {
                    let mut r = r.clone();
                    let mut hit = rename(&mut r.record.dev);
                    for leg in r.record.multipath.iter_mut().flatten() {
                        hit |= rename(&mut leg.dev);
                    }
                    hit.then_some(Record::Route(r))
                }
                Record::Nexthop(n) => {
                    let mut n = n.clone();
                    rename(&mut n.record.dev).then_some(Record::Nexthop(n))
                }
                _ => None,
            }?;
            Some(Decoded {
                key: key.clone(),
                record: Arc::new(record),
                gone: false,
            })
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out.extend(attached(view, &[old, new]));
    out
}

/// Rules naming a link by `names` (`iif`, `oif`) as the kernel now has them: detached while
/// no link has the name, attached again when one comes, unannounced (`attach_rules`).
fn attached(view: &View, names: &[&str]) -> Vec<Decoded> {
    let exists = |n: &String| {
        view.iter()
            .any(|(_, r)| matches!(&**r, Record::Link(l) if &l.name == n))
    };
    let mut out: Vec<Decoded> = view
        .iter()
        .filter_map(|(key, record)| {
            let Record::Rule(r) = &**record else { return None };
            let named = |n: &Option<String>| n.as_deref().is_some_and(|n| names.contains(&n));
            if !named(&r.iif) && !named(&r.oif) {
                return None;
            }
            let detached =
                r.iif.as_ref().is_some_and(|n| !exists(n)) || r.oif.as_ref().is_some_and(|n| !exists(n));
            (r.detached.is_some() != detached).then(|| Decoded {
                key: key.clone(),
                record: Arc::new(Record::Rule(RuleRecord {
                    detached: detached.then_some(true),
                    ..r.clone()
                })),
                gone: false,
            })
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

fn is_veth(l: &LinkRecord) -> bool {
    l.kind.as_deref() == Some("veth")
}

/// A veth whose peer is in this namespace (or not joined yet).
fn same_namespace_veth(l: &LinkRecord) -> bool {
    is_veth(l) && l.link_netnsid.is_none()
}

/// The end that stays of a veth pair whose other end `d` left for another namespace.
fn veth_peer_moved(view: &View, d: &Decoded) -> Option<Decoded> {
    let (Key::Link(index), Record::Link(link)) = (&d.key, &*d.record) else {
        return None;
    };
    if !d.gone || !is_veth(link) {
        return None;
    }
    let moved = link.moved_to?;
    let (key, stays) = view.iter().find_map(|(k, r)| match &**r {
        Record::Link(l) if same_namespace_veth(l) && l.parent == Some(*index) && l.index != *index => {
            Some((k.clone(), l))
        }
        _ => None,
    })?;
    let mut now = stays.clone();
    now.link_netnsid = Some(moved.netnsid);
    // A peer in another namespace is named even by the link's own index (Linux 5.2 and
    // later). Before 4.16 the kernel did not say the new index: it keeps the old one if free.
    now.parent = moved.index.or(Some(*index));
    Some(Decoded {
        key,
        record: Arc::new(Record::Link(now)),
        gone: false,
    })
}

/// A veth pair's end without a `parent` or naming one in another namespace, which the other
/// end of a new or changed veth in this namespace names (or names this one), given its parent.
/// Not an end that was joined here (`was`) and lost its parent: a pair being deleted while up
/// announces each end without its peer (the pair is taken apart first), and the other end is
/// still joined in the view until its own announcement.
fn veth_peer(view: &View, d: &Decoded, was: Option<&Record>) -> Option<Decoded> {
    let (Key::Link(index), Record::Link(link)) = (&d.key, &*d.record) else {
        return None;
    };
    if d.gone || !same_namespace_veth(link) {
        return None;
    }
    let (lone, parent) = match link.parent {
        // This end names its peer: the peer may lack its parent.
        Some(peer) => (peer, *index),
        // Taken apart (see above).
        None if matches!(was, Some(Record::Link(w)) if same_namespace_veth(w) && w.parent.is_some()) => {
            return None
        }
        // This end lacks its parent: the end that names it is its peer.
        None => {
            let peer = view.iter().find_map(|(_, r)| match &**r {
                Record::Link(l)
                    if same_namespace_veth(l) && l.parent == Some(*index) && l.index != *index =>
                {
                    Some(l.index)
                }
                _ => None,
            })?;
            (*index, peer)
        }
    };
    match view.get(&Key::Link(lone)).map(|r| &**r) {
        // Without its parent, or naming a peer elsewhere (the one just back from there).
        Some(Record::Link(l)) if is_veth(l) && (l.link_netnsid.is_some() || l.parent.is_none()) => {
            let mut joined = l.clone();
            joined.parent = Some(parent);
            joined.link_netnsid = None;
            Some(Decoded {
                key: Key::Link(lone),
                record: Arc::new(Record::Link(joined)),
                gone: false,
            })
        }
        _ => None,
    }
}

/// What goes silently with a link going down or away, a nexthop or the last IPv4 address of a
/// link.
fn gone_with(view: &View, d: &Decoded, was: Option<&Record>) -> Vec<Decoded> {
    let lost_carrier =
        |link: &LinkRecord| !has_carrier(link) && matches!(was, Some(Record::Link(old)) if has_carrier(old));
    match (&d.key, &*d.record) {
        (Key::Link(index), Record::Link(link)) if d.gone || !link.up || lost_carrier(link) => {
            let index = *index;
            // Its nexthop objects go when it goes down or away, and when it loses carrier
            // (`nh_netdev_event`: neither RUNNING nor LOWER_UP).
            let nexthops: HashSet<u32> = view
                .iter()
                .filter_map(|(k, r)| match (k, &**r) {
                    (Key::Nexthop(id), Record::Nexthop(n)) if n.link == Some(index) => Some(*id),
                    _ => None,
                })
                .collect();
            let gone = d.gone;
            let down = gone || !link.up;
            let links_down = links_where(view, |l| !l.up);
            // A link going away takes every IPv4 route with a leg on it (multipath included);
            // going down, those with a leg on it whose every leg is now on a link that is down,
            // but its addresses' local routes. Losing carrier leaves the routes (`linkdown`).
            let dead = |r: &WatchedRoute| {
                if gone {
                    r.links.contains(&index)
                } else {
                    down && !r.host
                        && r.links.contains(&index)
                        && r.links.iter().all(|l| *l == index || links_down.contains(l))
                }
            };
            let mut out = removals(view, |_| false, nexthops, dead);
            if gone {
                out.extend(with_link(view, |l| l == index));
            }
            out
        }
        (Key::Nexthop(id), _) if d.gone => removals(view, |_| false, HashSet::from([*id]), |_| false),
        (Key::Address(_), Record::Address(a)) if d.gone && a.family == "inet" => {
            let index = a.index;
            // The links with an IPv4 address left.
            let addressed: HashSet<u32> = view
                .iter()
                .filter_map(|(_, r)| match &**r {
                    Record::Address(o) if o.family == "inet" => Some(o.index),
                    _ => None,
                })
                .collect();
            if !addressed.contains(&index) {
                // Its IPv4 routes go, those with a leg on it whose every leg is on a link now
                // down or without IPv4 addresses (their legs died the same way). The address's
                // own routes (protocol kernel, in tables main and local) go announced, just
                // before; a copy of one elsewhere goes unannounced.
                let unaddressed = links_where(view, |l| !l.up || !addressed.contains(&l.index));
                let own =
                    |r: &WatchedRoute| r.kernel && matches!(r.record.table, RT_TABLE_MAIN | RT_TABLE_LOCAL);
                removals(
                    view,
                    |_| false,
                    HashSet::new(),
                    |r: &WatchedRoute| {
                        r.ipv4
                            && !own(r)
                            && r.links.contains(&index)
                            && r.links.iter().all(|l| *l == index || unaddressed.contains(l))
                    },
                )
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

const RT_TABLE_MAIN: u32 = 254;
const RT_TABLE_LOCAL: u32 = 255;

/// Whether a link has carrier as the kernel's nexthop code asks (RUNNING or LOWER_UP).
fn has_carrier(l: &LinkRecord) -> bool {
    l.flags.iter().any(|f| *f == "RUNNING" || *f == "LOWER_UP")
}

/// The indexes of the links in the view that `pick` picks.
fn links_where(view: &View, pick: impl Fn(&LinkRecord) -> bool) -> HashSet<u32> {
    view.iter()
        .filter_map(|(_, r)| match &**r {
            Record::Link(l) if pick(l) => Some(l.index),
            _ => None,
        })
        .collect()
}

/// Brings a view made of dumps in line with the rules: no IPv4 route and no nexthop on a link
/// that is down or absent, no route on a nexthop that is absent.
pub fn prune(view: &mut View) {
    let up: HashSet<u32> = view
        .iter()
        .filter_map(|(_, r)| match &**r {
            Record::Link(l) if l.up => Some(l.index),
            _ => None,
        })
        .collect();
    let present: HashSet<u32> = view
        .iter()
        .filter_map(|(_, r)| match &**r {
            Record::Link(l) => Some(l.index),
            _ => None,
        })
        .collect();
    let down = |i: &u32| !up.contains(i);
    let nexthops: HashSet<u32> = view
        .iter()
        .filter_map(|(k, r)| match (k, &**r) {
            (Key::Nexthop(id), Record::Nexthop(n)) if n.link.as_ref().is_some_and(down) => Some(*id),
            _ => None,
        })
        .collect();
    let known: HashSet<u32> = view
        .iter()
        .filter_map(|(k, _)| match k {
            Key::Nexthop(id) => Some(*id),
            _ => None,
        })
        .collect();
    let missing = |id: u32| !known.contains(&id);
    let dead = |r: &WatchedRoute| {
        r.links.iter().any(|i| !present.contains(i)) || (!r.host && r.links.iter().all(down))
    };
    let mut out = removals(view, missing, nexthops, dead);
    out.extend(with_link(view, |l| !present.contains(&l)));
    for d in out {
        if d.gone {
            view.remove(&d.key);
        } else {
            view.insert(d.key, d.record);
        }
    }
}

/// Removes the objects that go with their link (a bridge's own VLANs) whose link `gone` says
/// is gone, in key order.
fn with_link(view: &View, gone: impl Fn(u32) -> bool) -> Vec<Decoded> {
    let mut out: Vec<Decoded> = view
        .iter()
        .filter(|(k, _)| k.kind().goes_with_link() && k.link().is_some_and(&gone))
        .map(|(k, r)| Decoded {
            key: k.clone(),
            record: r.clone(),
            gone: true,
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// Removes the nexthops `gone`, the members `gone` from groups (and the groups left empty),
/// the routes on removed (or `missing`) nexthops, and the IPv4 routes (with links) that
/// `dead` says are gone.
fn removals(
    view: &View,
    missing: impl Fn(u32) -> bool,
    mut gone: HashSet<u32>,
    dead: impl Fn(&WatchedRoute) -> bool,
) -> Vec<Decoded> {
    let mut out = Vec::new();
    let deleted = |key: &Key, record: &Arc<Record>| Decoded {
        key: key.clone(),
        record: record.clone(),
        gone: true,
    };
    let mut sorted: Vec<(&Key, &Arc<Record>)> = view.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    // Groups that lost members and stay: the routes on them leave by the members left.
    let mut shrunk: HashMap<u32, Vec<GroupMember>> = HashMap::new();
    if !gone.is_empty() {
        // Groups first: a group left empty goes too.
        for (key, record) in &sorted {
            if let (Key::Nexthop(id), Record::Nexthop(n)) = (key, &***record) {
                let Some(members) = &n.record.group else {
                    continue;
                };
                if gone.contains(id) || !members.iter().any(|m| gone.contains(&m.id)) {
                    continue;
                }
                let left: Vec<_> = members
                    .iter()
                    .filter(|m| !gone.contains(&m.id))
                    .cloned()
                    .collect();
                if left.is_empty() {
                    gone.insert(*id);
                } else {
                    shrunk.insert(*id, left.clone());
                    let mut changed = n.clone();
                    changed.record.group = Some(left);
                    out.push(Decoded {
                        key: (*key).clone(),
                        record: Arc::new(Record::Nexthop(changed)),
                        gone: false,
                    });
                }
            }
        }
    }
    // Routes before the nexthops they use.
    for (key, record) in &sorted {
        if let (Key::Route(_), Record::Route(r)) = (key, &***record) {
            let on_gone = r
                .record
                .nexthop
                .is_some_and(|id| gone.contains(&id) || missing(id));
            let dead_v4 = r.ipv4 && r.record.nexthop.is_none() && !r.links.is_empty() && dead(r);
            if on_gone || dead_v4 {
                out.push(deleted(key, record));
            } else if let Some(left) = r.record.nexthop.and_then(|id| shrunk.get(&id)) {
                if let Some(changed) = on_members(view, r, left) {
                    out.push(Decoded {
                        key: (*key).clone(),
                        record: Arc::new(Record::Route(changed)),
                        gone: false,
                    });
                }
            }
        }
    }
    for (key, record) in &sorted {
        if matches!(key, Key::Nexthop(id) if gone.contains(id)) {
            out.push(deleted(key, record));
        }
    }
    out
}

/// A route on a group as it is listed once the group holds only `left`: a leg per member (its
/// gateway and link, the member's weight), or one member's gateway and link alone.
fn on_members(view: &View, route: &WatchedRoute, left: &[GroupMember]) -> Option<WatchedRoute> {
    let members: Vec<(&GroupMember, &WatchedNexthop)> = left
        .iter()
        .map(|m| match view.get(&Key::Nexthop(m.id)).map(|r| &**r) {
            Some(Record::Nexthop(n)) => Some((m, n)),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let mut r = route.clone();
    r.links = members.iter().filter_map(|(_, n)| n.link).collect();
    match members.as_slice() {
        // An IPv6 route on a group is listed with legs, even one (IPv4's with one, without).
        [(_, n)] if r.ipv4 => {
            r.record.via = n.record.via.clone();
            r.record.dev = n.record.dev.clone();
            r.record.multipath = None;
        }
        _ => {
            r.record.via = None;
            r.record.dev = None;
            r.record.multipath = Some(
                members
                    .iter()
                    .map(|(m, n)| NexthopLegRecord {
                        via: n.record.via.clone(),
                        dev: n.record.dev.clone(),
                        weight: m.weight.unwrap_or(1),
                        flags: None,
                    })
                    .collect(),
            );
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::LinkMove;

    fn veth(index: u32, parent: Option<u32>, link_netnsid: Option<i32>) -> LinkRecord {
        LinkRecord {
            index,
            name: format!("v{index}"),
            kind: Some("veth".into()),
            operstate: "DOWN".into(),
            parent,
            link_netnsid,
            ..Default::default()
        }
    }

    fn decoded(record: LinkRecord, gone: bool) -> Decoded {
        Decoded {
            key: Key::Link(record.index),
            record: Arc::new(Record::Link(record)),
            gone,
        }
    }

    /// A view holding `links`.
    fn view(links: &[LinkRecord]) -> View {
        let mut v = View::default();
        for l in links {
            v.insert(Key::Link(l.index), Arc::new(Record::Link(l.clone())));
        }
        v
    }

    fn link_of(d: &Decoded) -> &LinkRecord {
        match &*d.record {
            Record::Link(l) => l,
            other => panic!("not a link: {other:?}"),
        }
    }

    /// Peer 2 of link 3 leaves with `moved_to`; the view no longer holds it.
    fn moved(moved_to: Option<LinkMove>) -> Vec<Decoded> {
        let mut gone = veth(2, Some(3), None);
        gone.moved_to = moved_to;
        after(&view(&[veth(3, Some(2), None)]), &decoded(gone, true), None)
    }

    #[test]
    fn the_end_that_stays_names_a_moved_peer_there() {
        let out = moved(Some(LinkMove {
            netnsid: 4,
            index: Some(7),
        }));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].key, Key::Link(3));
        assert!(!out[0].gone);
        let now = link_of(&out[0]);
        assert_eq!((now.parent, now.link_netnsid), (Some(7), Some(4)));
    }

    #[test]
    fn a_moved_peer_may_keep_the_index_of_the_end_that_stays() {
        // The kernel names a peer elsewhere even by the link's own index.
        let out = moved(Some(LinkMove {
            netnsid: 0,
            index: Some(3),
        }));
        assert_eq!(link_of(&out[0]).parent, Some(3));
        // Without the new index (before Linux 4.16): the old one, which the kernel keeps if free.
        let out = moved(Some(LinkMove {
            netnsid: 0,
            index: None,
        }));
        assert_eq!(link_of(&out[0]).parent, Some(2));
    }

    #[test]
    fn a_deleted_peer_changes_nothing_of_the_other_end() {
        // Its own removal follows, announced.
        assert!(moved(None).is_empty());
    }

    #[test]
    fn a_peer_back_from_elsewhere_is_named_here_again() {
        let stays = veth(3, Some(7), Some(4));
        let out = after(&view(&[stays]), &decoded(veth(2, Some(3), None), false), None);
        assert_eq!(out.len(), 1);
        let now = link_of(&out[0]);
        assert_eq!((now.index, now.parent, now.link_netnsid), (3, Some(2), None));
    }

    #[test]
    fn a_veth_naming_a_peer_elsewhere_is_left_alone() {
        // Link 2's peer is elsewhere: link 3 here, which it happens to name by index, is not it.
        let here = veth(3, None, None);
        let out = after(&view(&[here]), &decoded(veth(2, Some(3), Some(1)), false), None);
        assert!(out.is_empty());
    }

    #[test]
    fn an_end_announced_before_its_pair_is_joined_gets_its_parent_a_pair_taken_apart_does_not() {
        // Created: end 2 came without a parent, end 3 names it (either order).
        let first = veth(2, None, None);
        let out = after(
            &view(&[first.clone(), veth(3, Some(2), None)]),
            &decoded(first.clone(), false),
            None,
        );
        assert_eq!(
            out.iter().map(|d| link_of(d).parent).collect::<Vec<_>>(),
            [Some(3)]
        );
        // Deleted while up: each end is announced without its peer before it goes, the other
        // still joined in the view.
        let was = Record::Link(veth(2, Some(3), None));
        let out = after(
            &view(&[first.clone(), veth(3, Some(2), None)]),
            &decoded(first, false),
            Some(&was),
        );
        assert!(out.is_empty(), "{out:?}");
    }
}

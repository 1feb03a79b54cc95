//! Folding: `ns.bridge('br0').mtu(9000).up()` is a creation followed by two changes of the link
//! it creates. The kernel takes MTU, MAC, queue length, group, master and up in the creation
//! request itself, so such changes are folded into it: one request instead of three, and the
//! link never exists without them. The folded items share the creation's outcome. Changes of a
//! link the run creates are also where its MTU is checked with the created kinds' bounds.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use crate::args;
use crate::error::{Error, Result};
use crate::link::add::AddLink;
use crate::link::set::{LinkChange, SetLink};
use crate::link::LinkRef;

use super::step::Effect;
use super::{Item, Op};

/// Folds changes into the creations they follow; returns, by position, the creation each
/// folded item went into.
pub(super) fn fold(items: &mut [Result<Item>]) -> Vec<Option<usize>> {
    check_made_mtus(items);
    let mut folded = vec![None; items.len()];
    let mut i = 0;
    while i < items.len() {
        let mut j = i + 1;
        if let Ok(Item {
            target,
            op: Op::AddLink(_),
        }) = &items[i]
        {
            let target = *target;
            while j < items.len() {
                let (head, tail) = items.split_at_mut(j);
                let (
                    Ok(Item {
                        op: Op::AddLink(add), ..
                    }),
                    Ok(Item {
                        target: t,
                        op: Op::SetLink(set),
                    }),
                ) = (&mut head[i], &tail[0])
                else {
                    break;
                };
                if *t != target || !foldable(add, set) {
                    break;
                }
                apply(add, &set.change);
                folded[j] = Some(i);
                j += 1;
            }
        }
        i = j;
    }
    folded
}

/// Changes of a link the run creates are checked with the bounds of the kinds tenus creates
/// (none takes an MTU outside 68..=65535), where a change of an existing link is left to the
/// kernel (its bounds are the device's, lo has no upper one): a bad MTU in
/// `ns.bridge('br0').address(cidr).mtu(n)` is refused before anything is sent, as it is in
/// `ns.bridge('br0', { mtu: n })`. A refused change holds its error, as a refused argument does.
fn check_made_mtus(items: &mut [Result<Item>]) {
    for (i, e) in made_mtus_refused(items) {
        items[i] = Err(e);
    }
}

/// The changes `check_made_mtus` refuses, by position, with their errors.
fn made_mtus_refused<'a>(items: &'a [Result<Item>]) -> Vec<(usize, Error)> {
    let sets_mtu = |item: &Result<Item>| matches!(item, Ok(Item { op: Op::SetLink(set), .. }) if set.change.mtu.is_some());
    if !items.iter().any(sets_mtu) {
        return Vec::new();
    }
    // (namespace, name) of the links made so far, followed through renames and moves, with
    // the MTUs their kind takes.
    let mut made: HashMap<(usize, &str), RangeInclusive<u32>> = HashMap::new();
    let mut refused = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Ok(Item { target, op }) = item else { continue };
        let here = |l: &'a LinkRef| l.name().map(|n| (*target, n));
        match op {
            Op::AddLink(add) => {
                made.insert((*target, add.names.name.as_str()), add.spec.kind.mtu_range());
            }
            Op::SetLink(set) => {
                if let (Some(link), Some(m)) = (here(&set.link), set.change.mtu) {
                    if let Some(range) = made.get(&link) {
                        refused.extend(args::mtu_in("mtu", m, range.clone()).err().map(|e| (i, e)));
                    }
                }
            }
            _ => {}
        }
        match op.effect() {
            Effect::Renames(l, to) => {
                if let Some(range) = here(l).and_then(|from| made.remove(&from)) {
                    made.insert((*target, to), range);
                }
            }
            Effect::Moves(l, to, there) => {
                if let Some((from, range)) = here(l).and_then(|from| Some((from, made.remove(&from)?))) {
                    made.insert((to, there.unwrap_or(from.1)), range);
                }
            }
            Effect::Removes(l) => {
                if let Some(gone) = here(l) {
                    made.remove(&gone);
                }
            }
            _ => {}
        }
    }
    refused
}

/// A change of the link just created, with nothing the creation request cannot carry (or would
/// carry with another meaning: a bridge's MTU, see `Kind::creation_mtu_is_set_by_user`).
fn foldable(add: &AddLink, set: &SetLink) -> bool {
    let c = &set.change;
    let kind = &add.spec.kind;
    let same_link = matches!(&set.link, LinkRef::Name(n) if *n == add.names.name);
    let creatable = c.name.is_none()
        && c.alias.is_none()
        && c.promisc.is_none()
        && !matches!(c.master, Some(None))
        && c.mtu
            .is_none_or(|m| kind.creation_mtu_is_set_by_user() && kind.mtu_range().contains(&m));
    same_link && creatable
}

fn apply(add: &mut AddLink, c: &LinkChange) {
    let common = &mut add.spec.common;
    if let Some(up) = c.up {
        common.up = up;
    }
    if c.mtu.is_some() {
        common.mtu = c.mtu;
    }
    if c.mac.is_some() {
        common.mac = c.mac;
    }
    if c.txqlen.is_some() {
        common.txqlen = c.txqlen;
    }
    if c.group.is_some() {
        common.group = c.group;
    }
    if let Some(Some(m)) = &c.master {
        common.master = Some(m.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Items, ReadContext, OP_CODES};
    use crate::netns::Namespace;
    use serde_json::json;

    fn code(op: &str) -> u8 {
        OP_CODES.iter().find(|(n, _)| *n == op).unwrap().1
    }

    fn items(json: serde_json::Value) -> Vec<Result<Item>> {
        let mut cx = ReadContext::new(vec![Namespace::current().unwrap()]);
        Items::parse(&json.to_string(), &mut cx).unwrap().items
    }

    #[test]
    fn changes_of_the_created_link_fold_into_its_creation_until_one_cannot() {
        let (add, set, get) = (code("link.add"), code("link.set"), code("link.get"));
        let mut items = items(json!([
            [add, "veth", {"name": "ve0"}],
            [set, {"created": 0}, {"mtu": 9000}],
            [set, {"created": 0}, {"up": true, "group": 7}],
            [set, {"created": 0}, {"alias": "not at creation"}],
            [set, {"created": 0}, {"txqlen": 5}],
            [get, {"created": 0}],
            [add, "veth", {"name": "v0"}],
            [set, "other", {"mtu": 1400}],
        ]));
        let folded = fold(&mut items);
        assert_eq!(
            folded,
            [None, Some(0), Some(0), None, None, None, None, None],
            "the alias stops the folding; a change of another link does not fold"
        );
        let Ok(Item {
            op: Op::AddLink(add), ..
        }) = &items[0]
        else {
            panic!()
        };
        let c = &add.spec.common;
        assert_eq!(
            (c.mtu, c.up, c.group, c.txqlen),
            (Some(9000), true, Some(7), None)
        );
    }

    #[test]
    fn a_bridge_mtu_is_set_after_its_creation_where_the_bridge_keeps_it() {
        let (add, set) = (code("link.add"), code("link.set"));
        let mut items = items(json!([
            [add, "bridge", {"name": "br0"}],
            [set, {"created": 0}, {"up": true}],
            [set, {"created": 0}, {"mtu": 9000}],
            [set, {"created": 0}, {"group": 7}],
        ]));
        assert_eq!(fold(&mut items), [None, Some(0), None, None]);
    }

    #[test]
    fn an_mtu_no_kind_takes_is_refused_for_a_link_the_run_makes_and_left_to_the_kernel_otherwise() {
        let (add, set, get) = (code("link.add"), code("link.set"), code("link.get"));
        let mut items = items(json!([
            [add, "bridge", {"name": "b0"}],
            [set, "b0", {"mtu": 65536}],
            [set, "lo", {"mtu": 65536}],
            [get, "b0"],
            [set, {"created": 0}, {"mtu": 10}],
            [set, "b0", {"name": "b1"}],
            [set, "b1", {"mtu": 70000}],
        ]));
        assert_eq!(fold(&mut items), [None, None, None, None, None, None, None]);
        // Followed through its rename.
        assert!(matches!(&items[6], Err(crate::error::Error::InvalidArgument { arg, .. }) if arg == "mtu"));
        assert!(matches!(&items[4], Err(crate::error::Error::InvalidArgument { arg, .. }) if arg == "mtu"));
        match &items[1] {
            Err(crate::error::Error::InvalidArgument { arg, message, .. }) => {
                assert_eq!(arg, "mtu");
                assert!(message.contains("65536"), "{message}");
            }
            other => panic!("expected the MTU refused, got {other:?}"),
        }
        assert!(items[2].is_ok());
    }

    #[test]
    fn an_mtu_the_kind_does_not_take_is_left_to_the_kernel() {
        let (add, set) = (code("link.add"), code("link.set"));
        let mut items = items(json!([
            [add, "gre", {"name": "g0", "remote": "10.0.0.2"}],
            [set, "g0", {"mtu": 65535}],
        ]));
        assert_eq!(fold(&mut items), [None, None]);
    }
}

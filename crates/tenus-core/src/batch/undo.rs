//! Rollback: undoing what a failed batch did, newest first. Links the batch created are
//! deleted at the end (all at once per namespace, by group), and with them whatever the batch
//! did to them; everything else is taken back by its own undo requests (`Step::encode_undo`),
//! from what was read before it where it needs that. Deletions are not undone: in rollback
//! mode they were sent only after everything before them had succeeded.

use std::collections::{HashMap, HashSet};

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::handle::{Handle, DEFAULT_TIMEOUT};
use crate::link::LinkRef;
use crate::transport::{Expect, Messages, Reply};

use super::names::{Names, View};
use super::step::{Effect, Undo};
use super::{answer, Item, Op, Outcome};

/// Where a link is, by name: (namespace, name).
type Place = (usize, String);

pub(super) async fn rollback(
    handles: &[Handle],
    ops: &[Option<&Item>],
    before: &[Vec<Messages>],
    outcomes: &mut [Outcome],
    names: &mut Names,
    removed: &[(usize, u32)],
    not_as_asked: &[usize],
) -> Vec<Error> {
    // The undo is what leaves nothing half-made: it gets at least the default deadline, whatever
    // shorter one the run had (a run that timed out, its socket still busy, would otherwise see
    // its undo time out too and leave what it made).
    let patient: Vec<Handle> = handles
        .iter()
        .map(|h| {
            let mut h = h.clone();
            h.set_timeout(h.timeout().max(DEFAULT_TIMEOUT));
            h
        })
        .collect();
    let handles = &patient[..];
    let mut errors = Vec::new();

    // Follow each created link through renames and moves; items on them go with them.
    let mut created: HashMap<Place, usize> = HashMap::new();
    // (item, the item that created the link it acts on)
    let mut on_created: Vec<(usize, usize)> = Vec::new();
    for (i, item) in ops.iter().enumerate() {
        let Some(item) = item else { continue };
        // A creation failed for the link it made (`AddLink::capped`) made it all the same.
        if !took_effect(&outcomes[i]) && !not_as_asked.contains(&i) {
            continue;
        }
        let here = |l: &LinkRef| named(item, l);
        let effect = item.op.effect();
        let touches = item
            .op
            .goes_with()
            .into_iter()
            .filter_map(here)
            .chain(match effect {
                Effect::Renames(l, _) | Effect::Moves(l, _, _) | Effect::Removes(l) => here(l),
                _ => None,
            })
            .find_map(|p| created.get(&p).copied());
        match effect {
            Effect::Creates(name, _) if item.op.undo() == Undo::Created => {
                created.insert((item.target, name.to_string()), i);
            }
            Effect::Renames(..) | Effect::Moves(..) => {
                if let Some((from, to)) = relocation(item.target, effect) {
                    if let Some(origin) = here(from).and_then(|from| created.remove(&from)) {
                        created.insert(to, origin);
                    }
                }
            }
            // Deleted by the batch itself: nothing left to delete.
            Effect::Removes(l) => {
                if let Some(place) = here(l) {
                    created.remove(&place);
                }
            }
            _ => {}
        }
        if let Some(origin) = touches {
            on_created.push((i, origin));
        }
    }
    let goes_with_link: HashSet<usize> = on_created.iter().map(|(i, _)| *i).collect();
    let on_deleted = on_links_deleted_later(ops, outcomes, removed);

    // Created links deleted (their creations are undone after the loop, for what creating them
    // changed on other links).
    let mut deleted = Vec::new();
    // Undo requests that failed, to try again at the end (`settle_all`).
    let mut later: Vec<Failed> = Vec::new();
    // Everything else, newest first; requests pipelined per namespace, in order.
    let mut waits: Vec<Wait> = Vec::new();
    let mut target = None;
    for (i, item) in ops.iter().enumerate().rev() {
        let Some(item) = item else { continue };
        // A link change that failed may have been applied in part (the kernel applies a
        // change's attributes in turn and stops at the one it refuses) or whole (its answer
        // timed out): what was read before it is written back, harmless if nothing changed.
        let failed_in_part = matches!(outcomes[i], Outcome::Failed(_))
            && item.op.restores_when_failed()
            && !before[i].is_empty();
        if (!took_effect(&outcomes[i]) && !failed_in_part)
            || goes_with_link.contains(&i)
            || on_deleted.contains(&i)
        {
            continue;
        }
        if !matches!(item.op.undo(), Undo::Inverse | Undo::Restore) {
            continue;
        }
        if let Some(alone) = undo_alone(handles, item, &before[i]) {
            // Not pipelined: these take more than one request and look at what they find.
            settle_all(&mut waits, handles, &*names, ops, outcomes, &mut later).await;
            // A link the batch made after this move or rename, under the name it freed, goes
            // first (newest first): the link comes back under its name.
            let freed = returns_to(item, &before[i]).and_then(|place| {
                created
                    .get(&place)
                    .copied()
                    .filter(|o| *o > i)
                    .map(|o| (place, o))
            });
            if let Some((place, origin)) = freed {
                match handles[place.0]
                    .delete_links(&[LinkRef::Name(place.1.clone())])
                    .await
                {
                    Ok(()) => {
                        created.remove(&place);
                        undone(&mut outcomes[origin]);
                        undone_with(origin, &on_created, outcomes);
                        deleted.push(origin);
                    }
                    Err(e) => errors.push(e.context("batch.undo", None)),
                }
            }
            match alone.await {
                Ok((back, failed)) => {
                    // The link is known by its old name again, for the undos of the items
                    // before (an address added to it before it moved is deleted there).
                    if let Some((t, name, index)) = back {
                        names.found(t, &name, index);
                    }
                    // What it put back around the link but could not (a route): said, and the
                    // item stays done.
                    if failed.is_empty() && outcomes[i] == Outcome::Done {
                        outcomes[i] = Outcome::Undone;
                    }
                    let label = item.op.label();
                    errors.extend(
                        failed
                            .into_iter()
                            .map(|e| e.context("batch.undo", label.as_deref())),
                    );
                }
                Err(e) => errors.push(e.context("batch.undo", item.op.label().as_deref())),
            }
            continue;
        }
        let view = View {
            names: &*names,
            target: item.target,
        };
        // One that failed (its late answer did not say done) is undone as far as it went.
        let requests = match &outcomes[i] {
            Outcome::Failed(e) if failed_in_part && !took_effect(&outcomes[i]) => {
                item.op.encode_undo_failed(&view, &before[i], e)
            }
            _ => item.op.encode_undo(&view, &before[i]),
        };
        let requests = match requests {
            Ok(r) => r,
            Err(e) => {
                errors.push(e.context("batch.undo", item.op.label().as_deref()));
                continue;
            }
        };
        if requests.is_empty() {
            continue;
        }
        for (t, bytes) in requests {
            if target.is_some_and(|prev| prev != t) {
                // Requests on different sockets are not ordered: finish one before the other.
                settle_all(&mut waits, handles, &*names, ops, outcomes, &mut later).await;
            }
            target = Some(t);
            let h = &handles[t];
            let request = (t, bytes.clone());
            match h.connection().submit(bytes, Expect::Ack, h.timeout()) {
                Ok(rx) => waits.push((i, request, rx)),
                Err(e) => errors.push(e.context("batch.undo", item.op.label().as_deref())),
            }
        }
    }
    settle_all(&mut waits, handles, &*names, ops, outcomes, &mut later).await;
    // Undo requests that failed are tried once more now that everything after them is undone:
    // a route put back through a gateway an older item's undo made reachable again (its
    // address, deleted by the batch) fails until then.
    for (i, (t, bytes), first) in later {
        let label = ops[i].and_then(|it| it.op.label());
        match handles[t].ack("batch.undo", label.as_deref(), bytes).await {
            Ok(_) => undone(&mut outcomes[i]),
            Err(_) => errors.push(first.context("batch.undo", label.as_deref())),
        }
    }

    // Links the batch created, per namespace, in one group delete each.
    let mut by_target: HashMap<usize, Vec<(Place, usize)>> = HashMap::new();
    for (place, origin) in created {
        by_target.entry(place.0).or_default().push((place, origin));
    }
    for (t, links) in by_target {
        let refs: Vec<LinkRef> = links.iter().map(|((_, n), _)| LinkRef::Name(n.clone())).collect();
        match delete_made(&handles[t], &refs).await {
            Ok(gone) => {
                // A creation that timed out stays failed (its late answer said done); one whose
                // link the batch deleted itself stays done.
                for (at, (_, origin)) in links.iter().enumerate() {
                    if !gone.contains(&at) {
                        undone(&mut outcomes[*origin]);
                    }
                    undone_with(*origin, &on_created, outcomes);
                    deleted.push(*origin);
                }
            }
            Err(e) => errors.push(e.context("batch.undo", None)),
        }
    }
    // What creating them changed on links that stay (the MTU of a bridge they joined, the mode
    // of an ipvlan's siblings), put back now that they are gone, newest first, in the
    // namespace each was created in; not for links made on links the batch made (those are
    // gone too).
    deleted.sort_unstable();
    for origin in deleted.into_iter().rev() {
        if goes_with_link.contains(&origin) {
            continue;
        }
        let Some(item) = ops[origin] else { continue };
        let view = View {
            names: &*names,
            target: item.target,
        };
        let label = item.op.label();
        let requests = match item.op.encode_undo(&view, &before[origin]) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e.context("batch.undo", label.as_deref()));
                continue;
            }
        };
        for (t, bytes) in requests {
            if let Err(e) = handles[t].ack("batch.undo", label.as_deref(), bytes).await {
                errors.push(e.context("batch.undo", label.as_deref()));
            }
        }
    }
    // A link the batch deleted took others with it (a veth's peer, the macvlans and vlans on
    // it): the undo of a change to one of those finds no link, and has nothing to undo.
    let deleted_links = ops.iter().zip(outcomes.iter()).any(|(item, outcome)| {
        item.is_some_and(|it| matches!(it.op.effect(), Effect::Removes(_))) && took_effect(outcome)
    });
    if deleted_links {
        errors.retain(|e| e.errno() != Some(libc::ENODEV));
    }
    errors
}

/// Deletes the links a batch made, at once; when that fails (one of them went with another:
/// the peer of a veth pair the batch deleted), one by one, a link already gone being no error.
/// Resolves to the positions of the links that were gone already.
async fn delete_made(h: &Handle, links: &[LinkRef]) -> Result<Vec<usize>> {
    let Err(first) = h.delete_links(links).await else {
        return Ok(Vec::new());
    };
    if links.len() == 1 && first.errno() != Some(libc::ENODEV) {
        return Err(first);
    }
    let mut gone = Vec::new();
    for (at, link) in links.iter().enumerate() {
        match h.delete_links(std::slice::from_ref(link)).await {
            Err(e) if e.errno() == Some(libc::ENODEV) => gone.push(at),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
    }
    Ok(gone)
}

/// Where the undo of a move or a rename brings its link back: (namespace, name).
fn returns_to(item: &Item, before: &[Messages]) -> Option<Place> {
    let name = match &item.op {
        Op::MoveLink(mv) => mv.name_before()?.to_string(),
        Op::SetLink(set) if set.renames() => set.reverted(before)?.1.name?,
        _ => return None,
    };
    Some((item.target, name))
}

/// Whether an item changed something a rollback must undo: it was done, or it timed out and
/// its answer, come late, said done (`Error::Timeout::applied`).
fn took_effect(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Done => true,
        Outcome::Failed(Error::Timeout { applied, .. }) => *applied,
        _ => false,
    }
}

/// The place of a link `item` names by name (links referred to by index are not followed).
fn named(item: &Item, l: &LinkRef) -> Option<Place> {
    l.name().map(|n| (item.target, n.to_string()))
}

/// Where a rename or a move (`effect`, of an item acting in `target`) takes its link: the link
/// as the item names it (by name or by index), and its place after (None for a link named by
/// index that moves under its own name, which is not known here).
fn relocation(target: usize, effect: Effect<'_>) -> Option<(&LinkRef, Place)> {
    match effect {
        Effect::Renames(l, to) => Some((l, (target, to.to_string()))),
        Effect::Moves(l, to, there) => Some((l, (to, there.or(l.name())?.to_string()))),
        _ => None,
    }
}

/// The items that changed a link a later item of the batch deleted (followed back through
/// renames and moves): what they changed went with it, and deletions are not undone, so their
/// undo has nothing to act on. Links named by name are followed by name, as created ones are;
/// those named by index, by the index each deletion took (`removed`: item, index, where it was
/// known) and through renames and moves that name them by index (a move without a new name,
/// or a deletion by index after a move, is not followed back: the index changes with the
/// namespace). Created links get indexes never used before; only a link moved in can take a
/// freed one.
fn on_links_deleted_later(
    ops: &[Option<&Item>],
    outcomes: &[Outcome],
    removed: &[(usize, u32)],
) -> HashSet<usize> {
    let removed: HashMap<usize, u32> = removed.iter().copied().collect();
    let mut gone: HashSet<Place> = HashSet::new();
    let mut gone_index: HashSet<(usize, u32)> = HashSet::new();
    let mut on_gone = HashSet::new();
    for (i, item) in ops.iter().enumerate().rev() {
        let Some(item) = item else { continue };
        if !took_effect(&outcomes[i]) {
            continue;
        }
        let here = |l: &LinkRef| named(item, l);
        let effect = item.op.effect();
        match effect {
            Effect::Removes(l) => {
                if let Some(place) = here(l) {
                    gone.insert(place);
                }
                if let Some(index) = removed.get(&i) {
                    gone_index.insert((item.target, *index));
                }
                continue;
            }
            // Before this creation the names were other links', or no link's (a pair's peer's
            // too).
            Effect::Creates(name, peer) => {
                gone.remove(&(item.target, name.to_string()));
                if let Some((t, peer)) = peer {
                    gone.remove(&(t, peer.to_string()));
                }
            }
            Effect::Renames(..) | Effect::Moves(..) => {
                if let Effect::Moves(l, to, there) = effect {
                    // A link moved in keeps its index when it is free there: the indexes
                    // deleted after this may have been its own, which no earlier item named.
                    gone_index.retain(|(t, _)| *t != to);
                    if matches!((l, there), (LinkRef::Index(_), None)) {
                        // It keeps its name too, which is not known here: any name deleted
                        // there after this may have been its own.
                        gone.retain(|(t, _)| *t != to);
                    }
                }
                // Before this the name it takes was another link's, or no link's.
                if let Some((from, to)) = relocation(item.target, effect) {
                    if gone.remove(&to) {
                        match from {
                            LinkRef::Index(index) => {
                                gone_index.insert((item.target, *index));
                            }
                            LinkRef::Name(_) => gone.extend(here(from)),
                        }
                    }
                }
            }
            _ => {}
        }
        let deleted_later = |l: &LinkRef| match l {
            LinkRef::Index(index) => gone_index.contains(&(item.target, *index)),
            LinkRef::Name(_) => here(l).is_some_and(|p| gone.contains(&p)),
        };
        if item.op.goes_with().into_iter().any(deleted_later) {
            on_gone.insert(i);
        }
    }
    on_gone
}

/// The items that acted on the link `origin` made are undone with its deletion.
fn undone_with(origin: usize, on_created: &[(usize, usize)], outcomes: &mut [Outcome]) {
    for (i, o) in on_created {
        if *o == origin {
            undone(&mut outcomes[*i]);
        }
    }
}

/// An item done is undone now; a failed one stays failed.
fn undone(outcome: &mut Outcome) {
    if *outcome == Outcome::Done {
        *outcome = Outcome::Undone;
    }
}

/// What an undo done alone gives back: a link under its old name, in a namespace, with its
/// index there; and what it could not put back around the link (the undo of the item itself
/// went through).
type Back = (Option<(usize, String, u32)>, Vec<Error>);

/// The undo of items that cannot be undone with plain requests: a move (the link is found
/// again in the target), a rename (on Linux < 6.2 an up link is renamed while down), then what
/// the kernel changed with it (`SetLink::aftermath`).
fn undo_alone<'a>(
    handles: &'a [Handle],
    item: &'a Item,
    before: &'a [Messages],
) -> Option<std::pin::Pin<Box<dyn std::future::Future<Output = Result<Back>> + Send + 'a>>> {
    match &item.op {
        Op::MoveLink(mv) => Some(Box::pin(async move {
            let (index, failed) = mv.move_back(&handles[item.target], &handles[mv.to]).await?;
            Ok((
                mv.name_before().map(|n| (item.target, n.to_string(), index)),
                failed,
            ))
        })),
        Op::SetLink(set) if set.renames() => {
            let (link, back) = set.reverted(before)?;
            let h = &handles[item.target];
            Some(Box::pin(async move {
                h.link_set(&link, &back).await?;
                // What the kernel changed with it (an MTU below 1280 or going down in the same
                // change drops the link's IPv6 addresses), as for any other change.
                for request in set.aftermath(before) {
                    h.ack("batch.undo", item.op.label().as_deref(), request).await?;
                }
                let found = match (link, back.name) {
                    (LinkRef::Index(index), Some(name)) => Some((item.target, name, index)),
                    _ => None,
                };
                Ok((found, Vec::new()))
            }))
        }
        _ => None,
    }
}

/// An undo request (the namespace it goes to, its bytes).
type Request = (usize, Vec<u8>);

/// An undo request in flight, with the item it undoes.
type Wait = (usize, Request, oneshot::Receiver<Result<Reply>>);

/// An undo request that failed, with its item and its error.
type Failed = (usize, Request, Error);

/// Whether a request deletes an object (RTM_DEL*: link, address, route, neighbour, rule,
/// nexthop).
fn is_deletion(request: &[u8]) -> bool {
    matches!(
        crate::nla::message_type(request),
        Some(17 | 21 | 25 | 29 | 33 | 105)
    )
}

/// Whether an undo's deletion found nothing to delete: the kernel took the object already (a
/// change it half-applied dropped the link's IPv6 addresses and the routes with them, say), so
/// the undo's end is reached.
fn gone_already(e: &Error) -> bool {
    matches!(
        e.errno(),
        Some(libc::ENOENT | libc::ESRCH | libc::EADDRNOTAVAIL | libc::ENODEV)
    )
}

/// Waits for undo requests; an item is undone when all its requests succeeded (a failed one
/// is tried once more where the item has another request for it, `Step::undo_again`; a
/// deletion that finds nothing is done; one still failing goes to `failed`, for the end).
async fn settle_all(
    waits: &mut Vec<Wait>,
    handles: &[Handle],
    names: &Names,
    ops: &[Option<&Item>],
    outcomes: &mut [Outcome],
    failed: &mut Vec<Failed>,
) {
    let mut failed_items = HashSet::new();
    let mut done_items = Vec::new();
    for (i, request, rx) in waits.drain(..) {
        let deletion = is_deletion(&request.1);
        let Err(e) = answer(rx).await else {
            done_items.push(i);
            continue;
        };
        let label = ops[i].and_then(|it| it.op.label());
        let again = ops[i].and_then(|item| {
            let view = View {
                names,
                target: item.target,
            };
            item.op.undo_again(&view, &e)
        });
        let gone = match again {
            Some((t, bytes)) => match handles[t].ack("batch.undo", label.as_deref(), bytes).await {
                Ok(_) => {
                    done_items.push(i);
                    continue;
                }
                Err(second) => gone_already(&second),
            },
            None => true,
        };
        // What a deletion was after is not there (both ways of naming it, when it has two).
        if deletion && gone && gone_already(&e) {
            done_items.push(i);
            continue;
        }
        failed.push((i, request, e));
        failed_items.insert(i);
    }
    for i in done_items {
        // A failed item whose undo ran (`restores_when_failed`) stays failed.
        if !failed_items.contains(&i) && outcomes[i] == Outcome::Done {
            outcomes[i] = Outcome::Undone;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::batch::wire::IN;
    use crate::batch::{Items, ReadContext, OP_CODES};
    use crate::netns::Namespace;

    fn code(op: &str) -> u8 {
        OP_CODES.iter().find(|(n, _)| *n == op).unwrap().1
    }

    /// Items of a batch in this namespace with one peer (the same namespace, for parsing).
    fn items(json: serde_json::Value) -> Vec<Item> {
        let here = Namespace::current().unwrap();
        let mut cx = ReadContext::new(vec![here.clone(), here]);
        let parsed = Items::parse(&json.to_string(), &mut cx).unwrap().items;
        parsed.into_iter().map(Result::unwrap).collect()
    }

    fn on_deleted(items: &[Item], removed: &[(usize, u32)]) -> Vec<usize> {
        let ops: Vec<Option<&Item>> = items.iter().map(Some).collect();
        let done = vec![Outcome::Done; items.len()];
        let mut found: Vec<usize> = on_links_deleted_later(&ops, &done, removed).into_iter().collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn changes_by_index_to_a_link_deleted_later_are_not_undone() {
        let (set, addr, del) = (code("link.set"), code("address.add"), code("link.delete"));
        let batch = items(json!([
            [set, 7, {"mtu": 1400}],
            [addr, 7, "10.0.0.1/24"],
            [set, 8, {"mtu": 1400}],
            [del, 7],
        ]));
        assert_eq!(on_deleted(&batch, &[(3, 7)]), [0, 1]);
        // A deletion whose index was not known follows nothing by index.
        assert_eq!(on_deleted(&batch, &[]), Vec::<usize>::new());
    }

    #[test]
    fn a_rename_by_index_is_followed_back_to_the_index() {
        let (set, del) = (code("link.set"), code("link.delete"));
        let batch = items(json!([
            [set, 3, {"mtu": 1400}],
            [set, 3, {"name": "x0"}],
            [del, "x0"],
        ]));
        assert_eq!(on_deleted(&batch, &[]), [0, 1]);
    }

    #[test]
    fn a_name_taken_by_a_rename_by_index_or_a_peer_was_another_links_before() {
        let (add, set, del) = (code("link.add"), code("link.set"), code("link.delete"));
        // x0 and p0 are renamed away (1, 4) before other links take their names (2, 5): the
        // deletions (3, 6) are of those others.
        let batch = items(json!([
            [set, "x0", {"mtu": 1400}],
            [set, "x0", {"name": "old0"}],
            [set, 3, {"name": "x0"}],
            [del, "x0"],
            [set, "p0", {"name": "old1"}],
            [add, "veth", {"name": "v0", "peer": "p0"}],
            [del, "p0"],
        ]));
        assert_eq!(on_deleted(&batch, &[]), [2]);
    }

    #[test]
    fn a_name_deleted_after_a_link_moved_in_by_index_may_be_its_own() {
        let (set, mv, del) = (code("link.set"), code("link.move"), code("link.delete"));
        let batch = items(json!([
            [IN, 1],
            [set, "y0", {"mtu": 1400}],
            [IN, 0],
            [mv, 9, 1, null],
            [IN, 1],
            [del, "y0"],
        ]));
        assert_eq!(on_deleted(&batch, &[]), Vec::<usize>::new());
    }

    #[test]
    fn an_index_freed_before_a_link_moved_in_is_not_matched_before_the_move() {
        let (set, mv, del) = (code("link.set"), code("link.move"), code("link.delete"));
        // Item 1 moves a link of the peer into this namespace, where it may keep index 7
        // (freed when item 0's link left): item 3 may delete that one, not item 0's.
        let batch = items(json!([
            [set, 7, {"mtu": 1400}],
            [mv, 7, 1, null],
            [IN, 1],
            [mv, "y0", 0, null],
            [IN, 0],
            [del, 7],
        ]));
        assert_eq!(batch.len(), 4);
        assert_eq!(on_deleted(&batch, &[(3, 7)]), Vec::<usize>::new());
    }
}

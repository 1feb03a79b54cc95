//! The transaction engine: every change tenus makes runs here, a chain (`await ns.bridge('br0')
//! .mtu(9000).up()`) as much as a batch of ten thousand items. Items are pipelined over one
//! socket per namespace — as many messages per `sendmsg` as the window allows, every answer
//! matched to its request by sequence number — with per-item results, and a choice between
//! continuing past errors and undoing what was done (one undo rule for chains and batches:
//! `step.rs`).
//!
//! Items go out as quiet requests (`Expect::Quiet`): the kernel answers a failure always, with
//! the item's sequence number and extended ACK, but a success only when asked. The driver asks
//! on the last request of each `sendmsg`; its ACK means that the items before it that did not
//! fail are done. That spares a message built and queued by the kernel and a `recvmsg` here
//! per item, which counts for cheap requests (addresses, routes).
//!
//! In rollback mode, what an item's undo needs is read just before it, in the same pipeline
//! (the kernel answers a socket's requests in order, so the read sees what the items before it
//! did), and an item nothing can undo waits until everything before it has succeeded. A dump
//! read for one object of many (a table's routes) serves the items after it while it still
//! shows their objects as they are (`shared.rs`); so does a dump of a namespace's links for a
//! run of MTU changes (`uppers.rs`).

mod echo;
mod fold;
mod given;
mod names;
pub mod ops;
pub mod overlap;
mod shared;
mod step;
mod stream;
mod undo;
mod uppers;
pub mod wire;

use std::collections::VecDeque;

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::link::{fast, LinkRecord};
use crate::transport::{header, Expect, Messages, Reply};

pub use names::{Names, View};
pub use ops::{Op, OP_CODES};
pub use step::{Before, Effect, Parsed, Read, ReadKey, Reads, Step, Undo, UndoRequest};
pub use stream::{runs_at_once, Part, Reader, Stream};
pub(crate) use uppers::links_dump;
pub use wire::{Item, Items, ReadContext};

/// What to do when an item fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Run every item; failures are reported per item.
    #[default]
    Continue,
    /// Stop at the first failure and undo what was done, newest first.
    Rollback,
}

#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub on_error: OnError,
    /// Requests in flight at once.
    pub window: usize,
}

pub const DEFAULT_WINDOW: usize = 256;

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            on_error: OnError::Continue,
            window: DEFAULT_WINDOW,
        }
    }
}

/// The fate of one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    Failed(Error),
    /// Not attempted: the batch stopped before it.
    NotRun,
    /// Done, then undone by a rollback.
    Undone,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchReport {
    pub outcomes: Vec<Outcome>,
    /// Link records that items read or made, by item position.
    pub records: Vec<(usize, LinkRecord)>,
    /// Errors met while undoing (rollback mode).
    pub undo_errors: Vec<Error>,
}

/// Runs `items` pipelined. `handles[0]` is the batch's own namespace, the others its peers
/// (items after `[IN, n]` act in `handles[n]`). `progress(done, total)` is called as items
/// complete.
pub async fn run(
    handles: &[Handle],
    mut items: Vec<Result<Item>>,
    options: &BatchOptions,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> BatchReport {
    run_kept(handles, &mut items, options, progress).await
}

/// `run`, leaving the items with the caller: a streamed batch keeps them for its undo.
async fn run_kept(
    handles: &[Handle],
    items: &mut [Result<Item>],
    options: &BatchOptions,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> BatchReport {
    let total = items.len();
    let folded = fold::fold(items);
    let mut tally = Tally {
        outcomes: vec![Outcome::NotRun; total],
        records: Vec::new(),
        completed: 0,
        rollback: options.on_error == OnError::Rollback,
        progress,
        read_backs: echo::ReadBacks::default(),
        removed: Vec::new(),
        unverified: Vec::new(),
        not_as_asked: Vec::new(),
    };
    // Arguments were checked as the items were read; with rollback, one bad item stops all.
    let mut ops: Vec<Option<&Item>> = Vec::with_capacity(total);
    for (i, item) in items.iter().enumerate() {
        match item {
            Ok(item) => ops.push(Some(item)),
            Err(e) => {
                tally.outcomes[i] = Outcome::Failed(e.clone());
                ops.push(None);
            }
        }
    }
    if tally.rollback && tally.any_failed() {
        return tally.report(Vec::new());
    }
    tally.read_backs = echo::ReadBacks::new(&ops, &folded);

    let mut names = Names::default();
    names.lookup(handles, named_links(&ops)).await;
    let mut given = given::Given::default();

    let mut before: Vec<Vec<Messages>> = (0..total).map(|_| Vec::new()).collect();
    let mut shared = shared::SharedDump::default();
    let mut uppers = uppers::UpperLinks::default();
    let mut in_flight = InFlight::default();
    let window = options.window.clamp(1, 4096);
    let mut target = 0;

    // Where the last item that changes something is (a rollback's reads depend on it).
    let last_change = if tally.rollback {
        ops.iter()
            .rposition(|item| item.is_some_and(|item| item.op.undo() != step::Undo::Nothing))
    } else {
        None
    };
    for (i, item) in ops.iter().enumerate() {
        if !tally.unverified.is_empty() && verify_made(handles, &ops, &mut tally).await {
            break;
        }
        let Some(item) = item else {
            tally.count();
            continue;
        };
        if folded[i].is_some() {
            continue; // sent as part of the creation it follows
        }
        if tally.read_backs.leave_unsent(i) {
            continue; // answered by the echo of the creation before it
        }
        let op = &item.op;
        let h = &handles[item.target];
        // A change to a link an earlier item makes (or names): wait for that item, and fail
        // unsent if it did (`given.rs`). Not a read (a chain's read-back of a pair's peer goes
        // out with the creation).
        let givers: Vec<(usize, &str)> = if given.is_empty() || op.undo() == step::Undo::Nothing {
            Vec::new() // most batches make and rename no link: nothing to look up per item
        } else {
            op.touches()
                .into_iter()
                .filter_map(|l| given.giver(item.target, l))
                .collect()
        };
        if !givers.is_empty() {
            let unanswered = givers
                .iter()
                .any(|(k, _)| matches!(tally.outcomes[*k], Outcome::NotRun));
            if unanswered && in_flight.drain(&mut tally, &ops, &mut before).await {
                break;
            }
            let failed = givers
                .iter()
                .find(|(k, _)| matches!(tally.outcomes[*k], Outcome::Failed(_)));
            if let Some((k, name)) = failed {
                let e = given::not_made(*k, name);
                // What it would have named is not made either.
                given.note(i, item.target, op.effect());
                if tally.record(&ops, i, Err(e), None) {
                    break;
                }
                continue;
            }
        }
        given.note(i, item.target, op.effect());
        // Requests on different sockets are not ordered: finish one namespace's before the next.
        let switching = item.target != target;
        let barrier = tally.rollback && op.undo() == step::Undo::Irreversible;
        let pending: Vec<&str> = op
            .links()
            .into_iter()
            .filter(|l| names.is_pending(item.target, l))
            .filter_map(|l| l.name())
            .collect();
        if (switching || barrier || !pending.is_empty())
            && in_flight.drain(&mut tally, &ops, &mut before).await
        {
            break;
        }
        target = item.target;
        if !pending.is_empty() {
            names
                .lookup(handles, pending.into_iter().map(|n| (item.target, n)).collect())
                .await;
        }
        let view = View {
            names: &names,
            target: item.target,
        };

        // What an undo needs is read before the item: the state a change overwrites, and what
        // a creation changes on other links (`Kind::reads_before_create`); one dump serves a
        // run of items that each change one object of it (`shared.rs`).
        let reads = tally.rollback && matches!(op.undo(), step::Undo::Restore | step::Undo::Created);
        // Only reads can follow the last change (a chain's read-back): its undo runs if it
        // fails having done part of its work, and otherwise only if a read after it fails or
        // its answer comes after the deadline saying done. A change that fails whole reads only
        // its object then (the link, pipelined with it), not what the kernel changes with it
        // (a lone `await link.down()` would dump every route and neighbour for that): in those
        // two rare cases its undo puts the object back, not those.
        let last = reads && Some(i) == last_change && op.fails_whole();
        // Worked out only where it counts (not per addition in a bulk batch): for a read, or
        // to tell the dump kept what this item changes.
        let sharing = if reads || !shared.is_empty() {
            shareable(op, &view)
        } else {
            None
        };
        if reads {
            let read = match &sharing {
                Some((key, request, follow_up)) => {
                    let (at, what) = ((item.target, i), (key, request.as_slice()));
                    read_shared(
                        h,
                        op,
                        &view,
                        *follow_up && !last,
                        at,
                        what,
                        &mut shared,
                        &mut in_flight,
                        &mut before,
                        &mut tally,
                        &ops,
                    )
                    .await
                }
                None => {
                    let kept = &mut uppers;
                    read_before(
                        h,
                        op,
                        &view,
                        (i, last),
                        kept,
                        &mut in_flight,
                        &mut before,
                        &mut tally,
                        &ops,
                    )
                    .await
                }
            };
            match read {
                Ok(true) => {}
                Ok(false) => continue,
                Err(stop) => {
                    if stop {
                        break;
                    }
                    continue;
                }
            }
        }
        if !shared.is_empty() {
            shared.sending(item.target, sharing.as_ref().map(|(k, r, _)| (k, r.as_slice())));
        }
        if !uppers.is_empty() {
            uppers.sending(item.target, op.changed_link(&before[i]));
        }

        if let Op::MoveLink(mv) = op {
            // Moves check the link and the target first (link/mv.rs), after what came before.
            if in_flight.drain(&mut tally, &ops, &mut before).await {
                break;
            }
            let result = mv.send(h, &handles[mv.to], tally.rollback).await;
            // A move that failed left the link where it was, under its name (`mv.send` takes
            // back a move the kernel made before refusing the rename).
            if result.is_ok() {
                names.note(item.target, op.effect());
            }
            if tally.record(&ops, i, result, None) {
                break;
            }
            continue;
        }
        let mut bytes = match op.encode(&view) {
            Ok(b) => b,
            Err(e) => {
                if tally.record(&ops, i, Err(e), None) {
                    break;
                }
                continue;
            }
        };
        // A creation with an MTU is compared with what the kernel made (`AddLink::capped`): from
        // its echo, or, where the kernel sends none, read once it is answered.
        let check = matches!(op, Op::AddLink(add) if add.mtu_to_check().is_some());
        let echo = matches!(op, Op::AddLink(_)) && {
            let wanted = tally.read_backs.ask(i);
            wanted || (check && echo::worth_asking())
        };
        if echo {
            header::add_flags(&mut bytes, echo::NLM_F_ECHO);
        }
        if let Op::SetLink(set) = op {
            if set.renames() {
                // Renames go one at a time, after what was sent before: before Linux 6.2 a link
                // that is up must be brought down to be renamed (link/set.rs).
                if in_flight.drain(&mut tally, &ops, &mut before).await {
                    break;
                }
                let result = set.send_alone(h, &view, bytes).await;
                if result.is_ok() {
                    names.note(item.target, op.effect());
                }
                if tally.record(&ops, i, result.map(drop), None) {
                    break;
                }
                continue;
            }
        }
        if tally.rollback {
            if let Effect::Removes(link) = op.effect() {
                // Its index, for the undo of earlier items that name the link by it.
                if let Ok(index) = view.index_of(link) {
                    tally.removed.push((i, index));
                }
            }
        }
        names.note(item.target, op.effect());
        let expect = if op.returns_data() || echo {
            Expect::Ack
        } else {
            Expect::Quiet
        };
        match h.connection().submit(bytes, expect, h.timeout()) {
            Ok(rx) => in_flight.push(i, Slot::Main, rx),
            Err(e) => {
                tally.outcomes[i] = Outcome::Failed(e.context(op.name(), None));
                break;
            }
        }
        // Not echoed: read before anything after it is sent (the top of the loop).
        if check && !echo && in_flight.drain(&mut tally, &ops, &mut before).await {
            break;
        }
        if in_flight.len() >= window {
            if let Some((j, slot, result)) = in_flight.next().await {
                if settle(&mut tally, &ops, &mut before, j, slot, result) {
                    break;
                }
            }
        }
    }
    in_flight.drain(&mut tally, &ops, &mut before).await;
    verify_made(handles, &ops, &mut tally).await;
    read_missing(handles, &names, &ops, &mut tally).await;
    name_clashes(handles, &ops, &mut tally.outcomes).await;

    let mut undo_errors = Vec::new();
    if tally.rollback && tally.any_failed() {
        undo_errors = undo::rollback(
            handles,
            &ops,
            &before,
            &mut tally.outcomes,
            &mut names,
            &tally.removed,
            &tally.not_as_asked,
        )
        .await;
    } else if !tally.not_as_asked.is_empty() {
        // 'continue': a creation that failed leaves nothing; the items on its link failed
        // unsent, waiting for it (`given.rs`).
        let only: Vec<Option<&Item>> = ops
            .iter()
            .enumerate()
            .map(|(i, item)| item.filter(|_| tally.not_as_asked.contains(&i)))
            .collect();
        undo_errors = undo::rollback(
            handles,
            &only,
            &before,
            &mut tally.outcomes,
            &mut names,
            &[],
            &tally.not_as_asked,
        )
        .await;
    }
    for (i, origin) in folded.iter().enumerate() {
        if let Some(k) = origin {
            tally.outcomes[i] = tally.outcomes[*k].clone();
            tally.count();
        }
    }
    tally.report(undo_errors)
}

/// The links items name by name, with the namespace each is named in: looked up first, in one
/// go per namespace.
fn named_links<'a>(ops: &[Option<&'a Item>]) -> Vec<(usize, &'a str)> {
    ops.iter()
        .flatten()
        .flat_map(|it| {
            it.op
                .links()
                .into_iter()
                .filter_map(|l| l.name())
                .map(|n| (it.target, n))
        })
        .collect()
}

/// Sends (or, when they are dumps, runs) the reads an item's undo needs. Ok(true): go on and
/// send the item; Ok(false): the item failed and was recorded; Err(stop): the batch stops
/// when `stop`. `last`: the item is the last change, which has no follow-up reads.
#[allow(clippy::too_many_arguments)]
async fn read_before(
    h: &Handle,
    op: &Op,
    view: &View<'_>,
    (i, last): (usize, bool),
    uppers: &mut uppers::UpperLinks,
    in_flight: &mut InFlight,
    before: &mut [Vec<Messages>],
    tally: &mut Tally<'_>,
    ops: &[Option<&Item>],
) -> std::result::Result<bool, bool> {
    let reads = match op.reads(view) {
        Ok(r) if last => Reads {
            follow_up: false,
            ..r
        },
        Ok(r) => r,
        Err(e) => return Err(tally.record(ops, i, Err(e), None)),
    };
    if reads.must_wait() {
        // The driver runs dumps one at a time, so a dump would not keep its place in the
        // pipeline, and follow-up reads depend on the first: everything before the item is
        // answered first, then the reads, then the item is sent.
        if in_flight.drain(tally, ops, before).await {
            return Err(true);
        }
        let follow_up = reads.follow_up;
        if let Err(e) = read_now(h, op, reads, &mut before[i], None).await {
            return Err(tally.record(ops, i, Err(e), None));
        }
        if follow_up {
            let more = op.reads_more(view, &before[i]);
            // The links on top of the one it changes, through the links dump kept (`uppers.rs`).
            let kept = op
                .changed_link(&before[i])
                .map(|link| (uppers, view.target, link));
            if let Err(e) = async { read_now(h, op, more?, &mut before[i], kept).await }.await {
                return Err(tally.record(ops, i, Err(e), None));
            }
        }
        return Ok(true);
    }
    for (k, read) in reads.requests.into_iter().enumerate() {
        match h.connection().submit(read.message, Expect::Ack, h.timeout()) {
            Ok(rx) => in_flight.push(i, Slot::Read(k), rx),
            Err(e) => return Err(tally.record(ops, i, Err(e), None)),
        }
    }
    Ok(true)
}

/// The key and dump request of an item that may share its read with the items around it
/// (`shared.rs`): one that names the object it changes and whose one first read is a dump; and
/// whether it has follow-up reads of its own (`read_shared`).
fn shareable(op: &Op, view: &View) -> Option<(ReadKey, Vec<u8>, bool)> {
    let key = op.read_key(view)?;
    let reads = op.reads(view).ok()?;
    match <[Read; 1]>::try_from(reads.requests) {
        Ok([read]) if read.dump => Some((key, read.message, reads.follow_up)),
        _ => None,
    }
}

/// `read_before` through the shared dump: the dump runs only when the one kept no longer shows
/// the item's object as it is. Then, when `follow_up`, the item's follow-up reads
/// (`Step::reads_more`), on their own.
#[allow(clippy::too_many_arguments)]
async fn read_shared(
    h: &Handle,
    op: &Op,
    view: &View<'_>,
    follow_up: bool,
    (target, i): (usize, usize),
    (key, request): (&ReadKey, &[u8]),
    shared: &mut shared::SharedDump,
    in_flight: &mut InFlight,
    before: &mut [Vec<Messages>],
    tally: &mut Tally<'_>,
    ops: &[Option<&Item>],
) -> std::result::Result<bool, bool> {
    let found = shared.take(target, request, key);
    // As in `read_before`: what was sent before is answered first, then the dumps.
    if (found.is_none() || follow_up) && in_flight.drain(tally, ops, before).await {
        return Err(true);
    }
    let found = match found {
        Some(found) => found,
        None => {
            let answer = match h.dump("batch.read", request.to_vec()).await {
                Ok(answer) => answer,
                Err(e) if op.absent(&e) => Messages::default(),
                Err(e) => return Err(tally.record(ops, i, Err(e), None)),
            };
            shared.keep(target, request.to_vec(), &answer, |m| op.answer_key(m));
            shared.take(target, request, key).unwrap_or_default()
        }
    };
    before[i].push(found);
    if follow_up {
        let read = async { read_now(h, op, op.reads_more(view, &before[i])?, &mut before[i], None).await };
        if let Err(e) = read.await {
            return Err(tally.record(ops, i, Err(e), None));
        }
    }
    Ok(true)
}

/// Reads the links whose creation should have been echoed and was not (`echo.rs`).
async fn read_missing(handles: &[Handle], names: &Names, ops: &[Option<&Item>], tally: &mut Tally<'_>) {
    for g in std::mem::take(&mut tally.read_backs.missing) {
        let Some(item) = ops[g] else { continue };
        let h = &handles[item.target];
        let view = View {
            names,
            target: item.target,
        };
        let reply = match item.op.encode(&view) {
            Ok(bytes) => h.connection().request(bytes, Expect::Ack, h.timeout()).await,
            Err(e) => Err(e),
        };
        let record = reply.as_ref().ok().and_then(|r| item.op.record(&r.messages));
        tally.record(ops, g, reply.map(drop), record);
    }
}

/// Reads the links of creations done whose echo did not come (`Tally::unverified`), and fails
/// those the kernel made otherwise than asked, as their echo would have (`AddLink::capped`);
/// true when the batch must stop.
async fn verify_made(handles: &[Handle], ops: &[Option<&Item>], tally: &mut Tally<'_>) -> bool {
    let mut stop = false;
    for i in std::mem::take(&mut tally.unverified) {
        let Some(Item {
            op: Op::AddLink(add),
            target,
        }) = ops[i]
        else {
            continue;
        };
        if tally.outcomes[i] != Outcome::Done {
            continue;
        }
        let made = handles[*target]
            .link_get(&crate::link::LinkRef::Name(add.names.name.clone()))
            .await;
        // Not found (a later item moved or deleted it): nothing to compare.
        let Some(e) = made.ok().and_then(|m| add.capped(&m)) else {
            continue;
        };
        tally.not_as_asked.push(i);
        tally.records.retain(|(k, _)| *k != i);
        let op = &ops[i].expect("checked above").op;
        tally.outcomes[i] = Outcome::Failed(e.context(op.name(), op.label().as_deref()));
        stop |= tally.rollback;
    }
    stop
}

/// Names the end of each pair that failed because its name is taken (`AddLink::name_clash`,
/// which decides whether the error is a clash; a chain's `link_add` calls it too, but has a
/// handle only for a peer born in its own namespace): looked up after the failures, before
/// anything is undone.
async fn name_clashes(handles: &[Handle], ops: &[Option<&Item>], outcomes: &mut [Outcome]) {
    for (item, outcome) in ops.iter().zip(outcomes.iter_mut()) {
        let (Some(item), Outcome::Failed(e)) = (item, &*outcome) else {
            continue;
        };
        let Op::AddLink(add) = &item.op else { continue };
        let Some(peer_ns) = add.peer_target.and_then(|t| handles.get(t)) else {
            continue;
        };
        *outcome = Outcome::Failed(add.name_clash(e.clone(), &handles[item.target], peer_ns).await);
    }
}

/// Runs reads one after the other, keeping their answers (empty for what `op` says is absent).
/// `uppers`: the links dump kept, the namespace and the link whose upper links the item needs
/// from a links dump among `reads`.
async fn read_now(
    h: &Handle,
    op: &Op,
    reads: Reads,
    into: &mut Vec<Messages>,
    mut uppers: Option<(&mut uppers::UpperLinks, usize, u32)>,
) -> Result<()> {
    let dump_of_links = uppers.as_ref().map(|_| links_dump());
    for read in reads.requests {
        let shared = read.dump && dump_of_links.as_ref() == Some(&read.message);
        if let Some((kept, target, link)) = uppers.as_mut().filter(|_| shared) {
            let found = match kept.take(*target, *link) {
                Some(found) => found,
                None => {
                    kept.keep(*target, &h.dump("batch.read", read.message).await?);
                    kept.take(*target, *link).unwrap_or_default()
                }
            };
            into.push(found);
            continue;
        }
        // An empty request keeps its slot: nothing needed to be read there.
        let answer = if read.message.is_empty() {
            Ok(Messages::default())
        } else if read.dump {
            h.dump("batch.read", read.message).await
        } else {
            h.connection()
                .request(read.message, Expect::Ack, h.timeout())
                .await
                .map(|r| r.messages)
        };
        into.push(match answer {
            Err(e) if op.absent(&e) => Messages::default(),
            other => other?,
        });
    }
    Ok(())
}

/// The items' outcomes as they come in, counted for the progress callback.
struct Tally<'a> {
    outcomes: Vec<Outcome>,
    records: Vec<(usize, LinkRecord)>,
    completed: usize,
    rollback: bool,
    progress: &'a (dyn Fn(usize, usize) + Send + Sync),
    read_backs: echo::ReadBacks,
    /// With rollback, the deletions sent: (item, the index of the link it deleted).
    removed: Vec<(usize, u32)>,
    /// Creations done whose MTU is still to be compared with the one asked (the kernel sent
    /// no echo of the link: `verify_made`).
    unverified: Vec<usize>,
    /// Creations failed because the kernel made the link otherwise than asked (`AddLink::capped`):
    /// the link is there, and is deleted as a done creation's is.
    not_as_asked: Vec<usize>,
}

impl Tally<'_> {
    /// One more item is over (its outcome is already stored).
    fn count(&mut self) {
        self.completed += 1;
        (self.progress)(self.completed, self.outcomes.len());
    }

    /// Stores an item's result; true when the batch must stop.
    fn record(
        &mut self,
        ops: &[Option<&Item>],
        i: usize,
        result: Result<()>,
        record: Option<LinkRecord>,
    ) -> bool {
        let stop = match result {
            Ok(()) => {
                // An item is failed already when a read before it failed.
                if !matches!(self.outcomes[i], Outcome::Failed(_)) {
                    self.outcomes[i] = Outcome::Done;
                    if let Some(r) = record {
                        self.records.push((i, r));
                    }
                }
                false
            }
            Err(e) => {
                let op = ops[i].map(|it| &it.op);
                let e = match op {
                    Some(op) => op.explain(e),
                    None => e,
                };
                self.outcomes[i] = Outcome::Failed(
                    e.context(op.map_or("batch", Op::name), op.and_then(Op::label).as_deref()),
                );
                self.rollback
            }
        };
        self.count();
        stop
    }

    /// Creation `i` made its link otherwise than asked (`AddLink::capped`): it fails with `e`,
    /// and so does the read-back its echo answers; true when the batch must stop.
    fn not_made_as_asked(&mut self, ops: &[Option<&Item>], i: usize, e: Error) -> bool {
        self.not_as_asked.push(i);
        if let Some(g) = self.read_backs.answer_of(i) {
            self.record(ops, g, Err(e.clone()), None);
        }
        self.record(ops, i, Err(e), None)
    }

    fn any_failed(&self) -> bool {
        self.outcomes.iter().any(|o| matches!(o, Outcome::Failed(_)))
    }

    fn report(mut self, undo_errors: Vec<Error>) -> BatchReport {
        self.records.sort_by_key(|(i, _)| *i);
        BatchReport {
            outcomes: self.outcomes,
            records: self.records,
            undo_errors,
        }
    }
}

/// Which request of an item an answer belongs to.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// The item's own request.
    Main,
    /// The k-th read before it.
    Read(usize),
}

/// Stores one answer; true when the batch must stop.
fn settle(
    tally: &mut Tally<'_>,
    ops: &[Option<&Item>],
    before: &mut [Vec<Messages>],
    i: usize,
    slot: Slot,
    result: Result<Reply>,
) -> bool {
    match (slot, result) {
        (Slot::Read(k), Ok(reply)) => {
            debug_assert_eq!(before[i].len(), k);
            before[i].push(reply.messages);
            false
        }
        (Slot::Read(k), Err(e)) if ops[i].is_some_and(|it| it.op.absent(&e)) => {
            debug_assert_eq!(before[i].len(), k);
            before[i].push(Messages::default());
            false
        }
        (Slot::Read(_), Err(e)) => {
            // The read failed (the link is gone, say): so will the item, and nothing is to undo.
            if matches!(tally.outcomes[i], Outcome::Failed(_)) {
                return false;
            }
            let stop = tally.rollback;
            let op = ops[i].map(|it| &it.op);
            tally.outcomes[i] =
                Outcome::Failed(e.context(op.map_or("batch", Op::name), op.and_then(Op::label).as_deref()));
            // Counted when the item's own answer comes.
            stop
        }
        (Slot::Main, Ok(reply)) => {
            if let Some(Op::AddLink(add)) = ops[i].map(|it| &it.op) {
                if add.mtu_to_check().is_some() {
                    let made = reply
                        .messages
                        .iter()
                        .filter_map(fast::read_link)
                        .find(|l| l.name == add.names.name);
                    echo::learn_from_check(made.is_some());
                    match made.as_ref().and_then(|m| add.capped(m)) {
                        Some(e) => return tally.not_made_as_asked(ops, i, e),
                        None if made.is_none() => tally.unverified.push(i),
                        None => {}
                    }
                }
            }
            let record = ops[i].and_then(|it| it.op.record(&reply.messages));
            let echoed = tally.read_backs.created(i, &reply.messages);
            let stop = tally.record(ops, i, Ok(()), record);
            match echoed {
                Some((g, link)) => tally.record(ops, g, Ok(()), Some(link)) || stop,
                None => stop,
            }
        }
        (Slot::Main, Err(e)) => {
            // A read-back left to the creation's echo fails with the creation.
            if let Some(g) = tally.read_backs.answer_of(i) {
                tally.record(ops, g, Err(e.clone()), None);
            }
            tally.record(ops, i, Err(e), None)
        }
    }
}

async fn answer(rx: oneshot::Receiver<Result<Reply>>) -> Result<Reply> {
    rx.await
        .unwrap_or_else(|_| Err(Error::Closed { op: String::new() }))
}

/// Requests sent and not answered yet, oldest first, with their items' positions: answers
/// come in the order requests were sent (per socket; the engine drains before it switches).
#[derive(Default)]
struct InFlight(VecDeque<(usize, Slot, oneshot::Receiver<Result<Reply>>)>);

impl InFlight {
    fn push(&mut self, i: usize, slot: Slot, rx: oneshot::Receiver<Result<Reply>>) {
        self.0.push_back((i, slot, rx));
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// The oldest request's answer (None when nothing is in flight).
    async fn next(&mut self) -> Option<(usize, Slot, Result<Reply>)> {
        let (i, slot, rx) = self.0.pop_front()?;
        Some((i, slot, answer(rx).await))
    }

    /// Waits for every answer; true when one of them stops the batch.
    async fn drain(
        &mut self,
        tally: &mut Tally<'_>,
        ops: &[Option<&Item>],
        before: &mut [Vec<Messages>],
    ) -> bool {
        let mut stop = false;
        while let Some((i, slot, result)) = self.next().await {
            stop |= settle(tally, ops, before, i, slot, result);
        }
        stop
    }
}

impl Handle {
    /// Runs items on this handle's namespace alone (no peers).
    pub async fn batch(
        &self,
        items: Vec<Result<Item>>,
        options: &BatchOptions,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> BatchReport {
        run(std::slice::from_ref(self), items, options, progress).await
    }

    /// Sends requests pipelined (the driver bounds the window) and waits for every answer.
    pub(crate) async fn send_all(&self, messages: Vec<Vec<u8>>) -> Vec<Result<()>> {
        let timeout = self.timeout();
        let receivers: Vec<_> = messages
            .into_iter()
            .map(|m| self.connection().submit(m, Expect::Ack, timeout))
            .collect();
        let mut out = Vec::with_capacity(receivers.len());
        for rx in receivers {
            out.push(match rx {
                Ok(rx) => answer(rx).await.map(drop),
                Err(e) => Err(e),
            });
        }
        out
    }
}

//! Batches: many operations pipelined over one socket — as many messages per `sendmsg` as the
//! window allows, every answer matched to its request by sequence number — with per-item
//! results and a choice between continuing past errors and undoing what the batch made.
//!
//! Items go out as quiet requests (`Expect::Quiet`): the kernel answers a failure always, with
//! the item's sequence number and extended ACK, but a success only when asked. The driver asks
//! on the last request of each `sendmsg`; its ACK means that the items before it that did not
//! fail are done. That spares a message built and queued by the kernel and a `recvmsg` here
//! per item, which counts for cheap requests (addresses, routes).
//!
//! Names are resolved to indexes once: names that exist before the batch up front (in one
//! pipelined round), names the batch itself creates when first needed (after the requests
//! already sent have been answered, since the kernel handles a socket's requests in order).

mod op;
mod resolve;
mod undo;

use std::collections::VecDeque;

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::link::set::is_refused_rename;
use crate::link::{LinkChange, LinkRef};
use crate::transport::{Expect, Reply};

pub use op::BatchOp;
use resolve::Names;

/// What to do when an item fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Run every item; failures are reported per item.
    #[default]
    Continue,
    /// Stop at the first failure and undo what the batch made (links created, addresses and
    /// gateways added). Changes and deletions of existing things are not reverted.
    Rollback,
}

#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub on_error: OnError,
    /// Requests in flight at once.
    pub window: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            on_error: OnError::Continue,
            window: 256,
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

#[derive(Debug, Clone, PartialEq)]
pub struct BatchReport {
    pub outcomes: Vec<Outcome>,
    /// Errors met while undoing (rollback mode).
    pub undo_errors: Vec<Error>,
}

impl Handle {
    /// Runs `ops` pipelined. `progress(done, total)` is called as items complete.
    pub async fn batch(
        &self,
        ops: Vec<BatchOp>,
        options: &BatchOptions,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> BatchReport {
        let total = ops.len();
        let mut tally = Tally {
            outcomes: vec![Outcome::NotRun; total],
            completed: 0,
            rollback: options.on_error == OnError::Rollback,
            progress,
        };

        // Arguments are checked before anything is sent; with rollback, one bad item stops all.
        let mut planned = Vec::with_capacity(total);
        for (i, op) in ops.iter().enumerate() {
            match op.plan() {
                Ok(p) => planned.push(Some(p)),
                Err(e) => {
                    tally.outcomes[i] = Outcome::Failed(e);
                    planned.push(None);
                }
            }
        }
        if tally.rollback && tally.any_failed() {
            return BatchReport {
                outcomes: tally.outcomes,
                undo_errors: Vec::new(),
            };
        }

        let mut names = Names::prefetch(self, &ops).await;
        let mut in_flight = InFlight::default();
        let mut stop = false;
        let window = options.window.clamp(1, 4096);
        let timeout = self.timeout();

        for (i, op) in ops.iter().enumerate() {
            if stop {
                break;
            }
            let Some(plan) = &planned[i] else {
                tally.count();
                continue;
            };
            // A name this batch creates is known once the requests before it are answered.
            if names.needs_drain(op) {
                if in_flight.drain(&mut tally, &ops).await {
                    break;
                }
                names.resolve_created(self, op).await;
            }
            let bytes = match names.encode(op, plan) {
                Ok(b) => b,
                Err(e) => {
                    stop |= tally.record(&ops, i, Err(e));
                    continue;
                }
            };
            if let BatchOp::SetLink(link, change) = op {
                if change.name.is_some() {
                    // Renames go one at a time, after what was sent before: before Linux 6.2 a
                    // link that is up must be brought down to be renamed (rename_while_down).
                    if in_flight.drain(&mut tally, &ops).await {
                        break;
                    }
                    let result = self.rename(&names, link, change, bytes).await;
                    names.note(op, plan);
                    stop |= tally.record(&ops, i, result);
                    continue;
                }
            }
            names.note(op, plan);
            match self.connection().submit(bytes, Expect::Quiet, timeout) {
                Ok(rx) => in_flight.push(i, rx),
                Err(e) => {
                    tally.outcomes[i] = Outcome::Failed(e.context(op.name(), None));
                    stop = true;
                }
            }
            if in_flight.len() >= window {
                if let Some((j, result)) = in_flight.next().await {
                    stop |= tally.record(&ops, j, result);
                }
            }
        }
        in_flight.drain(&mut tally, &ops).await;

        let mut undo_errors = Vec::new();
        if tally.rollback && tally.any_failed() {
            undo_errors = undo::rollback(self, &ops, &planned, &mut tally.outcomes, &names).await;
        }
        BatchReport {
            outcomes: tally.outcomes,
            undo_errors,
        }
    }
}

/// The items' outcomes as they come in, counted for the progress callback.
struct Tally<'a> {
    outcomes: Vec<Outcome>,
    completed: usize,
    rollback: bool,
    progress: &'a (dyn Fn(usize, usize) + Send + Sync),
}

impl Tally<'_> {
    /// One more item is over (its outcome is already stored).
    fn count(&mut self) {
        self.completed += 1;
        (self.progress)(self.completed, self.outcomes.len());
    }

    /// Stores an item's result; true when the batch must stop.
    fn record(&mut self, ops: &[BatchOp], i: usize, result: Result<()>) -> bool {
        let stop = match result {
            Ok(()) => {
                self.outcomes[i] = Outcome::Done;
                false
            }
            Err(e) => {
                self.outcomes[i] = Outcome::Failed(e.context(ops[i].name(), ops[i].link_label().as_deref()));
                self.rollback
            }
        };
        self.count();
        stop
    }

    fn any_failed(&self) -> bool {
        self.outcomes.iter().any(|o| matches!(o, Outcome::Failed(_)))
    }
}

impl Handle {
    async fn rename(
        &self,
        names: &Names,
        link: &LinkRef,
        change: &LinkChange,
        request: Vec<u8>,
    ) -> Result<()> {
        match answer(self.connection().submit(request, Expect::Ack, self.timeout())?).await {
            Err(e) if is_refused_rename(change, &e) => {
                let index = names.index_of(link)?;
                let master = names.master_of(change)?;
                let label = link.describe();
                self.rename_while_down(index, change, master, &label, e).await
            }
            result => result,
        }
    }
}

async fn answer(rx: oneshot::Receiver<Result<Reply>>) -> Result<()> {
    match rx.await {
        Ok(r) => r.map(drop),
        Err(_) => Err(Error::Closed { op: String::new() }),
    }
}

/// Requests sent and not answered yet, oldest first, with their items' positions: answers
/// come in the order requests were sent, so the oldest is always the next one due.
#[derive(Default)]
struct InFlight(VecDeque<(usize, oneshot::Receiver<Result<Reply>>)>);

impl InFlight {
    fn push(&mut self, i: usize, rx: oneshot::Receiver<Result<Reply>>) {
        self.0.push_back((i, rx));
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// The oldest request's answer (None when nothing is in flight).
    async fn next(&mut self) -> Option<(usize, Result<()>)> {
        let (i, rx) = self.0.pop_front()?;
        Some((i, answer(rx).await))
    }

    /// Waits for every answer; true when one of them stops the batch.
    async fn drain(&mut self, tally: &mut Tally<'_>, ops: &[BatchOp]) -> bool {
        let mut stop = false;
        while let Some((i, result)) = self.next().await {
            stop |= tally.record(ops, i, result);
        }
        stop
    }
}

/// Unused group ids are picked from here up, away from the small numbers people use by hand.
const TAG_GROUP_FLOOR: u32 = 0x7000_0000;

impl Handle {
    /// Deletes many links fast: tags them with a group no other link carries, checks that
    /// still holds, and deletes the group in one request (one RCU grace period for all, where
    /// one-by-one deletion waits for one per link). Veth peers go with their pair. A link named
    /// twice counts once; an unknown link fails the call before anything is changed, and a
    /// failure while tagging puts the groups back.
    pub async fn delete_links(&self, links: &[LinkRef]) -> Result<()> {
        use std::collections::{BTreeMap, HashSet};
        if links.is_empty() {
            return Ok(());
        }
        for attempt in 0..3 {
            let all = self.link_list_with(false).await?;
            let mut targets: BTreeMap<u32, u32> = BTreeMap::new(); // index -> original group
            for l in links {
                l.validate("links")?;
                let found = all.iter().find(|r| match l {
                    LinkRef::Index(i) => r.index == *i,
                    LinkRef::Name(n) => &r.name == n,
                });
                let Some(rec) = found else {
                    return Err(Error::kernel_errno(
                        libc::ENODEV,
                        "link.deleteMany",
                        &l.describe(),
                    ));
                };
                targets.insert(rec.index, rec.group);
            }
            let used: HashSet<u32> = all.iter().map(|l| l.group).collect();
            let group = pick_group(&used, attempt);
            let tag = |g: u32| LinkChange {
                group: Some(g),
                ..Default::default()
            };
            let mut msgs = Vec::with_capacity(targets.len());
            for index in targets.keys() {
                msgs.push(crate::link::set::encode_link_set(
                    &LinkRef::Index(*index),
                    &tag(group),
                    None,
                    None,
                )?);
            }
            let results = self.send_all(msgs).await;
            if let Some((i, Err(e))) = targets.keys().zip(&results).find(|(_, r)| r.is_err()) {
                let e = e.clone().context("link.deleteMany", Some(&format!("#{i}")));
                self.untag(&targets).await;
                return Err(e);
            }
            let carriers = self
                .link_list_with(false)
                .await?
                .iter()
                .filter(|l| l.group == group)
                .count();
            if carriers == targets.len() {
                return self
                    .link_del_group(group)
                    .await
                    .map_err(|e| e.context("link.deleteMany", None));
            }
            // Someone else used the group meanwhile: put ours back and try another.
            self.untag(&targets).await;
        }
        Err(Error::Protocol {
            op: "link.deleteMany".into(),
            detail: "could not find an unused link group".into(),
        })
    }

    /// Gives tagged links their groups back (best effort: the caller is already failing).
    async fn untag(&self, targets: &std::collections::BTreeMap<u32, u32>) {
        let msgs = targets
            .iter()
            .filter_map(|(index, group)| {
                let change = crate::link::LinkChange {
                    group: Some(*group),
                    ..Default::default()
                };
                crate::link::set::encode_link_set(&crate::link::LinkRef::Index(*index), &change, None, None)
                    .ok()
            })
            .collect();
        let _ = self.send_all(msgs).await;
    }
}

impl Handle {
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
                Ok(rx) => answer(rx).await,
                Err(e) => Err(e),
            });
        }
        out
    }
}

fn pick_group(used: &std::collections::HashSet<u32>, attempt: u32) -> u32 {
    let mut seed = [0u8; 4];
    unsafe { libc::getrandom(seed.as_mut_ptr().cast(), 4, 0) };
    let mut g = TAG_GROUP_FLOOR | (u32::from_ne_bytes(seed) >> 4).wrapping_add(attempt);
    while used.contains(&g) || g == 0 {
        g = g.wrapping_add(1) | TAG_GROUP_FLOOR;
    }
    g
}

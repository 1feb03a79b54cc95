//! A batch that starts while it is still being filled.
//!
//! `ns.batch(fill)` in JavaScript builds its items on the JS thread; for a batch of thousands
//! that takes as long as the kernel's work on them. So the builder hands its items over in
//! parts as it goes (continue mode only, no progress callback), and each part runs here, on
//! the I/O thread, while the next is built: the two threads overlap instead of taking turns.
//!
//! A part runs at once only when each of its items can be taken back by one request computed
//! from the item alone (`Undo::Inverse`: an address, a route, a neighbour, an FDB entry... added
//! in the batch's own namespace). From the first part that has any other item (a creation, a
//! change, a deletion, an item for another namespace), that part and everything after it is
//! held and runs at the end, as an unstreamed batch would run it. If the fill throws, the batch
//! is abandoned: what its parts did is undone, newest first, and nothing else is sent — as
//! when a fill throws before anything crossed.
//!
//! Who reads a part's JSON: while parts run at once, the filling thread (`Reader`), since the
//! I/O thread is busy running the parts before (reading was a fifth of its time in a
//! 10,000-neighbour batch, on the path every item waits on); from the first part held for the
//! end, the I/O thread (`Stream::take_reader`), which only waits for the end then.
//!
//! Items are read with one `ReadContext` for the whole batch, so positions (and references to
//! links created earlier in it) are the batch's; the report is the batch's too, one outcome
//! per item in order, whatever part it came in.

use crate::error::{Error, Result};
use crate::handle::Handle;

use super::names::Names;
use super::step::Undo;
use super::wire::{Item, Items, ReadContext};
use super::{named_links, run_kept, undo, BatchOptions, BatchReport, OnError, Op};

/// Reads a streamed batch's parts, on whichever side holds it (see the module's comment).
pub struct Reader {
    cx: ReadContext,
}

impl Reader {
    /// One part's items (an item whose arguments were refused holds its error), or why the
    /// part could not be read at all (the batch then fails as a whole).
    pub fn read(&mut self, json: &str) -> Result<Vec<Result<Item>>> {
        Items::parse(json, &mut self.cx).map(|items| items.items)
    }

    /// The batch's other namespaces, which the last part's items number after its own.
    pub fn add_peers(&mut self, peers: &[Handle]) {
        self.cx.add_peers(peers.iter().map(|h| h.namespace().clone()));
    }
}

/// A part as it is handed over.
pub enum Part {
    /// Its JSON, for the stream's own reader (`Stream::take_reader`).
    Json(String),
    /// What a `Reader` on the filling side made of it.
    Read(Result<Vec<Result<Item>>>),
}

/// Whether a part's items run at once (rather than being held for the end).
pub fn runs_at_once(items: &[Result<Item>]) -> bool {
    items.iter().all(undone_alone)
}

/// A batch being filled and run at the same time.
pub struct Stream {
    handles: Vec<Handle>,
    /// Reads parts handed over as JSON: none while the filling side reads them.
    reader: Option<Reader>,
    options: BatchOptions,
    /// The parts that ran, kept for the undo of an abandoned batch: each part's items stay
    /// where they were read (gathering them in one vector moved and re-grew every item: a
    /// sixth of the I/O thread's time in a 10,000-neighbour batch).
    ran: Vec<Vec<Result<Item>>>,
    /// The report of the items that ran, by the batch's positions.
    report: BatchReport,
    /// Items held for the end (from the first part that could not run at once).
    held: Option<Vec<Result<Item>>>,
    /// A part that could not be read: the batch fails as a whole.
    broken: Option<Error>,
}

impl Stream {
    /// A streamed batch in `handle`'s namespace, and the reader of its parts for the filling
    /// side. Its parts always continue past errors (rollback batches are not streamed: their
    /// first failure must stop everything).
    pub fn new(handle: Handle, window: usize) -> (Self, Reader) {
        let reader = Reader {
            cx: ReadContext::new(vec![handle.namespace().clone()]),
        };
        let stream = Stream {
            handles: vec![handle],
            reader: None,
            options: BatchOptions {
                on_error: OnError::Continue,
                window,
            },
            ran: Vec::new(),
            report: BatchReport::default(),
            held: None,
            broken: None,
        };
        (stream, reader)
    }

    /// From now on parts come as JSON: the stream reads them (the filling side's reader, with
    /// what it read so far).
    pub fn take_reader(&mut self, reader: Reader) {
        self.reader = Some(reader);
    }

    /// Runs one part of the items now, or holds it for the end.
    pub async fn part(&mut self, part: Part) {
        if self.broken.is_some() {
            return;
        }
        let read = match part {
            Part::Read(read) => read,
            Part::Json(json) => match &mut self.reader {
                Some(reader) => reader.read(&json),
                None => Err(Error::Protocol {
                    op: "batch".into(),
                    detail: "a part came as JSON with no reader for it".into(),
                }),
            },
        };
        let items = match read {
            Ok(items) => items,
            Err(e) => {
                self.broken = Some(e);
                return;
            }
        };
        if let Some(held) = &mut self.held {
            if held.is_empty() {
                *held = items; // the vector as read: not copied item by item
            } else {
                held.extend(items);
            }
        } else if runs_at_once(&items) {
            let items = self.run_part(items).await;
            self.ran.push(items);
        } else {
            self.held = Some(items);
        }
    }

    /// Takes the last part (whose items may act in `peers` too, the batch's other namespaces
    /// in the order the items number them; a `Reader` that read it knew them) and runs what is
    /// left: the batch's report.
    pub async fn finish(mut self, last: Part, peers: Vec<Handle>) -> Result<BatchReport> {
        if let Some(reader) = &mut self.reader {
            reader.add_peers(&peers);
        }
        self.handles.extend(peers);
        // The last part joins what is held (or is held alone): it runs with the rest, below.
        self.held.get_or_insert_with(Vec::new);
        self.part(last).await;
        if let Some(e) = self.broken.take() {
            self.abandon().await;
            return Err(e);
        }
        let rest = self.held.take().unwrap_or_default();
        if !rest.is_empty() {
            // The last run: nothing is abandoned after it, so its items are not kept.
            self.run_part(rest).await;
        }
        Ok(self.report)
    }

    /// Gives the batch up (its fill threw): undoes what its parts did, newest first. Resolves
    /// to the errors met while undoing.
    pub async fn abandon(mut self) -> Vec<Error> {
        let ops: Vec<Option<&Item>> = self.ran.iter().flatten().map(|item| item.as_ref().ok()).collect();
        // Nothing was read before these items: their undo is computed from them alone.
        let before: Vec<_> = ops.iter().map(|_| Vec::new()).collect();
        let mut names = Names::default();
        names.lookup(&self.handles, named_links(&ops)).await;
        undo::rollback(
            &self.handles,
            &ops,
            &before,
            &mut self.report.outcomes,
            &mut names,
            &[],
            &[],
        )
        .await
    }

    /// Runs one part's items and adds their outcomes to the report; gives the items back.
    async fn run_part(&mut self, mut items: Vec<Result<Item>>) -> Vec<Result<Item>> {
        let offset = self.report.outcomes.len();
        let part = run_kept(&self.handles, &mut items, &self.options, &|_, _| {}).await;
        self.report.outcomes.extend(part.outcomes);
        self.report
            .records
            .extend(part.records.into_iter().map(|(i, r)| (i + offset, r)));
        self.report.undo_errors.extend(part.undo_errors);
        items
    }
}

/// Whether an item may run before the batch is complete: one request computed from the item
/// alone takes it back (a refused item sends nothing).
fn undone_alone(item: &Result<Item>) -> bool {
    match item {
        Err(_) => true,
        Ok(item) => {
            item.target == 0 && item.op.undo() == Undo::Inverse && !matches!(item.op, Op::MoveLink(_))
        }
    }
}

//! `NativeNetns.run`: hands a JSON document of items to the core's transaction engine (chains
//! and batches alike) and resolves to a JSON report; `runNow`, for a chain or an awaited call,
//! returns the report itself when it was answered within the call.

use std::collections::BTreeMap;
use std::io::Write as _;

use serde::Serialize;

use napi::bindgen_prelude::{ClassInstance, Either, PromiseRaw, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;
use tenus_core::batch::overlap::{Ticket, Touches};
use tenus_core::batch::{self, BatchOptions, BatchReport, Item, Items, OnError, Outcome, ReadContext};
use tenus_core::{args, Error, Handle, LinkRecord};

use crate::error::error_doc;
use crate::netns::NativeNetns;
use crate::promise::{js, run_here, run_now, spawn, spawn_with, Callback};

/// The report: a status letter per item (d: done, f: failed, n: not run, u: undone), the
/// errors by position, the link records items read, and the errors met while undoing. When
/// every item is done, the letters alone (no JSON to build or parse: the common case of an
/// awaited change), then for each record items read a line with its position and a line with
/// its JSON (`dd\n1\n{...}`: an awaited creation and its read-back), which JavaScript keeps
/// undecoded until the record is read (JSON has no raw line breaks).
pub(crate) fn report_json(report: BatchReport) -> String {
    let all_done = report.outcomes.iter().all(|o| matches!(o, Outcome::Done));
    if all_done && report.undo_errors.is_empty() {
        // Written into one buffer (a record's JSON is most of it), sized for a creation's
        // read-back and, for a pair, its peer's.
        let mut out = Vec::with_capacity(report.outcomes.len() + 1024 * report.records.len());
        out.resize(report.outcomes.len(), b'd');
        for (i, record) in &report.records {
            write!(out, "\n{i}\n").expect("a Vec takes what is written");
            serde_json::to_writer(&mut out, record).expect("a record serializes");
        }
        return String::from_utf8(out).expect("JSON is UTF-8");
    }
    let mut status = String::with_capacity(report.outcomes.len());
    let mut errors = BTreeMap::new();
    for (i, outcome) in report.outcomes.into_iter().enumerate() {
        status.push(match outcome {
            Outcome::Done => 'd',
            Outcome::NotRun => 'n',
            Outcome::Undone => 'u',
            Outcome::Failed(e) => {
                errors.insert(i, error_doc(&e));
                'f'
            }
        });
    }
    // Written straight from the records (a chain's read-back is one per awaited creation): no
    // `serde_json::Value` tree built in between.
    let doc = ReportDoc {
        status,
        errors,
        records: report.records.iter().map(|(i, r)| (*i, r)).collect(),
        undo_errors: report.undo_errors.iter().map(error_doc).collect(),
    };
    serde_json::to_string(&doc).expect("a report serializes")
}

/// The report as JSON (keys of `errors` and `records` are item positions).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportDoc<'a> {
    status: String,
    errors: BTreeMap<usize, serde_json::Value>,
    records: BTreeMap<usize, &'a LinkRecord>,
    undo_errors: Vec<serde_json::Value>,
}

#[napi]
impl NativeNetns {
    /// Runs items given as a JSON array `[[code, ...arguments], ...]` (codes: `opCodes()`);
    /// `rollback`: undo what was done when an item fails (else go on and report per item);
    /// `window`: requests in flight at once (default 256; 1..=4096); `peers` are the other
    /// namespaces items may act in (`[IN, n]` is `peers[n - 1]`). Plain arguments rather than an
    /// options object: reading an object's properties through N-API cost more per awaited call
    /// than encoding its request.
    /// Resolves to the JSON report `{ status, errors, records, undoErrors }`, or to the status
    /// letters alone (`"ddd"`) when every item is done and none read anything. `progress(done)`
    /// is called now and then while items complete, always before the promise settles.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn run<'env>(
        &self,
        env: &'env Env,
        items_json: String,
        rollback: bool,
        window: Option<f64>,
        peers: Vec<ClassInstance<'env, NativeNetns>>,
        #[napi(ts_arg_type = "((done: number) => void) | undefined | null")] progress: Option<Unknown<'env>>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let handles: Result<Vec<_>, Error> = std::iter::once(self.get("batch"))
            .chain(peers.iter().map(|p| p.get("batch")))
            .collect();
        let run = self.enter(items_json, rollback, window, handles, peers.is_empty());
        match progress {
            // A few items with no progress to report: maybe on this thread.
            None if run.op != BATCH => run_here(env, run.op, |here| run.work(None, here)),
            progress => spawn_with(env, run.op, progress.map(|p| p.raw()), |callback| {
                run.work(callback, false)
            }),
        }
    }

    /// `run(itemsJson, rollback)` for a few items in this namespace alone (a chain, an awaited
    /// call): the report itself when it is answered within this call, else a promise of it.
    /// Errors of a run that could not start are thrown, or reject the promise.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn run_now<'env>(
        &self,
        env: &'env Env,
        items_json: String,
        rollback: bool,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let handles = self.get("batch").map(|h| vec![h]);
        let run = self.enter(items_json, rollback, None, handles, true);
        if run.op == BATCH {
            return spawn(env, BATCH, run.work(None, false)).map(Either::B);
        }
        match run_now(env, run.op, |here| run.work(None, here))? {
            Either::A(outcome) => outcome.map(Either::A),
            Either::B(promise) => Ok(Either::B(promise)),
        }
    }

    /// Runs several item documents at once in this namespace alone, pipelined together on its
    /// socket as if each had been `run` without waiting for the others (JavaScript gathers the
    /// calls made in one turn of the event loop here). Resolves to one report each, in order;
    /// a run that could not start reports `{ "error": ... }`. `rollback[i]` is the `rollback` of
    /// `runs[i]`.
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn run_many<'env>(
        &self,
        env: &'env Env,
        runs: Vec<String>,
        rollback: Vec<bool>,
    ) -> napi::Result<PromiseRaw<'env, Vec<String>>> {
        let handle = self.get("batch");
        // Read now, each taking its place among the handle's runs in the order made.
        let runs: Vec<_> = runs
            .iter()
            .zip(rollback)
            .map(|(json, rollback)| {
                let items = handle
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|h| parse_items(std::slice::from_ref(h), json));
                let ticket = self.order.enter(touches_of(Some(&items)));
                (items, rollback, ticket)
            })
            .collect();
        spawn(env, BATCH, async move {
            let handles = [handle?];
            let runs = runs.into_iter().map(|(items, rollback, mut ticket)| {
                let handles = &handles;
                async move {
                    let report = match items {
                        Ok(items) => {
                            ticket.ready().await;
                            run_checked(handles, items, rollback, batch::DEFAULT_WINDOW, None).await
                        }
                        Err(e) => Err(e),
                    };
                    report.unwrap_or_else(|e| serde_json::json!({ "error": error_doc(&e) }).to_string())
                }
            });
            Ok(futures::future::join_all(runs).await)
        })
    }
}

/// A run taken in: read when it is a chain in this namespace alone, its place taken among the
/// handle's runs (`NativeNetns::enter`).
struct Entered {
    /// What the run is called (`label`).
    op: &'static str,
    handles: Result<Vec<Handle>, Error>,
    items_json: String,
    parsed: Option<Result<Vec<Result<Item, Error>>, Error>>,
    ticket: Ticket,
    rollback: bool,
    window: Option<f64>,
}

impl NativeNetns {
    /// Takes a run in: its place among this handle's runs, taken now, in the order runs are
    /// made: it waits for the earlier ones in flight it conflicts with (batch/overlap.rs). A
    /// chain is read here to tell; a large batch, or a run across namespaces (JavaScript orders
    /// those), may touch anything. `alone`: no peers.
    fn enter(
        &self,
        items_json: String,
        rollback: bool,
        window: Option<f64>,
        handles: Result<Vec<Handle>, Error>,
        alone: bool,
    ) -> Entered {
        let op = label(&items_json);
        let parsed = match &handles {
            Ok(h) if op != BATCH && alone => Some(parse_items(h, &items_json)),
            _ => None,
        };
        let ticket = self.order.enter(touches_of(parsed.as_ref()));
        Entered {
            op,
            handles,
            items_json,
            parsed,
            ticket,
            rollback,
            window,
        }
    }
}

impl Entered {
    /// Runs it, once the runs before it that it conflicts with are over; `here`: answered on the
    /// calling thread (promise/settle.rs `run_here`).
    async fn work(mut self, callback: Option<Callback>, here: bool) -> Result<String, Error> {
        let mut handles = self.handles?;
        if here {
            for h in &mut handles {
                if let Some(direct) = h.on_calling_thread() {
                    *h = direct;
                }
            }
        }
        let window = window_of(self.window)?;
        let items = match self.parsed {
            Some(items) => items?,
            None => parse_items(&handles, &self.items_json)?,
        };
        self.ticket.ready().await;
        run_checked(&handles, items, self.rollback, window, callback).await
    }
}

/// What a run read here touches (nothing, for one that could not be read: it sends nothing);
/// anything, for one not read here.
fn touches_of(parsed: Option<&Result<Vec<Result<Item, Error>>, Error>>) -> Touches {
    match parsed {
        Some(Ok(items)) => Touches::of(items),
        Some(Err(_)) => Touches::default(),
        None => Touches::everything(),
    }
}

/// Reads one document of items.
fn parse_items(handles: &[Handle], items_json: &str) -> Result<Vec<Result<Item, Error>>, Error> {
    let mut cx = ReadContext::new(handles.iter().map(|h| h.namespace().clone()).collect());
    Ok(Items::parse(items_json, &mut cx)?.items)
}

/// Runs items read already (`window`: checked); resolves to the JSON report.
async fn run_checked(
    handles: &[Handle],
    items: Vec<Result<Item, Error>>,
    rollback: bool,
    window: usize,
    callback: Option<Callback>,
) -> Result<String, Error> {
    let total = items.len();
    let options = BatchOptions {
        on_error: if rollback {
            OnError::Rollback
        } else {
            OnError::Continue
        },
        window,
    };
    let report = batch::run(handles, items, &options, &notify(callback, total)).await;
    Ok(report_json(report))
}

/// The requests a run keeps in flight (`window`, checked; the default when not given).
pub(crate) fn window_of(window: Option<f64>) -> Result<usize, Error> {
    match window {
        Some(w) if w.fract() != 0.0 || !(0.0..=u64::MAX as f64).contains(&w) => Err(Error::invalid(
            "window",
            format!("{w} is not a number of requests"),
        )),
        Some(w) => Ok(args::WINDOW.check("window", w as u64)? as usize),
        None => Ok(batch::DEFAULT_WINDOW),
    }
}

/// The label of runs too large to run on the calling thread.
pub(crate) const BATCH: &str = "batch";
/// Runs of more items than this are labelled `BATCH`.
const SMALL_RUN: usize = 16;

/// What a run is called for the settling heuristics (settle.rs keeps a moving average of how
/// long each kind of call takes): its first item's operation when it has a few items (a chain,
/// an awaited call), `BATCH` otherwise.
fn label(items_json: &str) -> &'static str {
    let rest = items_json.strip_prefix("[[").unwrap_or_default();
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
    // An upper bound on the items (each ends with a `]`, as does the document): enough to tell
    // a chain, and counted no further than that (a batch's JSON may be megabytes).
    let small = items_json
        .bytes()
        .filter(|b| *b == b']')
        .nth(SMALL_RUN + 1)
        .is_none();
    match (rest[..digits].parse::<u8>(), small) {
        (Ok(code), true) => batch::OP_CODES
            .iter()
            .find(|(_, c)| *c == code)
            .map_or(BATCH, |(name, _)| *name),
        _ => BATCH,
    }
}

/// Progress now and then (about every 1 %), and at the end.
fn notify(callback: Option<Callback>, total: usize) -> impl Fn(usize, usize) + Send + Sync {
    let step = (total / 100).max(1);
    move |done, total| {
        if let Some(c) = &callback {
            if done.is_multiple_of(step) || done == total {
                c.call(move |env| Ok(vec![js(env, done as u32)?]));
            }
        }
    }
}

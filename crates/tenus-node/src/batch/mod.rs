//! Batches cross from JavaScript as one JSON document (one crossing for the whole batch, parsed
//! off the JS thread; its format is in `wire`) and come back as one: a status letter per item
//! plus the errors.

mod wire;

use std::collections::HashMap;

use napi::bindgen_prelude::PromiseRaw;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Env;
use napi_derive::napi;
use tenus_core::batch::{BatchOptions, BatchReport, OnError, Outcome};
use tenus_core::Error;

use crate::error::error_doc;
use crate::netns::NativeNetns;
use crate::settle::spawn;

/// Options of `NativeNetns.batch`.
#[napi(object)]
pub struct NativeBatchOptions {
    /// "continue" (default) or "rollback".
    pub on_error: Option<String>,
    /// Requests in flight at once (default 256).
    pub window: Option<u32>,
}

fn report_json(report: BatchReport, invalid: HashMap<usize, Error>) -> String {
    let mut status = String::with_capacity(report.outcomes.len());
    let mut errors = serde_json::Map::new();
    for (i, outcome) in report.outcomes.into_iter().enumerate() {
        if let Some(e) = invalid.get(&i) {
            status.push('f');
            errors.insert(i.to_string(), error_doc(e));
            continue;
        }
        status.push(match outcome {
            Outcome::Done => 'd',
            Outcome::NotRun => 'n',
            Outcome::Undone => 'u',
            Outcome::Failed(e) => {
                errors.insert(i.to_string(), error_doc(&e));
                'f'
            }
        });
    }
    let undo: Vec<serde_json::Value> = report.undo_errors.iter().map(error_doc).collect();
    serde_json::json!({ "status": status, "errors": errors, "undoErrors": undo }).to_string()
}

#[napi]
impl NativeNetns {
    /// Runs a batch given as a JSON array of items; resolves to a JSON report
    /// `{ status: "ddf...", errors: { "2": {...} }, undoErrors: [...] }`.
    /// `progress(done)` is called now and then while items complete, and last with
    /// `PROGRESS_END` (0xffffffff): progress calls and the promise travel separately, so a
    /// caller that must see every call before the result waits for that one.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn batch<'env>(
        &self,
        env: &'env Env,
        items_json: String,
        options: NativeBatchOptions,
        #[napi(ts_arg_type = "((done: number) => void) | undefined | null")] progress: Option<Progress>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let h = self.get("batch");
        spawn(env, "batch", async move {
            let report = run_batch(h, items_json, options, progress.as_ref()).await;
            if let Some(p) = &progress {
                p.call(PROGRESS_END, ThreadsafeFunctionCallMode::NonBlocking);
            }
            report
        })
    }
}

/// Kept alive (not weak) while the batch runs, so that its last calls are delivered.
type Progress = ThreadsafeFunction<u32, (), u32, napi::Status, false>;
const PROGRESS_END: u32 = u32::MAX;

async fn run_batch(
    h: Result<tenus_core::Handle, Error>,
    items_json: String,
    options: NativeBatchOptions,
    progress: Option<&Progress>,
) -> Result<String, Error> {
    let h = h?;
    let on_error = match options.on_error.as_deref() {
        None | Some("continue") => OnError::Continue,
        Some("rollback") => OnError::Rollback,
        Some(other) => {
            return Err(Error::invalid(
                "onError",
                format!("{other:?} is not 'continue' or 'rollback'"),
            ))
        }
    };
    let wire::Items { ops, invalid, .. } = wire::Items::parse(&items_json)?;
    let total = ops.len();
    if !invalid.is_empty() && on_error == OnError::Rollback {
        let outcomes = vec![Outcome::NotRun; total];
        return Ok(report_json(
            BatchReport {
                outcomes,
                undo_errors: Vec::new(),
            },
            invalid,
        ));
    }
    let window = options.window.map(|w| w as usize).unwrap_or(256);
    let step = (total / 100).max(1);
    let notify = |done: usize, total: usize| {
        if let Some(p) = progress {
            if done.is_multiple_of(step) || done == total {
                p.call(done as u32, ThreadsafeFunctionCallMode::NonBlocking);
            }
        }
    };
    let report = h.batch(ops, &BatchOptions { on_error, window }, &notify).await;
    Ok(report_json(report, invalid))
}

//! `NativeBatchStream`: a batch handed over in parts while JavaScript fills it; each part runs
//! on the I/O thread, in order, while the next is built (core `batch/stream.rs`). Parts that run
//! at once are read here, on the JS thread, while the I/O thread runs the ones before; from the
//! first part held for the end, the I/O thread reads them.

use std::cell::RefCell;

use napi::bindgen_prelude::{ClassInstance, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use tenus_core::batch::overlap::{Ticket, Touches};
use tenus_core::batch::{runs_at_once, BatchReport, Part, Reader, Stream};
use tenus_core::{Error, Handle};
use tokio::sync::{mpsc, oneshot};

use crate::error::{error_doc, to_napi};
use crate::netns::NativeNetns;
use crate::promise::{spawn, spawn_task};
use crate::run::{report_json, window_of, BATCH};

/// What the JS thread hands the batch's task.
enum ToTask {
    Part(Part),
    /// The reader, with what it read so far: the task reads the parts from now on.
    Reader(Reader),
    Finish(Part, Vec<Handle>, oneshot::Sender<Result<BatchReport, Error>>),
    Abandon(oneshot::Sender<Vec<Error>>),
}

/// A batch being filled (`Netns.batch` makes one for large batches).
/// @internal
#[napi]
pub struct NativeBatchStream {
    parts: mpsc::UnboundedSender<ToTask>,
    /// Reads parts on this thread until one is held for the end (then the task has it).
    reader: RefCell<Option<Reader>>,
}

#[napi]
impl NativeNetns {
    /// Starts a streamed batch in this namespace, in continue mode (a rollback batch is not
    /// streamed: its undo needs every item first); `window`: requests in flight at once
    /// (default 256; 1..=4096). Its parts run as they come; `finish` or `abandon` ends it.
    #[napi]
    pub fn batch_stream(&self, window: Option<f64>) -> napi::Result<NativeBatchStream> {
        let window = window_of(window).map_err(to_napi)?;
        let handle = self.get("batch").map_err(to_napi)?;
        let (parts, rx) = mpsc::unbounded_channel();
        // Its place among the handle's runs (run.rs): a batch may touch any link.
        let ticket = self.order.enter(Touches::everything());
        let (stream, reader) = Stream::new(handle, window);
        spawn_task(serve(stream, rx, ticket));
        Ok(NativeBatchStream {
            parts,
            reader: RefCell::new(Some(reader)),
        })
    }
}

#[napi]
impl NativeBatchStream {
    /// Hands over the next items (a JSON array, as `NativeNetns.run` takes them).
    #[napi]
    pub fn push(&self, items_json: String) -> napi::Result<()> {
        let mut reader = self.reader.borrow_mut();
        let Some(read_here) = reader.as_mut() else {
            return self.send(ToTask::Part(Part::Json(items_json)));
        };
        let items = read_here.read(&items_json);
        let held = !items.as_deref().is_ok_and(runs_at_once);
        self.send(ToTask::Part(Part::Read(items)))?;
        // Held for the end: the task reads the parts from here on (it only waits now).
        match reader.take_if(|_| held) {
            Some(to_task) => self.send(ToTask::Reader(to_task)),
            None => Ok(()),
        }
    }

    /// Hands over the last items, with the namespaces `[IN, n]` items act in, and resolves to
    /// the report of the whole batch (as `NativeNetns.run`'s).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn finish<'env>(
        &self,
        env: &'env Env,
        items_json: String,
        peers: Vec<ClassInstance<'env, NativeNetns>>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let peers = peers
            .iter()
            .map(|p| p.get("batch"))
            .collect::<Result<Vec<_>, _>>();
        let end = match peers {
            Ok(peers) => {
                let last = match self.reader.borrow_mut().as_mut() {
                    Some(reader) => {
                        reader.add_peers(&peers);
                        Part::Read(reader.read(&items_json))
                    }
                    None => Part::Json(items_json),
                };
                let (done, report) = oneshot::channel();
                self.send(ToTask::Finish(last, peers, done))?;
                Ok(report)
            }
            // A namespace of the batch is gone: what its parts did is undone, then it fails.
            Err(e) => {
                let (done, undone) = oneshot::channel();
                self.send(ToTask::Abandon(done))?;
                Err((e, undone))
            }
        };
        spawn(env, BATCH, async move {
            match end {
                Ok(report) => Ok(report_json(report.await.map_err(|_| closed())??)),
                Err((e, undone)) => {
                    let _ = undone.await;
                    Err(e)
                }
            }
        })
    }

    /// Gives the batch up (its fill threw): what its parts did is undone. Resolves to the
    /// errors met while undoing, as a JSON array of error documents.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn abandon<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, String>> {
        let (done, errors) = oneshot::channel();
        self.send(ToTask::Abandon(done))?;
        spawn(env, BATCH, async move {
            let errors = errors.await.map_err(|_| closed())?;
            Ok(serde_json::Value::Array(errors.iter().map(error_doc).collect()).to_string())
        })
    }

    fn send(&self, message: ToTask) -> napi::Result<()> {
        self.parts.send(message).map_err(|_| to_napi(closed()))
    }
}

fn closed() -> Error {
    Error::Closed { op: BATCH.into() }
}

/// The batch's task on the I/O thread: its parts in order, then its end.
async fn serve(mut stream: Stream, mut parts: mpsc::UnboundedReceiver<ToTask>, mut ticket: Ticket) {
    ticket.ready().await;
    while let Some(message) = parts.recv().await {
        match message {
            ToTask::Part(part) => stream.part(part).await,
            ToTask::Reader(reader) => stream.take_reader(reader),
            ToTask::Finish(last, peers, done) => {
                let _ = done.send(stream.finish(last, peers).await);
                return;
            }
            ToTask::Abandon(done) => {
                let _ = done.send(stream.abandon().await);
                return;
            }
        }
    }
    // Its JavaScript object went away without an end: nothing is left half-made.
    stream.abandon().await;
}

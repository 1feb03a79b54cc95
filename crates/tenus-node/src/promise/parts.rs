//! A listing's parts, wherever they are made: gathered while the listing runs on the calling
//! thread (a few links: returned whole with the answer, no callback called), sent to JavaScript
//! one by one through the listing's callback once it runs on the I/O thread (a table of
//! 100,000 routes: parsed there while the kernel makes the next part).
//!
//! A listing may start on the calling thread and move on: a dump the calling thread has read
//! for its time there goes on elsewhere (tenus-core's direct.rs), and its first parts, gathered
//! here, are sent before the ones that follow.

use std::future::Future;
use std::thread::ThreadId;

use napi::bindgen_prelude::{Either, PromiseRaw, ToNapiValue, Unknown};
use napi::{sys, Env, JsValue};
use tenus_core::{Error, Handle};

use super::read::serving;
use super::settle::{run_now_with, Callback};

/// A listing's parts whole, or None once they all went to the callback.
pub(crate) type WholeParts<P> = Option<Vec<P>>;

/// The callback's arguments for one part (`attempt`, then the part's own), made on the JS thread.
pub(crate) type PartArgs<P> = fn(sys::napi_env, u32, P) -> napi::Result<Vec<sys::napi_value>>;

/// Where a listing's parts go (see the module's comment).
pub(crate) struct Parts<P> {
    /// The JS thread that called: parts made on it are gathered.
    calling_thread: ThreadId,
    /// The dump's attempt the gathered parts belong to: a new one makes them stale.
    attempt: u32,
    gathered: Vec<P>,
    callback: Option<Callback>,
    args: PartArgs<P>,
}

impl<P: Send + 'static> Parts<P> {
    /// One part of the dump's `attempt`.
    pub(crate) fn push(&mut self, attempt: u32, part: P) {
        if attempt != self.attempt {
            // The kernel said the dump changed underway: it is read again from the start.
            self.attempt = attempt;
            self.gathered.clear();
        }
        match &self.callback {
            Some(_) if !self.here() => {
                self.send_gathered();
                self.send(attempt, part);
            }
            _ => self.gathered.push(part),
        }
    }

    /// The parts gathered, when every one was made on the calling thread; otherwise None, once
    /// the last of them is on its way to the callback.
    fn finish(mut self) -> WholeParts<P> {
        if self.callback.is_none() || self.here() {
            return Some(self.gathered);
        }
        self.send_gathered();
        None
    }

    fn here(&self) -> bool {
        std::thread::current().id() == self.calling_thread
    }

    fn send_gathered(&mut self) {
        for part in std::mem::take(&mut self.gathered) {
            self.send(self.attempt, part);
        }
    }

    fn send(&self, attempt: u32, part: P) {
        if let Some(callback) = &self.callback {
            let args = self.args;
            callback.call(move |env| args(env, attempt, part));
        }
    }
}

/// Runs the listing `list` on the calling thread when `op` usually answers quickly (as
/// `read_now`), else on the I/O thread: its parts whole (the answer itself, or a promise of
/// them when it had to wait), or a promise of None once they all went to `on_part`.
pub(crate) fn list_now<'env, P, F, Fut>(
    env: &'env Env,
    op: &'static str,
    handle: Result<Handle, Error>,
    on_part: Unknown<'env>,
    args: PartArgs<P>,
    list: F,
) -> napi::Result<Either<WholeParts<P>, PromiseRaw<'env, WholeParts<P>>>>
where
    P: 'static + Send,
    WholeParts<P>: ToNapiValue,
    F: 'static + Send + FnOnce(Handle, Parts<P>) -> Fut,
    Fut: 'static + Send + Future<Output = Result<Parts<P>, Error>>,
{
    let calling_thread = std::thread::current().id();
    let answered = run_now_with(env, op, Some(on_part.raw()), move |here, callback| async move {
        let handle = serving(handle?, here);
        let parts = Parts {
            calling_thread,
            attempt: 0,
            gathered: Vec::new(),
            callback,
            args,
        };
        Ok(list(handle, parts).await?.finish())
    })?;
    match answered {
        Either::A(outcome) => outcome.map(Either::A),
        Either::B(promise) => Ok(Either::B(promise)),
    }
}

//! Reads (one object: `ns.link('eth1')`, a route's `get`, a link's counters; or a listing),
//! answered on the calling thread when they can be, as an awaited change is.
//!
//! A read through the I/O thread paid two thread hops for one request the kernel answers in a
//! few microseconds: `await ns.link('eth1')` took ~50 µs where a raw socket takes ~7.

use std::future::Future;

use napi::bindgen_prelude::{Either, PromiseRaw, ToNapiValue};
use napi::Env;
use tenus_core::{Error, Handle};

use super::settle::run_now;

/// Runs `read` on `handle` on the calling thread when `op` usually answers quickly and nothing
/// of this environment waits on the I/O thread (settle.rs `run_now`): the answer itself, no
/// promise made. Otherwise on the I/O thread: a promise of it.
pub(crate) fn read_now<'env, T, F, Fut>(
    env: &'env Env,
    op: &'static str,
    handle: Result<Handle, Error>,
    read: F,
) -> napi::Result<Either<T, PromiseRaw<'env, T>>>
where
    T: 'static + Send + ToNapiValue,
    F: 'static + Send + FnOnce(Handle) -> Fut,
    Fut: 'static + Send + Future<Output = Result<T, Error>>,
{
    let answered = run_now(
        env,
        op,
        move |here| async move { read(serving(handle?, here)).await },
    )?;
    match answered {
        Either::A(outcome) => outcome.map(Either::A),
        Either::B(promise) => Ok(Either::B(promise)),
    }
}

/// `handle`, answered on the calling thread when the work runs `here` (settle.rs `run_now`).
pub(super) fn serving(handle: Handle, here: bool) -> Handle {
    match here {
        true => handle.on_calling_thread().unwrap_or(handle),
        false => handle,
    }
}

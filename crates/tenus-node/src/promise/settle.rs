//! Turning the I/O thread's futures into promises, cheaply.
//!
//! Most requests are answered by the kernel within tens of microseconds, but handing an answer
//! to the JS thread through a threadsafe function wakes it from epoll, which costs about as
//! much again on virtual machines (an awaited address addition: ~100 µs that way, ~30 µs
//! settled in place). So the calling JS thread waits a little (`TENUS_INLINE_WAIT_US`, default
//! 100 µs; 0 turns it off) for the answer and settles the promise itself when it comes in
//! time; otherwise the I/O thread settles it later through one threadsafe function shared by
//! every request of this JS environment.
//!
//! Waiting in place must not starve the event loop: it is skipped for operations that
//! usually take longer than the wait (link creation, say), and after 2 ms of answers settled
//! in place the next answer is settled from a `setImmediate` callback, so that the event loop
//! turns (timers, I/O) before the code awaiting it goes on. Not from the threadsafe function's
//! queue: Node drains up to 1,000 of its calls in one go, and the calls the settled code makes
//! join the same drain, so the loop would not turn for a second or more.
//!
//! Better still, a call whose requests the kernel usually answers quickly runs entirely on the
//! calling thread when nothing else of this environment is waiting on the I/O thread
//! (`run_here`): the engine's future is polled there once, over sockets answered inside the
//! call (`Handle::on_calling_thread`), so an awaited address addition is one `sendmsg` and one
//! `recvmsg`, as in C. Only calls measured (on earlier calls) to take under
//! `TENUS_RUN_HERE_US` (default 1000 µs; 0 turns it off) run so; once the streak limit is
//! reached, such a call's answer is settled after a turn of the event loop, as above.
//! A future that has to wait after all (a namespace thread, a busy socket, an answer the
//! kernel has not given within 2 ms) moves on to the I/O thread where it left off. `run_now`
//! hands an answer settled so back as it is, with no promise at all (`runNow`: an awaited call
//! reads it at once).
//!
//! A call may also take a JavaScript callback (a listing's parts, a batch's progress): the I/O
//! thread calls it through the same queue the promise is settled by, so every call made before
//! the work ends reaches JavaScript before the promise settles, with no waiting on either side.
//! Such calls settle in place only when they ran here without calling it (`run_now_with`: a
//! listing answered within the call returns its parts instead, parts.rs).
//!
//! Every `unsafe` block of the binding is in this file.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::c_void;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::ptr::null_mut;
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures::FutureExt;
use napi::bindgen_prelude::{Either, PromiseRaw, ToNapiValue};
use napi::{check_status, sys, Env, JsError};
use tenus_core::Error;

use super::slot::Slot;
use super::{micros_from_env, runtime};
use crate::error::{from_panic, to_napi};

/// What settles a promise: a value, or the error it rejects with.
pub(crate) type Outcome<T> = Result<T, napi::Error>;

const DEFAULT_INLINE_WAIT: Duration = Duration::from_micros(100);
const DEFAULT_RUN_HERE_LIMIT: Duration = Duration::from_micros(1000);
/// After this much time spent settling in place, the next request goes asynchronously. A turn
/// of the event loop costs an awaited call ~20 µs (traced: the time between two awaited
/// creations' `sendto` calls with an `epoll_pwait` in between, median 34 µs against 15): every
/// 1 ms that was ~2 % of 1,000 awaited macvlans, every 2 ms half that, the loop still turning
/// 500 times a second.
const INLINE_STREAK: Duration = Duration::from_millis(2);

fn inline_wait() -> Duration {
    static WAIT: OnceLock<Duration> = OnceLock::new();
    *WAIT.get_or_init(|| micros_from_env("TENUS_INLINE_WAIT_US", DEFAULT_INLINE_WAIT))
}

/// Calls usually answered within this run on the calling thread (`run_here`).
fn run_here_limit() -> Duration {
    static LIMIT: OnceLock<Duration> = OnceLock::new();
    *LIMIT.get_or_init(|| micros_from_env("TENUS_RUN_HERE_US", DEFAULT_RUN_HERE_LIMIT))
}

type Settle = Box<dyn FnOnce(sys::napi_env) + Send>;

/// The threadsafe function answers travel through, as the I/O thread sees it: gone once the
/// environment is torn down (Node frees it then).
struct Channel(Mutex<Option<Tsfn>>);

struct Tsfn(sys::napi_threadsafe_function);
// SAFETY: calling a threadsafe function from any thread is what it is for; the mutex around
// it is dropped (set to None) before Node frees it.
unsafe impl Send for Tsfn {}

impl Channel {
    fn send(&self, settle: Settle) {
        let guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let Some(tsfn) = guard.as_ref() else { return };
        let data = Box::into_raw(Box::new(settle));
        let status = unsafe {
            sys::napi_call_threadsafe_function(
                tsfn.0,
                data.cast(),
                sys::ThreadsafeFunctionCallMode::nonblocking,
            )
        };
        if status != sys::Status::napi_ok {
            // SAFETY: Node did not take the data.
            drop(unsafe { Box::from_raw(data) });
        }
    }
}

/// One per JS environment (so per JS thread).
struct Bridge {
    env: sys::napi_env,
    tsfn: sys::napi_threadsafe_function,
    channel: Arc<Channel>,
    /// Requests to be settled through the threadsafe function; it keeps the event loop alive
    /// only while there are some.
    detached: std::cell::Cell<u32>,
    /// When the current run of answers settled in place began.
    streak: std::cell::Cell<Option<Instant>>,
    /// Recent time to answer, by operation (µs, moving average): a few operations, looked up
    /// on every call, so a list compared by name rather than a hashed map.
    latency: RefCell<Vec<(&'static str, f64)>>,
    /// Settlements waiting for a turn of the event loop (`after_turn`), each under the number
    /// its `setImmediate` call was given (oldest first).
    after_turn: RefCell<VecDeque<(u32, Settle)>>,
    /// The number of the next settlement `after_turn` schedules.
    next_turn: std::cell::Cell<u32>,
    /// The function `after_turn` hands to `setImmediate` (made once: making a function per call
    /// cost more than reading the answer).
    turned: std::cell::Cell<Option<sys::napi_ref>>,
}

thread_local! {
    static BRIDGE: RefCell<Option<Rc<Bridge>>> = const { RefCell::new(None) };
}

unsafe extern "C" fn call_js(env: sys::napi_env, _js: sys::napi_value, _ctx: *mut c_void, data: *mut c_void) {
    // SAFETY: `data` is the box `Channel::send` made.
    let settle = unsafe { Box::from_raw(data.cast::<Settle>()) };
    if !env.is_null() {
        settle(env);
    }
}

unsafe extern "C" fn env_teardown(arg: *mut c_void) {
    // SAFETY: `arg` is the channel `Bridge::open` leaked a reference to.
    let channel = unsafe { Arc::from_raw(arg.cast::<Channel>()) };
    channel.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    BRIDGE.with(|b| b.borrow_mut().take());
}

impl Bridge {
    fn get(env: sys::napi_env) -> napi::Result<Rc<Bridge>> {
        BRIDGE.with(|b| {
            if let Some(bridge) = b.borrow().as_ref().filter(|br| br.env == env) {
                return Ok(bridge.clone());
            }
            let bridge = Rc::new(Bridge::open(env)?);
            *b.borrow_mut() = Some(bridge.clone());
            Ok(bridge)
        })
    }

    fn open(env: sys::napi_env) -> napi::Result<Bridge> {
        let mut name = null_mut();
        let mut tsfn = null_mut();
        unsafe {
            check_status!(
                sys::napi_create_string_utf8(env, c"tenus".as_ptr(), 5, &mut name),
                "tenus: settling promises"
            )?;
            check_status!(
                sys::napi_create_threadsafe_function(
                    env,
                    null_mut(),
                    null_mut(),
                    name,
                    0,
                    1,
                    null_mut(),
                    None,
                    null_mut(),
                    Some(call_js),
                    &mut tsfn,
                ),
                "tenus: settling promises"
            )?;
            check_status!(
                sys::napi_unref_threadsafe_function(env, tsfn),
                "tenus: settling promises"
            )?;
        }
        let channel = Arc::new(Channel(Mutex::new(Some(Tsfn(tsfn)))));
        // Registered after the threadsafe function, so it runs before Node frees it.
        let hook_arg = Arc::into_raw(channel.clone()) as *mut c_void;
        check_status!(
            unsafe { sys::napi_add_env_cleanup_hook(env, Some(env_teardown), hook_arg) },
            "tenus: settling promises"
        )?;
        Ok(Bridge {
            env,
            tsfn,
            channel,
            detached: Default::default(),
            streak: Default::default(),
            latency: Default::default(),
            after_turn: Default::default(),
            next_turn: Default::default(),
            turned: Default::default(),
        })
    }

    /// The function `after_turn` hands to `setImmediate`, made (and kept referenced) on first
    /// use.
    ///
    /// # Safety
    /// `env` is this bridge's environment, on its JS thread.
    unsafe fn turned_function(&self, env: sys::napi_env, out: &mut sys::napi_value) -> bool {
        unsafe {
            if let Some(reference) = self.turned.get() {
                return sys::napi_get_reference_value(env, reference, out) == sys::Status::napi_ok
                    && !out.is_null();
            }
            let made = sys::napi_create_function(env, c"settle".as_ptr(), 6, Some(turned), null_mut(), out)
                == sys::Status::napi_ok;
            let mut reference = null_mut();
            if made && sys::napi_create_reference(env, *out, 1, &mut reference) == sys::Status::napi_ok {
                self.turned.set(Some(reference));
            }
            made
        }
    }

    /// Takes the settlement scheduled under `id` (`after_turn`).
    fn take_turn(&self, id: u32) -> Option<Settle> {
        let mut waiting = self.after_turn.borrow_mut();
        let at = waiting.iter().position(|(n, _)| *n == id)?;
        waiting.remove(at).map(|(_, settle)| settle)
    }

    /// After a long enough run of answers settled in place, the next goes through the event
    /// loop whatever happens.
    fn streak_over(&self) -> bool {
        self.streak.get().is_some_and(|s| s.elapsed() > INLINE_STREAK)
    }

    /// Whether to wait in place for an answer to `op`: not when it usually takes longer.
    fn should_wait(&self, op: &'static str, wait: Duration) -> bool {
        let usual = self.usual(op);
        !wait.is_zero() && usual.is_none_or(|us| us <= wait.as_micros() as f64)
    }

    /// Whether `op` may run on this thread: nothing else is waiting on the I/O thread (whose
    /// requests it would overtake), and earlier calls of `op` took less than the limit (a call
    /// never measured goes to the I/O thread first).
    fn may_run_here(&self, op: &'static str) -> bool {
        let limit = run_here_limit().as_micros() as f64;
        self.detached.get() == 0 && self.usual(op).is_some_and(|us| us <= limit)
    }

    /// How long `op` usually takes to answer (µs), once measured.
    fn usual(&self, op: &'static str) -> Option<f64> {
        self.latency
            .borrow()
            .iter()
            .find(|(o, _)| *o == op)
            .map(|(_, us)| *us)
    }

    fn note(&self, op: &'static str, took: Duration) {
        let us = took.as_micros() as f64;
        let mut latency = self.latency.borrow_mut();
        match latency.iter_mut().find(|(o, _)| *o == op) {
            Some((_, avg)) => *avg = 0.8 * *avg + 0.2 * us,
            None => latency.push((op, us)),
        }
    }

    fn settled_in_place(&self) {
        if self.streak.get().is_none() {
            self.streak.set(Some(Instant::now()));
        }
    }

    fn detach(&self) {
        if self.detached.get() == 0 {
            unsafe { sys::napi_ref_threadsafe_function(self.env, self.tsfn) };
        }
        self.detached.set(self.detached.get() + 1);
    }

    fn reattach(&self) {
        let left = self.detached.get().saturating_sub(1);
        self.detached.set(left);
        if left == 0 {
            unsafe { sys::napi_unref_threadsafe_function(self.env, self.tsfn) };
        }
    }
}

/// Resolves or rejects; runs on the JS thread.
unsafe fn settle<T: ToNapiValue>(env: sys::napi_env, deferred: sys::napi_deferred, outcome: Outcome<T>) {
    match outcome.and_then(|v| unsafe { T::to_napi_value(env, v) }) {
        Ok(value) => unsafe { sys::napi_resolve_deferred(env, deferred, value) },
        Err(e) => unsafe { sys::napi_reject_deferred(env, deferred, JsError::from(e).into_value(env)) },
    };
}

struct Deferred(sys::napi_deferred);
// SAFETY: only ever used on the JS thread (it is carried through the I/O thread untouched).
unsafe impl Send for Deferred {}

impl Deferred {
    // A method, so that closures capture the whole (Send) wrapper rather than its field.
    fn into_raw(self) -> sys::napi_deferred {
        self.0
    }
}

/// A reference to a JavaScript function, carried through the I/O thread untouched.
#[derive(Clone, Copy)]
struct FunctionRef(sys::napi_ref);
// SAFETY: only dereferenced on the JS thread, in closures the channel runs there.
unsafe impl Send for FunctionRef {}
unsafe impl Sync for FunctionRef {}

/// Builds a callback's arguments, on the JS thread.
type Arguments = Box<dyn FnOnce(sys::napi_env) -> napi::Result<Vec<sys::napi_value>> + Send>;

/// A JavaScript function the I/O thread calls, in order with the promise's settlement.
#[derive(Clone)]
pub(crate) struct Callback {
    channel: Arc<Channel>,
    function: FunctionRef,
}

impl Callback {
    /// Queues a call; `arguments` runs on the JS thread and makes the call's arguments.
    pub(crate) fn call(
        &self,
        arguments: impl FnOnce(sys::napi_env) -> napi::Result<Vec<sys::napi_value>> + Send + 'static,
    ) {
        let function = self.function;
        let arguments: Arguments = Box::new(arguments);
        self.channel.send(Box::new(move |env| unsafe {
            call_function(env, function, arguments)
        }));
    }
}

/// Calls the referenced function; an exception it throws is left for Node to report as it
/// reports any callback's.
unsafe fn call_function(env: sys::napi_env, function: FunctionRef, arguments: Arguments) {
    let Ok(args) = arguments(env) else { return };
    let mut f = null_mut();
    let mut undefined = null_mut();
    let mut result = null_mut();
    unsafe {
        if sys::napi_get_reference_value(env, function.0, &mut f) != sys::Status::napi_ok || f.is_null() {
            return;
        }
        sys::napi_get_undefined(env, &mut undefined);
        sys::napi_call_function(env, undefined, f, args.len(), args.as_ptr(), &mut result);
    }
}

/// Makes a JavaScript value on the JS thread (for callback arguments).
pub(crate) fn js<T: ToNapiValue>(env: sys::napi_env, value: T) -> napi::Result<sys::napi_value> {
    unsafe { T::to_napi_value(env, value) }
}

/// Runs `fut` on the I/O thread; its error or panic rejects the returned promise.
pub(crate) fn spawn<'env, T, F>(env: &'env Env, op: &'static str, fut: F) -> napi::Result<PromiseRaw<'env, T>>
where
    T: 'static + Send + ToNapiValue,
    F: 'static + Send + Future<Output = Result<T, Error>>,
{
    spawn_with(env, op, None, |_| fut)
}

/// Like `spawn`, with a JavaScript function the work may call (`Callback`) while it runs.
pub(crate) fn spawn_with<'env, T, F>(
    env: &'env Env,
    op: &'static str,
    function: Option<sys::napi_value>,
    make: impl FnOnce(Option<Callback>) -> F,
) -> napi::Result<PromiseRaw<'env, T>>
where
    T: 'static + Send + ToNapiValue,
    F: 'static + Send + Future<Output = Result<T, Error>>,
{
    let raw = env.raw();
    let bridge = Bridge::get(raw)?;
    let callback = callback_for(raw, &bridge, function)?;
    let function = callback.as_ref().map(|c| c.function);
    let fut = make(callback);
    let (deferred, promise) = new_promise(raw)?;

    let slot = Arc::new(Slot::<Outcome<T>>::new());
    let answer = slot.clone();
    let channel = bridge.channel.clone();
    let carried = Deferred(deferred);
    let started = Instant::now();
    runtime::spawn(async move {
        let outcome = outcome_of(op, AssertUnwindSafe(fut).catch_unwind().await);
        if let Some(outcome) = answer.offer(outcome) {
            channel.send(later(settled(op, Some(started), carried, outcome, function)));
        }
    });

    // Calls of a callback travel through the queue: the settlement must come after them.
    let force_async = bridge.streak_over() || function.is_some();
    let wait = if !force_async && bridge.should_wait(op, inline_wait()) {
        inline_wait()
    } else {
        Duration::ZERO
    };
    match slot.wait(wait) {
        Some(outcome) if !force_async => {
            bridge.note(op, started.elapsed());
            bridge.settled_in_place();
            unsafe { settle(raw, deferred, outcome) };
        }
        // Answered already, but the callback's calls queued before it must come first: settle it
        // from the queue.
        Some(outcome) if function.is_some() => {
            bridge.detach();
            bridge.channel.send(later(settled(
                op,
                Some(started),
                Deferred(deferred),
                outcome,
                function,
            )));
        }
        // Answered already, but the event loop must turn first.
        Some(outcome) => after_turn(
            raw,
            &bridge,
            settled(op, Some(started), Deferred(deferred), outcome, None),
        ),
        None => bridge.detach(),
    }
    Ok(PromiseRaw::new(raw, promise))
}

/// The `Callback` calling `function` (referenced until the call's settlement).
fn callback_for(
    raw: sys::napi_env,
    bridge: &Bridge,
    function: Option<sys::napi_value>,
) -> napi::Result<Option<Callback>> {
    let Some(f) = function else {
        return Ok(None);
    };
    let mut reference = null_mut();
    check_status!(
        unsafe { sys::napi_create_reference(raw, f, 1, &mut reference) },
        "tenus: settling promises"
    )?;
    Ok(Some(Callback {
        channel: bridge.channel.clone(),
        function: FunctionRef(reference),
    }))
}

/// Runs the future `make(true)` makes on this thread when `op` qualifies (`may_run_here`),
/// settling the promise before returning; a future that must wait after all continues on the
/// I/O thread. Otherwise it is `spawn(make(false))`.
pub(crate) fn run_here<'env, T, F>(
    env: &'env Env,
    op: &'static str,
    make: impl FnOnce(bool) -> F,
) -> napi::Result<PromiseRaw<'env, T>>
where
    T: 'static + Send + ToNapiValue,
    F: 'static + Send + Future<Output = Result<T, Error>>,
{
    match run_now(env, op, make)? {
        Either::A(outcome) => {
            let raw = env.raw();
            let (deferred, promise) = new_promise(raw)?;
            unsafe { settle(raw, deferred, outcome) };
            Ok(PromiseRaw::new(raw, promise))
        }
        Either::B(promise) => Ok(promise),
    }
}

/// `run_here` without a promise for an answer settled in place: the outcome itself, for the
/// caller to return (an awaited call then pays for no promise made and resolved here, nor for
/// the reaction reading it); otherwise the promise, settled as `run_here` settles it.
pub(crate) fn run_now<'env, T, F>(
    env: &'env Env,
    op: &'static str,
    make: impl FnOnce(bool) -> F,
) -> napi::Result<Either<Outcome<T>, PromiseRaw<'env, T>>>
where
    T: 'static + Send + ToNapiValue,
    F: 'static + Send + Future<Output = Result<T, Error>>,
{
    run_now_with(env, op, None, |here, _| make(here))
}

/// `run_now` with a JavaScript function the work may call (`Callback`, as `spawn_with`) once it
/// runs on the I/O thread. Not while it is polled here: what it makes on this thread is
/// returned with its answer (`Parts` gathers it), since an answer settled in place would
/// overtake the calls queued for the function.
pub(crate) fn run_now_with<'env, T, F>(
    env: &'env Env,
    op: &'static str,
    function: Option<sys::napi_value>,
    make: impl FnOnce(bool, Option<Callback>) -> F,
) -> napi::Result<Either<Outcome<T>, PromiseRaw<'env, T>>>
where
    T: 'static + Send + ToNapiValue,
    F: 'static + Send + Future<Output = Result<T, Error>>,
{
    let raw = env.raw();
    let bridge = Bridge::get(raw)?;
    if !bridge.may_run_here(op) {
        return spawn_with(env, op, function, |callback| make(false, callback)).map(Either::B);
    }
    let callback = callback_for(raw, &bridge, function)?;
    let function = callback.as_ref().map(|c| c.function);
    let started = Instant::now();
    let mut fut = Box::pin(AssertUnwindSafe(make(true, callback)).catch_unwind());
    let polled = {
        let _runtime = runtime::enter();
        fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    };
    match polled {
        // After a long run of answers settled in place, this one waits for a turn of the
        // event loop (through the queue), as on the I/O thread's side.
        Poll::Ready(result) if bridge.streak_over() => {
            bridge.note(op, started.elapsed());
            let (deferred, promise) = new_promise(raw)?;
            let outcome = outcome_of(op, result);
            after_turn(
                raw,
                &bridge,
                settled(op, None, Deferred(deferred), outcome, function),
            );
            Ok(Either::B(PromiseRaw::new(raw, promise)))
        }
        Poll::Ready(result) => {
            bridge.note(op, started.elapsed());
            bridge.settled_in_place();
            if let Some(f) = function {
                // Never called: the work was done here.
                unsafe { sys::napi_delete_reference(raw, f.0) };
            }
            Ok(Either::A(outcome_of(op, result)))
        }
        Poll::Pending => {
            let (deferred, promise) = new_promise(raw)?;
            bridge.detach();
            let channel = bridge.channel.clone();
            let carried = Deferred(deferred);
            runtime::spawn(async move {
                let outcome = outcome_of(op, fut.await);
                channel.send(later(settled(op, Some(started), carried, outcome, function)));
            });
            Ok(Either::B(PromiseRaw::new(raw, promise)))
        }
    }
}

/// Settles from a `setImmediate` callback: after the event loop's poll phase (timers, I/O,
/// the threadsafe function's queue), which ends the streak of answers settled in place. Falls
/// back to the queue if `setImmediate` cannot be called.
///
/// Each settlement waits under a number given to its `setImmediate` call as the callback's
/// argument, so a callback that never runs (fake timers cleared, say) loses only its own. Such
/// a settlement is not counted as waiting on the I/O thread (`detached`): its answer is in, and
/// `setImmediate` keeps the event loop alive for it; a lost one must not keep later calls off
/// the calling thread (nor the event loop alive) for the rest of the process.
fn after_turn(env: sys::napi_env, bridge: &Bridge, settle: Settle) {
    let id = bridge.next_turn.get();
    bridge.next_turn.set(id.wrapping_add(1));
    bridge.after_turn.borrow_mut().push_back((id, settle));
    let scheduled = unsafe {
        let mut global = null_mut();
        let mut set_immediate = null_mut();
        let mut args = [null_mut(), null_mut()];
        let mut result = null_mut();
        sys::napi_get_global(env, &mut global) == sys::Status::napi_ok
            && sys::napi_get_named_property(env, global, c"setImmediate".as_ptr(), &mut set_immediate)
                == sys::Status::napi_ok
            && bridge.turned_function(env, &mut args[0])
            && sys::napi_create_uint32(env, id, &mut args[1]) == sys::Status::napi_ok
            && sys::napi_call_function(env, global, set_immediate, 2, args.as_ptr(), &mut result)
                == sys::Status::napi_ok
    };
    if !scheduled {
        if let Some(settle) = bridge.take_turn(id) {
            bridge.detach();
            bridge.channel.send(later(settle));
        }
    }
}

/// `setImmediate`'s callback (`after_turn`): settles the answer numbered by its argument.
unsafe extern "C" fn turned(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let mut argc = 1;
    let mut arg = null_mut();
    let mut id = 0;
    let read = unsafe {
        sys::napi_get_cb_info(env, info, &mut argc, &mut arg, null_mut(), null_mut()) == sys::Status::napi_ok
            && argc >= 1
            && sys::napi_get_value_uint32(env, arg, &mut id) == sys::Status::napi_ok
    };
    if !read {
        return null_mut();
    }
    let next = BRIDGE.with(|b| {
        let bridge = b.borrow();
        // Another environment's bridge has nothing of this one's to settle.
        let bridge = bridge.as_ref().filter(|br| br.env == env)?;
        bridge.streak.set(None);
        // Taken out before settling: no borrow is held while JavaScript may run.
        bridge.take_turn(id)
    });
    if let Some(settle) = next {
        settle(env);
    }
    null_mut()
}

/// A promise and what settles it.
fn new_promise(raw: sys::napi_env) -> napi::Result<(sys::napi_deferred, sys::napi_value)> {
    let mut deferred = null_mut();
    let mut promise = null_mut();
    check_status!(
        unsafe { sys::napi_create_promise(raw, &mut deferred, &mut promise) },
        "tenus: settling promises"
    )?;
    Ok((deferred, promise))
}

/// A future's result, or its panic, as what settles the promise.
fn outcome_of<T>(op: &'static str, caught: std::thread::Result<Result<T, Error>>) -> Outcome<T> {
    match caught {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(to_napi(e)),
        Err(_) => Err(from_panic(op)),
    }
}

/// `settle`, for a call counted as waiting on the I/O thread (`Bridge::detach`): sent through
/// the threadsafe function, it no longer counts once it runs.
fn later(settle: Settle) -> Settle {
    Box::new(move |env| {
        if let Ok(bridge) = Bridge::get(env) {
            bridge.reattach();
        }
        settle(env);
    })
}

/// Settling on a later turn of the event loop: notes the call's time (`started`; None when
/// noted already) and settles; the callback's reference, if any, goes with it.
fn settled<T: ToNapiValue + Send + 'static>(
    op: &'static str,
    started: Option<Instant>,
    deferred: Deferred,
    outcome: Outcome<T>,
    function: Option<FunctionRef>,
) -> Settle {
    Box::new(move |env| {
        if let (Some(started), Ok(bridge)) = (started, Bridge::get(env)) {
            bridge.note(op, started.elapsed());
        }
        unsafe { settle(env, deferred.into_raw(), outcome) };
        if let Some(f) = function {
            unsafe { sys::napi_delete_reference(env, f.0) };
        }
    })
}

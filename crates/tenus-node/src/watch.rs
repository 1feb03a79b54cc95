//! Watchers: `NativeNetns.watch` runs one on the I/O thread until it is closed, handing event
//! batches (JSON arrays, serialised there) to a JavaScript callback through the same ordered
//! queue promises settle by, one batch per `NativeWatch.want()`.

use std::sync::Arc;

use napi::bindgen_prelude::{PromiseRaw, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;
use tenus_core::watch::{self, Control, WatchOptions};

use crate::error::to_napi;
use crate::netns::NativeNetns;
use crate::promise::{js, spawn_with};

/// The JavaScript side's hold on a running watcher: `Watcher` wraps it.
/// @internal
#[napi]
pub struct NativeWatch {
    control: Arc<Control>,
}

#[napi]
impl NativeWatch {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NativeWatch {
            control: Control::new(),
        }
    }

    /// Asks for the next batch (the callback gets it as soon as there is one).
    #[napi]
    pub fn want(&self) {
        self.control.want();
    }

    /// Ends the watcher; the promise `watch` returned resolves once its socket is closed.
    #[napi]
    pub fn close(&self) {
        self.control.close();
    }

    /// The watcher's counters, as JSON (`WatchStatus`).
    #[napi]
    pub fn status(&self) -> String {
        serde_json::to_string(&self.control.status()).unwrap_or_default()
    }
}

impl Drop for NativeWatch {
    fn drop(&mut self) {
        self.control.close();
    }
}

#[napi]
impl NativeNetns {
    /// Runs a watcher (`options_json`: `WatchOptions`, checked here: a bad option throws).
    /// `on_batch(json)` gets a JSON array of events after each `control.want()`. The promise
    /// resolves when the watcher is closed, or rejects with the error that ended it.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn watch<'env>(
        &self,
        env: &'env Env,
        options_json: String,
        control: &NativeWatch,
        #[napi(ts_arg_type = "(json: string) => void")] on_batch: Unknown<'env>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let (settings, receive_buffer) = WatchOptions::from_json(&options_json)
            .and_then(|o| o.settings())
            .map_err(to_napi)?;
        let ns = self.get("watch").map_err(to_napi)?.namespace().clone();
        let control = control.control.clone();
        spawn_with(env, "watch", Some(on_batch.raw()), move |callback| async move {
            let callback = callback.expect("a callback was given");
            watch::run(ns, settings, receive_buffer, control, |events| {
                let json = serde_json::to_string(&events).unwrap_or_else(|_| "[]".into());
                callback.call(move |env| Ok(vec![js(env, json)?]));
            })
            .await
        })
    }
}

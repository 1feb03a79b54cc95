//! Listings: the kernel's dumps, streamed to JavaScript as JSON parts while they arrive, or
//! gathered whole on the calling thread while they are quick (promise/read.rs).

use napi::bindgen_prelude::{Either, PromiseRaw, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;

use tenus_core::addr::AddressFilter;
use tenus_core::args;

use crate::neigh::json;
use crate::netns::NativeNetns;
use crate::promise::{js, read_now, spawn, spawn_with, would_run_here};

/// A listing's JSON parts, when it was gathered whole rather than streamed (`linkList`).
type WholeParts = Option<Vec<String>>;

#[napi]
impl NativeNetns {
    /// Every link, streamed: `onPart(attempt, json)` gets JSON arrays of link records a few
    /// hundred at a time while the dump is still arriving, so JavaScript parses one part while
    /// the kernel produces the next (the I/O thread writes the JSON straight from the kernel's
    /// messages). A new `attempt` number means the kernel said the dump changed underway and
    /// it is being read again: earlier parts are stale. Every part arrives before the promise
    /// settles, which then resolves to null.
    ///
    /// While listings here are usually quick (a few links), the listing runs on the calling
    /// thread instead (promise/read.rs) and its parts come back whole, as the array returned
    /// (or the promise's value, when it had to wait after all), with no call of `onPart`.
    #[napi(ts_return_type = "string[] | null | Promise<string[] | null>")]
    pub fn link_list<'env>(
        &self,
        env: &'env Env,
        stats: bool,
        #[napi(ts_arg_type = "(attempt: number, json: string) => void")] on_part: Unknown<'env>,
    ) -> napi::Result<Either<WholeParts, PromiseRaw<'env, WholeParts>>> {
        let h = self.get("link.list");
        if would_run_here(env, "link.list")? {
            return read_now(env, "link.list", h, move |h| async move {
                let mut parts = Vec::new();
                let mut current = 0;
                h.link_list_parts(stats, |attempt, json| {
                    if attempt != current {
                        current = attempt;
                        parts.clear();
                    }
                    parts.push(json);
                })
                .await?;
                Ok(Some(parts))
            });
        }
        spawn_with(
            env,
            "link.list",
            Some(on_part.raw()),
            move |callback| async move {
                let callback = callback.expect("a callback was given");
                h?.link_list_parts(stats, |attempt, json| {
                    callback.call(move |env| Ok(vec![js(env, attempt)?, js(env, json)?]))
                })
                .await?;
                Ok(None)
            },
        )
        .map(Either::B)
    }

    /// One link by index or name (one targeted request), as JSON.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn link_get<'env>(
        &self,
        env: &'env Env,
        link_json: String,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("link.get");
        read_now(env, "link.get", h, move |h| async move {
            let link =
                tenus_core::args::options("link", serde_json::from_str(&link_json).unwrap_or_default())?;
            h.link_get_json(&link).await
        })
    }

    /// `ip addr show` with a filter (`AddressFilter` as JSON): records as JSON.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn addr_list<'env>(
        &self,
        env: &'env Env,
        filter_json: String,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("address.list");
        read_now(env, "address.list", h, move |h| async move {
            let filter: AddressFilter = args::options("filter", json(&filter_json))?;
            let records = h.addr_list_filtered(&filter).await?;
            Ok(serde_json::to_string(&records).unwrap_or_default())
        })
    }
}

#[napi]
impl NativeNetns {
    /// Deletes many links (a JSON array of indexes and names) fast: tagged with an unused
    /// group, then deleted as that group.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn link_delete_many<'env>(
        &self,
        env: &'env Env,
        links_json: String,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.get("link.deleteMany");
        spawn(env, "link.deleteMany", async move {
            let links: Vec<tenus_core::LinkRef> =
                tenus_core::args::options("links", serde_json::from_str(&links_json).unwrap_or_default())?;
            h?.delete_links(&links).await
        })
    }
}

//! Listings: the kernel's dumps, streamed to JavaScript as JSON parts while they arrive.

use napi::bindgen_prelude::{Either, PromiseRaw, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;

use tenus_core::addr::AddressFilter;
use tenus_core::args;

use crate::neigh::json;
use crate::netns::NativeNetns;
use crate::promise::{js, read_now, spawn, spawn_with};

#[napi]
impl NativeNetns {
    /// Every link, streamed: `onPart(attempt, json)` gets JSON arrays of link records a few
    /// hundred at a time while the dump is still arriving, so JavaScript parses one part while
    /// the kernel produces the next (the I/O thread writes the JSON straight from the kernel's
    /// messages). A new `attempt` number means the kernel said the dump changed underway and
    /// it is being read again: earlier parts are stale. Every part arrives before the promise
    /// settles.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn link_list<'env>(
        &self,
        env: &'env Env,
        stats: bool,
        #[napi(ts_arg_type = "(attempt: number, json: string) => void")] on_part: Unknown<'env>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.get("link.list");
        spawn_with(
            env,
            "link.list",
            Some(on_part.raw()),
            move |callback| async move {
                let callback = callback.expect("a callback was given");
                h?.link_list_parts(stats, |attempt, json| {
                    callback.call(move |env| Ok(vec![js(env, attempt)?, js(env, json)?]))
                })
                .await
            },
        )
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
            let record = h.link_get(&link).await?;
            Ok(serde_json::to_string(&record).unwrap_or_default())
        })
    }

    /// `ip addr show` with a filter (`AddressFilter` as JSON): records as JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn addr_list<'env>(
        &self,
        env: &'env Env,
        filter_json: String,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let h = self.get("address.list");
        spawn(env, "address.list", async move {
            let filter: AddressFilter = args::options("filter", json(&filter_json))?;
            let records = h?.addr_list_filtered(&filter).await?;
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

//! Listings: the kernel's dumps, streamed to JavaScript as JSON parts while they arrive, or
//! gathered whole on the calling thread while they are quick (promise/parts.rs).

use napi::bindgen_prelude::{Either, PromiseRaw, Unknown};
use napi::Env;
use napi_derive::napi;

use tenus_core::addr::AddressFilter;
use tenus_core::args;

use crate::neigh::json;
use crate::netns::NativeNetns;
use crate::promise::{js, list_now, read_now, spawn, WholeParts};

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
    /// thread instead (promise/parts.rs) and its parts come back whole, as the array returned
    /// (or the promise's value, when it had to wait for a turn of the event loop), with no call
    /// of `onPart`; a dump too long for the calling thread goes on elsewhere, and its parts,
    /// those read so far first, come through `onPart` as above.
    #[napi(ts_return_type = "string[] | null | Promise<string[] | null>")]
    pub fn link_list<'env>(
        &self,
        env: &'env Env,
        stats: bool,
        #[napi(ts_arg_type = "(attempt: number, json: string) => void")] on_part: Unknown<'env>,
    ) -> napi::Result<Either<WholeParts<String>, PromiseRaw<'env, WholeParts<String>>>> {
        list_now(
            env,
            "link.list",
            self.get("link.list"),
            on_part,
            |env, attempt, json: String| Ok(vec![js(env, attempt)?, js(env, json)?]),
            move |h, mut parts| async move {
                h.link_list_parts(stats, |attempt, json| parts.push(attempt, json))
                    .await?;
                Ok(parts)
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

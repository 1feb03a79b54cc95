//! Neighbours: one entry, a listing and a flush, each one crossing with JSON in and out
//! (changes go through `NativeNetns.run`, as every change does).

use napi::bindgen_prelude::{Either, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use tenus_core::args;
use tenus_core::neigh::get::NeighbourFilter;
use tenus_core::neigh::spec::NeighbourKeyOptions;
use tenus_core::neigh::NeighbourKey;
use tenus_core::LinkRef;

use crate::netns::NativeNetns;
use crate::promise::{read_now, spawn};

/// A JSON document from JavaScript (its own layer wrote it: `null` when unparsable).
pub(crate) fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_default()
}

#[napi]
impl NativeNetns {
    /// `ip neigh get ADDRESS dev LINK [proxy]` (link and options as JSON): the record as JSON.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn neighbour_get<'env>(
        &self,
        env: &'env Env,
        link_json: String,
        address: String,
        options_json: String,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("neighbour.get");
        read_now(env, "neighbour.get", h, move |h| async move {
            let link: LinkRef = args::options("link", json(&link_json))?;
            let options: NeighbourKeyOptions = args::options("options", json(&options_json))?;
            let record = h
                .neigh_get(&NeighbourKey::parse(link, &address, options)?)
                .await?;
            Ok(serde_json::to_string(&record).unwrap_or_default())
        })
    }

    /// `ip neigh show` with a filter (`NeighbourFilter` as JSON): records as JSON.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn neighbour_list<'env>(
        &self,
        env: &'env Env,
        filter_json: String,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("neighbour.list");
        read_now(env, "neighbour.list", h, move |h| async move {
            let filter: NeighbourFilter = args::options("filter", json(&filter_json))?;
            let records = h.neigh_list(&filter).await?;
            Ok(serde_json::to_string(&records).unwrap_or_default())
        })
    }

    /// `ip neigh flush` with a filter (`NeighbourFilter` as JSON): how many were deleted.
    #[napi]
    pub fn neighbour_flush<'env>(
        &self,
        env: &'env Env,
        filter_json: String,
    ) -> napi::Result<PromiseRaw<'env, u32>> {
        let h = self.get("neighbour.flush");
        spawn(env, "neighbour.flush", async move {
            let filter: NeighbourFilter = args::options("filter", json(&filter_json))?;
            Ok(h?.neigh_flush(&filter).await? as u32)
        })
    }
}

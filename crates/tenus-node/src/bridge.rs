//! Bridge FDB and VLAN listings, and a link's counters: one crossing each, JSON in and out.

use napi::bindgen_prelude::{Either, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use tenus_core::args;
use tenus_core::bridge::BridgeVlanFilter;
use tenus_core::fdb::get::FdbFilter;
use tenus_core::fdb::{FdbEntry, FdbOptions};
use tenus_core::LinkRef;

use crate::neigh::json;
use crate::netns::NativeNetns;
use crate::promise::read_now;

#[napi]
impl NativeNetns {
    /// `bridge fdb get MAC dev LINK ...` (link and `FdbOptions` as JSON): the record as JSON.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn fdb_get<'env>(
        &self,
        env: &'env Env,
        link_json: String,
        mac: String,
        options_json: String,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("fdb.get");
        read_now(env, "fdb.get", h, move |h| async move {
            let link: LinkRef = args::options("link", json(&link_json))?;
            let options: FdbOptions = args::options("options", json(&options_json))?;
            let record = h.fdb_get(&FdbEntry::parse(link, &mac, options)?).await?;
            Ok(serde_json::to_string(&record).unwrap_or_default())
        })
    }

    /// `bridge fdb show` with a filter (`FdbFilter` as JSON): records as JSON.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn fdb_list<'env>(
        &self,
        env: &'env Env,
        filter_json: String,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("fdb.list");
        read_now(env, "fdb.list", h, move |h| async move {
            let filter: FdbFilter = args::options("filter", json(&filter_json))?;
            let records = h.fdb_list(&filter).await?;
            Ok(serde_json::to_string(&records).unwrap_or_default())
        })
    }

    /// `bridge vlan show` with a filter (`BridgeVlanFilter` as JSON): records as JSON.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn bridge_vlan_list<'env>(
        &self,
        env: &'env Env,
        filter_json: String,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("bridge.vlan.list");
        read_now(env, "bridge.vlan.list", h, move |h| async move {
            let filter: BridgeVlanFilter = args::options("filter", json(&filter_json))?;
            let records = h.bridge_vlan_list(&filter).await?;
            Ok(serde_json::to_string(&records).unwrap_or_default())
        })
    }

    /// One link's 64-bit counters (the link as JSON), in one request: `LinkStats64` as JSON.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn link_stats<'env>(
        &self,
        env: &'env Env,
        link_json: String,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("link.stats");
        read_now(env, "link.stats", h, move |h| async move {
            let link: LinkRef = args::options("link", json(&link_json))?;
            let stats = h.link_stats(&link).await?;
            Ok(serde_json::to_string(&stats).unwrap_or_default())
        })
    }
}

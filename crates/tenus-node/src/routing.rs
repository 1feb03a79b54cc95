//! Reading the routing state: routes (streamed as the dump arrives, like links), FIB lookups,
//! rules and nexthop objects; and deleting the routes a filter selects. Changes go through
//! `NativeNetns.run` like every other change (route, rule and nexthop batch items).

use napi::bindgen_prelude::{Either, PromiseRaw, Uint32Array, Unknown};
use napi::Env;
use napi_derive::napi;
use tenus_core::args;
use tenus_core::nexthop::NexthopListOptions;
use tenus_core::route::list::route_columns;
use tenus_core::route::{RouteGetOptions, RouteListOptions};
use tenus_core::Error;

use crate::netns::NativeNetns;
use crate::promise::{js, list_now, read_now, spawn, WholeParts};

/// A part of a route listing gathered whole (`routeList` answered on the calling thread): the
/// arguments `onPart` would have had.
/// @internal
#[napi(object)]
pub struct RoutePart {
    pub values: String,
    pub columns: Uint32Array,
}

/// Reads an option bag given as JSON text (`null` for none).
fn options<T: serde::de::DeserializeOwned + Default>(arg: &str, json: &str) -> Result<T, Error> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    if value.is_null() {
        return Ok(T::default());
    }
    args::options(arg, value)
}

#[napi]
impl NativeNetns {
    /// Routes a filter selects (JSON `RouteListOptions`), streamed: `onPart(attempt, values,
    /// columns)` gets a few hundred routes at a time while the dump arrives, in columns
    /// (tenus-core's route/columns.rs: a JSON array of values and `WIDTH` numbers per route,
    /// turned into records by src/route.ts). A new `attempt` means earlier parts are stale (as
    /// for `linkList`). Every part arrives before the promise settles, which then resolves to
    /// null. While listings here are usually quick, the listing runs on the calling thread and
    /// its parts come back whole instead, with no call of `onPart`, unless it is too long for
    /// that thread (as for `linkList`).
    #[napi(ts_return_type = "RoutePart[] | null | Promise<RoutePart[] | null>")]
    pub fn route_list<'env>(
        &self,
        env: &'env Env,
        filter_json: String,
        #[napi(ts_arg_type = "(attempt: number, values: string, columns: Uint32Array) => void")]
        on_part: Unknown<'env>,
    ) -> napi::Result<Either<WholeParts<RoutePart>, PromiseRaw<'env, WholeParts<RoutePart>>>> {
        list_now(
            env,
            "route.list",
            self.get("route.list"),
            on_part,
            |env, attempt, part: RoutePart| {
                Ok(vec![
                    js(env, attempt)?,
                    js(env, part.values)?,
                    js(env, part.columns)?,
                ])
            },
            move |h, mut parts| async move {
                let filter = options::<RouteListOptions>("filter", &filter_json)?
                    .filter(&h)
                    .await?;
                // Columns are made where the dump is read (the I/O thread, for a large one):
                // the JS thread, which builds the records from them, is the busier one.
                h.route_list_messages(&filter, |attempt, messages, names| {
                    let part = route_columns(&messages, &names);
                    parts.push(
                        attempt,
                        RoutePart {
                            values: part.values,
                            columns: Uint32Array::new(part.cols),
                        },
                    );
                })
                .await?;
                Ok(parts)
            },
        )
    }

    /// `ip route get DST ...` (JSON `RouteGetOptions`): the chosen route as JSON.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn route_get<'env>(
        &self,
        env: &'env Env,
        dst: String,
        options_json: String,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("route.get");
        read_now(env, "route.get", h, move |h| async move {
            let o: RouteGetOptions = options("options", &options_json)?;
            let record = h.route_get(&dst, &o).await?;
            Ok(serde_json::to_string(&record).unwrap_or_default())
        })
    }

    /// Deletes every route a filter selects (`ip route flush`); resolves to how many.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn route_flush<'env>(
        &self,
        env: &'env Env,
        filter_json: String,
    ) -> napi::Result<PromiseRaw<'env, u32>> {
        let h = self.get("route.flush");
        spawn(env, "route.flush", async move {
            let h = h?;
            let filter = options::<RouteListOptions>("filter", &filter_json)?
                .filter(&h)
                .await?;
            Ok(h.route_flush(&filter).await? as u32)
        })
    }

    /// `ip rule show` (family 'inet', 'inet6' or null for both), as JSON.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn rule_list<'env>(
        &self,
        env: &'env Env,
        family_json: String,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("rule.list");
        read_now(env, "rule.list", h, move |h| async move {
            let family = options::<Option<tenus_core::route::spec::Family>>("family", &family_json)?;
            let records = h.rule_list(family).await?;
            Ok(serde_json::to_string(&records).unwrap_or_default())
        })
    }

    /// `ip nexthop show [dev DEV] [groups] [fdb]` (JSON `NexthopListOptions`), as JSON.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn nexthop_list<'env>(
        &self,
        env: &'env Env,
        filter_json: String,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("nexthop.list");
        read_now(env, "nexthop.list", h, move |h| async move {
            let o: NexthopListOptions = options("filter", &filter_json)?;
            let records = h.nexthop_list(&o).await?;
            Ok(serde_json::to_string(&records).unwrap_or_default())
        })
    }

    /// `ip nexthop get id ID`, as JSON (ENOENT when there is none).
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn nexthop_get<'env>(
        &self,
        env: &'env Env,
        id: u32,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let h = self.get("nexthop.get");
        read_now(env, "nexthop.get", h, move |h| async move {
            let record = h.nexthop_get(id).await?;
            Ok(serde_json::to_string(&record).unwrap_or_default())
        })
    }
}

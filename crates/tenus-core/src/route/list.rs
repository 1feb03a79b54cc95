//! Listing routes (`ip route show [table T] [proto P] [dev D] [type T]`), filtered by the
//! kernel (the sockets have strict checking on: a dump request's table, protocol, type and
//! output link select what it sends), streamed in parts as the dump arrives; and deleting what
//! a filter selects (`ip route flush`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::args;
use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::nla::{Writer, DUMP};
use crate::transport::Messages;

use super::columns::{ColumnWriter, RouteColumns};
use super::encode::{encode_route, rtmsg, Verb, RTA_OIF, RTA_TABLE, RTM_GETROUTE};
use super::names::{Coded, NameOr, RouteProtocol, RouteTableName, RouteType, RT_TABLE_MAIN};
use super::record::{read_route, RouteRecord};
use super::spec::{Family, PROTOCOL};
use super::verbs::index_only;

/// Which routes a listing wants (`ns.routes(filter)`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct RouteListOptions {
    /// 'inet' or 'inet6' (default both).
    pub family: Option<Family>,
    /// A table (default 'main', as `ip route show`), or 'all'.
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteTableName | 'all'"))]
    pub table: Option<TableChoice>,
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteProtocol"))]
    pub protocol: Option<NameOr<RouteProtocol>>,
    /// Routes out of this link, multipath routes with a leg on it included (the kernel's filter;
    /// `ip route show dev` leaves those out, `ip route flush dev` takes them too).
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub dev: Option<LinkRef>,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "napi", napi(js_name = "type"))]
    pub kind: Option<RouteType>,
}

/// A table, or every table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableChoice {
    All,
    One(NameOr<RouteTableName>),
}

impl<'de> Deserialize<'de> for TableChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TableChoice;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a routing table number, main, local, default or all")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<TableChoice, E> {
                u32::try_from(v)
                    .map(|n| TableChoice::One(NameOr::Number(n)))
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<TableChoice, E> {
                Err(E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<TableChoice, E> {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<TableChoice, E> {
                if v == "all" {
                    return Ok(TableChoice::All);
                }
                RouteTableName::from_name(v)
                    .map(|n| TableChoice::One(NameOr::Name(n)))
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A checked filter (link resolved to its index by the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteFilter {
    pub family: Option<Family>,
    /// None: every table.
    pub table: Option<u32>,
    pub protocol: Option<u8>,
    pub kind: Option<u8>,
    pub oif: Option<u32>,
}

/// RTM_GETROUTE dump with the filter in it, as iproute2 writes it (table as RTA_TABLE).
pub fn dump_request(f: &RouteFilter) -> Vec<u8> {
    let header = rtmsg(
        f.family.map_or(0, Family::code),
        0,
        0,
        0,
        0,
        f.protocol.unwrap_or(0),
        0,
        f.kind.unwrap_or(0),
        0,
    );
    let mut w = Writer::new(RTM_GETROUTE, DUMP, &header);
    if let Some(t) = f.table {
        w.u32(RTA_TABLE, t);
    }
    if let Some(i) = f.oif {
        w.u32(RTA_OIF, i);
    }
    w.finish()
}

impl RouteListOptions {
    /// The filter, with the link's index looked up.
    pub async fn filter(self, h: &Handle) -> Result<RouteFilter> {
        let table = match self.table {
            None => Some(RT_TABLE_MAIN),
            Some(TableChoice::All) => None,
            Some(TableChoice::One(t)) => Some(args::TABLE.check("table", t.code())?),
        };
        let protocol = self
            .protocol
            .map(|p| match PROTOCOL.check("protocol", p.code())? {
                // The kernel reads protocol 0 in a dump request as "any": it would list all.
                0 => Err(Error::invalid(
                    "protocol",
                    "'unspec' (0) cannot select routes (the kernel reads it as any protocol): \
                     list without it and keep the records whose protocol is 'unspec'",
                )),
                p => Ok(p as u8),
            })
            .transpose()?;
        let oif = match &self.dev {
            Some(l) => {
                l.validate("dev")?;
                Some(
                    h.link_index(l)
                        .await
                        .map_err(|e| e.context("route.list", Some(&l.describe())))?,
                )
            }
            None => None,
        };
        Ok(RouteFilter {
            family: self.family,
            table,
            protocol,
            kind: self.kind.map(|k| k.code() as u8),
            oif,
        })
    }
}

/// The routes among `parts`, in columns (`columns.rs`), naming links from `names`.
pub fn route_columns(parts: &[Messages], names: &HashMap<u32, String>) -> RouteColumns {
    let name = |i: u32| names.get(&i).cloned();
    let mut w = ColumnWriter::new(&name);
    w.reserve(parts.iter().map(Messages::len).sum());
    // Plain loops: through an iterator chain each decoded `Route` (a few hundred bytes) was
    // copied from adapter to adapter (~5 % of the I/O thread's time in a large listing).
    for messages in parts {
        for message in messages.iter() {
            if let Some(r) = read_route(message) {
                w.push(&r);
            }
        }
    }
    w.finish()
}

impl Handle {
    /// Index → name of every link (for records, which name links).
    pub(crate) async fn link_names(&self) -> Result<HashMap<u32, String>> {
        Ok(self
            .link_list_with(false)
            .await?
            .into_iter()
            .map(|l| (l.index, l.name))
            .collect())
    }

    /// The routes `filter` selects, handed to `part(attempt, messages, names)` about `PART`
    /// routes at a time as the dump arrives (see `Handle::dump_parts`), with the link names
    /// their records need. The caller turns them into columns (`route_columns`) where it likes:
    /// the addon does it here, on the I/O thread, between reads of the dump, as the JavaScript
    /// thread (building 100,000 records from the columns) is the busier of the two.
    /// Parts are larger than the driver's: each costs the JavaScript thread a wake-up.
    pub async fn route_list_messages(
        &self,
        filter: &RouteFilter,
        mut part: impl FnMut(u32, Vec<Messages>, Arc<HashMap<u32, String>>),
    ) -> Result<()> {
        const PART: usize = 2048;
        let names = Arc::new(self.link_names().await?);
        let mut held: Vec<Messages> = Vec::new();
        let mut count = 0;
        let mut current = 0;
        self.dump_parts("route.list", dump_request(filter), |attempt, messages| {
            if attempt != current {
                // A new attempt: what is held is stale.
                current = attempt;
                held.clear();
                count = 0;
            }
            count += messages.len();
            held.push(messages);
            if count >= PART {
                part(attempt, std::mem::take(&mut held), names.clone());
                count = 0;
            }
        })
        .await?;
        if !held.is_empty() {
            part(current, held, names);
        }
        Ok(())
    }

    /// The routes `filter` selects, as records.
    pub async fn route_list(&self, filter: &RouteFilter) -> Result<Vec<RouteRecord>> {
        let names = self.link_names().await?;
        let messages = self.dump("route.list", dump_request(filter)).await?;
        Ok(messages
            .iter()
            .filter_map(read_route)
            .map(|r| r.record(&|i| names.get(&i).cloned()))
            .collect())
    }

    /// Deletes every route `filter` selects (`ip route flush ...`), pipelined; resolves to how
    /// many were deleted. Each is deleted as the kernel reported it, so it matches only itself; one
    /// that is gone by then (deleted with its link, say) is not counted.
    ///
    /// Without a family or a protocol, the IPv6 routes the kernel made itself (a link's
    /// `fe80::/64` and prefix routes) stay: `ip route flush dev DEV` flushes IPv4 alone, and
    /// losing them breaks IPv6 on the link. `family: 'inet6'` (`ip -6 route flush`) or
    /// `protocol: 'kernel'` takes them too.
    pub async fn route_flush(&self, filter: &RouteFilter) -> Result<usize> {
        let messages = self.dump("route.flush", dump_request(filter)).await?;
        let keep_kernel_v6 = filter.family.is_none() && filter.protocol.is_none();
        let kernel = RouteProtocol::Kernel.code() as u8;
        let requests = messages
            .iter()
            .filter_map(read_route)
            .filter(|r| !(keep_kernel_v6 && r.family == Family::Inet6 && r.protocol == kernel))
            .map(|r| encode_route(&r.as_request(), Verb::Delete, index_only))
            .collect::<Result<Vec<_>>>()?;
        let mut deleted = 0;
        for result in self.send_all(requests).await {
            match result {
                Ok(()) => deleted += 1,
                Err(e) if matches!(e.errno(), Some(libc::ESRCH) | Some(libc::ENOENT)) => {}
                Err(e) => return Err(e.context("route.flush", None)),
            }
        }
        Ok(deleted)
    }
}

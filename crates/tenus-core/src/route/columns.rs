//! Route listings as columns: how 100,000 routes reach JavaScript fast. A part of a dump
//! becomes one array of numbers (a `Uint32Array` in JavaScript: no parsing) and one JSON array
//! of the distinct values the routes name (their prefixes, and gateways, links, names, shared
//! by many routes, once). `src/route.ts` (`fromColumns`) builds the `RouteRecord` objects from
//! them: the same records `Route::record` makes, without a JSON object per route for V8 to
//! parse. Fields most routes lack (flags, metrics, multipath legs, realms, expiry) go as one JSON object per
//! route that has them.
//!
//! Each route is `WIDTH` numbers: family, type, dst, table, protocol, scope (values: indexes
//! into the JSON array, except the table), then a bit set of which optional fields follow, and
//! metric, via, dev, src, from, tos, nexthop, pref, extra.

use rustc_hash::FxHashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use crate::link::LinkRef;

use super::names::{Coded, RoutePref, RouteProtocol, RouteScope, RouteType};
use super::spec::{Family, Prefix, Route};

pub const WIDTH: usize = 16;

pub const HAS_METRIC: u32 = 1;
pub const HAS_VIA: u32 = 2;
pub const HAS_DEV: u32 = 4;
pub const HAS_SRC: u32 = 8;
pub const HAS_FROM: u32 = 16;
pub const HAS_TOS: u32 = 32;
pub const HAS_NEXTHOP: u32 = 64;
pub const HAS_PREF: u32 = 128;
pub const HAS_EXTRA: u32 = 256;

/// One part of a listing, in columns.
#[derive(Debug, Default)]
pub struct RouteColumns {
    /// A JSON array of values (strings, numbers, and objects for the extra fields).
    pub values: String,
    /// `WIDTH` numbers per route.
    pub cols: Vec<u32>,
}

/// Builds the columns of one part, sharing repeated values. Routes of a bulk table share
/// nearly everything but their prefix, so the last gateway and link are checked before the
/// maps, and names are found by number in small tables.
pub struct ColumnWriter<'a> {
    out: RouteColumns,
    count: u32,
    /// Index in `values` of each type, protocol and scope by number (NONE: not there yet).
    types: [u32; 256],
    protocols: [u32; 256],
    scopes: [u32; 256],
    /// Index in `values` of 'inet' and 'inet6' (NONE: not there yet): every route names one.
    families: [u32; 2],
    strings: FxHashMap<&'static str, u32>,
    ips: FxHashMap<IpAddr, u32>,
    last_ip: Option<(IpAddr, u32)>,
    /// Links by index: where their name is in `values` (None: no such link).
    devs: FxHashMap<u32, Option<u32>>,
    last_dev: Option<(u32, Option<u32>)>,
    name: &'a dyn Fn(u32) -> Option<String>,
}

const NONE: u32 = u32::MAX;

impl<'a> ColumnWriter<'a> {
    pub fn new(name: &'a dyn Fn(u32) -> Option<String>) -> Self {
        let mut out = RouteColumns::default();
        out.values.push('[');
        ColumnWriter {
            out,
            count: 0,
            types: [NONE; 256],
            protocols: [NONE; 256],
            scopes: [NONE; 256],
            families: [NONE; 2],
            strings: FxHashMap::default(),
            ips: FxHashMap::default(),
            last_ip: None,
            devs: FxHashMap::default(),
            last_dev: None,
            name,
        }
    }

    /// Makes room for `routes` more routes: the part's size is known, and buffers grown route
    /// by route were copied at each doubling.
    pub fn reserve(&mut self, routes: usize) {
        self.out.cols.reserve(routes * WIDTH);
        // A route's own value is its prefix, `"203.0.113.0/24",` (IPv6 ones are longer).
        self.out.values.reserve(routes * 18);
    }

    /// Appends a value to the JSON array; its index.
    fn push_raw(&mut self, write: impl FnOnce(&mut String)) -> u32 {
        if self.count > 0 {
            self.out.values.push(',');
        }
        write(&mut self.out.values);
        self.count += 1;
        self.count - 1
    }

    fn string(&mut self, s: &'static str) -> u32 {
        if let Some(i) = self.strings.get(s) {
            return *i;
        }
        let i = self.push_raw(|v| {
            v.push('"');
            v.push_str(s);
            v.push('"');
        });
        self.strings.insert(s, i);
        i
    }

    fn ip(&mut self, ip: IpAddr) -> u32 {
        if let Some((last, i)) = self.last_ip {
            if last == ip {
                return i;
            }
        }
        let i = match self.ips.get(&ip) {
            Some(i) => *i,
            None => {
                let i = self.push_raw(|v| {
                    v.push('"');
                    write_ip(v, &ip);
                    v.push('"');
                });
                self.ips.insert(ip, i);
                i
            }
        };
        self.last_ip = Some((ip, i));
        i
    }

    /// Where the name of link `index` is in `values`.
    fn dev(&mut self, index: u32) -> Option<u32> {
        if let Some((last, at)) = self.last_dev {
            if last == index {
                return at;
            }
        }
        let at = match self.devs.get(&index) {
            Some(at) => *at,
            None => {
                let at = (self.name)(index).map(|n| {
                    let json = serde_json::to_string(&n).unwrap_or_default();
                    self.push_raw(|v| v.push_str(&json))
                });
                self.devs.insert(index, at);
                at
            }
        };
        self.last_dev = Some((index, at));
        at
    }

    /// A name when the number has one, else the number (as `NameOr` says it).
    fn named<N: Coded>(&mut self, table: fn(&mut Self) -> &mut [u32; 256], code: u8) -> u32 {
        let known = table(self)[usize::from(code)];
        if known != NONE {
            return known;
        }
        let i = match N::from_code(u32::from(code)) {
            Some(n) => self.string(n.name()),
            None => self.push_raw(|v| {
                let _ = write!(v, "{code}");
            }),
        };
        table(self)[usize::from(code)] = i;
        i
    }

    /// Where 'inet' or 'inet6' is in `values`.
    fn family(&mut self, family: Family) -> u32 {
        let at = match family {
            Family::Inet => 0,
            Family::Inet6 => 1,
        };
        if self.families[at] == NONE {
            self.families[at] = self.string(family.as_str());
        }
        self.families[at]
    }

    fn prefix(&mut self, p: &Prefix) -> u32 {
        self.push_raw(|v| {
            v.push('"');
            write_ip(v, &p.addr);
            if p.len != if p.addr.is_ipv4() { 32 } else { 128 } {
                v.push('/');
                write_decimal(v, p.len);
            }
            v.push('"');
        })
    }

    /// Adds one route.
    pub fn push(&mut self, r: &Route) {
        let family = self.family(r.family);
        let kind = self.named::<RouteType>(|w| &mut w.types, r.kind);
        let dst = match &r.dst {
            Some(p) => self.prefix(p),
            None => self.string("default"),
        };
        let protocol = self.named::<RouteProtocol>(|w| &mut w.protocols, r.protocol);
        let scope = self.named::<RouteScope>(|w| &mut w.scopes, r.scope.unwrap_or(0));
        let via = r.gateway.map(|g| self.ip(g));
        let dev = match &r.dev {
            Some(LinkRef::Index(i)) => self.dev(*i),
            _ => None,
        };
        let src = r.prefsrc.map(|g| self.ip(g));
        let from = r.src.as_ref().map(|p| self.prefix(p));
        let pref = r.pref.map(|p| self.string(pref_name(p)));
        // The rare fields, as the record has them.
        let rare_fields = r.flags & 0xff != 0
            || !r.metrics.is_empty()
            || !r.multipath.is_empty()
            || r.expires.is_some()
            || !r.kept.is_empty();
        let extra = if rare_fields {
            let record = r.record(self.name);
            let rare = Extra {
                flags: &record.flags,
                metrics: &record.metrics,
                multipath: &record.multipath,
                realms: &record.realms,
                expires: &record.expires,
            };
            Some(self.push_raw(|v| v.push_str(&serde_json::to_string(&rare).unwrap_or_default())))
        } else {
            None
        };
        let mut has = 0;
        let mut opt = |bit: u32, value: Option<u32>| {
            if value.is_some() {
                has |= bit;
            }
            value.unwrap_or(0)
        };
        let row = [
            family,
            kind,
            dst,
            r.table,
            protocol,
            scope,
            0,
            opt(HAS_METRIC, r.metric),
            opt(HAS_VIA, via),
            opt(HAS_DEV, dev),
            opt(HAS_SRC, src),
            opt(HAS_FROM, from),
            opt(HAS_TOS, (r.tos != 0).then_some(u32::from(r.tos))),
            opt(HAS_NEXTHOP, r.nexthop),
            opt(HAS_PREF, pref),
            opt(HAS_EXTRA, extra),
        ];
        self.out.cols.extend_from_slice(&row);
        let at = self.out.cols.len() - WIDTH + 6;
        self.out.cols[at] = has;
    }

    pub fn finish(mut self) -> RouteColumns {
        self.out.values.push(']');
        self.out
    }
}

/// An address as `Ipv4Addr`'s Display writes it, without its formatting machinery (a dump of
/// 100,000 routes writes 100,000 of them).
fn write_ip(v: &mut String, ip: &IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            for (k, octet) in a.octets().iter().enumerate() {
                if k > 0 {
                    v.push('.');
                }
                write_decimal(v, *octet);
            }
        }
        IpAddr::V6(a) => {
            let _ = write!(v, "{a}");
        }
    }
}

/// `n` in decimal, as `{n}` writes it, without the formatting machinery.
fn write_decimal(v: &mut String, n: u8) {
    if n >= 100 {
        v.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        v.push(char::from(b'0' + (n / 10) % 10));
    }
    v.push(char::from(b'0' + n % 10));
}

/// A router preference's name (`ip`'s; 'invalid' for ICMPV6_ROUTER_PREF_INVALID, 2).
pub(crate) fn pref_name(p: u8) -> &'static str {
    RoutePref::from_code(u32::from(p)).map_or("invalid", RoutePref::name)
}

#[derive(serde::Serialize)]
struct Extra<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    flags: &'a Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: &'a Option<super::spec::RouteMetrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multipath: &'a Option<Vec<super::record::NexthopLegRecord>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    realms: &'a Option<super::record::Realms>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: &'a Option<u32>,
}

/// Reads columns back into records as JSON (what `fromColumns` in src/route.ts does; tests
/// hold the two encodings to one record with it).
pub fn records(c: &RouteColumns) -> Vec<serde_json::Value> {
    let values: Vec<serde_json::Value> = serde_json::from_str(&c.values).unwrap_or_default();
    let v = |i: u32| values[i as usize].clone();
    c.cols
        .chunks_exact(WIDTH)
        .map(|row| {
            let has = row[6];
            let mut o = serde_json::json!({
                "family": v(row[0]), "type": v(row[1]), "dst": v(row[2]), "table": row[3],
                "protocol": v(row[4]), "scope": v(row[5]),
            });
            let m = o.as_object_mut().expect("an object");
            for (bit, key, value) in [
                (HAS_METRIC, "metric", serde_json::json!(row[7])),
                (HAS_VIA, "via", v(row[8])),
                (HAS_DEV, "dev", v(row[9])),
                (HAS_SRC, "src", v(row[10])),
                (HAS_FROM, "from", v(row[11])),
                (HAS_TOS, "tos", serde_json::json!(row[12])),
                (HAS_NEXTHOP, "nexthop", serde_json::json!(row[13])),
                (HAS_PREF, "pref", v(row[14])),
            ] {
                if has & bit != 0 {
                    m.insert(key.into(), value);
                }
            }
            if has & HAS_EXTRA != 0 {
                if let serde_json::Value::Object(extra) = v(row[15]) {
                    m.extend(extra);
                }
            }
            o
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::encode::{encode_route, Verb, RTM_NEWROUTE};
    use crate::route::record::read_route;
    use crate::route::spec::Purpose;

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        for text in [
            "0.0.0.0",
            "9.10.99.100",
            "255.254.200.1",
            "10.0.0.2",
            "fd00::1",
            "::",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            let mut v = String::new();
            write_ip(&mut v, &ip);
            assert_eq!(v, ip.to_string());
        }
    }

    #[test]
    fn columns_say_what_records_say() {
        let name = |i: u32| Some(format!("eth{i}"));
        let mut w = ColumnWriter::new(&name);
        let mut routes = Vec::new();
        for json in [
            serde_json::json!({ "dst": "10.9.0.0/16", "via": "10.0.0.1", "dev": 3, "table": 1000, "metric": 5,
                "metrics": { "mtu": 1400, "lock": ["mtu"] }, "src": "10.0.0.254", "protocol": "static" }),
            serde_json::json!({ "dst": "fd00::/64", "from": "fd01::/64", "multipath": [
                { "via": "fd00::1", "dev": 2, "weight": 3 }, { "via": "fd00::2", "dev": 4, "onlink": true }] }),
            serde_json::json!({ "dst": "10.1.0.0/24", "via": "fd00::1", "dev": 2, "protocol": 77 }),
            serde_json::json!({ "dst": "10.2.0.0/24", "nexthop": 9, "tos": 16 }),
            serde_json::json!({ "dst": "default", "type": "unreachable", "family": "inet6" }),
            serde_json::json!({ "dst": "10.9.0.0/16", "via": "10.0.0.1", "dev": 3, "table": 1000, "metric": 6 }),
            // Prefix lengths of one, two and three digits, and whole addresses (no length).
            serde_json::json!({ "dst": "10.0.0.0/8", "dev": 2 }),
            serde_json::json!({ "dst": "fd00:1::/100", "dev": 2 }),
            serde_json::json!({ "dst": "10.5.5.5/32", "dev": 2 }),
            serde_json::json!({ "dst": "fd00::5/128", "dev": 2 }),
        ] {
            let r = Route::parse(crate::args::options("route", json).unwrap(), Purpose::Install).unwrap();
            let mut msg = encode_route(&r, Verb::Add, |l| match l {
                LinkRef::Index(i) => Ok(*i),
                LinkRef::Name(_) => Ok(7),
            })
            .unwrap();
            msg[4..6].copy_from_slice(&RTM_NEWROUTE.to_ne_bytes());
            let mut read = read_route(&msg).unwrap();
            read.pref = Some(0);
            w.push(&read);
            routes.push(read);
        }
        // What other tools set: realms, an expiry.
        let mut other = routes[0].clone();
        other.kept.push((
            crate::route::encode::RTA_FLOW,
            ((3u32 << 16) | 7).to_ne_bytes().to_vec(),
        ));
        other.expires = Some(299);
        w.push(&other);
        routes.push(other);
        let c = w.finish();
        let want: Vec<serde_json::Value> = routes
            .iter()
            .map(|r| serde_json::to_value(r.record(&name)).unwrap())
            .collect();
        assert_eq!(records(&c), want);
    }
}

//! Route requests, laid out as iproute2 lays them out (tests/iproute2_routes.rs compares them
//! byte for byte): `rtmsg`, then RTA_DST, RTA_SRC, the gateway, RTA_NH_ID, RTA_TABLE (tables
//! above 255), RTA_PRIORITY, RTA_PREFSRC, RTA_OIF, RTA_METRICS, RTA_MULTIPATH; a route read
//! from the kernel and put back by an undo also carries what it was read with and tenus has no
//! option for (realms, encap: `spec::Kept`), after them.

use std::net::IpAddr;

use crate::error::Result;
use crate::link::LinkRef;
use crate::nla::{self, ip_bytes, Writer, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, PLAIN};

use super::spec::{Family, Leg, Purpose, Route};

pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_DELROUTE: u16 = 25;
pub const RTM_GETROUTE: u16 = 26;

pub const RTA_DST: u16 = 1;
pub const RTA_SRC: u16 = 2;
pub const RTA_IIF: u16 = 3;
pub const RTA_OIF: u16 = 4;
pub const RTA_GATEWAY: u16 = 5;
pub const RTA_PRIORITY: u16 = 6;
pub const RTA_PREFSRC: u16 = 7;
pub const RTA_METRICS: u16 = 8;
pub const RTA_MULTIPATH: u16 = 9;
pub const RTA_FLOW: u16 = 11;
pub const RTA_TABLE: u16 = 15;
pub const RTA_MARK: u16 = 16;
pub const RTA_VIA: u16 = 18;
pub const RTA_CACHEINFO: u16 = 12;
pub const RTA_PREF: u16 = 20;
pub const RTA_ENCAP_TYPE: u16 = 21;
pub const RTA_ENCAP: u16 = 22;
pub const RTA_EXPIRES: u16 = 23;
pub const RTA_UID: u16 = 25;
pub const RTA_TTL_PROPAGATE: u16 = 26;
pub const RTA_IP_PROTO: u16 = 27;
pub const RTA_SPORT: u16 = 28;
pub const RTA_DPORT: u16 = 29;
pub const RTA_NH_ID: u16 = 30;

pub const RTM_F_LOOKUP_TABLE: u32 = 0x1000;
pub const RTM_F_FIB_MATCH: u32 = 0x2000;
/// In a lookup's answer: a route cache entry (`ip route get` shows `cache`).
pub const RTM_F_CLONED: u32 = 0x200;

/// The request flags of each verb (`ip route add|replace|append|prepend|change`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Exclusive: EEXIST when the route is there.
    Add,
    /// Creates it or replaces the route with the same key.
    Replace,
    /// Adds it after the routes with the same key (IPv6 merges it into a multipath route).
    Append,
    /// Adds it before the routes with the same key (IPv4; IPv6 merges as for append).
    Prepend,
    /// Replaces a route that must exist.
    Change,
    Delete,
}

impl Verb {
    pub fn flags(self) -> u16 {
        PLAIN
            | match self {
                Verb::Add => NLM_F_CREATE | NLM_F_EXCL,
                Verb::Replace => NLM_F_CREATE | NLM_F_REPLACE,
                Verb::Append => NLM_F_CREATE | NLM_F_APPEND,
                Verb::Prepend => NLM_F_CREATE,
                Verb::Change => NLM_F_REPLACE,
                Verb::Delete => 0,
            }
    }

    pub fn purpose(self) -> Purpose {
        if self == Verb::Delete {
            Purpose::Delete
        } else {
            Purpose::Install
        }
    }
}

/// `struct rtmsg`.
#[allow(clippy::too_many_arguments)]
pub fn rtmsg(
    family: u8,
    dst_len: u8,
    src_len: u8,
    tos: u8,
    table: u8,
    protocol: u8,
    scope: u8,
    kind: u8,
    flags: u32,
) -> [u8; 12] {
    let f = flags.to_ne_bytes();
    [
        family, dst_len, src_len, tos, table, protocol, scope, kind, f[0], f[1], f[2], f[3],
    ]
}

/// A gateway: RTA_GATEWAY in the route's family, RTA_VIA (family + address) in the other.
fn gateway(buf: &mut Vec<u8>, family: Family, gw: &IpAddr) {
    let (bytes, len) = ip_bytes(gw);
    if Family::of(gw) == family {
        nla::attr(buf, RTA_GATEWAY, &bytes[..len]);
    } else {
        let mut via = Vec::with_capacity(2 + len);
        via.extend_from_slice(&u16::from(Family::of(gw).code()).to_ne_bytes());
        via.extend_from_slice(&bytes[..len]);
        nla::attr(buf, RTA_VIA, &via);
    }
}

/// The RTA_MULTIPATH payload: a `struct rtnexthop` and its gateway per leg.
fn multipath(buf: &mut Vec<u8>, family: Family, legs: &[Leg], index: &[u32]) {
    for (leg, ifindex) in legs.iter().zip(index) {
        let start = buf.len();
        buf.extend_from_slice(&[0, 0, leg.flags, (leg.weight - 1) as u8]);
        buf.extend_from_slice(&ifindex.to_ne_bytes());
        if let Some(gw) = &leg.gateway {
            gateway(buf, family, gw);
        }
        for (kind, value) in &leg.kept {
            nla::attr(buf, *kind, value);
        }
        let len = (buf.len() - start) as u16;
        buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }
}

/// The length of the RTA_MULTIPATH attribute `legs` make (its header included).
pub(crate) fn multipath_len(family: Family, legs: &[Leg]) -> usize {
    let mut buf = Vec::new();
    multipath(&mut buf, family, legs, &vec![0; legs.len()]);
    4 + buf.len()
}

/// Builds the request for `route` (`kind`: RTM_NEWROUTE with `verb`'s flags, or RTM_DELROUTE),
/// with `index` resolving the links it names.
pub fn encode_route(route: &Route, verb: Verb, index: impl Fn(&LinkRef) -> Result<u32>) -> Result<Vec<u8>> {
    let purpose = verb.purpose();
    let kind = if verb == Verb::Delete {
        RTM_DELROUTE
    } else {
        RTM_NEWROUTE
    };
    let family = route.family;
    let small_table = route.table < 256;
    let header = rtmsg(
        family.code(),
        route.dst.map_or(0, |p| p.len),
        route.src.map_or(0, |p| p.len),
        route.tos,
        if small_table { route.table as u8 } else { 0 },
        route.protocol,
        route.scope_for(purpose),
        route.kind,
        route.flags,
    );
    let mut w = Writer::new(kind, verb.flags(), &header);
    match (&route.dst, family) {
        (Some(p), _) => {
            let (b, n) = ip_bytes(&p.addr);
            w.bytes(RTA_DST, &b[..n]);
        }
        // `ip -6 route add default` sends ::/0 (`ip route add default` nothing): the same route.
        (None, Family::Inet6) => {
            w.bytes(RTA_DST, &[0; 16]);
        }
        (None, Family::Inet) => {}
    }
    if let Some(p) = &route.src {
        let (b, n) = ip_bytes(&p.addr);
        w.bytes(RTA_SRC, &b[..n]);
    }
    if let Some(gw) = &route.gateway {
        w.raw(|b| gateway(b, family, gw));
    }
    if let Some(id) = route.nexthop {
        w.u32(RTA_NH_ID, id);
    }
    if !small_table {
        w.u32(RTA_TABLE, route.table);
    }
    if let Some(m) = route.metric {
        w.u32(RTA_PRIORITY, m);
    }
    if let Some(ip) = &route.prefsrc {
        let (b, n) = ip_bytes(ip);
        w.bytes(RTA_PREFSRC, &b[..n]);
    }
    if let Some(dev) = &route.dev {
        w.u32(RTA_OIF, index(dev)?);
    }
    if !route.metrics.is_empty() {
        w.bytes(RTA_METRICS, &route.metrics.encode());
    }
    if !route.multipath.is_empty() {
        let indexes = route
            .multipath
            .iter()
            .map(|l| l.dev.as_ref().map_or(Ok(0), &index))
            .collect::<Result<Vec<u32>>>()?;
        w.nest(RTA_MULTIPATH, |b| {
            multipath(b, family, &route.multipath, &indexes)
        });
    }
    if let Some(pref) = route.pref {
        w.u8(RTA_PREF, pref);
    }
    // IPv4 routes do not expire (their cache info's expiry is about exceptions).
    if let (Some(expires), Family::Inet6) = (route.expires, route.family) {
        w.u32(RTA_EXPIRES, expires);
    }
    for (kind, value) in &route.kept {
        w.bytes(*kind, value);
    }
    Ok(w.finish())
}

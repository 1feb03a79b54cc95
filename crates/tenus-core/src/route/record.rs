//! Reading routes the kernel sends (dumps, `ip route get`, reads before a change): a direct
//! decoder of RTM_NEWROUTE into a `Route` (dumps of 100,000 routes go through it), which is
//! what an undo puts back, and the record JavaScript gets.

use std::net::IpAddr;

use serde::Serialize;

use crate::link::LinkRef;
use crate::nla::{attrs, ip_of, u32_of};
use crate::transport::ack::NLMSG_HDRLEN;

use super::columns::pref_name;
use super::encode::*;
use super::names::{NameOr, RouteProtocol, RouteScope, RouteType};
use super::spec::{
    Family, Leg, Metrics, Prefix, Route, RouteMetrics, RTNH_F_DEAD, RTNH_F_LINKDOWN, RTNH_F_OFFLOAD,
    RTNH_F_ONLINK, RTNH_F_TRAP,
};

pub(super) const RTMSG_LEN: usize = 12;

/// A route as `ip -j route` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct RouteRecord {
    pub family: Family,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "napi", napi(js_name = "type", ts_type = "number | RouteType"))]
    pub kind: NameOr<RouteType>,
    /// 'default' or a prefix.
    pub dst: String,
    /// Source prefix (IPv6 `from`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos: Option<u32>,
    /// 0 in a lookup's answer that no table gave (`routeGet` with `oif` to a destination no
    /// route covers: the kernel sends it out of that link; `ip route get` shows no table).
    pub table: u32,
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteProtocol"))]
    pub protocol: NameOr<RouteProtocol>,
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteScope"))]
    pub scope: NameOr<RouteScope>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    /// Gateway (an IPv6 one on an IPv4 route is an RTA_VIA).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Output link's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// Preferred source address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// 'onlink', 'dead', 'linkdown', 'offload', 'trap' (a route given back with them is
    /// onlink when they say so; the others are the kernel's to say).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "napi", napi(ts_type = "Array<RouteFlag>"))]
    pub flags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<RouteMetrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multipath: Option<Vec<NexthopLegRecord>>,
    /// The nexthop object's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nexthop: Option<u32>,
    /// IPv6 router preference: 'low', 'medium', 'high'.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "napi", napi(ts_type = "RoutePref"))]
    pub pref: Option<String>,
    /// Realms (`ip route ... realm TO` / `realms FROM/TO`): the `realms` option.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realms: Option<Realms>,
    /// Seconds until an expiring route (IPv6, `ip -6 route ... expires N`) is removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<u32>,
    /// `routeGet` only: the input link the lookup was made for (`iif`), by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iif: Option<String>,
    /// `routeGet` only: the firewall mark the lookup was made with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark: Option<u32>,
    /// `routeGet` only: the user id the lookup was made for (the kernel answers with the
    /// caller's when none was given, as `ip route get` shows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// `routeGet` only: true when the answer is a route cache entry (`ip route get` shows
    /// `cache`), not a FIB route (`fibmatch` answers with the FIB's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<bool>,
}

/// RTA_FLOW, FRA_FLOW: the source realm (0: any) and the destination realm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct Realms {
    pub from: u32,
    pub to: u32,
}

impl Realms {
    pub fn of(flow: u32) -> Realms {
        Realms {
            from: flow >> 16,
            to: flow & 0xffff,
        }
    }
}

/// Clock ticks per second in RTA_CACHEINFO (the kernel's USER_HZ, 100 on Linux).
const USER_HZ: i32 = 100;

/// One leg of a multipath route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NexthopLegRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    pub weight: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "napi", napi(ts_type = "Array<RouteFlag>"))]
    pub flags: Option<Vec<String>>,
}

/// The names of the flags set, None when there are none.
fn flag_names(flags: u32) -> Option<Vec<String>> {
    let names: Vec<String> = [
        (RTNH_F_ONLINK, "onlink"),
        (RTNH_F_DEAD, "dead"),
        (RTNH_F_LINKDOWN, "linkdown"),
        (RTNH_F_OFFLOAD, "offload"),
        (RTNH_F_TRAP, "trap"),
    ]
    .into_iter()
    .filter(|(bit, _)| flags & u32::from(*bit) != 0)
    .map(|(_, name)| name.to_string())
    .collect();
    (!names.is_empty()).then_some(names)
}

/// A gateway from RTA_GATEWAY, or from RTA_VIA (a family, then the address).
fn via_of(v: &[u8]) -> Option<IpAddr> {
    ip_of(v.get(2..)?)
}

fn legs_of(mut v: &[u8]) -> Vec<Leg> {
    let mut out = Vec::new();
    while v.len() >= 8 {
        let len = u16::from_ne_bytes([v[0], v[1]]) as usize;
        if len < 8 || len > v.len() {
            break;
        }
        let mut leg = Leg {
            gateway: None,
            dev: u32_of(&v[4..8]).filter(|i| *i != 0).map(LinkRef::Index),
            weight: u16::from(v[3]) + 1,
            flags: v[2],
            kept: Vec::new(),
        };
        for (kind, value) in attrs(&v[8..len]) {
            match kind {
                RTA_GATEWAY => leg.gateway = ip_of(value),
                RTA_VIA => leg.gateway = via_of(value),
                RTA_FLOW | RTA_ENCAP_TYPE | RTA_ENCAP => leg.kept.push((kind, value.to_vec())),
                _ => {}
            }
        }
        out.push(leg);
        v = &v[crate::transport::ack::align4(len).min(v.len())..];
    }
    out
}

/// Decodes one netlink message; None unless it is an RTM_NEWROUTE of IPv4 or IPv6.
pub fn read_route(msg: &[u8]) -> Option<Route> {
    if crate::nla::message_type(msg)? != RTM_NEWROUTE {
        return None;
    }
    read_route_message(msg)
}

/// Decodes an RTM_NEWROUTE or RTM_DELROUTE (a watcher's events) of IPv4 or IPv6.
pub fn read_route_message(msg: &[u8]) -> Option<Route> {
    if msg.len() < NLMSG_HDRLEN + RTMSG_LEN {
        return None;
    }
    let h = &msg[NLMSG_HDRLEN..NLMSG_HDRLEN + RTMSG_LEN];
    let family = Family::from_code(h[0])?;
    let flags = u32_of(&h[8..12])?;
    let unspecified = || match family {
        Family::Inet => IpAddr::V4(0.into()),
        Family::Inet6 => IpAddr::V6(0.into()),
    };
    let mut r = Route {
        family,
        dst: (h[1] > 0).then(|| Prefix {
            addr: unspecified(),
            len: h[1],
        }),
        src: (h[2] > 0).then(|| Prefix {
            addr: unspecified(),
            len: h[2],
        }),
        tos: h[3],
        table: u32::from(h[4]),
        protocol: h[5],
        scope: Some(h[6]),
        kind: h[7],
        flags,
        gateway: None,
        dev: None,
        prefsrc: None,
        metric: None,
        metrics: Metrics::default(),
        multipath: Vec::new(),
        nexthop: None,
        pref: None,
        expires: None,
        kept: Vec::new(),
    };
    for (kind, v) in attrs(&msg[NLMSG_HDRLEN + RTMSG_LEN..]) {
        match kind {
            RTA_DST => {
                if let (Some(p), Some(ip)) = (r.dst.as_mut(), ip_of(v)) {
                    p.addr = ip;
                }
            }
            RTA_SRC => {
                if let (Some(p), Some(ip)) = (r.src.as_mut(), ip_of(v)) {
                    p.addr = ip;
                }
            }
            RTA_GATEWAY => r.gateway = ip_of(v),
            RTA_VIA => r.gateway = via_of(v),
            RTA_OIF => r.dev = u32_of(v).map(LinkRef::Index),
            RTA_PRIORITY => r.metric = u32_of(v),
            RTA_PREFSRC => r.prefsrc = ip_of(v),
            RTA_TABLE => r.table = u32_of(v).unwrap_or(r.table),
            RTA_METRICS => r.metrics = Metrics::decode(v),
            RTA_MULTIPATH => r.multipath = legs_of(v),
            RTA_NH_ID => r.nexthop = u32_of(v),
            RTA_PREF => r.pref = v.first().copied(),
            // struct rta_cacheinfo: rta_expires (ticks left, signed) after two u32s.
            RTA_CACHEINFO => {
                let ticks = v.get(8..12).and_then(u32_of).map(|t| t as i32);
                r.expires = ticks.filter(|t| *t > 0).map(|t| (t / USER_HZ) as u32);
            }
            RTA_FLOW | RTA_ENCAP_TYPE | RTA_ENCAP | RTA_TTL_PROPAGATE => r.kept.push((kind, v.to_vec())),
            _ => {}
        }
    }
    Some(r)
}

impl Route {
    /// What JavaScript gets; `name` turns a link index into its name.
    pub fn record(&self, name: &dyn Fn(u32) -> Option<String>) -> RouteRecord {
        let dev_name = |l: &Option<LinkRef>| match l {
            Some(LinkRef::Index(i)) => name(*i),
            Some(LinkRef::Name(n)) => Some(n.clone()),
            None => None,
        };
        let kind = NameOr::of(u32::from(self.kind));
        // Only metrics with a name in RouteMetrics show (rtt, quickack, ... alone: none).
        let metrics = Some(self.metrics.options()).filter(|m| *m != RouteMetrics::default());
        RouteRecord {
            family: self.family,
            kind,
            dst: self.label(),
            from: self.src.map(|p| p.to_string()),
            tos: (self.tos != 0).then_some(u32::from(self.tos)),
            table: self.table,
            protocol: NameOr::of(u32::from(self.protocol)),
            scope: NameOr::of(u32::from(self.scope.unwrap_or(0))),
            metric: self.metric,
            via: self.gateway.map(|g| g.to_string()),
            dev: dev_name(&self.dev),
            src: self.prefsrc.map(|g| g.to_string()),
            flags: flag_names(self.flags & 0xff),
            metrics,
            multipath: (!self.multipath.is_empty()).then(|| {
                self.multipath
                    .iter()
                    .map(|l| NexthopLegRecord {
                        via: l.gateway.map(|g| g.to_string()),
                        dev: dev_name(&l.dev),
                        weight: u32::from(l.weight),
                        flags: flag_names(u32::from(l.flags)),
                    })
                    .collect()
            }),
            nexthop: self.nexthop,
            pref: self.pref.map(|p| pref_name(p).to_string()),
            realms: crate::nla::kept(&self.kept, RTA_FLOW)
                .and_then(u32_of)
                .map(Realms::of),
            expires: self.expires,
            iif: None,
            mark: None,
            uid: None,
            cached: None,
        }
    }

    /// The route as a request that puts it back as read: the kernel's own flags dropped (only
    /// onlink is the caller's), and a route on a nexthop object sent by its id alone (dumps
    /// also spell the object's gateway out).
    pub fn as_request(&self) -> Route {
        let mut r = self.clone();
        r.flags &= u32::from(RTNH_F_ONLINK);
        for leg in &mut r.multipath {
            leg.flags &= RTNH_F_ONLINK;
        }
        if r.nexthop.is_some() {
            // Dumps spell out the object's realm and encap too; the kernel refuses them beside an id.
            r.gateway = None;
            r.dev = None;
            r.multipath.clear();
            r.kept.clear();
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::spec::Purpose;

    fn route(json: serde_json::Value) -> Route {
        Route::parse(crate::args::options("route", json).unwrap(), Purpose::Install).unwrap()
    }

    fn roundtrip(r: &Route) -> Route {
        let mut msg = encode_route(r, Verb::Add, |l| match l {
            LinkRef::Index(i) => Ok(*i),
            LinkRef::Name(_) => Ok(7),
        })
        .unwrap();
        // As the kernel reports it: an RTM_NEWROUTE.
        msg[4..6].copy_from_slice(&RTM_NEWROUTE.to_ne_bytes());
        read_route(&msg).expect("a route")
    }

    #[test]
    fn what_is_encoded_reads_back() {
        for json in [
            serde_json::json!({ "dst": "10.9.0.0/16", "via": "10.0.0.1", "dev": 3, "table": 1000, "metric": 5,
                "metrics": { "mtu": 1400, "lock": ["mtu"] }, "src": "10.0.0.254", "protocol": "static" }),
            serde_json::json!({ "dst": "fd00::/64", "from": "fd01::/64", "multipath": [
                { "via": "fd00::1", "dev": 2, "weight": 3 }, { "via": "fd00::2", "dev": 4, "onlink": true }] }),
            serde_json::json!({ "dst": "10.1.0.0/24", "via": "fd00::1", "dev": 2 }),
            serde_json::json!({ "dst": "10.2.0.0/24", "nexthop": 9, "type": "unicast", "tos": 16 }),
            serde_json::json!({ "dst": "default", "type": "unreachable", "family": "inet6" }),
        ] {
            let r = route(json.clone());
            let mut back = roundtrip(&r);
            // Read routes carry the scope the request had; the rest must be the same.
            back.scope = r.scope;
            assert_eq!(back, r, "{json}");
        }
    }

    #[test]
    fn realms_and_an_expiry_set_by_other_tools_show_and_go_back() {
        let r = route(serde_json::json!({ "dst": "fd09::/64", "via": "fd00::2", "dev": 3 }));
        let mut msg = encode_route(&r, Verb::Add, |_| Ok(3)).unwrap();
        msg[4..6].copy_from_slice(&RTM_NEWROUTE.to_ne_bytes());
        // As a dump has them: RTA_FLOW (realms 3/7), RTA_CACHEINFO with 299.5 s left (ticks).
        let mut cacheinfo = [0u8; 32];
        cacheinfo[8..12].copy_from_slice(&29950u32.to_ne_bytes());
        crate::nla::attr(&mut msg, RTA_FLOW, &((3u32 << 16) | 7).to_ne_bytes());
        crate::nla::attr(&mut msg, RTA_CACHEINFO, &cacheinfo);
        let len = msg.len() as u32;
        msg[0..4].copy_from_slice(&len.to_ne_bytes());
        let read = read_route(&msg).unwrap();
        let record = read.record(&|_| Some("e0".into()));
        assert_eq!(record.realms, Some(Realms { from: 3, to: 7 }));
        assert_eq!(record.expires, Some(299));
        // Put back, it carries both: the realms as read, the seconds left as RTA_EXPIRES.
        let again = encode_route(&read.as_request(), Verb::Add, |_| Ok(3)).unwrap();
        let attrs: Vec<(u16, Vec<u8>)> = crate::nla::attrs(&again[NLMSG_HDRLEN + RTMSG_LEN..])
            .map(|(k, v)| (k, v.to_vec()))
            .collect();
        assert!(attrs.contains(&(RTA_FLOW, ((3u32 << 16) | 7).to_ne_bytes().to_vec())));
        assert!(attrs.contains(&(RTA_EXPIRES, 299u32.to_ne_bytes().to_vec())));
        assert!(!attrs.iter().any(|(k, _)| *k == RTA_CACHEINFO));
        // An expired or IPv4 cache entry (0 or negative ticks) shows nothing.
        cacheinfo[8..12].copy_from_slice(&(-5i32).to_ne_bytes());
        let at = msg.len() - 36;
        msg[at + 4..].copy_from_slice(&cacheinfo);
        assert_eq!(read_route(&msg).unwrap().expires, None);
    }

    #[test]
    fn a_string_metric_reads_back_as_it_was() {
        // RTAX_MTU 1400, then RTAX_CC_ALGO "cubic" (a string: read as a number it became "cubi").
        let mut payload = Vec::new();
        crate::nla::attr(&mut payload, 2, &1400u32.to_ne_bytes());
        crate::nla::attr(&mut payload, 16, b"cubic\0");
        let m = Metrics::decode(&payload);
        assert_eq!(m.cc_algo.as_deref(), Some(&b"cubic\0"[..]));
        assert_eq!(m.encode(), payload);
    }

    #[test]
    fn records_say_names() {
        let r =
            route(serde_json::json!({ "dst": "10.9.0.0/16", "via": "10.0.0.1", "dev": 3, "table": "main" }));
        let rec = roundtrip(&r).record(&|i| (i == 3).then(|| "eth0".to_string()));
        let json = serde_json::to_value(&rec).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "family": "inet", "type": "unicast", "dst": "10.9.0.0/16", "table": 254,
                "protocol": "tenus", "scope": "global", "via": "10.0.0.1", "dev": "eth0" })
        );
    }
}

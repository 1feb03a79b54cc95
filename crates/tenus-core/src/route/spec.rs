//! A route as a caller asks for it (`RouteOptions`, JSON from JavaScript) and as tenus holds it
//! once checked (`Route`): typed addresses and prefixes, numbers for names, every rule the
//! kernel would refuse caught here first with an error naming the option.

use std::net::IpAddr;

use serde::Deserialize;

use crate::args::{self, Int};
use crate::error::{Error, Result};
use crate::link::LinkRef;

use super::names::{
    Coded, NameOr, RoutePref, RouteProtocol, RouteScope, RouteTableName, RouteType, RT_TABLE_LOCAL,
    RT_TABLE_MAIN, TENUS_PROTOCOL,
};

crate::js_enum!(Family { Inet = "inet", Inet6 = "inet6" });

impl Family {
    pub fn of(ip: &IpAddr) -> Family {
        if ip.is_ipv4() {
            Family::Inet
        } else {
            Family::Inet6
        }
    }

    /// AF_INET / AF_INET6, as netlink-packet-route names them (headers of addresses and
    /// neighbours).
    pub fn netlink(self) -> netlink_packet_route::AddressFamily {
        self.code().into()
    }

    /// AF_INET / AF_INET6.
    pub fn code(self) -> u8 {
        match self {
            Family::Inet => libc::AF_INET as u8,
            Family::Inet6 => libc::AF_INET6 as u8,
        }
    }

    pub fn from_code(code: u8) -> Option<Family> {
        match i32::from(code) {
            libc::AF_INET => Some(Family::Inet),
            libc::AF_INET6 => Some(Family::Inet6),
            _ => None,
        }
    }

    pub fn max_prefix(self) -> u8 {
        match self {
            Family::Inet => 32,
            Family::Inet6 => 128,
        }
    }
}

pub const METRIC: Int = Int::new("metric", 0..=u32::MAX as u64);
pub const PROTOCOL: Int = Int::new("protocol", 0..=255);
pub const SCOPE: Int = Int::new("scope", 0..=255);
pub const TOS: Int = Int::new("TOS", 0..=255);
pub const WEIGHT: Int = Int::new("weight", 1..=256);
pub const NEXTHOP_ID: Int = Int::new("nexthop id", 1..=u32::MAX as u64);
pub const HOPLIMIT: Int = Int::new("hop limit", 1..=255);
pub const ROUTE_MTU: Int = Int::new("route MTU", 68..=65535);

/// `ip route ... mtu [lock] N advmss N window N initcwnd N initrwnd N hoplimit N`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct RouteMetrics {
    /// Path MTU (RTAX_MTU).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Advertised TCP MSS (RTAX_ADVMSS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advmss: Option<u32>,
    /// Largest TCP window to advertise (RTAX_WINDOW).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<u32>,
    /// Initial TCP congestion window (RTAX_INITCWND).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initcwnd: Option<u32>,
    /// Initial TCP receive window (RTAX_INITRWND).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initrwnd: Option<u32>,
    /// IPv6 hop limit / IPv4 TTL (RTAX_HOPLIMIT).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hoplimit: Option<u32>,
    /// Metrics the kernel must not change by itself (path MTU discovery, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<Vec<MetricName>>,
}

crate::js_enum!(MetricName {
    Mtu = "mtu",
    Advmss = "advmss",
    Window = "window",
    Initcwnd = "initcwnd",
    Initrwnd = "initrwnd",
    Hoplimit = "hoplimit",
});

impl MetricName {
    /// RTAX_*.
    pub fn code(self) -> u16 {
        match self {
            MetricName::Mtu => 2,
            MetricName::Window => 3,
            MetricName::Advmss => 8,
            MetricName::Hoplimit => 10,
            MetricName::Initcwnd => 11,
            MetricName::Initrwnd => 14,
        }
    }
}

/// One leg of a multipath route (`nexthop via GW dev DEV weight W`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NexthopLeg {
    /// Gateway: of the route's family, or IPv6 for an IPv4 route (RTA_VIA).
    pub via: Option<String>,
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub dev: Option<LinkRef>,
    /// 1..=256 (default 1): the share of flows this leg gets.
    pub weight: Option<u32>,
    /// The gateway is on the link even if no address says so.
    pub onlink: Option<bool>,
    /// A record's flags, so that a listed leg can be given back: 'onlink' is `onlink`; the
    /// others are states the kernel reports ('dead', 'linkdown', 'offload', 'trap'), ignored.
    pub flags: Option<Vec<RouteFlag>>,
}

crate::js_enum!(RouteFlag {
    Onlink = "onlink",
    Dead = "dead",
    Linkdown = "linkdown",
    Offload = "offload",
    Trap = "trap",
});

impl RouteFlag {
    /// RTNH_F_*.
    pub fn bit(self) -> u8 {
        match self {
            RouteFlag::Onlink => RTNH_F_ONLINK,
            RouteFlag::Dead => RTNH_F_DEAD,
            RouteFlag::Linkdown => RTNH_F_LINKDOWN,
            RouteFlag::Offload => RTNH_F_OFFLOAD,
            RouteFlag::Trap => RTNH_F_TRAP,
        }
    }
}

/// Whether a route or a leg is onlink, by its `onlink` option and its `flags` (a record's,
/// given back), which may not say otherwise.
pub(crate) fn onlink_of(arg: &str, onlink: Option<bool>, flags: Option<&[RouteFlag]>) -> Result<bool> {
    let flagged = flags.is_some_and(|f| f.contains(&RouteFlag::Onlink));
    if onlink == Some(false) && flagged {
        return Err(Error::invalid(
            arg,
            "onlink is false but flags has 'onlink': give one of them",
        ));
    }
    Ok(onlink.unwrap_or(false) || flagged)
}

/// Realms (`ip route ... realm TO`, `realms FROM/TO`), each 0..=65535 (RTA_FLOW holds 16 bits
/// of each).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct RealmsOptions {
    /// The source realm (default 0: any).
    pub from: Option<u32>,
    /// The destination realm.
    pub to: u32,
}

pub const REALM: Int = Int::new("realm", 0..=65535);

impl RealmsOptions {
    /// RTA_FLOW, FRA_FLOW: the source realm in the high 16 bits.
    pub fn flow(&self, arg: &str) -> Result<u32> {
        let from = REALM.check(&format!("{arg}.from"), self.from.unwrap_or(0))?;
        let to = REALM.check(&format!("{arg}.to"), self.to)?;
        Ok(((from as u32) << 16) | to as u32)
    }
}

/// A route (`ip route add|replace|append|prepend|change|del ...`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct RouteOptions {
    /// 'default', a prefix ('10.9.0.0/16', 'fd00::/64'), or an address (a host route).
    /// (Batch items carry it beside the options: `[code, dst, options]`.)
    #[serde(default)]
    pub dst: String,
    /// Needed only for 'default' when nothing else says the family (default 'inet').
    pub family: Option<Family>,
    /// Gateway: of the route's family, or IPv6 for an IPv4 route (sent as RTA_VIA).
    pub via: Option<String>,
    /// Output link.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub dev: Option<LinkRef>,
    /// The gateway is on the link even if no address says so.
    pub onlink: Option<bool>,
    /// Preferred source address for traffic the route carries (`src`).
    pub src: Option<String>,
    /// Source prefix the route applies to (`from`; IPv6 only).
    pub from: Option<String>,
    /// Table number, or 'main' (default; 'local' for local, broadcast and anycast routes, as
    /// `ip` chooses), 'local', 'default'.
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteTableName"))]
    pub table: Option<NameOr<RouteTableName>>,
    /// Priority among routes to the same prefix (lower wins).
    pub metric: Option<u32>,
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteScope"))]
    pub scope: Option<NameOr<RouteScope>>,
    /// Who owns the route; tenus marks its own 'tenus' (116) unless told otherwise.
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteProtocol"))]
    pub protocol: Option<NameOr<RouteProtocol>>,
    /// Default 'unicast'; a number is a type's (RTN_*), as records say an unnamed one.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "napi", napi(js_name = "type", ts_type = "number | RouteType"))]
    pub kind: Option<NameOr<RouteType>>,
    /// IPv4 type of service the route applies to.
    pub tos: Option<u32>,
    pub metrics: Option<RouteMetrics>,
    /// Several nexthops (ECMP), each with its own gateway, link and weight.
    pub multipath: Option<Vec<NexthopLeg>>,
    /// A nexthop object's id (`nhid`): the route uses it instead of a gateway or link.
    pub nexthop: Option<u32>,
    /// IPv6 router preference (`pref low|medium|high`): among routes with one prefix and
    /// metric, the kernel prefers a higher one. Default 'medium'.
    pub pref: Option<RoutePref>,
    /// IPv4 only: realms (`realm TO`, `realms FROM/TO`), which `route` classifiers and realm
    /// counters match.
    pub realms: Option<RealmsOptions>,
    /// IPv6 only: seconds until the kernel removes the route (`expires N`).
    pub expires: Option<u32>,
    /// A record's flags, so that a listed route can be given back: 'onlink' is `onlink`; the
    /// others are states the kernel reports ('dead', 'linkdown', 'offload', 'trap'), ignored.
    pub flags: Option<Vec<RouteFlag>>,
}

/// An address prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl std::fmt::Display for Prefix {
    /// As `ip` shows it: a whole address (/32, /128) without its length.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whole = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.len == whole {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.len)
        }
    }
}

/// A leg of a multipath route, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub gateway: Option<IpAddr>,
    pub dev: Option<LinkRef>,
    /// 1..=256 (the kernel stores weight - 1 in `rtnh_hops`).
    pub weight: u16,
    /// RTNH_F_* (ONLINK on requests; DEAD, LINKDOWN, ... in dumps).
    pub flags: u8,
    /// The leg's realm and encap as read (see `Kept`).
    pub kept: Kept,
}

/// Attributes of a route read from the kernel that tenus has no option for, but that a
/// request can carry back (realms, lightweight-tunnel encap, MPLS TTL propagation): kept as
/// read, `(type, payload)`, so that an undo puts the route back whole. Empty on requests
/// built from options.
pub type Kept = Vec<(u16, Vec<u8>)>;

/// Route metrics as numbers (RTAX_*), kept in the order they are sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    pub values: Vec<(u16, u32)>,
    /// RTAX_LOCK: a bit per locked metric.
    pub lock: u32,
    /// RTAX_CC_ALGO as read (`congctl NAME`): the one metric that is a string, not a number.
    pub cc_algo: Option<Vec<u8>>,
}

impl Metrics {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.lock == 0 && self.cc_algo.is_none()
    }
}

pub const RTNH_F_DEAD: u8 = 1;
pub const RTNH_F_ONLINK: u8 = 4;
pub const RTNH_F_OFFLOAD: u8 = 8;
pub const RTNH_F_LINKDOWN: u8 = 16;
pub const RTNH_F_TRAP: u8 = 64;
const RTAX_LOCK: u16 = 1;
const RTAX_CC_ALGO: u16 = 16;

/// A checked route: what a request is built from and what a read route is decoded into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub family: Family,
    /// None for the default route.
    pub dst: Option<Prefix>,
    /// Source prefix (IPv6 `from`).
    pub src: Option<Prefix>,
    pub tos: u8,
    pub table: u32,
    /// 0 on a deletion means any.
    pub protocol: u8,
    /// None: chosen as iproute2 chooses it (link for a unicast route without gateway, ...).
    pub scope: Option<u8>,
    /// RTN_* (0 on a deletion: any).
    pub kind: u8,
    /// `rtm_flags`: RTNH_F_ONLINK on requests.
    pub flags: u32,
    pub gateway: Option<IpAddr>,
    pub dev: Option<LinkRef>,
    pub prefsrc: Option<IpAddr>,
    pub metric: Option<u32>,
    pub metrics: Metrics,
    pub multipath: Vec<Leg>,
    pub nexthop: Option<u32>,
    /// RTA_PREF (IPv6 router preference), kept when a read route is put back.
    pub pref: Option<u8>,
    /// Seconds left of an expiring IPv6 route (read from RTA_CACHEINFO): put back as
    /// RTA_EXPIRES, so a restored route expires when it would have.
    pub expires: Option<u32>,
    /// What a read route had that tenus has no option for (see `Kept`).
    pub kept: Kept,
}

/// What a verb does with what the options leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// add, replace, append, prepend, change: defaults filled in (type unicast, tenus' protocol).
    Install,
    /// del: what is left out matches any route.
    Delete,
}

/// A destination or source prefix, checked: host bits are refused. The kernel refuses them
/// for IPv4 ("Invalid prefix for given prefix length") and masks them away for IPv6, where
/// `fd00::1/64` would then name the link's own prefix route (a delete would take it).
pub(crate) fn prefix(arg: &str, text: &str) -> Result<Prefix> {
    let (addr, len) = args::cidr(arg, text)?;
    let net = match addr {
        IpAddr::V4(a) => IpAddr::V4((u32::from(a) & mask4(len)).into()),
        IpAddr::V6(a) => IpAddr::V6((u128::from(a) & mask6(len)).into()),
    };
    if net != addr {
        return Err(Error::invalid(
            arg,
            format!("{text:?} has host bits set; the prefix is {net}/{len}"),
        ));
    }
    Ok(Prefix { addr, len })
}

fn mask4(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

fn mask6(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

fn same_family(arg: &str, ip: &IpAddr, family: Family) -> Result<()> {
    if Family::of(ip) != family {
        return Err(Error::invalid(
            arg,
            format!("{ip} is not an {} address, as the route is", family.as_str()),
        ));
    }
    Ok(())
}

/// A gateway of `family`'s route: an IPv6 one is allowed on an IPv4 route (RTA_VIA), not the
/// other way round.
fn gateway(arg: &str, text: &str, family: Family) -> Result<IpAddr> {
    let ip = args::ip(arg, text)?;
    if family == Family::Inet6 && ip.is_ipv4() {
        return Err(Error::invalid(
            arg,
            format!("{ip} is an IPv4 address; an IPv6 route needs an IPv6 gateway"),
        ));
    }
    Ok(ip)
}

impl Metrics {
    fn parse(m: &RouteMetrics) -> Result<Metrics> {
        let mut out = Metrics::default();
        let mut put = |name: MetricName, value: Option<u32>, check: Option<&Int>| -> Result<()> {
            if let Some(v) = value {
                let arg = format!("metrics.{}", name.as_str());
                if let Some(int) = check {
                    int.check(&arg, v)?;
                }
                out.values.push((name.code(), v));
            }
            Ok(())
        };
        put(MetricName::Mtu, m.mtu, Some(&ROUTE_MTU))?;
        put(MetricName::Advmss, m.advmss, None)?;
        put(MetricName::Window, m.window, None)?;
        put(MetricName::Initcwnd, m.initcwnd, None)?;
        put(MetricName::Initrwnd, m.initrwnd, None)?;
        put(MetricName::Hoplimit, m.hoplimit, Some(&HOPLIMIT))?;
        for name in m.lock.iter().flatten() {
            // A lock fixes the value given beside it; without one the kernel would lock 0.
            if !out.values.iter().any(|(code, _)| *code == name.code()) {
                return Err(Error::invalid_type(
                    "metrics.lock",
                    format!(
                        "{0} is locked but has no value: give metrics.{0} too",
                        name.as_str()
                    ),
                ));
            }
            out.lock |= 1 << name.code();
        }
        Ok(out)
    }

    /// The RTA_METRICS payload (a list of RTAX_* u32 attributes, the lock last, as ip sends it).
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(8 * (self.values.len() + 1));
        for (kind, v) in &self.values {
            crate::nla::attr(&mut buf, *kind, &v.to_ne_bytes());
        }
        if let Some(name) = &self.cc_algo {
            crate::nla::attr(&mut buf, RTAX_CC_ALGO, name);
        }
        if self.lock != 0 {
            crate::nla::attr(&mut buf, RTAX_LOCK, &self.lock.to_ne_bytes());
        }
        buf
    }

    /// Reads an RTA_METRICS payload.
    pub fn decode(payload: &[u8]) -> Metrics {
        let mut out = Metrics::default();
        for (kind, v) in crate::nla::attrs(payload) {
            if kind == RTAX_CC_ALGO {
                out.cc_algo = Some(v.to_vec());
                continue;
            }
            let Some(v) = crate::nla::u32_of(v) else { continue };
            if kind == RTAX_LOCK {
                out.lock = v;
            } else {
                out.values.push((kind, v));
            }
        }
        out
    }

    /// As JavaScript sees them (metrics tenus has no name for are left out).
    pub fn options(&self) -> RouteMetrics {
        let mut m = RouteMetrics::default();
        for (kind, v) in &self.values {
            let v = Some(*v);
            match *kind {
                2 => m.mtu = v,
                3 => m.window = v,
                8 => m.advmss = v,
                10 => m.hoplimit = v,
                11 => m.initcwnd = v,
                14 => m.initrwnd = v,
                _ => {}
            }
        }
        let locked: Vec<MetricName> = MetricName::ALL
            .iter()
            .copied()
            .filter(|n| self.lock & (1 << n.code()) != 0)
            .collect();
        if !locked.is_empty() {
            m.lock = Some(locked);
        }
        m
    }
}

impl Route {
    /// Checks options; what is left out gets iproute2's defaults for `purpose`.
    pub fn parse(o: RouteOptions, purpose: Purpose) -> Result<Route> {
        let install = purpose == Purpose::Install;
        let dst = if o.dst == "default" {
            None
        } else {
            Some(prefix("dst", &o.dst)?)
        };
        // The family: the destination's, else what the other addresses say, else IPv4.
        let hint = o
            .via
            .as_deref()
            .or(o.src.as_deref())
            .or(o.from.as_deref())
            .or_else(|| o.multipath.as_ref()?.iter().find_map(|l| l.via.as_deref()))
            .and_then(|t| t.split('/').next()?.parse::<IpAddr>().ok())
            .map(|ip| Family::of(&ip));
        let family = match (dst, o.family) {
            (Some(p), Some(f)) if Family::of(&p.addr) != f => {
                return Err(Error::invalid(
                    "family",
                    format!("{} is not an {} prefix", o.dst, f.as_str()),
                ))
            }
            (Some(p), _) => Family::of(&p.addr),
            (None, Some(f)) => f,
            (None, None) => hint.unwrap_or(Family::Inet),
        };
        let kind = match o.kind {
            Some(NameOr::Name(k)) => Some(k),
            Some(NameOr::Number(n)) => Some(RouteType::from_code(n).ok_or_else(|| {
                Error::invalid("type", format!("{n} is not a route type tenus knows (1..=9)"))
            })?),
            None if install => Some(RouteType::Unicast),
            None => None,
        };
        let reject = kind.is_some_and(RouteType::is_reject);

        let via = o.via.as_deref().map(|t| gateway("via", t, family)).transpose()?;
        let src = o
            .src
            .as_deref()
            .map(|t| {
                let ip = args::ip("src", t)?;
                same_family("src", &ip, family)?;
                Ok(ip)
            })
            .transpose()?;
        let from = o.from.as_deref().map(|t| prefix("from", t)).transpose()?;
        if let Some(p) = &from {
            same_family("from", &p.addr, family)?;
            if family == Family::Inet {
                return Err(Error::invalid(
                    "from",
                    "IPv4 routes cannot match a source prefix (use a rule: ns.rule({ from }))",
                ));
            }
        }
        let table = match o.table {
            Some(t) => args::TABLE.check("table", t.code())?,
            // As `ip route add local ...`: the kernel's own local routes are there too.
            None if kind.is_some_and(RouteType::is_local_table) => RT_TABLE_LOCAL,
            None => RT_TABLE_MAIN,
        };
        let metric = o.metric.map(|m| METRIC.check("metric", m)).transpose()?;
        // IPv6 has no metric 0: the kernel files such a route under 1024 and deletes with it
        // any route of the prefix, as when none is given (the undo's key must be the kernel's).
        let metric = metric.filter(|m| *m != 0 || family == Family::Inet);
        let scope = o
            .scope
            .map(|s| SCOPE.check("scope", s.code()).map(|s| s as u8))
            .transpose()?;
        let protocol = match o.protocol {
            Some(p) => PROTOCOL.check("protocol", p.code())? as u8,
            None if install => TENUS_PROTOCOL,
            None => 0,
        };
        let tos = match o.tos {
            Some(t) => {
                if family == Family::Inet6 {
                    return Err(Error::invalid("tos", "IPv6 routes have no TOS selector"));
                }
                TOS.check("tos", t)? as u8
            }
            None => 0,
        };
        let pref = match o.pref {
            Some(_) if family == Family::Inet => {
                return Err(Error::invalid("pref", "IPv4 routes have no router preference"))
            }
            p => p.map(|p| p.code() as u8),
        };
        let mut kept = Kept::new();
        if let Some(r) = &o.realms {
            if family == Family::Inet6 {
                return Err(Error::invalid("realms", "IPv6 routes have no realms"));
            }
            let flow = r.flow("realms")?;
            kept.push((super::encode::RTA_FLOW, flow.to_ne_bytes().to_vec()));
        }
        let expires = match o.expires {
            Some(_) if family == Family::Inet => {
                return Err(Error::invalid("expires", "IPv4 routes do not expire"))
            }
            Some(0) => return Err(Error::invalid("expires", "0 s: give at least 1")),
            e => e,
        };
        let metrics = o
            .metrics
            .as_ref()
            .map(Metrics::parse)
            .transpose()?
            .unwrap_or_default();
        if let Some(d) = &o.dev {
            d.validate("dev")?;
        }

        let mut legs = Vec::new();
        if let Some(list) = &o.multipath {
            if list.is_empty() {
                return Err(Error::invalid("multipath", "needs at least one nexthop"));
            }
            for (i, leg) in list.iter().enumerate() {
                let arg = |f: &str| format!("multipath[{i}].{f}");
                let gateway = leg
                    .via
                    .as_deref()
                    .map(|t| gateway(&arg("via"), t, family))
                    .transpose()?;
                if let Some(d) = &leg.dev {
                    d.validate(&arg("dev"))?;
                }
                if gateway.is_none() && leg.dev.is_none() {
                    return Err(Error::invalid_type(
                        &arg("via"),
                        "a nexthop needs a gateway (via) or a link (dev)",
                    ));
                }
                let weight = WEIGHT.check(&arg("weight"), leg.weight.unwrap_or(1))? as u16;
                let onlink = onlink_of(&arg("onlink"), leg.onlink, leg.flags.as_deref())?;
                if onlink && gateway.is_none() {
                    return Err(Error::invalid(&arg("onlink"), "onlink needs a gateway (via)"));
                }
                legs.push(Leg {
                    gateway,
                    dev: leg.dev.clone(),
                    weight,
                    flags: if onlink { RTNH_F_ONLINK } else { 0 },
                    kept: Vec::new(),
                });
            }
        }

        // A netlink attribute's length is 16 bits: more legs would wrap it, and the kernel would
        // install the few the wrapped length still covers.
        let size = super::encode::multipath_len(family, &legs);
        if size > usize::from(u16::MAX) {
            return Err(Error::invalid(
                "multipath",
                format!(
                    "{} nexthops take {size} bytes; one netlink attribute holds 65535",
                    legs.len()
                ),
            ));
        }

        let onlink = onlink_of("onlink", o.onlink, o.flags.as_deref())?;
        let exclusive = |a: &str, b: &str| Error::invalid(a, format!("{a} and {b} are exclusive"));
        if !legs.is_empty() {
            if o.via.is_some() {
                return Err(exclusive("multipath", "via"));
            }
            if o.dev.is_some() {
                return Err(exclusive("multipath", "dev"));
            }
            if onlink {
                return Err(Error::invalid(
                    "onlink",
                    "give onlink per nexthop of a multipath route",
                ));
            }
        }
        if let Some(id) = o.nexthop {
            NEXTHOP_ID.check("nexthop", id)?;
            for (set, name) in [
                (via.is_some(), "via"),
                (o.dev.is_some(), "dev"),
                (!legs.is_empty(), "multipath"),
            ] {
                if set {
                    return Err(exclusive("nexthop", name));
                }
            }
        }
        if onlink && via.is_none() {
            return Err(Error::invalid("onlink", "onlink needs a gateway (via)"));
        }
        if reject && install {
            let kind = kind.map_or("", RouteType::as_str);
            for (set, name) in [
                (via.is_some(), "via"),
                (o.dev.is_some(), "dev"),
                (!legs.is_empty(), "multipath"),
                (o.nexthop.is_some(), "nexthop"),
            ] {
                if set {
                    // blackhole, unreachable, prohibit, throw: "an" before a vowel.
                    let a = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    };
                    return Err(Error::invalid(name, format!("{a} {kind} route has no {name}")));
                }
            }
        }
        if install
            && kind == Some(RouteType::Unicast)
            && via.is_none()
            && o.dev.is_none()
            && legs.is_empty()
            && o.nexthop.is_none()
        {
            return Err(Error::invalid_type(
                "via",
                "a unicast route needs a gateway (via), a link (dev), multipath legs or a nexthop",
            ));
        }

        Ok(Route {
            family,
            dst,
            src: from,
            tos,
            table,
            protocol,
            scope,
            kind: kind.map_or(0, |k| k.code() as u8),
            flags: if onlink { u32::from(RTNH_F_ONLINK) } else { 0 },
            gateway: via,
            dev: o.dev,
            prefsrc: src,
            metric,
            metrics,
            multipath: legs,
            nexthop: o.nexthop,
            pref,
            expires,
            kept,
        })
    }

    /// The scope sent: the one asked for, else iproute2's choice.
    pub fn scope_for(&self, purpose: Purpose) -> u8 {
        if let Some(s) = self.scope {
            return s;
        }
        const UNIVERSE: u8 = 0;
        const LINK: u8 = 253;
        const HOST: u8 = 254;
        const NOWHERE: u8 = 255;
        if self.family == Family::Inet6 {
            return UNIVERSE;
        }
        match RouteType::from_code(u32::from(self.kind)) {
            Some(RouteType::Local) => HOST,
            Some(RouteType::Broadcast | RouteType::Multicast | RouteType::Anycast) => LINK,
            Some(RouteType::Unicast) | None => {
                if purpose == Purpose::Delete {
                    NOWHERE
                } else if self.gateway.is_none() && self.multipath.is_empty() && self.nexthop.is_none() {
                    LINK
                } else {
                    UNIVERSE
                }
            }
            _ => UNIVERSE,
        }
    }

    /// The metric the kernel files the route under (IPv6 routes without one get 1024).
    pub fn effective_metric(&self) -> u32 {
        match (self.metric, self.family) {
            (Some(m), _) => m,
            (None, Family::Inet) => 0,
            (None, Family::Inet6) => 1024,
        }
    }

    /// What identifies the route in its table: a replace or a delete acts on the routes that
    /// share it (IPv4: prefix, TOS, metric; IPv6: prefix, source prefix, metric).
    pub fn same_key(&self, other: &Route) -> bool {
        self.family == other.family
            && self.table == other.table
            && self.dst.map(|p| (p.addr, p.len)) == other.dst.map(|p| (p.addr, p.len))
            && self.src == other.src
            && self.tos == other.tos
            && self.effective_metric() == other.effective_metric()
    }

    /// The links the request names.
    pub fn links(&self) -> Vec<&LinkRef> {
        self.dev
            .iter()
            .chain(self.multipath.iter().filter_map(|l| l.dev.as_ref()))
            .filter(|l| l.name().is_some())
            .collect()
    }

    /// For errors: the destination.
    pub fn label(&self) -> String {
        match &self.dst {
            Some(p) => p.to_string(),
            None => "default".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<Route> {
        Route::parse(args::options("route", json)?, Purpose::Install)
    }

    fn arg_of(r: Result<Route>) -> String {
        match r {
            Err(Error::InvalidArgument { arg, .. }) => arg,
            other => panic!("expected an invalid argument, got {other:?}"),
        }
    }

    #[test]
    fn defaults_and_families() {
        let r = parse(serde_json::json!({ "dst": "10.9.0.0/16", "via": "10.0.0.1" })).unwrap();
        assert_eq!(r.family, Family::Inet);
        assert_eq!((r.table, r.protocol, r.kind), (254, TENUS_PROTOCOL, 1));
        let r = parse(serde_json::json!({ "dst": "default", "via": "fd00::1" })).unwrap();
        assert_eq!(r.family, Family::Inet6);
        let r = parse(serde_json::json!({ "dst": "default", "family": "inet", "via": "fd00::1" })).unwrap();
        assert_eq!(
            (r.family, r.gateway),
            (Family::Inet, Some("fd00::1".parse().unwrap()))
        );
        let r = parse(serde_json::json!({ "dst": "fd00::/64", "dev": "eth0", "metric": 0 })).unwrap();
        assert_eq!(r.dst.unwrap().addr, "fd00::".parse::<IpAddr>().unwrap());
        assert_eq!(r.scope_for(Purpose::Install), 0);
        // IPv6 has no metric 0: the kernel files the route under 1024.
        assert_eq!((r.metric, r.effective_metric()), (None, 1024));
        let r = parse(serde_json::json!({ "dst": "10.1.0.0/24", "dev": "eth0" })).unwrap();
        assert_eq!(r.scope_for(Purpose::Install), 253);
    }

    #[test]
    fn bad_input_names_the_option() {
        use serde_json::json;
        assert_eq!(arg_of(parse(json!({ "dst": "10.0.0.0/33", "dev": "e" }))), "dst");
        assert_eq!(arg_of(parse(json!({ "dst": "10.0.0.1/24", "dev": "e" }))), "dst");
        assert_eq!(arg_of(parse(json!({ "dst": "fd00::/129", "dev": "e" }))), "dst");
        assert_eq!(arg_of(parse(json!({ "dst": "fd00::1:2/64", "dev": "e" }))), "dst");
        assert_eq!(
            arg_of(parse(json!({ "dst": "fd00::/64", "via": "10.0.0.1" }))),
            "via"
        );
        assert_eq!(
            arg_of(parse(json!({ "dst": "10.0.0.0/8", "dev": "e", "table": 0 }))),
            "table"
        );
        assert_eq!(
            arg_of(parse(json!({ "dst": "10.0.0.0/8", "dev": "e", "table": "mian" }))),
            "table"
        );
        assert_eq!(
            arg_of(parse(json!({ "dst": "10.0.0.0/8", "type": "teleport" }))),
            "type"
        );
        assert_eq!(
            arg_of(parse(
                json!({ "dst": "10.0.0.0/8", "multipath": [{ "via": "10.0.0.1", "weight": 0 }] })
            )),
            "multipath[0].weight"
        );
        assert_eq!(
            arg_of(parse(
                json!({ "dst": "10.0.0.0/8", "multipath": [{ "dev": "a" }, { "via": "10.0.0.1", "weight": 257 }] })
            )),
            "multipath[1].weight"
        );
        assert_eq!(
            arg_of(parse(
                json!({ "dst": "10.0.0.0/8", "type": "blackhole", "via": "10.0.0.1" })
            )),
            "via"
        );
        assert_eq!(arg_of(parse(json!({ "dst": "10.0.0.0/8" }))), "via");
        assert_eq!(
            arg_of(parse(
                json!({ "dst": "10.0.0.0/8", "via": "10.0.0.1", "nexthop": 3 })
            )),
            "nexthop"
        );
        assert_eq!(
            arg_of(parse(json!({ "dst": "10.0.0.0/8", "dev": "e", "onlink": true }))),
            "onlink"
        );
        assert_eq!(
            arg_of(parse(json!({ "dst": "fd00::/8", "dev": "e", "tos": 16 }))),
            "tos"
        );
        assert_eq!(
            arg_of(parse(
                json!({ "dst": "10.0.0.0/8", "dev": "e", "from": "10.1.0.0/16" })
            )),
            "from"
        );
        assert_eq!(
            arg_of(parse(
                json!({ "dst": "10.0.0.0/8", "dev": "e", "metrics": { "hoplimit": 300 } })
            )),
            "metrics.hoplimit"
        );
        assert_eq!(
            arg_of(parse(json!({ "dst": "10.0.0.0/8", "dev": "e", "protocol": 256 }))),
            "protocol"
        );
        assert_eq!(
            arg_of(parse(json!({ "dst": "10.0.0.0/8", "dev": "e", "gateway": "x" }))),
            "gateway"
        );
        assert_eq!(
            arg_of(parse(
                json!({ "dst": "default", "family": "inet6", "src": "10.0.0.1", "dev": "e" })
            )),
            "src"
        );
    }
}

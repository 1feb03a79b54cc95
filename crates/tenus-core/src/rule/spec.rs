//! A policy rule as a caller asks for it (`RuleOptions`) and as tenus holds it (`Rule`):
//! `ip rule add|del [not] [from P] [to P] [iif DEV] [oif DEV] [fwmark M[/MASK]] [tos T]
//! [uidrange A-B] [sport A[-B]] [dport A[-B]] [ipproto P] [proto P] [suppress_prefixlength N]
//! [suppress_ifgroup G] [l3mdev] [pref N] ACTION`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::encode::{FRA_FLOW, FRA_TUN_ID};
use crate::args::{self, Int};
use crate::error::{Error, Result};
use crate::route::names::{Coded, NameOr, RouteProtocol, RouteTableName, TENUS_PROTOCOL};
use crate::route::spec::{Family, Prefix, RealmsOptions, PROTOCOL, TOS};

crate::js_enum!(RuleAction {
    To = "to",
    Goto = "goto",
    Nop = "nop",
    Blackhole = "blackhole",
    Unreachable = "unreachable",
    Prohibit = "prohibit",
});

impl RuleAction {
    /// FR_ACT_*.
    pub fn code(self) -> u8 {
        match self {
            RuleAction::To => 1,
            RuleAction::Goto => 2,
            RuleAction::Nop => 3,
            RuleAction::Blackhole => 6,
            RuleAction::Unreachable => 7,
            RuleAction::Prohibit => 8,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        RuleAction::ALL.iter().copied().find(|a| a.code() == code)
    }
}

crate::js_enum!(IpProtocol {
    Icmp = "icmp",
    Tcp = "tcp",
    Udp = "udp",
    Sctp = "sctp",
    Ipv6Icmp = "ipv6-icmp",
});

/// An IP protocol by name or number (`ipproto tcp`).
pub type IpProto = NameOr<IpProtocol>;

impl Coded for IpProtocol {
    const WHAT: &'static str = "IP protocol";
    fn all() -> &'static [Self] {
        Self::ALL
    }
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn code(self) -> u32 {
        match self {
            IpProtocol::Icmp => 1,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Sctp => 132,
            IpProtocol::Ipv6Icmp => 58,
        }
    }
}

impl IpProto {
    pub fn number(self, arg: &str) -> Result<u8> {
        IP_PROTO.check(arg, self.code()).map(|p| p as u8)
    }
}

pub const PRIORITY: Int = Int::new("rule priority", 0..=u32::MAX as u64);
pub const IP_PROTO: Int = Int::new("IP protocol", 0..=255);
pub const PREFIXLEN: Int = Int::new("prefix length", 0..=128);
pub const GROUP: Int = Int::new("link group", 0..=i32::MAX as u64);
/// The kernel matches no range that starts at 0 or ends at 65535 ("Invalid sport range").
pub const PORT: Int = Int::new("port", 1..=65534);
/// u32::MAX is INVALID_UID ("Invalid uid range").
pub const UID: Int = Int::new("uid", 0..=(u32::MAX - 1) as u64);

/// A range `start..=end` (ports, uids); a single number is a range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct Range {
    pub start: u32,
    pub end: u32,
}

impl Serialize for Range {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Range", 2)?;
        st.serialize_field("start", &self.start)?;
        st.serialize_field("end", &self.end)?;
        st.end()
    }
}

/// A number or a `{ start, end }` range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeArg(pub Range);

impl<'de> Deserialize<'de> for RangeArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RangeArg;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or { start, end }")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<RangeArg, E> {
                let n = u32::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))?;
                Ok(RangeArg(Range { start: n, end: n }))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<RangeArg, E> {
                Err(E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<RangeArg, E> {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> std::result::Result<RangeArg, A::Error> {
                Range::deserialize(de::value::MapAccessDeserializer::new(map)).map(RangeArg)
            }
        }
        d.deserialize_any(V)
    }
}

/// A policy rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct RuleOptions {
    /// Needed only when no prefix says it (default 'inet').
    pub family: Option<Family>,
    /// Order among rules (lower first); the kernel picks one below the existing rules when
    /// left out.
    pub priority: Option<u32>,
    /// Look the route up in this table (action 'to').
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteTableName"))]
    pub table: Option<NameOr<RouteTableName>>,
    /// 'to' (with a table; the default), 'goto' (with `goto`), 'nop', 'blackhole',
    /// 'unreachable', 'prohibit'.
    pub action: Option<RuleAction>,
    /// The priority of the rule to go on at (action 'goto').
    pub goto: Option<u32>,
    /// Source prefix (or address).
    pub from: Option<String>,
    /// Destination prefix (or address).
    pub to: Option<String>,
    /// Incoming link, by name (the link need not exist yet): a name or a `Link`.
    #[cfg_attr(feature = "napi", napi(ts_type = "string | { readonly name: string }"))]
    pub iif: Option<String>,
    /// Outgoing link, by name (the link need not exist yet): a name or a `Link`.
    #[cfg_attr(feature = "napi", napi(ts_type = "string | { readonly name: string }"))]
    pub oif: Option<String>,
    pub fwmark: Option<u32>,
    pub fwmask: Option<u32>,
    /// TOS / DS field (the same byte; `dsfield` is another name for it).
    pub tos: Option<u32>,
    pub dsfield: Option<u32>,
    #[cfg_attr(feature = "napi", napi(ts_type = "number | Range"))]
    pub uidrange: Option<RangeArg>,
    #[cfg_attr(feature = "napi", napi(ts_type = "number | Range"))]
    pub sport: Option<RangeArg>,
    #[cfg_attr(feature = "napi", napi(ts_type = "number | Range"))]
    pub dport: Option<RangeArg>,
    #[cfg_attr(feature = "napi", napi(ts_type = "number | IpProtocol"))]
    pub ipproto: Option<IpProto>,
    /// Ignore routes found whose prefix is this long or shorter.
    pub suppress_prefixlength: Option<u32>,
    /// Ignore routes found whose link is in this group.
    pub suppress_ifgroup: Option<u32>,
    /// Invert the selectors.
    pub not: Option<bool>,
    /// Who owns the rule; tenus marks its own 'tenus' (116) unless told otherwise.
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteProtocol"))]
    pub protocol: Option<NameOr<RouteProtocol>>,
    /// Look up in the table of the VRF the packet belongs to.
    #[cfg_attr(feature = "napi", napi(js_name = "l3mdev"))]
    pub l3mdev: Option<bool>,
    /// IPv4 only: match these realms (`realms FROM/TO`): `{ to }` or `{ from, to }`.
    pub realms: Option<RealmsOptions>,
    /// Match this tunnel id (`tun_id N`: the id of the metadata tunnel a packet came in by).
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub tun_id: Option<u64>,
    /// A record's: whether `iif` or `oif` names no link yet. The kernel's to say; ignored, so
    /// that a listed rule can be given back.
    pub detached: Option<bool>,
}

impl RuleOptions {
    /// Nothing to match but the family (written out: a new option must be counted here).
    fn is_empty(&self) -> bool {
        let RuleOptions {
            family: _,
            priority,
            table,
            action,
            goto,
            from,
            to,
            iif,
            oif,
            fwmark,
            fwmask,
            tos,
            dsfield,
            uidrange,
            sport,
            dport,
            ipproto,
            suppress_prefixlength,
            suppress_ifgroup,
            not,
            protocol,
            l3mdev,
            realms,
            tun_id,
            detached: _,
        } = self;
        priority.is_none()
            && table.is_none()
            && action.is_none()
            && goto.is_none()
            && from.is_none()
            && to.is_none()
            && iif.is_none()
            && oif.is_none()
            && fwmark.is_none()
            && fwmask.is_none()
            && tos.is_none()
            && dsfield.is_none()
            && uidrange.is_none()
            && sport.is_none()
            && dport.is_none()
            && ipproto.is_none()
            && suppress_prefixlength.is_none()
            && suppress_ifgroup.is_none()
            && not.is_none()
            && protocol.is_none()
            && l3mdev.is_none()
            && realms.is_none()
            && tun_id.is_none()
    }
}

/// A checked rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    pub family: Option<Family>,
    pub priority: Option<u32>,
    /// 0: none given.
    pub table: u32,
    /// FR_ACT_* (0 on a deletion: any).
    pub action: u8,
    pub goto: Option<u32>,
    pub from: Option<Prefix>,
    pub to: Option<Prefix>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub fwmark: Option<u32>,
    pub fwmask: Option<u32>,
    pub tos: u8,
    pub uidrange: Option<Range>,
    pub sport: Option<Range>,
    pub dport: Option<Range>,
    pub ipproto: Option<u8>,
    pub suppress_prefixlength: Option<u32>,
    pub suppress_ifgroup: Option<u32>,
    /// FIB_RULE_* flags: INVERT on requests; IIF/OIF_DETACHED in dumps.
    pub flags: u32,
    /// 0 on a deletion: any.
    pub protocol: u8,
    pub l3mdev: bool,
    /// Selectors of a rule read from the kernel that tenus has no option for (realms, tun_id,
    /// dscp, flowlabel, port masks), kept as read, `(type, payload)`, so that an undo adds the
    /// rule back whole. Empty on requests built from options.
    pub kept: Vec<(u16, Vec<u8>)>,
}

pub const FIB_RULE_INVERT: u32 = 2;

fn prefix(arg: &str, text: &str) -> Result<Prefix> {
    let (addr, len) = args::cidr(arg, text)?;
    Ok(Prefix { addr, len })
}

fn range(arg: &str, r: RangeArg, int: &Int) -> Result<Range> {
    let Range { start, end } = r.0;
    int.check(&format!("{arg}.start"), start)?;
    int.check(&format!("{arg}.end"), end)?;
    if start > end {
        return Err(Error::invalid(arg, format!("range {start}-{end} is reversed")));
    }
    Ok(r.0)
}

impl Rule {
    /// Checks options; `install`: defaults filled in (action, tenus' protocol), else what is
    /// left out matches any rule.
    pub fn parse(o: RuleOptions, install: bool) -> Result<Rule> {
        let from = o.from.as_deref().map(|t| prefix("from", t)).transpose()?;
        let to = o.to.as_deref().map(|t| prefix("to", t)).transpose()?;
        let mut family = o.family;
        for (arg, p) in [("from", &from), ("to", &to)] {
            if let Some(p) = p {
                let f = Family::of(&p.addr);
                if family.is_some_and(|want| want != f) {
                    return Err(Error::invalid(
                        arg,
                        format!("{p} is not an {} prefix", family.map_or("", Family::as_str)),
                    ));
                }
                family = Some(f);
            }
        }
        let family = family.unwrap_or(Family::Inet);
        for (arg, name) in [("iif", &o.iif), ("oif", &o.oif)] {
            if let Some(n) = name {
                args::ifname(arg, n)?;
            }
        }
        let table = match o.table {
            Some(t) => args::TABLE.check("table", t.code())?,
            None => 0,
        };
        let l3mdev = o.l3mdev.unwrap_or(false);
        if l3mdev && table != 0 {
            return Err(Error::invalid(
                "table",
                "an l3mdev rule looks up the table of the packet's VRF: it takes no table",
            ));
        }
        if !install && o.is_empty() {
            // `ip rule del` refuses it too: the first rule would go, the `lookup local` one.
            return Err(Error::invalid_type(
                "options",
                "a rule to delete needs something to match (priority, table, selectors...)",
            ));
        }
        let action = match (o.action, o.goto) {
            (Some(RuleAction::Goto) | None, Some(_)) => Some(RuleAction::Goto),
            (Some(a), Some(_)) => {
                return Err(Error::invalid(
                    "goto",
                    format!("goto is for action 'goto', not {a:?}"),
                ))
            }
            // A deletion that names a table matches any action (as `ip rule del` sends it).
            (None, None) if (table != 0 || l3mdev) && install => Some(RuleAction::To),
            (a, None) => a,
        };
        match action {
            Some(RuleAction::To) if table == 0 && install && !l3mdev => {
                return Err(Error::invalid_type(
                    "table",
                    "a rule with action 'to' needs a table",
                ))
            }
            Some(RuleAction::Goto) if o.goto.is_none() => {
                return Err(Error::invalid_type(
                    "goto",
                    "action 'goto' needs the priority to go to (goto)",
                ))
            }
            Some(a) if a != RuleAction::To && table != 0 => {
                return Err(Error::invalid(
                    "table",
                    format!("a rule with action '{a}' looks nothing up"),
                ))
            }
            None if install => return Err(Error::invalid_type("table", "a rule needs a table or an action")),
            _ => {}
        }
        if o.tos.is_some() && o.dsfield.is_some() {
            return Err(Error::invalid(
                "dsfield",
                "tos and dsfield are the same field: give one",
            ));
        }
        let tos = match o.tos.or(o.dsfield) {
            Some(t) => TOS.check(if o.tos.is_some() { "tos" } else { "dsfield" }, t)? as u8,
            None => 0,
        };
        if o.fwmask.is_some() && o.fwmark.is_none() {
            return Err(Error::invalid_type("fwmark", "fwmask needs fwmark"));
        }
        let protocol = match o.protocol {
            Some(p) => PROTOCOL.check("protocol", p.code())? as u8,
            None if install => TENUS_PROTOCOL,
            None => 0,
        };
        let mut kept = Vec::new();
        if let Some(r) = &o.realms {
            if family == Family::Inet6 {
                return Err(Error::invalid("realms", "IPv6 rules have no realms"));
            }
            kept.push((FRA_FLOW, r.flow("realms")?.to_ne_bytes().to_vec()));
        }
        if let Some(id) = o.tun_id {
            kept.push((FRA_TUN_ID, id.to_be_bytes().to_vec()));
        }
        let max = u32::from(family.max_prefix());
        let suppress_prefixlength = o
            .suppress_prefixlength
            .map(|n| {
                if n > max {
                    Err(Error::invalid(
                        "suppressPrefixlength",
                        format!("prefix length {n} is out of range 0..={max}"),
                    ))
                } else {
                    Ok(n)
                }
            })
            .transpose()?;
        Ok(Rule {
            family: Some(family),
            priority: o.priority.map(|p| PRIORITY.check("priority", p)).transpose()?,
            table,
            action: action.map_or(0, RuleAction::code),
            goto: o.goto.map(|g| PRIORITY.check("goto", g)).transpose()?,
            from,
            to,
            iif: o.iif,
            oif: o.oif,
            fwmark: o.fwmark,
            fwmask: o.fwmask,
            tos,
            uidrange: o.uidrange.map(|r| range("uidrange", r, &UID)).transpose()?,
            sport: o.sport.map(|r| range("sport", r, &PORT)).transpose()?,
            dport: o.dport.map(|r| range("dport", r, &PORT)).transpose()?,
            ipproto: o.ipproto.map(|p| p.number("ipproto")).transpose()?,
            suppress_prefixlength,
            suppress_ifgroup: o
                .suppress_ifgroup
                .map(|g| GROUP.check("suppressIfgroup", g))
                .transpose()?,
            flags: if o.not.unwrap_or(false) {
                FIB_RULE_INVERT
            } else {
                0
            },
            protocol,
            l3mdev,
            kept,
        })
    }

    /// For errors.
    pub fn label(&self) -> String {
        if let Some(p) = self.priority {
            return format!("priority {p}");
        }
        // Without a priority, its first selector, as `ip rule` prints it.
        let range =
            |name: &str, r: &Option<Range>| r.as_ref().map(|r| format!("{name} {}-{}", r.start, r.end));
        [
            self.from.map(|p| format!("from {p}")),
            self.to.map(|p| format!("to {p}")),
            self.iif.as_ref().map(|n| format!("iif {n}")),
            self.oif.as_ref().map(|n| format!("oif {n}")),
            self.fwmark.map(|m| format!("fwmark {m:#x}")),
            range("uidrange", &self.uidrange),
            self.ipproto.map(|p| format!("ipproto {p}")),
            range("sport", &self.sport),
            range("dport", &self.dport),
            (self.table != 0).then(|| format!("lookup {}", self.table)),
        ]
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_else(|| "rule".into())
    }

    /// Whether `read` is a rule this deletion matches (the kernel's rule_find: what the
    /// deletion leaves out matches anything).
    pub fn deletes(&self, read: &Rule) -> bool {
        let d = self;
        d.family == read.family
            && d.priority.is_none_or(|p| read.priority.unwrap_or(0) == p)
            && (d.table == 0 || d.table == read.table)
            && (d.action == 0 || d.action == read.action)
            && d.goto.is_none_or(|g| read.goto == Some(g))
            && (d.from.is_none() || d.from == read.from)
            && (d.to.is_none() || d.to == read.to)
            && (d.iif.is_none() || d.iif == read.iif)
            && (d.oif.is_none() || d.oif == read.oif)
            && (d.fwmark.is_none() || d.fwmark == read.fwmark)
            && (d.fwmask.is_none() || d.fwmask == read.fwmask)
            && (d.tos == 0 || d.tos == read.tos)
            && (d.uidrange.is_none() || d.uidrange == read.uidrange)
            && (d.sport.is_none() || d.sport == read.sport)
            && (d.dport.is_none() || d.dport == read.dport)
            && (d.ipproto.is_none() || d.ipproto == read.ipproto)
            && (d.suppress_prefixlength.is_none() || d.suppress_prefixlength == read.suppress_prefixlength)
            && (d.suppress_ifgroup.is_none() || d.suppress_ifgroup == read.suppress_ifgroup)
            && (d.protocol == 0 || d.protocol == read.protocol)
            && (!d.l3mdev || read.l3mdev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<Rule> {
        Rule::parse(args::options("rule", json)?, true)
    }

    fn arg_of(r: Result<Rule>) -> String {
        match r {
            Err(Error::InvalidArgument { arg, .. }) => arg,
            other => panic!("expected an invalid argument, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let r = parse(serde_json::json!({ "from": "fd00::/64", "table": 100 })).unwrap();
        assert_eq!(
            (r.family, r.action, r.protocol),
            (Some(Family::Inet6), 1, TENUS_PROTOCOL)
        );
        let r = parse(serde_json::json!({ "goto": 300, "priority": 200 })).unwrap();
        assert_eq!(r.action, 2);
        let r = parse(
            serde_json::json!({ "sport": 80, "dport": { "start": 1000, "end": 2000 }, "table": "main" }),
        )
        .unwrap();
        assert_eq!(
            (r.sport, r.dport),
            (
                Some(Range { start: 80, end: 80 }),
                Some(Range {
                    start: 1000,
                    end: 2000
                })
            )
        );
    }

    #[test]
    fn bad_input_names_the_option() {
        use serde_json::json;
        assert_eq!(arg_of(parse(json!({ "table": 0 }))), "table");
        assert_eq!(arg_of(parse(json!({ "from": "10.0.0.0/8" }))), "table");
        assert_eq!(arg_of(parse(json!({ "action": "goto" }))), "goto");
        assert_eq!(
            arg_of(parse(json!({ "action": "blackhole", "table": 5 }))),
            "table"
        );
        assert_eq!(
            arg_of(parse(json!({ "table": 5, "sport": { "start": 20, "end": 10 } }))),
            "sport"
        );
        assert_eq!(
            arg_of(parse(json!({ "table": 5, "dport": 70000 }))),
            "dport.start"
        );
        assert_eq!(
            arg_of(parse(json!({ "table": 5, "uidrange": { "start": 5 } }))),
            "uidrange"
        );
        assert_eq!(
            arg_of(parse(
                json!({ "table": 5, "from": "10.0.0.0/8", "to": "fd00::/8" })
            )),
            "to"
        );
        assert_eq!(arg_of(parse(json!({ "table": 5, "iif": "a/b" }))), "iif");
        assert_eq!(
            arg_of(parse(json!({ "table": 5, "ipproto": "carrier-pigeon" }))),
            "ipproto"
        );
        assert_eq!(
            arg_of(parse(json!({ "table": 5, "tos": 1, "dsfield": 1 }))),
            "dsfield"
        );
        assert_eq!(arg_of(parse(json!({ "table": 5, "fwmask": 255 }))), "fwmark");
        assert_eq!(
            arg_of(parse(json!({ "table": 5, "suppressPrefixlength": 33 }))),
            "suppressPrefixlength"
        );
        assert_eq!(arg_of(parse(json!({ "table": 5, "selector": 1 }))), "selector");
    }
}

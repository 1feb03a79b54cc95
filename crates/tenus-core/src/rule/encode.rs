//! Rule requests, laid out as iproute2 lays them out (`fib_rule_hdr`, then FRA_SRC, FRA_DST,
//! FRA_IIFNAME, FRA_OIFNAME, FRA_FWMARK, FRA_FWMASK, FRA_UID_RANGE, FRA_SPORT_RANGE,
//! FRA_DPORT_RANGE, FRA_IP_PROTO, FRA_PROTOCOL, FRA_SUPPRESS_PREFIXLEN, FRA_SUPPRESS_IFGROUP,
//! FRA_TABLE, FRA_GOTO, FRA_L3MDEV, FRA_PRIORITY; then, for a rule read back and added again
//! by an undo, the selectors it was read with that tenus has no option for), and rules read
//! back from the kernel.

use serde::Serialize;

use crate::nla::{attrs, ip_bytes, ip_of, str_of, u32_of, Writer, DUMP, NLM_F_CREATE, NLM_F_EXCL, PLAIN};
use crate::route::names::{NameOr, RouteProtocol};
use crate::route::record::Realms;
use crate::route::spec::{Family, Prefix};
use crate::transport::ack::NLMSG_HDRLEN;

use super::spec::{Range, Rule, RuleAction, FIB_RULE_INVERT};

pub const RTM_NEWRULE: u16 = 32;
pub const RTM_DELRULE: u16 = 33;
pub const RTM_GETRULE: u16 = 34;

const FRA_DST: u16 = 1;
const FRA_SRC: u16 = 2;
const FRA_IIFNAME: u16 = 3;
const FRA_GOTO: u16 = 4;
const FRA_PRIORITY: u16 = 6;
const FRA_FWMARK: u16 = 10;
pub(crate) const FRA_FLOW: u16 = 11;
pub(crate) const FRA_TUN_ID: u16 = 12;
const FRA_SUPPRESS_IFGROUP: u16 = 13;
const FRA_SUPPRESS_PREFIXLEN: u16 = 14;
const FRA_TABLE: u16 = 15;
const FRA_FWMASK: u16 = 16;
const FRA_OIFNAME: u16 = 17;
const FRA_L3MDEV: u16 = 19;
const FRA_UID_RANGE: u16 = 20;
const FRA_PROTOCOL: u16 = 21;
const FRA_IP_PROTO: u16 = 22;
const FRA_SPORT_RANGE: u16 = 23;
const FRA_DPORT_RANGE: u16 = 24;
const FRA_DSCP: u16 = 25;
const FRA_DSCP_MASK: u16 = 30;

const HDR_LEN: usize = 12;
/// FIB_RULE_IIF_DETACHED, FIB_RULE_OIF_DETACHED: the named link does not exist.
const DETACHED: u32 = 0x8 | 0x10;

fn range16(r: &Range) -> [u8; 4] {
    let (s, e) = ((r.start as u16).to_ne_bytes(), (r.end as u16).to_ne_bytes());
    [s[0], s[1], e[0], e[1]]
}

fn range32(r: &Range) -> [u8; 8] {
    let mut out = [0; 8];
    out[..4].copy_from_slice(&r.start.to_ne_bytes());
    out[4..].copy_from_slice(&r.end.to_ne_bytes());
    out
}

/// `ip rule add` (`delete` false) or `ip rule del`.
pub fn encode_rule(r: &Rule, delete: bool) -> Vec<u8> {
    let family = r.family.unwrap_or(Family::Inet);
    let small = r.table < 256;
    let f = r.flags.to_ne_bytes();
    let header = [
        family.code(),
        r.to.map_or(0, |p| p.len),
        r.from.map_or(0, |p| p.len),
        r.tos,
        if small { r.table as u8 } else { 0 },
        0,
        0,
        r.action,
        f[0],
        f[1],
        f[2],
        f[3],
    ];
    let (kind, flags) = if delete {
        (RTM_DELRULE, PLAIN)
    } else {
        (RTM_NEWRULE, PLAIN | NLM_F_CREATE | NLM_F_EXCL)
    };
    let mut w = Writer::new(kind, flags, &header);
    for (attr, p) in [(FRA_SRC, &r.from), (FRA_DST, &r.to)] {
        if let Some(p) = p {
            let (b, n) = ip_bytes(&p.addr);
            w.bytes(attr, &b[..n]);
        }
    }
    if let Some(n) = &r.iif {
        w.string(FRA_IIFNAME, n);
    }
    if let Some(n) = &r.oif {
        w.string(FRA_OIFNAME, n);
    }
    if let Some(m) = r.fwmark {
        w.u32(FRA_FWMARK, m);
    }
    if let Some(m) = r.fwmask {
        w.u32(FRA_FWMASK, m);
    }
    if let Some(u) = &r.uidrange {
        w.bytes(FRA_UID_RANGE, &range32(u));
    }
    if let Some(p) = &r.sport {
        w.bytes(FRA_SPORT_RANGE, &range16(p));
    }
    if let Some(p) = &r.dport {
        w.bytes(FRA_DPORT_RANGE, &range16(p));
    }
    if let Some(p) = r.ipproto {
        w.u8(FRA_IP_PROTO, p);
    }
    if r.protocol != 0 {
        w.u8(FRA_PROTOCOL, r.protocol);
    }
    if let Some(n) = r.suppress_prefixlength {
        w.u32(FRA_SUPPRESS_PREFIXLEN, n);
    }
    if let Some(g) = r.suppress_ifgroup {
        w.u32(FRA_SUPPRESS_IFGROUP, g);
    }
    if !small {
        w.u32(FRA_TABLE, r.table);
    }
    if let Some(g) = r.goto {
        w.u32(FRA_GOTO, g);
    }
    if r.l3mdev {
        w.u8(FRA_L3MDEV, 1);
    }
    if let Some(p) = r.priority {
        w.u32(FRA_PRIORITY, p);
    }
    for (kind, value) in &r.kept {
        w.bytes(*kind, value);
    }
    w.finish()
}

/// `ip rule show` of one family (rule dumps take no other filter), or both.
pub fn dump_request(family: Option<Family>) -> Vec<u8> {
    let mut header = [0u8; HDR_LEN];
    header[0] = family.map_or(0, Family::code);
    Writer::new(RTM_GETRULE, DUMP, &header).finish()
}

/// Decodes one netlink message; None unless it is an RTM_NEWRULE of IPv4 or IPv6.
pub fn read_rule(msg: &[u8]) -> Option<Rule> {
    if crate::nla::message_type(msg)? != RTM_NEWRULE {
        return None;
    }
    read_rule_message(msg)
}

/// Decodes an RTM_NEWRULE or RTM_DELRULE (a watcher's events) of IPv4 or IPv6.
pub fn read_rule_message(msg: &[u8]) -> Option<Rule> {
    if msg.len() < NLMSG_HDRLEN + HDR_LEN {
        return None;
    }
    let h = &msg[NLMSG_HDRLEN..NLMSG_HDRLEN + HDR_LEN];
    let family = Family::from_code(h[0])?;
    let mut r = Rule {
        family: Some(family),
        table: u32::from(h[4]),
        tos: h[3],
        action: h[7],
        flags: u32_of(&h[8..12])?,
        ..Default::default()
    };
    let prefix = |len: u8, v: &[u8]| ip_of(v).map(|addr| Prefix { addr, len });
    let range16 = |v: &[u8]| {
        Some(Range {
            start: u32::from(u16::from_ne_bytes(v.get(0..2)?.try_into().ok()?)),
            end: u32::from(u16::from_ne_bytes(v.get(2..4)?.try_into().ok()?)),
        })
    };
    for (kind, v) in attrs(&msg[NLMSG_HDRLEN + HDR_LEN..]) {
        match kind {
            FRA_SRC => r.from = prefix(h[2], v),
            FRA_DST => r.to = prefix(h[1], v),
            FRA_IIFNAME => r.iif = Some(str_of(v)),
            FRA_OIFNAME => r.oif = Some(str_of(v)),
            FRA_GOTO => r.goto = u32_of(v),
            FRA_PRIORITY => r.priority = u32_of(v),
            FRA_FWMARK => r.fwmark = u32_of(v),
            FRA_FWMASK => r.fwmask = u32_of(v),
            FRA_TABLE => r.table = u32_of(v).unwrap_or(r.table),
            // The kernel reports -1 for "not set".
            FRA_SUPPRESS_PREFIXLEN => r.suppress_prefixlength = u32_of(v).filter(|n| *n != u32::MAX),
            FRA_SUPPRESS_IFGROUP => r.suppress_ifgroup = u32_of(v).filter(|n| *n != u32::MAX),
            FRA_L3MDEV => r.l3mdev = v.first().is_some_and(|b| *b != 0),
            FRA_UID_RANGE => {
                r.uidrange = (|| {
                    Some(Range {
                        start: u32_of(v)?,
                        end: u32_of(v.get(4..)?)?,
                    })
                })()
            }
            FRA_SPORT_RANGE => r.sport = range16(v),
            FRA_DPORT_RANGE => r.dport = range16(v),
            FRA_IP_PROTO => r.ipproto = v.first().copied(),
            FRA_PROTOCOL => r.protocol = v.first().copied().unwrap_or(0),
            // realms, tun_id, and the selectors of later kernels: dscp, flowlabel (and mask),
            // sport/dport masks, dscp mask (FRA_DSCP ..= FRA_DSCP_MASK).
            FRA_FLOW | FRA_TUN_ID | FRA_DSCP..=FRA_DSCP_MASK => r.kept.push((kind, v.to_vec())),
            _ => {}
        }
    }
    Some(r)
}

/// A rule as `ip -j rule` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct RuleRecord {
    pub family: Family,
    pub priority: u32,
    pub action: RuleAction,
    /// The table looked up (action 'to').
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goto: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iif: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oif: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fwmask: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uidrange: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipproto: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppress_prefixlength: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppress_ifgroup: Option<u32>,
    /// The selectors are inverted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not: Option<bool>,
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteProtocol"))]
    pub protocol: NameOr<RouteProtocol>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "napi", napi(js_name = "l3mdev"))]
    pub l3mdev: Option<bool>,
    /// The link `iif` or `oif` names does not exist (the rule waits for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detached: Option<bool>,
    /// Realms matched (`ip rule ... realms FROM/TO`): the `realms` option.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realms: Option<Realms>,
    /// The tunnel id matched (`ip rule ... tun_id N`): the `tunId` option.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
    pub tun_id: Option<u64>,
}

impl Rule {
    pub fn record(&self) -> RuleRecord {
        let action = RuleAction::from_code(self.action).unwrap_or(RuleAction::To);
        RuleRecord {
            family: self.family.unwrap_or(Family::Inet),
            priority: self.priority.unwrap_or(0),
            action,
            table: (action == RuleAction::To && self.table != 0).then_some(self.table),
            goto: self.goto,
            from: self.from.map(|p| p.to_string()),
            to: self.to.map(|p| p.to_string()),
            iif: self.iif.clone(),
            oif: self.oif.clone(),
            // A mask without a mark is a mark of 0 (the kernel sends no FRA_FWMARK for 0): shown
            // as `ip rule` shows it, `fwmark 0/0xff`.
            fwmark: self.fwmark.or(self.fwmask.filter(|m| *m != 0).map(|_| 0)),
            // All ones is what a mark without a mask gets: shown as `ip rule` shows it, without.
            fwmask: self.fwmask.filter(|m| *m != u32::MAX),
            tos: (self.tos != 0).then_some(u32::from(self.tos)),
            uidrange: self.uidrange,
            sport: self.sport,
            dport: self.dport,
            ipproto: self.ipproto.map(u32::from),
            suppress_prefixlength: self.suppress_prefixlength,
            suppress_ifgroup: self.suppress_ifgroup,
            not: (self.flags & FIB_RULE_INVERT != 0).then_some(true),
            protocol: NameOr::of(u32::from(self.protocol)),
            l3mdev: self.l3mdev.then_some(true),
            detached: (self.flags & DETACHED != 0).then_some(true),
            realms: self.kept_u32(FRA_FLOW).map(Realms::of),
            tun_id: self
                .kept(FRA_TUN_ID)
                .and_then(|v| v.try_into().ok())
                .map(u64::from_be_bytes),
        }
    }

    /// A selector kept as read (`kept`), by attribute type.
    fn kept(&self, kind: u16) -> Option<&[u8]> {
        crate::nla::kept(&self.kept, kind)
    }

    fn kept_u32(&self, kind: u16) -> Option<u32> {
        self.kept(kind)?.try_into().ok().map(u32::from_ne_bytes)
    }

    /// The rule as a request that adds it back as read (the kernel's own flags dropped).
    pub fn as_request(&self) -> Rule {
        let mut r = self.clone();
        r.flags &= FIB_RULE_INVERT;
        // Dumps leave priority 0 out; sent without one, the rule would get the kernel's next
        // free priority instead.
        r.priority.get_or_insert(0);
        // Dumps show a mask with every mark; the kernel's default mask for a mark is all ones.
        if r.fwmark.is_none() && r.fwmask == Some(0) {
            r.fwmask = None;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_encoded_reads_back() {
        for json in [
            serde_json::json!({ "from": "10.0.41.0/24", "fwmark": 16, "fwmask": 255, "table": 100, "priority": 1000 }),
            serde_json::json!({ "not": true, "to": "fd00::/64", "iif": "p0", "oif": "p1", "tos": 16,
                "uidrange": { "start": 100, "end": 200 }, "sport": { "start": 1000, "end": 2000 }, "dport": 80,
                "ipproto": "tcp", "protocol": "static", "table": 5000, "priority": 2000 }),
            serde_json::json!({ "goto": 3000, "priority": 2500, "suppressIfgroup": 3 }),
            serde_json::json!({ "action": "prohibit", "from": "10.2.0.0/16", "l3mdev": true }),
            serde_json::json!({ "table": "main", "suppressPrefixlength": 0 }),
        ] {
            let r = Rule::parse(crate::args::options("rule", json.clone()).unwrap(), true).unwrap();
            let mut msg = encode_rule(&r, false);
            msg[4..6].copy_from_slice(&RTM_NEWRULE.to_ne_bytes());
            assert_eq!(read_rule(&msg).unwrap(), r, "{json}");
        }
    }
}

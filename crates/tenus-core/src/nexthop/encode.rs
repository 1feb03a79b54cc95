//! Nexthop object requests (`netlink-packet-route` has no nexthop messages), laid out as
//! iproute2 lays them out: `nhmsg`, NHA_ID, then NHA_GATEWAY, NHA_OIF, NHA_BLACKHOLE,
//! NHA_FDB, or NHA_GROUP, NHA_RES_GROUP (nested), NHA_GROUP_TYPE, NHA_FDB (then, for an object
//! read back and put back by an undo, its encap); and objects read back from the kernel.

use serde::Serialize;

use crate::error::Result;
use crate::link::LinkRef;
use crate::nla::{
    self, attrs, ip_bytes, ip_of, u16_of, u32_of, Writer, DUMP, NLA_F_NESTED, NLM_F_CREATE, NLM_F_EXCL,
    NLM_F_REPLACE, PLAIN,
};
use crate::route::names::{NameOr, RouteProtocol, RouteScope};
use crate::route::spec::Family;
use crate::transport::ack::NLMSG_HDRLEN;

use super::spec::{GroupMember, GroupType, Kind, Nexthop, Resilience};

pub const RTM_NEWNEXTHOP: u16 = 104;
pub const RTM_DELNEXTHOP: u16 = 105;
pub const RTM_GETNEXTHOP: u16 = 106;

const NHA_ID: u16 = 1;
const NHA_GROUP: u16 = 2;
const NHA_GROUP_TYPE: u16 = 3;
const NHA_BLACKHOLE: u16 = 4;
const NHA_OIF: u16 = 5;
const NHA_GATEWAY: u16 = 6;
const NHA_ENCAP_TYPE: u16 = 7;
const NHA_ENCAP: u16 = 8;
const NHA_GROUPS: u16 = 9;
const NHA_FDB: u16 = 11;
const NHA_RES_GROUP: u16 = 12;
const NHA_RES_GROUP_BUCKETS: u16 = 1;
const NHA_RES_GROUP_IDLE_TIMER: u16 = 2;
const NHA_RES_GROUP_UNBALANCED_TIMER: u16 = 3;
const NEXTHOP_GRP_TYPE_RES: u16 = 1;
const NHMSG_LEN: usize = 8;
const RTNH_F_DEAD: u32 = 1;
const RTNH_F_ONLINK: u32 = 4;
const RTNH_F_LINKDOWN: u32 = 16;
/// The kernel's timers count in USER_HZ (1/100 s).
const CLOCK_T: u32 = 100;

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Add,
    Replace,
    Delete,
}

fn nhmsg(family: u8, protocol: u8, flags: u32) -> [u8; NHMSG_LEN] {
    let f = flags.to_ne_bytes();
    [family, 0, protocol, 0, f[0], f[1], f[2], f[3]]
}

/// The request for `nh`, with `index` resolving its link. A deletion names the id alone.
/// Buckets of a resilient group made without saying how many (`Resilience::buckets`).
const DEFAULT_BUCKETS: u32 = 128;

pub fn encode_nexthop(nh: &Nexthop, verb: Verb, index: impl Fn(&LinkRef) -> Result<u32>) -> Result<Vec<u8>> {
    if verb == Verb::Delete {
        return Ok(encode_delete(nh.id));
    }
    let flags = PLAIN
        | NLM_F_CREATE
        | match verb {
            Verb::Add => NLM_F_EXCL,
            _ => NLM_F_REPLACE,
        };
    let header = nhmsg(nh.family.map_or(0, Family::code), nh.protocol, nh.flags);
    let mut w = Writer::new(RTM_NEWNEXTHOP, flags, &header);
    w.u32(NHA_ID, nh.id);
    match &nh.kind {
        Kind::Path { gateway, dev } => {
            if let Some(gw) = gateway {
                let (b, n) = ip_bytes(gw);
                w.bytes(NHA_GATEWAY, &b[..n]);
            }
            if let Some(d) = dev {
                w.u32(NHA_OIF, index(d)?);
            }
        }
        Kind::Blackhole => {
            w.flag(NHA_BLACKHOLE);
        }
        Kind::Group { members, resilient } => {
            let mut group = Vec::with_capacity(8 * members.len());
            for (id, weight) in members {
                group.extend_from_slice(&id.to_ne_bytes());
                group.extend_from_slice(&[(weight - 1) as u8, 0, 0, 0]);
            }
            w.bytes(NHA_GROUP, &group);
            if let Some(r) = resilient {
                w.nest(NHA_RES_GROUP | NLA_F_NESTED, |b| {
                    // The kernel wants a number of buckets for a new group (its documented default,
                    // 128, is iproute2's); a replace keeps the group's own, which cannot change.
                    let buckets = r.buckets.or((verb == Verb::Add).then_some(DEFAULT_BUCKETS));
                    if let Some(n) = buckets {
                        nla::attr(b, NHA_RES_GROUP_BUCKETS, &(n as u16).to_ne_bytes());
                    }
                    if let Some(t) = r.idle_timer {
                        nla::attr(b, NHA_RES_GROUP_IDLE_TIMER, &(t * CLOCK_T).to_ne_bytes());
                    }
                    if let Some(t) = r.unbalanced_timer {
                        nla::attr(b, NHA_RES_GROUP_UNBALANCED_TIMER, &(t * CLOCK_T).to_ne_bytes());
                    }
                });
                w.u16(NHA_GROUP_TYPE, NEXTHOP_GRP_TYPE_RES);
            }
        }
    }
    if nh.fdb {
        w.flag(NHA_FDB);
    }
    for (kind, value) in &nh.kept {
        w.bytes(*kind, value);
    }
    Ok(w.finish())
}

/// `ip nexthop del id ID`.
pub fn encode_delete(id: u32) -> Vec<u8> {
    let mut w = Writer::new(RTM_DELNEXTHOP, PLAIN, &nhmsg(0, 0, 0));
    w.u32(NHA_ID, id);
    w.finish()
}

/// `ip nexthop get id ID`.
pub fn encode_get(id: u32) -> Vec<u8> {
    let mut w = Writer::new(RTM_GETNEXTHOP, PLAIN, &nhmsg(0, 0, 0));
    w.u32(NHA_ID, id);
    w.finish()
}

/// `ip nexthop show [dev DEV] [groups] [fdb]`, filtered by the kernel.
pub fn dump_request(oif: Option<u32>, groups: bool, fdb: bool) -> Vec<u8> {
    let mut w = Writer::new(RTM_GETNEXTHOP, DUMP, &nhmsg(0, 0, 0));
    if let Some(i) = oif {
        w.u32(NHA_OIF, i);
    }
    if groups {
        w.flag(NHA_GROUPS);
    }
    if fdb {
        w.flag(NHA_FDB);
    }
    w.finish()
}

/// Decodes one netlink message; None unless it is an RTM_NEWNEXTHOP.
pub fn read_nexthop(msg: &[u8]) -> Option<Nexthop> {
    if nla::message_type(msg)? != RTM_NEWNEXTHOP {
        return None;
    }
    read_nexthop_message(msg)
}

/// Decodes an RTM_NEWNEXTHOP or RTM_DELNEXTHOP (a watcher's events).
pub fn read_nexthop_message(msg: &[u8]) -> Option<Nexthop> {
    if msg.len() < NLMSG_HDRLEN + NHMSG_LEN {
        return None;
    }
    let h = &msg[NLMSG_HDRLEN..NLMSG_HDRLEN + NHMSG_LEN];
    let mut id = 0;
    let (mut gateway, mut dev, mut blackhole, mut fdb) = (None, None, false, false);
    let (mut members, mut resilient, mut group_type) = (None, None, 0);
    let mut kept = Vec::new();
    for (kind, v) in attrs(&msg[NLMSG_HDRLEN + NHMSG_LEN..]) {
        match kind {
            NHA_ID => id = u32_of(v)?,
            NHA_GATEWAY => gateway = ip_of(v),
            NHA_OIF => dev = u32_of(v).map(LinkRef::Index),
            NHA_BLACKHOLE => blackhole = true,
            NHA_FDB => fdb = true,
            NHA_GROUP => {
                members = Some(
                    v.chunks_exact(8)
                        .map(|m| (u32_of(m).unwrap_or(0), u16::from(m[4]) + 1))
                        .collect::<Vec<_>>(),
                )
            }
            NHA_GROUP_TYPE => group_type = u16_of(v).unwrap_or(0),
            NHA_RES_GROUP => {
                let mut r = Resilience::default();
                for (k, v) in attrs(v) {
                    match k {
                        NHA_RES_GROUP_BUCKETS => r.buckets = u16_of(v).map(u32::from),
                        NHA_RES_GROUP_IDLE_TIMER => r.idle_timer = u32_of(v).map(|t| t / CLOCK_T),
                        NHA_RES_GROUP_UNBALANCED_TIMER => r.unbalanced_timer = u32_of(v).map(|t| t / CLOCK_T),
                        _ => {}
                    }
                }
                resilient = Some(r);
            }
            NHA_ENCAP_TYPE => kept.push((kind, v.to_vec())),
            // Dumps leave NLA_F_NESTED off; requests are parsed strictly, and need it.
            NHA_ENCAP => kept.push((kind | NLA_F_NESTED, v.to_vec())),
            _ => {}
        }
    }
    let kind = match members {
        Some(members) => Kind::Group {
            members,
            resilient: if group_type == NEXTHOP_GRP_TYPE_RES {
                Some(resilient.unwrap_or_default())
            } else {
                None
            },
        },
        None if blackhole => Kind::Blackhole,
        None => Kind::Path { gateway, dev },
    };
    Some(Nexthop {
        id,
        family: Family::from_code(h[0]),
        kind,
        flags: u32_of(&h[4..8])?,
        fdb,
        protocol: h[2],
        scope: h[1],
        kept,
    })
}

/// A nexthop object as `ip -j nexthop` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NexthopRecord {
    pub id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteProtocol"))]
    pub protocol: NameOr<RouteProtocol>,
    /// What the kernel made of it (`ip -d nexthop`'s scope): 'link' for a gateway, 'host' for a
    /// link alone, 'global' for a group or a blackhole.
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteScope"))]
    pub scope: NameOr<RouteScope>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The link's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blackhole: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onlink: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fdb: Option<bool>,
    /// Members, each with its weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<Vec<GroupMember>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_type: Option<GroupType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resilient: Option<Resilience>,
    /// 'dead', 'linkdown'.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "napi", napi(ts_type = "Array<RouteFlag>"))]
    pub flags: Option<Vec<String>>,
}

impl Nexthop {
    pub fn record(&self, name: &dyn Fn(u32) -> Option<String>) -> NexthopRecord {
        let mut r = NexthopRecord {
            id: self.id,
            family: self.family,
            protocol: NameOr::of(u32::from(self.protocol)),
            scope: NameOr::of(u32::from(self.scope)),
            via: None,
            dev: None,
            blackhole: None,
            onlink: (self.flags & RTNH_F_ONLINK != 0).then_some(true),
            fdb: self.fdb.then_some(true),
            group: None,
            group_type: None,
            resilient: None,
            flags: Some(
                [(RTNH_F_DEAD, "dead"), (RTNH_F_LINKDOWN, "linkdown")]
                    .into_iter()
                    .filter(|(bit, _)| self.flags & bit != 0)
                    .map(|(_, n)| n.to_string())
                    .collect::<Vec<_>>(),
            )
            .filter(|f| !f.is_empty()),
        };
        match &self.kind {
            Kind::Path { gateway, dev } => {
                r.via = gateway.map(|g| g.to_string());
                r.dev = match dev {
                    Some(LinkRef::Index(i)) => name(*i),
                    Some(LinkRef::Name(n)) => Some(n.clone()),
                    None => None,
                };
            }
            Kind::Blackhole => r.blackhole = Some(true),
            Kind::Group { members, resilient } => {
                r.group = Some(
                    members
                        .iter()
                        .map(|(id, w)| GroupMember {
                            id: *id,
                            weight: Some(u32::from(*w)),
                        })
                        .collect(),
                );
                r.group_type = Some(if resilient.is_some() {
                    GroupType::Resilient
                } else {
                    GroupType::Mpath
                });
                r.resilient = *resilient;
            }
        }
        r
    }

    /// The object as a request that puts it back as read (the kernel's own flags dropped).
    pub fn as_request(&self) -> Nexthop {
        let mut n = self.clone();
        n.flags &= RTNH_F_ONLINK;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_encoded_reads_back() {
        for json in [
            serde_json::json!({ "id": 10, "via": "10.0.0.1", "dev": 2 }),
            serde_json::json!({ "id": 11, "via": "fd00::1", "dev": 2, "onlink": true, "protocol": "static" }),
            serde_json::json!({ "id": 12, "dev": 3, "family": "inet6" }),
            serde_json::json!({ "id": 13, "blackhole": true }),
            serde_json::json!({ "id": 15, "via": "10.0.0.5", "fdb": true }),
            serde_json::json!({ "id": 100, "group": [{ "id": 10 }, { "id": 12, "weight": 3 }] }),
            serde_json::json!({ "id": 101, "group": [{ "id": 10 }], "resilient": { "buckets": 32, "idleTimer": 60, "unbalancedTimer": 120 } }),
        ] {
            let n = Nexthop::parse(crate::args::options("nexthop", json.clone()).unwrap()).unwrap();
            let mut msg = encode_nexthop(&n, Verb::Add, |l| match l {
                LinkRef::Index(i) => Ok(*i),
                LinkRef::Name(_) => Ok(9),
            })
            .unwrap();
            msg[4..6].copy_from_slice(&RTM_NEWNEXTHOP.to_ne_bytes());
            assert_eq!(read_nexthop(&msg).unwrap(), n, "{json}");
        }
    }
}

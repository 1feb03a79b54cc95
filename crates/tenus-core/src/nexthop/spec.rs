//! A nexthop object as a caller asks for it (`NexthopOptions`) and as tenus holds it
//! (`Nexthop`): `ip nexthop add|replace id ID { [via GW] [dev DEV] [onlink] [fdb] | blackhole
//! | group ID[,WEIGHT]/... [type mpath|resilient [buckets N] [idle_timer S]
//! [unbalanced_timer S]] [fdb] } [proto P]`.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::args::{self, Int};
use crate::error::{Error, Result};
use crate::link::LinkRef;
use crate::route::names::{NameOr, RouteProtocol, RouteScope, TENUS_PROTOCOL};
use crate::route::spec::{onlink_of, Family, RouteFlag, NEXTHOP_ID, PROTOCOL, SCOPE, WEIGHT};

/// One member of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct GroupMember {
    /// A nexthop object's id.
    pub id: u32,
    /// 1..=256 (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}

crate::js_enum!(GroupType { Mpath = "mpath", Resilient = "resilient" });

/// A resilient group's hash table (kernel 5.13 and later).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct Resilience {
    /// Hash buckets (default 128).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buckets: Option<u32>,
    /// Seconds a bucket must be idle before it may move to another nexthop (default 120).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timer: Option<u32>,
    /// Seconds a group may stay unbalanced before busy buckets move too (default 0: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unbalanced_timer: Option<u32>,
}

/// A nexthop object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NexthopOptions {
    /// The object's id (routes name it: `nexthop: id`).
    pub id: u32,
    /// For a link-only or blackhole nexthop (default 'inet'); a gateway says its own.
    pub family: Option<Family>,
    /// Gateway.
    pub via: Option<String>,
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub dev: Option<LinkRef>,
    /// The gateway is on the link even if no address says so.
    pub onlink: Option<bool>,
    /// Drops what is sent to it.
    pub blackhole: Option<bool>,
    /// For VXLAN FDB entries only (no link, not for routes).
    pub fdb: Option<bool>,
    /// Members of a group: other nexthop objects, with weights.
    pub group: Option<Vec<GroupMember>>,
    /// 'mpath' (default: hash-threshold) or 'resilient'.
    pub group_type: Option<GroupType>,
    /// A resilient group's settings (implies groupType 'resilient').
    pub resilient: Option<Resilience>,
    /// Who owns it; tenus marks its own 'tenus' (116) unless told otherwise.
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteProtocol"))]
    pub protocol: Option<NameOr<RouteProtocol>>,
    /// A record's: the scope the kernel gave the object. The kernel's to say (a request
    /// carries none); ignored, so that a listed object can be given back.
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteScope"))]
    pub scope: Option<NameOr<RouteScope>>,
    /// A record's flags: 'onlink' is `onlink`; 'dead' and 'linkdown' are states the kernel
    /// reports, ignored.
    pub flags: Option<Vec<RouteFlag>>,
}

/// What a nexthop object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A gateway and/or a link.
    Path {
        gateway: Option<IpAddr>,
        dev: Option<LinkRef>,
    },
    Blackhole,
    Group {
        /// (id, weight 1..=256).
        members: Vec<(u32, u16)>,
        /// None: mpath.
        resilient: Option<Resilience>,
    },
}

/// A checked nexthop object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nexthop {
    pub id: u32,
    pub family: Option<Family>,
    pub kind: Kind,
    /// RTNH_F_ONLINK on requests; DEAD, LINKDOWN in dumps.
    pub flags: u32,
    pub fdb: bool,
    pub protocol: u8,
    /// nhm_scope as read (requests leave it to the kernel).
    pub scope: u8,
    /// What an object read from the kernel has that tenus has no option for (its
    /// lightweight-tunnel encap), kept as read, `(type, payload)`, so that an undo puts it back
    /// whole. Empty on requests built from options.
    pub kept: Vec<(u16, Vec<u8>)>,
}

pub const BUCKETS: Int = Int::new("bucket count", 1..=u16::MAX as u64);
/// Timers go to the kernel in 1/100 s (clock_t) in a u32.
pub const TIMER: Int = Int::new("timer (s)", 0..=(u32::MAX / 100) as u64);

impl Nexthop {
    pub fn parse(o: NexthopOptions) -> Result<Nexthop> {
        let id = NEXTHOP_ID.check("id", o.id)?;
        let protocol = match o.protocol {
            Some(p) => PROTOCOL.check("protocol", p.code())? as u8,
            None => TENUS_PROTOCOL,
        };
        let onlink = onlink_of("onlink", o.onlink, o.flags.as_deref())?;
        if let Some(s) = o.scope {
            SCOPE.check("scope", s.code())?;
        }
        let fdb = o.fdb.unwrap_or(false);
        let blackhole = o.blackhole.unwrap_or(false);
        if let Some(d) = &o.dev {
            d.validate("dev")?;
        }
        let path = o.via.is_some() || o.dev.is_some();
        // The option the user gave that makes it a path (for errors: dev alone is one).
        let path_name = if o.via.is_some() { "via" } else { "dev" };
        let exclusive = |a: &str, b: &str| Error::invalid(a, format!("{a} and {b} are exclusive"));
        let kind = if let Some(list) = o.group {
            for (set, name) in [(path, path_name), (blackhole, "blackhole"), (onlink, "onlink")] {
                if set {
                    return Err(exclusive("group", name));
                }
            }
            if list.is_empty() {
                return Err(Error::invalid("group", "a group needs at least one nexthop"));
            }
            // NHA_GROUP holds 8 bytes a member, and its length is 16 bits: more would wrap it.
            if 4 + 8 * list.len() > usize::from(u16::MAX) {
                return Err(Error::invalid(
                    "group",
                    format!(
                        "{} members take more than the 65535 bytes one netlink attribute holds (8,191 fit)",
                        list.len()
                    ),
                ));
            }
            let mut members = Vec::with_capacity(list.len());
            for (i, m) in list.iter().enumerate() {
                let mid = NEXTHOP_ID.check(&format!("group[{i}].id"), m.id)?;
                if mid == id {
                    return Err(Error::invalid(
                        &format!("group[{i}].id"),
                        "a group cannot hold itself",
                    ));
                }
                if members.iter().any(|(other, _)| *other == mid) {
                    return Err(Error::invalid(
                        &format!("group[{i}].id"),
                        format!("nexthop {mid} is in the group twice"),
                    ));
                }
                let w = WEIGHT.check(&format!("group[{i}].weight"), m.weight.unwrap_or(1))? as u16;
                members.push((mid, w));
            }
            let resilient = match (o.group_type, o.resilient) {
                (Some(GroupType::Mpath), Some(_)) => {
                    return Err(Error::invalid(
                        "resilient",
                        "resilient settings need groupType 'resilient'",
                    ))
                }
                (Some(GroupType::Resilient), r) | (None, r @ Some(_)) => {
                    let r = r.unwrap_or_default();
                    if let Some(b) = r.buckets {
                        BUCKETS.check("resilient.buckets", b)?;
                    }
                    if let Some(t) = r.idle_timer {
                        TIMER.check("resilient.idleTimer", t)?;
                    }
                    if let Some(t) = r.unbalanced_timer {
                        TIMER.check("resilient.unbalancedTimer", t)?;
                    }
                    Some(r)
                }
                (_, None) => None,
            };
            Kind::Group { members, resilient }
        } else {
            if o.group_type.is_some() || o.resilient.is_some() {
                return Err(Error::invalid_type(
                    "group",
                    "groupType and resilient are for groups",
                ));
            }
            if blackhole {
                for (set, name) in [(path, path_name), (onlink, "onlink"), (fdb, "fdb")] {
                    if set {
                        return Err(exclusive("blackhole", name));
                    }
                }
                Kind::Blackhole
            } else {
                if !path {
                    return Err(Error::invalid_type(
                        "via",
                        "a nexthop needs a gateway (via), a link (dev), blackhole or a group",
                    ));
                }
                if fdb && (o.dev.is_some() || onlink) {
                    return Err(Error::invalid(
                        "fdb",
                        "an fdb nexthop has a gateway only (no dev, no onlink)",
                    ));
                }
                if onlink && (o.via.is_none() || o.dev.is_none()) {
                    return Err(Error::invalid(
                        "onlink",
                        "onlink needs a gateway (via) and a link (dev)",
                    ));
                }
                if !fdb && o.dev.is_none() {
                    return Err(Error::invalid_type(
                        "dev",
                        "a nexthop object with a gateway needs its link (dev), unless it is an fdb one",
                    ));
                }
                Kind::Path {
                    gateway: o.via.as_deref().map(|t| args::ip("via", t)).transpose()?,
                    dev: o.dev,
                }
            }
        };
        let family = match &kind {
            Kind::Path {
                gateway: Some(gw), ..
            } => {
                let f = Family::of(gw);
                if o.family.is_some_and(|want| want != f) {
                    return Err(Error::invalid(
                        "family",
                        format!("the gateway {gw} is not {}", o.family.map_or("", Family::as_str)),
                    ));
                }
                Some(f)
            }
            Kind::Group { .. } => None,
            _ => Some(o.family.unwrap_or(Family::Inet)),
        };
        Ok(Nexthop {
            id,
            family,
            kind,
            flags: if onlink { 4 } else { 0 },
            fdb,
            protocol,
            scope: 0,
            kept: Vec::new(),
        })
    }

    /// Links the request names.
    pub fn links(&self) -> Vec<&LinkRef> {
        match &self.kind {
            Kind::Path { dev: Some(d), .. } if d.name().is_some() => vec![d],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<Nexthop> {
        Nexthop::parse(args::options("nexthop", json)?)
    }

    fn arg_of(r: Result<Nexthop>) -> String {
        match r {
            Err(Error::InvalidArgument { arg, .. }) => arg,
            other => panic!("expected an invalid argument, got {other:?}"),
        }
    }

    #[test]
    fn kinds() {
        let n = parse(serde_json::json!({ "id": 1, "via": "fd00::1", "dev": "e" })).unwrap();
        assert_eq!(n.family, Some(Family::Inet6));
        let n = parse(serde_json::json!({ "id": 2, "group": [{ "id": 1 }, { "id": 3, "weight": 256 }] }))
            .unwrap();
        assert_eq!(
            n.kind,
            Kind::Group {
                members: vec![(1, 1), (3, 256)],
                resilient: None
            }
        );
        let n = parse(serde_json::json!({ "id": 2, "group": [{ "id": 1 }], "resilient": { "buckets": 32 } }))
            .unwrap();
        assert!(matches!(
            n.kind,
            Kind::Group {
                resilient: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn an_exclusive_option_is_named_as_given() {
        use serde_json::json;
        let message = |r: Result<Nexthop>| r.unwrap_err().to_string();
        let dev_only = message(parse(json!({ "id": 2, "blackhole": true, "dev": "v0" })));
        assert!(dev_only.contains("blackhole and dev are exclusive"), "{dev_only}");
        let group = message(parse(json!({ "id": 3, "group": [{ "id": 1 }], "dev": "v0" })));
        assert!(group.contains("group and dev are exclusive"), "{group}");
        let via = message(parse(
            json!({ "id": 2, "blackhole": true, "via": "10.0.0.1", "dev": "v0" }),
        ));
        assert!(via.contains("blackhole and via are exclusive"), "{via}");
    }

    #[test]
    fn bad_input_names_the_option() {
        use serde_json::json;
        assert_eq!(arg_of(parse(json!({ "id": 0, "dev": "e" }))), "id");
        assert_eq!(arg_of(parse(json!({ "id": 1 }))), "via");
        assert_eq!(
            arg_of(parse(json!({ "id": 1, "blackhole": true, "via": "10.0.0.1" }))),
            "blackhole"
        );
        assert_eq!(
            arg_of(parse(json!({ "id": 1, "group": [{ "id": 2, "weight": 0 }] }))),
            "group[0].weight"
        );
        assert_eq!(
            arg_of(parse(json!({ "id": 1, "group": [{ "id": 2 }, { "id": 2 }] }))),
            "group[1].id"
        );
        assert_eq!(
            arg_of(parse(json!({ "id": 1, "group": [{ "id": 1 }] }))),
            "group[0].id"
        );
        assert_eq!(arg_of(parse(json!({ "id": 1, "group": [] }))), "group");
        assert_eq!(
            arg_of(parse(
                json!({ "id": 1, "via": "10.0.0.1", "dev": "e", "fdb": true })
            )),
            "fdb"
        );
        assert_eq!(
            arg_of(parse(json!({ "id": 1, "via": "10.0.0.1", "onlink": true }))),
            "onlink"
        );
        // The kernel's "Device attribute required for non-blackhole and non-fdb nexthops".
        assert_eq!(arg_of(parse(json!({ "id": 1, "via": "10.0.0.1" }))), "dev");
        assert!(parse(json!({ "id": 1, "via": "10.0.0.1", "fdb": true })).is_ok());
        assert_eq!(
            arg_of(parse(
                json!({ "id": 1, "group": [{ "id": 2 }], "resilient": { "buckets": 0 } })
            )),
            "resilient.buckets"
        );
        assert_eq!(
            arg_of(parse(
                json!({ "id": 1, "via": "10.0.0.1", "dev": "e", "family": "inet6" })
            )),
            "family"
        );
        assert_eq!(
            arg_of(parse(json!({ "id": 1, "via": "10.0.0.1", "groupType": "mpath" }))),
            "group"
        );
    }
}

//! VXLAN: `ip link add NAME type vxlan id VNI [dstport PORT] [local IP] [remote IP | group IP]
//! [dev PARENT] [ttl TTL] [nolearning]`.
//! Attribute order follows iproute2: LINK, ID, LOCAL, GROUP, TTL, LEARNING, PORT.

use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoKind, InfoVxlan};
use serde::{Deserialize, Serialize};

use crate::args;
use crate::error::{Error, Result};

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};
use crate::link::spec::LinkRef;

/// `ip link add NAME type vxlan id VNI ...` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct VxlanOptions {
    /// 24-bit VXLAN network identifier.
    pub vni: Option<u32>,
    /// UDP destination port (IANA: 4789); 0 or none: the kernel's default, 8472.
    pub port: Option<u32>,
    pub local: Option<String>,
    /// Unicast remote endpoint.
    pub remote: Option<String>,
    /// Multicast group (needs `parent`); `group` is the link group, as for every kind.
    pub multicast_group: Option<String>,
    /// The link the tunnel's packets leave by.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub parent: Option<LinkRef>,
    pub ttl: Option<u32>,
    /// MAC learning; default true, as with iproute2.
    pub learning: Option<bool>,
}

/// What a vxlan reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct VxlanInfo {
    pub vni: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<String>,
    /// The unicast remote endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    /// The multicast group (the kernel keeps it in the same attribute as a remote).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multicast_group: Option<String>,
    /// The index of the link the tunnel's packets leave by (the `parent` option).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    pub learning: bool,
}

#[derive(Debug, Clone)]
pub struct Vxlan {
    vni: u32,
    port: Option<u16>,
    local: Option<IpAddr>,
    /// The remote endpoint or multicast group: the kernel keeps both in one attribute.
    peer: Option<IpAddr>,
    parent: Option<LinkRef>,
    ttl: Option<u8>,
    learning: bool,
}

impl Kind for Vxlan {
    const NAME: &'static str = "vxlan";
    const PREFIX: &'static str = "vx";
    type Options = VxlanOptions;
    type Info = VxlanInfo;

    fn probe() -> serde_json::Value {
        serde_json::json!({"vni": 1})
    }

    fn parse(o: VxlanOptions, _: &mut dyn ParseContext) -> Result<Self> {
        let vni = args::vni("vni", args::required(o.vni, "vni", Self::NAME)?)?;
        if o.remote.is_some() && o.multicast_group.is_some() {
            return Err(Error::invalid(
                "multicastGroup",
                "remote and multicastGroup are exclusive",
            ));
        }
        let ip = |arg: &str, t: &Option<String>| t.as_deref().map(|t| args::ip(arg, t)).transpose();
        let local = ip("local", &o.local)?;
        let remote = ip("remote", &o.remote)?;
        let group = ip("multicastGroup", &o.multicast_group)?;
        if let Some(g) = group.filter(|g| !g.is_multicast()) {
            return Err(Error::invalid(
                "multicastGroup",
                format!("{g} is not a multicast address"),
            ));
        }
        if let Some(r) = remote.filter(IpAddr::is_multicast) {
            return Err(Error::invalid(
                "remote",
                format!("{r} is multicast; use multicastGroup"),
            ));
        }
        let peer = remote.or(group);
        if let (Some(l), Some(p)) = (local, peer) {
            if l.is_ipv4() != p.is_ipv4() {
                return Err(Error::invalid(
                    "local",
                    "local and remote/multicastGroup must be the same address family",
                ));
            }
        }
        if let Some(p) = &o.parent {
            p.validate("parent")?;
        }
        Ok(Vxlan {
            vni,
            port: o
                .port
                .map(|p| args::VXLAN_PORT.check("port", p).map(|p| p as u16))
                .transpose()?,
            local,
            peer,
            parent: o.parent,
            ttl: o.ttl.map(|t| args::ttl("ttl", t)).transpose()?,
            learning: o.learning.unwrap_or(true),
        })
    }

    fn parent(&self) -> Option<&LinkRef> {
        self.parent.as_ref()
    }

    fn parent_in_data(&self) -> bool {
        true
    }

    fn info(&self, r: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        let mut data = Vec::new();
        if let Some(index) = r.parent {
            data.push(InfoVxlan::Link(index));
        }
        data.push(InfoVxlan::Id(self.vni));
        match self.local {
            Some(IpAddr::V4(a)) => data.push(InfoVxlan::Local(a)),
            Some(IpAddr::V6(a)) => data.push(InfoVxlan::Local6(a)),
            None => {}
        }
        match self.peer {
            Some(IpAddr::V4(a)) => data.push(InfoVxlan::Group(a)),
            Some(IpAddr::V6(a)) => data.push(InfoVxlan::Group6(a)),
            None => {}
        }
        if let Some(ttl) = self.ttl {
            data.push(InfoVxlan::Ttl(ttl));
        }
        data.push(InfoVxlan::Learning(self.learning));
        if let Some(port) = self.port {
            data.push(InfoVxlan::Port(port));
        }
        Ok((InfoKind::Vxlan, Some(InfoData::Vxlan(data))))
    }

    fn decode(data: Option<&InfoData>) -> Option<VxlanInfo> {
        let Some(InfoData::Vxlan(items)) = data else {
            return None;
        };
        let mut info = VxlanInfo::default();
        for item in items {
            match item {
                InfoVxlan::Id(v) => info.vni = *v,
                InfoVxlan::Port(p) => info.port = Some(u32::from(*p)),
                InfoVxlan::Local(a) => info.local = Some(a.to_string()),
                InfoVxlan::Local6(a) => info.local = Some(a.to_string()),
                InfoVxlan::Group(a) if !a.is_unspecified() => peer(&mut info, IpAddr::V4(*a)),
                InfoVxlan::Group6(a) if !a.is_unspecified() => peer(&mut info, IpAddr::V6(*a)),
                InfoVxlan::Link(index) if *index != 0 => info.parent = Some(*index),
                InfoVxlan::Ttl(t) => info.ttl = Some(u32::from(*t)),
                InfoVxlan::Learning(l) => info.learning = *l,
                _ => {}
            }
        }
        Some(info)
    }
}

/// IFLA_VXLAN_GROUP(6): a multicast group, or else the unicast remote.
fn peer(info: &mut VxlanInfo, address: IpAddr) {
    if address.is_multicast() {
        info.multicast_group = Some(address.to_string());
    } else {
        info.remote = Some(address.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::kind::tests::NoContext;

    fn parse(o: VxlanOptions) -> Result<Vxlan> {
        Vxlan::parse(o, &mut NoContext)
    }

    #[test]
    fn refuses_mixed_families_and_bad_groups() {
        let base = VxlanOptions {
            vni: Some(42),
            ..Default::default()
        };
        assert!(parse(base.clone()).is_ok());
        let arg = |o: VxlanOptions| parse(o).unwrap_err().arg().map(str::to_string);
        let mixed = VxlanOptions {
            local: Some("10.0.0.1".into()),
            remote: Some("fd00::2".into()),
            ..base.clone()
        };
        assert_eq!(arg(mixed).as_deref(), Some("local"));
        let unicast_group = VxlanOptions {
            multicast_group: Some("10.0.0.2".into()),
            ..base.clone()
        };
        assert_eq!(arg(unicast_group).as_deref(), Some("multicastGroup"));
        let mcast_remote = VxlanOptions {
            remote: Some("239.1.1.1".into()),
            ..base.clone()
        };
        assert_eq!(arg(mcast_remote).as_deref(), Some("remote"));
        let big = VxlanOptions {
            vni: Some(1 << 24),
            ..base.clone()
        };
        assert_eq!(arg(big).as_deref(), Some("vni"));
        assert_eq!(arg(VxlanOptions::default()).as_deref(), Some("vni"));
    }
}

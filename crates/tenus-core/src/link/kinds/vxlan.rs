//! VXLAN: `ip link add NAME type vxlan id VNI [dstport PORT] [local IP] [remote IP | group IP]
//! [dev PARENT] [ttl TTL | ttl inherit] [tos TOS] [df unset|set|inherit] [flowlabel LABEL]
//! [srcport MIN MAX] [nolearning] [proxy] [l2miss] [l3miss] [noudpcsum] [gbp] [ageing S]
//! [maxaddress N] [external [vnifilter]]`.
//! Attribute order follows iproute2: LINK, ID, LOCAL, GROUP, TTL, LEARNING, PORT, then the rest
//! in iproute2's order of its options.

use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoKind, InfoVxlan, VxlanDf};
use serde::{Deserialize, Serialize};

use crate::args;
use crate::error::{Error, Result};

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};
use crate::link::spec::LinkRef;
use crate::rule::spec::Range;

crate::js_enum!(VxlanDfMode { Unset = "unset", Set = "set", Inherit = "inherit" });

/// The kernel's default ageing of learnt entries (seconds): records leave it out.
const DEFAULT_AGEING: u32 = 300;

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
    /// The outer TTL is the inner packet's (`ttl inherit`; not with `ttl`).
    pub ttl_inherit: Option<bool>,
    /// Outer TOS, 0..=255 (1: the inner packet's, as `tos inherit`).
    pub tos: Option<u32>,
    /// The outer IPv4 header's don't-fragment bit (default 'unset').
    pub df: Option<VxlanDfMode>,
    /// IPv6 only: the outer flow label (20 bits).
    pub flow_label: Option<u32>,
    /// UDP source ports to choose from (`srcport MIN MAX`).
    pub src_port_range: Option<Range>,
    /// Answer ARP / neighbour solicitations from the FDB (`proxy`).
    pub proxy: Option<bool>,
    /// Tell user space of unknown destination MACs (`l2miss`).
    pub l2miss: Option<bool>,
    /// Tell user space of unknown destination IPs (`l3miss`).
    pub l3miss: Option<bool>,
    /// UDP checksums over IPv4 (false: `noudpcsum`).
    pub udp_csum: Option<bool>,
    /// Group Policy extension (`gbp`).
    pub gbp: Option<bool>,
    /// Seconds a learnt FDB entry lives (`ageing`; the kernel's default 300).
    pub ageing: Option<u32>,
    /// Most FDB entries (`maxaddress`; 0: no limit).
    pub max_addresses: Option<u32>,
    /// Collect metadata: the VNI and remote come per packet (`external`; no `vni`).
    pub external: Option<bool>,
    /// With `external`: VNIs filtered per device (`vnifilter`, Linux 5.18).
    pub vnifilter: Option<bool>,
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
    /// Present when set (so for the options below: what a record leaves out is the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_inherit: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos: Option<u32>,
    /// Present when not 'unset'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<VxlanDfMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_label: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_port_range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l2miss: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l3miss: Option<bool>,
    /// Present when false (`noudpcsum`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp_csum: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gbp: Option<bool>,
    /// Present when not the kernel's 300.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ageing: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_addresses: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vnifilter: Option<bool>,
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
    /// The settings past the ones above, checked, as they are sent (iproute2's order).
    more: Vec<InfoVxlan>,
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
        let external = o.external.unwrap_or(false);
        // An external (metadata) device has no VNI of its own: the kernel takes 0.
        let vni = match (o.vni, external) {
            (None, true) => 0,
            (vni, _) => args::vni("vni", args::required(vni, "vni", Self::NAME)?)?,
        };
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
        let more = more_settings(&o, local.or(peer).is_some_and(|a| a.is_ipv6()))?;
        Ok(Vxlan {
            more,
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
        data.extend(self.more.iter().cloned());
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
                InfoVxlan::TtlInherit(1) => info.ttl_inherit = Some(true),
                InfoVxlan::Tos(t) if *t != 0 => info.tos = Some(u32::from(*t)),
                InfoVxlan::Df(VxlanDf::Set) => info.df = Some(VxlanDfMode::Set),
                InfoVxlan::Df(VxlanDf::Inherit) => info.df = Some(VxlanDfMode::Inherit),
                InfoVxlan::Label(l) if *l != 0 => info.flow_label = Some(*l),
                InfoVxlan::PortRange((low, high)) if (*low, *high) != (0, 0) => {
                    info.src_port_range = Some(Range {
                        start: u32::from(*low),
                        end: u32::from(*high),
                    })
                }
                InfoVxlan::Proxy(true) => info.proxy = Some(true),
                InfoVxlan::L2Miss(true) => info.l2miss = Some(true),
                InfoVxlan::L3Miss(true) => info.l3miss = Some(true),
                InfoVxlan::UDPCsum(false) => info.udp_csum = Some(false),
                InfoVxlan::Gbp => info.gbp = Some(true),
                InfoVxlan::Ageing(a) if *a != DEFAULT_AGEING => info.ageing = Some(*a),
                InfoVxlan::Limit(l) if *l != 0 => info.max_addresses = Some(*l),
                InfoVxlan::CollectMetadata(true) => info.external = Some(true),
                InfoVxlan::Vnifilter(true) => info.vnifilter = Some(true),
                _ => {}
            }
        }
        // The kernel still dumps a TTL (0) beside `ttl inherit`, which replaces it.
        if info.ttl_inherit.is_some() {
            info.ttl = None;
        }
        Some(info)
    }
}

/// The settings past VNI, addresses, parent, TTL, learning and port, checked, in iproute2's
/// order; `v6`: the tunnel's addresses are IPv6.
fn more_settings(o: &VxlanOptions, v6: bool) -> Result<Vec<InfoVxlan>> {
    let mut out = Vec::new();
    let on = |v: Option<bool>| v == Some(true);
    if on(o.ttl_inherit) {
        if o.ttl.is_some() {
            return Err(Error::invalid("ttlInherit", "ttl and ttlInherit are exclusive"));
        }
        out.push(InfoVxlan::TtlInheritFlag);
    }
    if let Some(t) = o.tos {
        out.push(InfoVxlan::Tos(args::Int::new("TOS", 0..=255).check("tos", t)? as u8));
    }
    if let Some(df) = o.df {
        out.push(InfoVxlan::Df(match df {
            VxlanDfMode::Unset => VxlanDf::Unset,
            VxlanDfMode::Set => VxlanDf::Set,
            VxlanDfMode::Inherit => VxlanDf::Inherit,
        }));
    }
    if let Some(label) = o.flow_label {
        let label = args::Int::new("flow label", 0..=0xf_ffff).check("flowLabel", label)?;
        if label != 0 && !v6 {
            return Err(Error::invalid(
                "flowLabel",
                "a flow label is for IPv6 tunnels (give an IPv6 local, remote or multicastGroup)",
            ));
        }
        out.push(InfoVxlan::Label(label));
    }
    if let Some(r) = o.src_port_range {
        let port = args::Int::new("port", 1..=65535);
        let low = port.check("srcPortRange.start", r.start)? as u16;
        let high = port.check("srcPortRange.end", r.end)? as u16;
        if low > high {
            return Err(Error::invalid(
                "srcPortRange",
                format!("range {low}-{high} is reversed"),
            ));
        }
        out.push(InfoVxlan::PortRange((low, high)));
    }
    for (given, make) in [
        (o.proxy, InfoVxlan::Proxy as fn(bool) -> InfoVxlan),
        (o.l2miss, InfoVxlan::L2Miss),
        (o.l3miss, InfoVxlan::L3Miss),
        (o.udp_csum, InfoVxlan::UDPCsum),
    ] {
        if let Some(v) = given {
            out.push(make(v));
        }
    }
    if on(o.gbp) {
        out.push(InfoVxlan::Gbp);
    }
    if let Some(a) = o.ageing {
        out.push(InfoVxlan::Ageing(a));
    }
    if let Some(l) = o.max_addresses {
        out.push(InfoVxlan::Limit(l));
    }
    if on(o.external) {
        if o.vni.is_some() {
            return Err(Error::invalid(
                "vni",
                "an external (metadata) vxlan has no VNI of its own: leave vni out",
            ));
        }
        out.push(InfoVxlan::CollectMetadata(true));
    }
    if on(o.vnifilter) {
        if !on(o.external) {
            return Err(Error::invalid("vnifilter", "vnifilter needs external"));
        }
        out.push(InfoVxlan::Vnifilter(true));
    }
    Ok(out)
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

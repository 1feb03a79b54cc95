//! GRE tunnels: `ip link add NAME type gre|gretap|ip6gre|ip6gretap remote ADDR [local ADDR]
//! [ttl TTL] [key KEY] [dev PARENT]` — gre and ip6gre carry IP packets, the -tap kinds
//! Ethernet frames. ip6gre(tap) sends an encapsulation limit of 4, as iproute2 does.

use std::net::IpAddr;
use std::ops::RangeInclusive;

use netlink_packet_route::link::{GreIOFlags, InfoData, InfoGre, InfoGre6, InfoKind};
use serde::{Deserialize, Serialize};

use crate::args;
use crate::error::{Error, Result};

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};
use crate::link::spec::LinkRef;

const IP6_DEFAULT_ENCAP_LIMIT: u8 = 4;

/// `ip link add NAME type gre|gretap|ip6gre|ip6gretap remote ADDR ...` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct GreOptions {
    /// The far end (IPv4 for gre/gretap, IPv6 for ip6gre/ip6gretap).
    pub remote: Option<String>,
    pub local: Option<String>,
    /// 0 inherits the inner packet's TTL.
    pub ttl: Option<u32>,
    /// Input and output key.
    pub key: Option<u32>,
    /// The link the tunnel's packets leave by.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub parent: Option<LinkRef>,
}

/// What a GRE tunnel reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct GreInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
}

/// What the four kinds share.
#[derive(Debug, Clone)]
pub struct Tunnel {
    local: Option<IpAddr>,
    remote: IpAddr,
    ttl: Option<u8>,
    key: Option<u32>,
    parent: Option<LinkRef>,
}

impl Tunnel {
    fn parse(o: GreOptions, kind: &str, ipv6: bool) -> Result<Self> {
        let remote = args::ip("remote", &args::required(o.remote, "remote", kind)?)?;
        let local = o.local.as_deref().map(|l| args::ip("local", l)).transpose()?;
        for (arg, addr) in [("remote", Some(remote)), ("local", local)] {
            if let Some(a) = addr.filter(|a| a.is_ipv6() != ipv6) {
                let want = if ipv6 { "IPv6" } else { "IPv4" };
                return Err(Error::invalid(
                    arg,
                    format!("{kind} needs an {want} address, not {a}"),
                ));
            }
        }
        if let Some(p) = &o.parent {
            p.validate("parent")?;
        }
        Ok(Tunnel {
            local,
            remote,
            ttl: o.ttl.map(|t| args::ttl("ttl", t)).transpose()?,
            key: o.key,
            parent: o.parent,
        })
    }

    fn data4(&self, parent: Option<u32>) -> Vec<InfoGre> {
        let mut d = Vec::new();
        if let Some(p) = parent {
            d.push(InfoGre::Link(p));
        }
        if let Some(k) = self.key {
            d.extend([
                InfoGre::IFlags(GreIOFlags::Key),
                InfoGre::OFlags(GreIOFlags::Key),
                InfoGre::IKey(k),
                InfoGre::OKey(k),
            ]);
        }
        if let Some(IpAddr::V4(a)) = self.local {
            d.push(InfoGre::Local(a));
        }
        if let IpAddr::V4(a) = self.remote {
            d.push(InfoGre::Remote(a));
        }
        if let Some(t) = self.ttl {
            d.push(InfoGre::Ttl(t));
        }
        d
    }

    fn data6(&self, parent: Option<u32>) -> Vec<InfoGre6> {
        let mut d = Vec::new();
        if let Some(p) = parent {
            d.push(InfoGre6::Link(p));
        }
        if let Some(k) = self.key {
            d.extend([
                InfoGre6::IFlags(GreIOFlags::Key),
                InfoGre6::OFlags(GreIOFlags::Key),
                InfoGre6::IKey(k),
                InfoGre6::OKey(k),
            ]);
        }
        if let Some(IpAddr::V6(a)) = self.local {
            d.push(InfoGre6::Local(a));
        }
        if let IpAddr::V6(a) = self.remote {
            d.push(InfoGre6::Remote(a));
        }
        if let Some(t) = self.ttl {
            d.push(InfoGre6::Ttl(t));
        }
        d.push(InfoGre6::EncapLimit(IP6_DEFAULT_ENCAP_LIMIT));
        d
    }
}

fn decode4(items: &[InfoGre]) -> GreInfo {
    let mut info = GreInfo::default();
    for item in items {
        match item {
            InfoGre::Local(a) if !a.is_unspecified() => info.local = Some(a.to_string()),
            InfoGre::Remote(a) if !a.is_unspecified() => info.remote = Some(a.to_string()),
            InfoGre::IKey(k) if *k != 0 => info.key = Some(*k),
            InfoGre::Ttl(t) => info.ttl = Some(u32::from(*t)),
            _ => {}
        }
    }
    info
}

fn decode6(items: &[InfoGre6]) -> GreInfo {
    let mut info = GreInfo::default();
    for item in items {
        match item {
            InfoGre6::Local(a) if !a.is_unspecified() => info.local = Some(a.to_string()),
            InfoGre6::Remote(a) if !a.is_unspecified() => info.remote = Some(a.to_string()),
            InfoGre6::IKey(k) if *k != 0 => info.key = Some(*k),
            InfoGre6::Ttl(t) => info.ttl = Some(u32::from(*t)),
            _ => {}
        }
    }
    info
}

/// One `Kind` per GRE flavour: the name, the address family and the netlink variants.
macro_rules! gre_kind {
    ($ty:ident, $name:literal, $prefix:literal, ipv6: $v6:literal, $kind:ident, $data:ident, $build:ident, $decode:ident, $max:expr) => {
        #[derive(Debug, Clone)]
        pub struct $ty(Tunnel);

        impl Kind for $ty {
            const NAME: &'static str = $name;
            const PREFIX: &'static str = $prefix;
            type Options = GreOptions;
            type Info = GreInfo;

            fn probe() -> serde_json::Value {
                serde_json::json!({ "remote": if $v6 { "fd00::2" } else { "10.0.0.2" } })
            }

            fn parse(o: GreOptions, _: &mut dyn ParseContext) -> Result<Self> {
                Tunnel::parse(o, $name, $v6).map($ty)
            }

            fn parent(&self) -> Option<&LinkRef> {
                self.0.parent.as_ref()
            }

            fn parent_in_data(&self) -> bool {
                true
            }

            fn mtu_range(&self) -> RangeInclusive<u32> {
                args::MTU_MIN..=$max
            }

            fn info(&self, r: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
                Ok((InfoKind::$kind, Some(InfoData::$data(self.0.$build(r.parent)))))
            }

            fn decode(data: Option<&InfoData>) -> Option<GreInfo> {
                match data {
                    Some(InfoData::$data(items)) => Some($decode(items)),
                    _ => None,
                }
            }
        }
    };
}

// Every kind of the family is named "gre" + 8 hex digits: "ip6gretap" + 8 would not fit IFNAMSIZ.
// The kernel's max_mtu: IP_MAX_MTU less the outer headers (ip_tunnel_newlink, ip6gre_tnl_link_config).
gre_kind!(Gre, "gre", "gre", ipv6: false, GreTun, GreTun, data4, decode4, 65535 - 24);
gre_kind!(GreTap, "gretap", "gre", ipv6: false, GreTap, GreTap, data4, decode4, 65535 - 38);
gre_kind!(Ip6Gre, "ip6gre", "gre", ipv6: true, GreTun6, GreTun6, data6, decode6, 65535 - 44);
gre_kind!(Ip6GreTap, "ip6gretap", "gre", ipv6: true, GreTap6, GreTap6, data6, decode6, 65535 - 58);

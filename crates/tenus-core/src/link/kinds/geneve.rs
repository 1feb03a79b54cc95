//! GENEVE: `ip link add NAME type geneve id VNI remote ADDR [ttl TTL] [dstport PORT]
//! [df unset|set|inherit]`. Attribute order follows iproute2: DF, ID, REMOTE, TTL, PORT.

use std::net::IpAddr;
use std::ops::RangeInclusive;

use netlink_packet_route::link::{GeneveDf, InfoData, InfoGeneve, InfoKind};
use serde::{Deserialize, Serialize};

use crate::args;
use crate::error::Result;

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};

crate::js_enum!(GeneveDfMode { Unset = "unset", Set = "set", Inherit = "inherit" });

impl GeneveDfMode {
    fn to_netlink(self) -> GeneveDf {
        match self {
            GeneveDfMode::Unset => GeneveDf::Unset,
            GeneveDfMode::Set => GeneveDf::Set,
            GeneveDfMode::Inherit => GeneveDf::Inherit,
        }
    }
}

/// `ip link add NAME type geneve id VNI remote ADDR ...` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct GeneveOptions {
    /// 24-bit virtual network identifier.
    pub id: Option<u32>,
    /// The far end (IPv4 or IPv6).
    pub remote: Option<String>,
    /// UDP destination port (IANA and the kernel's default: 6081).
    pub port: Option<u32>,
    /// 0 inherits the inner packet's TTL.
    pub ttl: Option<u32>,
    /// The outer header's don't-fragment bit.
    pub df: Option<GeneveDfMode>,
}

/// What a GENEVE link reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct GeneveInfo {
    pub id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<GeneveDfMode>,
}

#[derive(Debug, Clone)]
pub struct Geneve {
    id: u32,
    remote: IpAddr,
    port: Option<u16>,
    ttl: Option<u8>,
    df: Option<GeneveDfMode>,
}

impl Kind for Geneve {
    const NAME: &'static str = "geneve";
    const PREFIX: &'static str = "gnv";
    type Options = GeneveOptions;
    type Info = GeneveInfo;

    fn probe() -> serde_json::Value {
        serde_json::json!({ "id": 1, "remote": "10.0.0.2" })
    }

    fn parse(o: GeneveOptions, _: &mut dyn ParseContext) -> Result<Self> {
        Ok(Geneve {
            id: args::vni("id", args::required(o.id, "id", Self::NAME)?)?,
            remote: args::ip("remote", &args::required(o.remote, "remote", Self::NAME)?)?,
            port: o.port.map(|p| args::port("port", p)).transpose()?,
            ttl: o.ttl.map(|t| args::ttl("ttl", t)).transpose()?,
            df: o.df,
        })
    }

    /// The kernel's max_mtu: IP_MAX_MTU less the GENEVE and Ethernet headers (geneve_setup).
    fn mtu_range(&self) -> RangeInclusive<u32> {
        args::MTU_MIN..=65535 - 16 - 14
    }

    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        let mut data = Vec::new();
        if let Some(df) = self.df {
            data.push(InfoGeneve::Df(df.to_netlink()));
        }
        data.push(InfoGeneve::Id(self.id));
        data.push(match self.remote {
            IpAddr::V4(a) => InfoGeneve::Remote(a),
            IpAddr::V6(a) => InfoGeneve::Remote6(a),
        });
        if let Some(ttl) = self.ttl {
            data.push(InfoGeneve::Ttl(ttl));
        }
        if let Some(port) = self.port {
            data.push(InfoGeneve::Port(port));
        }
        Ok((InfoKind::Geneve, Some(InfoData::Geneve(data))))
    }

    fn decode(data: Option<&InfoData>) -> Option<GeneveInfo> {
        let Some(InfoData::Geneve(items)) = data else { return None };
        let mut info = GeneveInfo::default();
        for item in items {
            match item {
                InfoGeneve::Id(id) => info.id = *id,
                InfoGeneve::Remote(a) => info.remote = Some(a.to_string()),
                InfoGeneve::Remote6(a) => info.remote = Some(a.to_string()),
                InfoGeneve::Port(p) => info.port = Some(u32::from(*p)),
                InfoGeneve::Ttl(t) => info.ttl = Some(u32::from(*t)),
                InfoGeneve::Df(d) => {
                    info.df = GeneveDfMode::ALL.iter().copied().find(|m| m.to_netlink() == *d)
                }
                _ => {}
            }
        }
        Some(info)
    }
}

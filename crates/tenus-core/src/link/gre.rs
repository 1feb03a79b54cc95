//! GRE tunnels: `ip link add NAME type gre|gretap|ip6gre|ip6gretap local A remote B [ttl N]
//! [key K]`. `gre`/`ip6gre` carry IP packets (no MAC), the `tap` variants Ethernet frames.

use std::net::IpAddr;

use netlink_packet_route::link::{GreIOFlags, InfoData, InfoGre, InfoGre6, InfoKind};

use crate::error::{Error, Result};
use crate::validate;

use super::spec::LinkRef;

const IP6_DEFAULT_ENCAP_LIMIT: u8 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreKind {
    Gre,
    GreTap,
    Ip6Gre,
    Ip6GreTap,
}

impl GreKind {
    pub fn name(self) -> &'static str {
        match self {
            GreKind::Gre => "gre",
            GreKind::GreTap => "gretap",
            GreKind::Ip6Gre => "ip6gre",
            GreKind::Ip6GreTap => "ip6gretap",
        }
    }

    fn ipv6(self) -> bool {
        matches!(self, GreKind::Ip6Gre | GreKind::Ip6GreTap)
    }
}

#[derive(Debug, Clone)]
pub struct GreSpec {
    pub kind: GreKind,
    pub local: Option<String>,
    pub remote: String,
    pub ttl: Option<u32>,
    /// Sets both the input and output key (and the GRE key flag), as `ip ... key K` does.
    pub key: Option<u32>,
    pub parent: Option<LinkRef>,
}

impl GreSpec {
    pub fn validate(&self) -> Result<()> {
        let remote = validate::ip("remote", &self.remote)?;
        let local = self
            .local
            .as_deref()
            .map(|l| validate::ip("local", l))
            .transpose()?;
        for (arg, addr) in [("remote", Some(remote)), ("local", local)] {
            if let Some(a) = addr {
                if a.is_ipv6() != self.kind.ipv6() {
                    let want = if self.kind.ipv6() { "IPv6" } else { "IPv4" };
                    return Err(Error::invalid(
                        arg,
                        format!("{} needs an {want} address, not {a}", self.kind.name()),
                    ));
                }
            }
        }
        if let Some(ttl) = self.ttl {
            if ttl > 255 {
                return Err(Error::invalid(
                    "ttl",
                    format!("TTL {ttl} is out of range 0..=255"),
                ));
            }
        }
        if let Some(p) = &self.parent {
            p.validate("parent")?;
        }
        Ok(())
    }
}

pub(crate) fn info(spec: &GreSpec, parent: Option<u32>) -> Result<(InfoKind, Option<InfoData>)> {
    spec.validate()?;
    let remote = validate::ip("remote", &spec.remote)?;
    let local = spec
        .local
        .as_deref()
        .map(|l| validate::ip("local", l))
        .transpose()?;
    let kind = match spec.kind {
        GreKind::Gre => InfoKind::GreTun,
        GreKind::GreTap => InfoKind::GreTap,
        GreKind::Ip6Gre => InfoKind::GreTun6,
        GreKind::Ip6GreTap => InfoKind::GreTap6,
    };
    let data = if spec.kind.ipv6() {
        let mut d = Vec::new();
        if let Some(p) = parent {
            d.push(InfoGre6::Link(p));
        }
        if let Some(k) = spec.key {
            d.extend([
                InfoGre6::IFlags(GreIOFlags::Key),
                InfoGre6::OFlags(GreIOFlags::Key),
                InfoGre6::IKey(k),
                InfoGre6::OKey(k),
            ]);
        }
        if let Some(IpAddr::V6(a)) = local {
            d.push(InfoGre6::Local(a));
        }
        if let IpAddr::V6(a) = remote {
            d.push(InfoGre6::Remote(a));
        }
        if let Some(t) = spec.ttl {
            d.push(InfoGre6::Ttl(t as u8));
        }
        // The kernel zeroes ip6gre parameters and reads the limit only when sent; iproute2
        // always sends the RFC 2473 default of 4 (0 would forbid any further encapsulation).
        d.push(InfoGre6::EncapLimit(IP6_DEFAULT_ENCAP_LIMIT));
        if spec.kind == GreKind::Ip6Gre {
            InfoData::GreTun6(d)
        } else {
            InfoData::GreTap6(d)
        }
    } else {
        let mut d = Vec::new();
        if let Some(p) = parent {
            d.push(InfoGre::Link(p));
        }
        if let Some(k) = spec.key {
            d.extend([
                InfoGre::IFlags(GreIOFlags::Key),
                InfoGre::OFlags(GreIOFlags::Key),
                InfoGre::IKey(k),
                InfoGre::OKey(k),
            ]);
        }
        if let Some(IpAddr::V4(a)) = local {
            d.push(InfoGre::Local(a));
        }
        if let IpAddr::V4(a) = remote {
            d.push(InfoGre::Remote(a));
        }
        if let Some(t) = spec.ttl {
            d.push(InfoGre::Ttl(t as u8));
        }
        if spec.kind == GreKind::Gre {
            InfoData::GreTun(d)
        } else {
            InfoData::GreTap(d)
        }
    };
    Ok((kind, Some(data)))
}

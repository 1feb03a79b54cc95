//! VXLAN: `ip link add NAME type vxlan id VNI [dstport PORT] [local IP] [remote IP | group IP] [dev PARENT]`.
//! Attribute order follows iproute2: LINK, ID, LOCAL, GROUP, TTL, LEARNING, PORT.

use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoKind, InfoVxlan};

use crate::error::{Error, Result};
use crate::validate;

use super::spec::LinkRef;

#[derive(Debug, Clone, Default)]
pub struct VxlanSpec {
    pub vni: u32,
    pub port: Option<u32>,
    pub local: Option<String>,
    /// Unicast remote endpoint.
    pub remote: Option<String>,
    /// Multicast group (needs a parent).
    pub group: Option<String>,
    pub parent: Option<LinkRef>,
    pub ttl: Option<u32>,
    pub learning: Option<bool>,
}

impl VxlanSpec {
    pub fn validate(&self) -> Result<()> {
        validate::vni("vni", self.vni)?;
        if let Some(p) = self.port {
            validate::port("port", p)?;
        }
        if let Some(parent) = &self.parent {
            parent.validate("parent")?;
        }
        if self.remote.is_some() && self.group.is_some() {
            return Err(Error::invalid("group", "remote and group are exclusive"));
        }
        let local = self
            .local
            .as_deref()
            .map(|t| validate::ip("local", t))
            .transpose()?;
        let remote = self
            .remote
            .as_deref()
            .map(|t| validate::ip("remote", t))
            .transpose()?;
        let group = self
            .group
            .as_deref()
            .map(|t| validate::ip("group", t))
            .transpose()?;
        if let Some(g) = group {
            if !g.is_multicast() {
                return Err(Error::invalid("group", format!("{g} is not a multicast address")));
            }
        }
        if let Some(r) = remote {
            if r.is_multicast() {
                return Err(Error::invalid("remote", format!("{r} is multicast; use group")));
            }
        }
        let families: Vec<bool> = [local, remote, group]
            .iter()
            .flatten()
            .map(IpAddr::is_ipv4)
            .collect();
        if families.windows(2).any(|w| w[0] != w[1]) {
            return Err(Error::invalid(
                "local",
                "local and remote/group must be the same address family",
            ));
        }
        if let Some(ttl) = self.ttl {
            if ttl > 255 {
                return Err(Error::invalid(
                    "ttl",
                    format!("TTL {ttl} is out of range 0..=255"),
                ));
            }
        }
        Ok(())
    }
}

pub(crate) fn info(spec: &VxlanSpec, parent_index: Option<u32>) -> Result<(InfoKind, Option<InfoData>)> {
    let mut data = Vec::new();
    if let Some(index) = parent_index {
        data.push(InfoVxlan::Link(index));
    }
    data.push(InfoVxlan::Id(validate::vni("vni", spec.vni)?));
    if let Some(text) = &spec.local {
        data.push(match validate::ip("local", text)? {
            IpAddr::V4(a) => InfoVxlan::Local(a),
            IpAddr::V6(a) => InfoVxlan::Local6(a),
        });
    }
    let peer = spec
        .remote
        .as_ref()
        .map(|t| ("remote", t))
        .or(spec.group.as_ref().map(|t| ("group", t)));
    if let Some((arg, text)) = peer {
        // The kernel keeps unicast remotes and multicast groups in the same attribute.
        data.push(match validate::ip(arg, text)? {
            IpAddr::V4(a) => InfoVxlan::Group(a),
            IpAddr::V6(a) => InfoVxlan::Group6(a),
        });
    }
    if let Some(ttl) = spec.ttl {
        data.push(InfoVxlan::Ttl(ttl as u8));
    }
    data.push(InfoVxlan::Learning(spec.learning.unwrap_or(true)));
    if let Some(port) = spec.port {
        data.push(InfoVxlan::Port(validate::port("port", port)?));
    }
    Ok((InfoKind::Vxlan, Some(InfoData::Vxlan(data))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_mixed_families_and_bad_groups() {
        let base = VxlanSpec {
            vni: 42,
            ..Default::default()
        };
        assert!(base.validate().is_ok());
        let mixed = VxlanSpec {
            local: Some("10.0.0.1".into()),
            remote: Some("fd00::2".into()),
            ..base.clone()
        };
        assert!(mixed.validate().is_err());
        let unicast_group = VxlanSpec {
            group: Some("10.0.0.2".into()),
            ..base.clone()
        };
        assert!(unicast_group.validate().is_err());
        let mcast_remote = VxlanSpec {
            remote: Some("239.1.1.1".into()),
            ..base.clone()
        };
        assert!(mcast_remote.validate().is_err());
        let big = VxlanSpec { vni: 1 << 24, ..base };
        assert!(big.validate().is_err());
    }
}

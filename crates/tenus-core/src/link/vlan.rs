//! 802.1Q / 802.1ad VLAN: `ip link add link PARENT name NAME type vlan [protocol 802.1ad] id ID`.
//! Needs the `8021q` module, which some kernels lack.

use netlink_packet_route::link::{InfoData, InfoKind, InfoVlan, VlanProtocol};

use crate::error::{Error, Result};
use crate::validate;

use super::spec::LinkRef;

#[derive(Debug, Clone)]
pub struct VlanSpec {
    pub parent: LinkRef,
    pub id: u32,
    /// "802.1Q" (default) or "802.1ad".
    pub protocol: Option<String>,
}

pub fn parse_protocol(text: &str) -> Result<VlanProtocol> {
    match text.to_ascii_lowercase().as_str() {
        "802.1q" => Ok(VlanProtocol::Ieee8021Q),
        "802.1ad" => Ok(VlanProtocol::Ieee8021Ad),
        _ => Err(Error::invalid(
            "protocol",
            format!("unknown VLAN protocol {text:?} (expected 802.1Q or 802.1ad)"),
        )),
    }
}

pub fn protocol_name(p: VlanProtocol) -> &'static str {
    match p {
        VlanProtocol::Ieee8021Ad => "802.1ad",
        _ => "802.1Q",
    }
}

impl VlanSpec {
    pub fn validate(&self) -> Result<()> {
        self.parent.validate("parent")?;
        validate::vlan_id("id", self.id)?;
        if let Some(p) = &self.protocol {
            parse_protocol(p)?;
        }
        Ok(())
    }
}

/// Like iproute2, the protocol is only sent when one was asked for (the kernel defaults to 802.1Q).
pub(crate) fn info(spec: &VlanSpec) -> Result<(InfoKind, Option<InfoData>)> {
    let mut data = Vec::new();
    if let Some(p) = &spec.protocol {
        data.push(InfoVlan::Protocol(parse_protocol(p)?));
    }
    data.push(InfoVlan::Id(validate::vlan_id("id", spec.id)?));
    Ok((InfoKind::Vlan, Some(InfoData::Vlan(data))))
}

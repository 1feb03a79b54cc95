//! 802.1Q / 802.1ad VLAN: `ip link add link PARENT name NAME type vlan id ID [protocol P]`.

use netlink_packet_route::link::{InfoData, InfoKind, InfoVlan, VlanProtocol};
use serde::{Deserialize, Serialize};

use crate::args;
use crate::error::Result;

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};
use crate::link::spec::LinkRef;

crate::js_enum!(VlanProtocolName {
    Ieee8021Q = "802.1Q",
    Ieee8021Ad = "802.1ad",
});

impl VlanProtocolName {
    pub fn from_netlink(p: VlanProtocol) -> Self {
        match p {
            VlanProtocol::Ieee8021Ad => VlanProtocolName::Ieee8021Ad,
            _ => VlanProtocolName::Ieee8021Q,
        }
    }
}

pub(crate) fn protocol_from(p: VlanProtocolName) -> VlanProtocol {
    match p {
        VlanProtocolName::Ieee8021Q => VlanProtocol::Ieee8021Q,
        VlanProtocolName::Ieee8021Ad => VlanProtocol::Ieee8021Ad,
    }
}

/// `ip link add link PARENT name NAME type vlan id ID` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct VlanOptions {
    /// The link the VLAN is on.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub parent: Option<LinkRef>,
    /// VLAN id, 1..=4094.
    pub id: Option<u32>,
    /// 802.1Q (default) or 802.1ad (QinQ).
    pub protocol: Option<VlanProtocolName>,
}

/// What a VLAN reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct VlanInfo {
    pub id: u32,
    pub protocol: Option<VlanProtocolName>,
}

#[derive(Debug, Clone)]
pub struct Vlan {
    parent: LinkRef,
    id: u16,
    protocol: Option<VlanProtocol>,
}

impl Kind for Vlan {
    const NAME: &'static str = "vlan";
    const PREFIX: &'static str = "vlan";
    type Options = VlanOptions;
    type Info = VlanInfo;

    fn probe() -> serde_json::Value {
        serde_json::json!({"parent": "probe0", "id": 1})
    }

    fn parse(o: VlanOptions, _: &mut dyn ParseContext) -> Result<Self> {
        Ok(Vlan {
            parent: LinkRef::required(o.parent, "parent", Self::NAME)?,
            id: args::vlan_id("id", args::required(o.id, "id", Self::NAME)?)?,
            protocol: o.protocol.map(protocol_from),
        })
    }

    fn parent(&self) -> Option<&LinkRef> {
        Some(&self.parent)
    }

    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        let mut data = Vec::new();
        if let Some(p) = self.protocol {
            data.push(InfoVlan::Protocol(p));
        }
        data.push(InfoVlan::Id(self.id));
        Ok((InfoKind::Vlan, Some(InfoData::Vlan(data))))
    }

    fn decode(data: Option<&InfoData>) -> Option<VlanInfo> {
        let Some(InfoData::Vlan(items)) = data else {
            return None;
        };
        let mut info = VlanInfo::default();
        for item in items {
            match item {
                InfoVlan::Id(id) => info.id = u32::from(*id),
                InfoVlan::Protocol(p) => info.protocol = Some(VlanProtocolName::from_netlink(*p)),
                _ => {}
            }
        }
        Some(info)
    }
}

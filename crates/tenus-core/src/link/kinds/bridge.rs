//! Bridge: `ip link add NAME type bridge [stp_state 0|1] [vlan_filtering 0|1]
//! [vlan_default_pvid ID] [vlan_protocol 802.1Q|802.1ad] [forward_delay CS]`.

use netlink_packet_route::link::{BridgeStpState, InfoBridge, InfoData, InfoKind, VlanProtocol};
use serde::{Deserialize, Serialize};

use crate::args;
use crate::error::Result;

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};
use super::vlan::{protocol_from, VlanProtocolName};

/// `ip link add NAME type bridge ...` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct BridgeOptions {
    /// Spanning tree protocol on (kernel STP) or off.
    pub stp: Option<bool>,
    /// VLAN filtering on the bridge's ports (`bridge vlan`).
    pub vlan_filtering: Option<bool>,
    /// The VLAN new ports get as PVID, untagged (default 1; 0 for none).
    pub vlan_default_pvid: Option<u32>,
    /// The VLAN protocol filtering works with.
    pub vlan_protocol: Option<VlanProtocolName>,
    /// STP forward delay, in hundredths of a second.
    pub forward_delay: Option<u32>,
}

/// What a bridge reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct BridgeInfo {
    pub stp: bool,
    pub vlan_filtering: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan_default_pvid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan_protocol: Option<VlanProtocolName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_delay: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct Bridge {
    stp: Option<bool>,
    vlan_filtering: Option<bool>,
    vlan_default_pvid: Option<u16>,
    vlan_protocol: Option<VlanProtocol>,
    forward_delay: Option<u32>,
}

impl Bridge {
    /// IFLA_INFO_KIND and IFLA_INFO_DATA for `ip link set BR type bridge ...` on an existing
    /// bridge: every setting given, `vlanFiltering: false` too (it turns filtering off).
    pub fn settings(&self) -> (InfoKind, Option<InfoData>) {
        self.data(false)
    }

    /// The settings given, in the order iproute2 sends them; `creating`: leave out what is the
    /// kernel's default at creation and some kernels refuse (`vlanFiltering: false`).
    fn data(&self, creating: bool) -> (InfoKind, Option<InfoData>) {
        let mut data = Vec::new();
        if let Some(stp) = self.stp {
            data.push(InfoBridge::StpState(if stp {
                BridgeStpState::KernelStp
            } else {
                BridgeStpState::Disabled
            }));
        }
        if let Some(v) = self.vlan_filtering.filter(|v| *v || !creating) {
            data.push(InfoBridge::VlanFiltering(v));
        }
        if let Some(p) = self.vlan_default_pvid {
            data.push(InfoBridge::VlanDefaultPvid(p));
        }
        if let Some(p) = self.vlan_protocol {
            data.push(InfoBridge::VlanProtocol(p));
        }
        if let Some(d) = self.forward_delay {
            data.push(InfoBridge::ForwardDelay(d));
        }
        (
            InfoKind::Bridge,
            (!data.is_empty()).then_some(InfoData::Bridge(data)),
        )
    }
}

impl Kind for Bridge {
    const NAME: &'static str = "bridge";
    const PREFIX: &'static str = "br";
    type Options = BridgeOptions;
    type Info = BridgeInfo;

    fn creation_mtu_is_set_by_user(&self) -> bool {
        false
    }

    fn parse(o: BridgeOptions, _: &mut dyn ParseContext) -> Result<Self> {
        let pvid = o
            .vlan_default_pvid
            .map(|p| args::Int::new("VLAN id", 0..=4094).check("vlanDefaultPvid", p))
            .transpose()?;
        Ok(Bridge {
            stp: o.stp,
            vlan_filtering: o.vlan_filtering,
            vlan_default_pvid: pvid.map(|p| p as u16),
            vlan_protocol: o.vlan_protocol.map(protocol_from),
            forward_delay: o.forward_delay,
        })
    }

    /// At creation `vlanFiltering: false` is the kernel's default and is not sent: a kernel
    /// built without CONFIG_BRIDGE_VLAN_FILTERING refuses IFLA_BR_VLAN_FILTERING whatever its
    /// value (EOPNOTSUPP), and a bridge's record, which says `vlanFiltering: false`, must go
    /// back in as options there (`settings` sends it: a change of an existing bridge).
    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        Ok(self.data(true))
    }

    /// The kernel keeps bridges in their namespace ("The interface netns is immutable").
    fn movable() -> bool {
        false
    }

    fn decode(data: Option<&InfoData>) -> Option<BridgeInfo> {
        let Some(InfoData::Bridge(items)) = data else {
            return None;
        };
        let mut info = BridgeInfo::default();
        for item in items {
            match item {
                InfoBridge::StpState(s) => info.stp = *s != BridgeStpState::Disabled,
                InfoBridge::VlanFiltering(v) => info.vlan_filtering = *v,
                InfoBridge::VlanDefaultPvid(p) => info.vlan_default_pvid = Some(u32::from(*p)),
                InfoBridge::VlanProtocol(p) => info.vlan_protocol = Some(VlanProtocolName::from_netlink(*p)),
                InfoBridge::ForwardDelay(d) => info.forward_delay = Some(*d),
                _ => {}
            }
        }
        Some(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::kind::tests::NoContext;

    fn bridge(o: serde_json::Value) -> Bridge {
        Bridge::parse(serde_json::from_value(o).unwrap(), &mut NoContext).unwrap()
    }

    #[test]
    fn vlan_filtering_off_is_left_out_at_creation_and_sent_to_an_existing_bridge() {
        let off = bridge(serde_json::json!({"stp": false, "vlanFiltering": false}));
        let (_, made) = off.info(&Resolved::default()).unwrap();
        assert_eq!(
            made,
            Some(InfoData::Bridge(vec![InfoBridge::StpState(BridgeStpState::Disabled)]))
        );
        let (_, changed) = off.settings();
        assert_eq!(
            changed,
            Some(InfoData::Bridge(vec![
                InfoBridge::StpState(BridgeStpState::Disabled),
                InfoBridge::VlanFiltering(false)
            ]))
        );
        let on = bridge(serde_json::json!({"vlanFiltering": true}));
        let (_, made) = on.info(&Resolved::default()).unwrap();
        assert_eq!(made, Some(InfoData::Bridge(vec![InfoBridge::VlanFiltering(true)])));
        let (_, none) = bridge(serde_json::json!({"vlanFiltering": false})).info(&Resolved::default()).unwrap();
        assert_eq!(none, None);
    }
}

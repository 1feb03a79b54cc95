//! Bridge: `ip link add NAME type bridge [stp_state 0|1] [vlan_filtering 0|1] [forward_delay T]`.

use netlink_packet_route::link::{BridgeStpState, InfoBridge, InfoData, InfoKind};

#[derive(Debug, Clone, Default)]
pub struct BridgeSpec {
    pub stp: Option<bool>,
    pub vlan_filtering: Option<bool>,
    /// In centiseconds, as the kernel stores it.
    pub forward_delay: Option<u32>,
}

pub(crate) fn info(spec: &BridgeSpec) -> (InfoKind, Option<InfoData>) {
    let mut data = Vec::new();
    if let Some(stp) = spec.stp {
        data.push(InfoBridge::StpState(if stp {
            BridgeStpState::KernelStp
        } else {
            BridgeStpState::Disabled
        }));
    }
    if let Some(v) = spec.vlan_filtering {
        data.push(InfoBridge::VlanFiltering(v));
    }
    if let Some(d) = spec.forward_delay {
        data.push(InfoBridge::ForwardDelay(d));
    }
    (
        InfoKind::Bridge,
        (!data.is_empty()).then_some(InfoData::Bridge(data)),
    )
}

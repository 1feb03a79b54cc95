//! Listing bridge VLANs: `bridge vlan show`, an RTM_GETLINK dump of family AF_BRIDGE with
//! RTEXT_FILTER_BRVLAN (every VLAN on its own, not compressed into ranges). The kernel cannot
//! filter a bridge dump by link ("Filter by device index not supported for bridge dump"): a
//! link filter applies here.

use netlink_packet_route::link::{
    AfSpecBridge, BridgeVlanInfoFlags, LinkAttribute, LinkExtentMask, LinkMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::message::{decode, encode, Flags};
use crate::transport::Messages;

use super::{VlanFlags, VlanTable};

/// One VLAN of a port or of a bridge itself, as `bridge -j vlan show` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct BridgeVlanRecord {
    /// The port, or the bridge for its own VLANs.
    pub index: u32,
    pub vid: u16,
    /// Untagged frames coming in go to this VLAN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pvid: Option<bool>,
    /// Frames of this VLAN leave untagged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untagged: Option<bool>,
}

/// Which VLANs a listing returns; absent fields do not filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct BridgeVlanFilter {
    /// VLANs of this port (or of this bridge itself).
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub link: Option<LinkRef>,
    pub vid: Option<u32>,
}

/// The dump request.
pub(crate) fn dump_request() -> Vec<u8> {
    let mut m = LinkMessage::default();
    m.header.interface_family = AddressFamily::Bridge;
    m.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::Brvlan]));
    encode(RouteNetlinkMessage::GetLink(m), Flags::Dump)
}

/// Every (link index, VLAN id, flags) in a dump.
pub(crate) fn vlans(messages: &Messages) -> Vec<(u32, u16, VlanFlags)> {
    let mut out = Vec::new();
    for bytes in messages {
        let Ok(RouteNetlinkMessage::NewLink(m)) = decode("bridge.vlan.list", bytes) else {
            continue;
        };
        for a in &m.attributes {
            let LinkAttribute::AfSpecBridge(spec) = a else {
                continue;
            };
            for s in spec {
                if let AfSpecBridge::VlanInfo(v) = s {
                    let flags = VlanFlags {
                        pvid: v.flags.contains(BridgeVlanInfoFlags::Pvid),
                        untagged: v.flags.contains(BridgeVlanInfoFlags::Untagged),
                    };
                    out.push((m.header.index, v.vid, flags));
                }
            }
        }
    }
    out
}

/// The VLANs of the link with `index` in a dump.
pub(crate) fn table_of(index: u32, messages: &Messages) -> VlanTable {
    vlans(messages)
        .into_iter()
        .filter(|(i, _, _)| *i == index)
        .map(|(_, vid, f)| (vid, f))
        .collect()
}

impl Handle {
    /// `bridge vlan show` with the filter's conditions.
    pub async fn bridge_vlan_list(&self, filter: &BridgeVlanFilter) -> Result<Vec<BridgeVlanRecord>> {
        let op = "bridge.vlan.list";
        let vid = filter
            .vid
            .map(|v| crate::args::BRIDGE_VID.check("vid", v).map(|v| v as u16))
            .transpose()?;
        let index = match &filter.link {
            Some(l) => {
                l.validate("link")?;
                Some(
                    self.link_index(l)
                        .await
                        .map_err(|e| e.context(op, Some(&l.describe())))?,
                )
            }
            None => None,
        };
        let dumped = self.dump(op, dump_request()).await?;
        Ok(vlans(&dumped)
            .into_iter()
            .filter(|(i, v, _)| index.is_none_or(|x| x == *i) && vid.is_none_or(|x| x == *v))
            .map(|(index, vid, f)| BridgeVlanRecord {
                index,
                vid,
                pvid: f.pvid.then_some(true),
                untagged: f.untagged.then_some(true),
            })
            .collect())
    }
}

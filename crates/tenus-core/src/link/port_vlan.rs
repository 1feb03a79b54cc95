//! A bridge port's VLANs: `bridge vlan add|del dev DEV vid N [pvid] [untagged]`, one
//! RTM_SETLINK (add) or RTM_DELLINK (delete) of family AF_BRIDGE carrying IFLA_AF_SPEC
//! { IFLA_BRIDGE_VLAN_INFO { flags, vid } }, as iproute2 sends it. Batch items:
//! `[code, link, { vid, pvid?, untagged? }]` (the CNI bridge plugin's `vlan`, `vlanTrunk` and
//! the default VLAN it removes unless `preserveDefaultVlan`). The kernel takes these only on
//! a bridge with VLAN filtering, and only by index: the link is resolved first.
//!
//! Not in the TypeScript API yet (the CNI bridge plugin is its user); its wire codes are in the
//! table like every step's.
//!
//! Undo: the port's VLANs are read just before (an AF_BRIDGE dump with RTEXT_FILTER_BRVLAN: the
//! kernel answers VLANs only to dumps) and the VLAN is put back as it was: deleted when it was
//! not there, added with its old flags when it was.

use netlink_packet_route::link::{
    AfSpecBridge, BridgeVlanInfo, BridgeVlanInfoFlags, LinkAttribute, LinkExtentMask, LinkMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use serde::de::SeqAccess;
use serde::{Deserialize, Serialize};

use crate::args;
use crate::batch::wire::{next, ReadContext, WireLink};
use crate::batch::{Before, Parsed, Read, Reads, Step, Undo, UndoRequest, View};
use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::message::{decode, encode, Flags};

use super::LinkRef;

/// One VLAN of a bridge port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortVlan {
    /// The VLAN ID, 1-4094.
    pub vid: u16,
    /// Untagged frames entering the port belong to this VLAN.
    #[serde(default)]
    pub pvid: bool,
    /// Frames of this VLAN leave the port untagged.
    #[serde(default)]
    pub untagged: bool,
}

impl PortVlan {
    fn flags(&self) -> BridgeVlanInfoFlags {
        let mut f = BridgeVlanInfoFlags::empty();
        if self.pvid {
            f |= BridgeVlanInfoFlags::Pvid;
        }
        if self.untagged {
            f |= BridgeVlanInfoFlags::Untagged;
        }
        f
    }

    fn check(self, arg: &str) -> Result<PortVlan> {
        if !(1..=4094).contains(&self.vid) {
            return Err(Error::invalid(
                arg,
                format!("vid must be between 1 and 4094 (got {})", self.vid),
            ));
        }
        Ok(self)
    }
}

/// RTM_SETLINK (add) or RTM_DELLINK (delete) of `vlan` on the port with index `index`.
fn encode_vlan(index: u32, vlan: &PortVlan, add: bool) -> Vec<u8> {
    let mut m = LinkMessage::default();
    m.header.interface_family = AddressFamily::Bridge;
    m.header.index = index;
    m.attributes
        .push(LinkAttribute::AfSpecBridge(vec![AfSpecBridge::VlanInfo(
            BridgeVlanInfo {
                flags: vlan.flags(),
                vid: vlan.vid,
            },
        )]));
    let m = if add {
        RouteNetlinkMessage::SetLink(m)
    } else {
        RouteNetlinkMessage::DelLink(m)
    };
    encode(m, Flags::Plain)
}

/// The AF_BRIDGE link dump that carries every port's VLANs.
fn encode_dump() -> Vec<u8> {
    let mut m = LinkMessage::default();
    m.header.interface_family = AddressFamily::Bridge;
    m.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::Brvlan]));
    encode(RouteNetlinkMessage::GetLink(m), Flags::Dump)
}

/// The VLANs a dump's message reports for the port `index` (None: the message is another link).
fn read_vlans(msg: &[u8], index: u32) -> Option<Vec<PortVlan>> {
    let Ok(RouteNetlinkMessage::NewLink(m)) = decode("bridge.vlan", msg) else {
        return None;
    };
    if m.header.index != index {
        return None;
    }
    let mut out = Vec::new();
    for attr in &m.attributes {
        let LinkAttribute::AfSpecBridge(nlas) = attr else {
            continue;
        };
        for nla in nlas {
            if let AfSpecBridge::VlanInfo(v) = nla {
                out.push(PortVlan {
                    vid: v.vid,
                    pvid: v.flags.contains(BridgeVlanInfoFlags::Pvid),
                    untagged: v.flags.contains(BridgeVlanInfoFlags::Untagged),
                });
            }
        }
    }
    Some(out)
}

/// `bridge vlan add|del` as a batch item.
#[derive(Debug)]
pub struct PortVlanStep<const ADD: bool> {
    pub link: LinkRef,
    pub vlan: PortVlan,
}

pub type AddPortVlan = PortVlanStep<true>;
pub type DeletePortVlan = PortVlanStep<false>;

impl<const ADD: bool> Step for PortVlanStep<ADD> {
    const OP: &'static str = if ADD {
        "bridge.vlan.add"
    } else {
        "bridge.vlan.delete"
    };

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let vlan: serde_json::Value = next(seq, "vlan")?;
        Ok((|| {
            let vlan: PortVlan = args::options("vlan", vlan)?;
            Ok(PortVlanStep {
                link: cx.link(link)?,
                vlan: vlan.check("vlan")?,
            })
        })())
    }

    fn label(&self) -> Option<String> {
        Some(format!("{} vid {}", self.link.describe(), self.vlan.vid))
    }

    fn links(&self) -> Vec<&LinkRef> {
        vec![&self.link]
    }

    fn undo(&self) -> Undo {
        Undo::Restore
    }

    fn reads(&self, _: &View) -> Result<Reads> {
        Ok(Reads {
            requests: vec![Read {
                message: encode_dump(),
                dump: true,
            }],
            follow_up: false,
        })
    }

    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        Ok(encode_vlan(names.index_of(&self.link)?, &self.vlan, ADD))
    }

    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let index = names.index_of(&self.link)?;
        let was = before
            .first()
            .and_then(|m| m.iter().find_map(|msg| read_vlans(msg, index)))
            .unwrap_or_default()
            .into_iter()
            .find(|v| v.vid == self.vlan.vid);
        let back = match was {
            Some(old) => encode_vlan(index, &old, true),
            None if ADD => encode_vlan(index, &self.vlan, false),
            None => return Ok(Vec::new()),
        };
        Ok(vec![(names.target, back)])
    }
}

impl Handle {
    /// The VLANs of the bridge port `link` (`bridge vlan show dev DEV`): empty when it is not a
    /// port of a bridge with VLANs.
    pub async fn bridge_vlans(&self, link: &LinkRef) -> Result<Vec<PortVlan>> {
        link.validate("link")?;
        let index = match link {
            LinkRef::Index(i) => *i,
            LinkRef::Name(_) => self.link_get(link).await?.index,
        };
        let dump = self.dump("bridge.vlan", encode_dump()).await?;
        let vlans = dump.iter().find_map(|msg| read_vlans(msg, index));
        Ok(vlans.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_the_vlan_and_its_flags() {
        let v = PortVlan {
            vid: 100,
            pvid: true,
            untagged: true,
        };
        // A dump's reply is an RTM_NEWLINK of the same shape: read the request back as one.
        let mut bytes = encode_vlan(7, &v, true);
        bytes[4] = 16; // RTM_NEWLINK
        assert_eq!(read_vlans(&bytes, 7), Some(vec![v]));
        assert_eq!(read_vlans(&bytes, 8), None);
        assert!(PortVlan { vid: 0, ..v }.check("vlan").is_err());
        assert!(PortVlan { vid: 4095, ..v }.check("vlan").is_err());
    }
}

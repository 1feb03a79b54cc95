//! Bridge VLAN filtering: a bridge's own settings changed after creation (`ip link set BR type
//! bridge vlan_filtering 1 ...`, `settings.rs`) and the VLANs of its ports and of the bridge
//! itself (`bridge vlan add|del|show`, `vlan.rs` and `list.rs`). The request's VLANs, checked,
//! are here. (The bridge's FDB is `fdb/`; creating a bridge is the `bridge` link kind.)

pub(crate) mod left;
pub mod list;
pub mod settings;
pub mod vlan;

use std::collections::BTreeMap;

use netlink_packet_route::link::{
    AfSpecBridge, BridgeFlag, BridgeVlanInfo, BridgeVlanInfoFlags, LinkAttribute, LinkMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use serde::Deserialize;

use crate::args;
use crate::error::{Error, Result};
use crate::message::{encode, Flags};

pub use list::{BridgeVlanFilter, BridgeVlanRecord};

/// `bridge vlan add|del` options; the VLANs and the link are arguments of their own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct BridgeVlanOptions {
    /// Untagged frames that come in on the port go to this VLAN (one VLAN, not a range).
    pub pvid: Option<bool>,
    /// Frames of these VLANs leave the port untagged.
    pub untagged: Option<bool>,
    /// The link's own VLANs (`self`): on the bridge itself, the VLANs the bridge device is in.
    #[serde(rename = "self")]
    #[cfg_attr(feature = "napi", napi(js_name = "self"))]
    pub own: Option<bool>,
    /// The VLANs of the port in its bridge (`master`, the default).
    pub master: Option<bool>,
}

/// One VLAN id or an inclusive range of them, as the wire carries it: `10` or `[10, 20]`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum WireVids {
    One(u32),
    Range(u32, u32),
}

/// VLANs `from..=to`, both in 1..=4094.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanRange {
    pub from: u16,
    pub to: u16,
}

impl VlanRange {
    pub fn parse(arg: &str, vids: WireVids) -> Result<Self> {
        let (from, to) = match vids {
            WireVids::One(v) => (v, v),
            WireVids::Range(a, b) => (a, b),
        };
        let from = args::BRIDGE_VID.check(arg, from)? as u16;
        let to = args::BRIDGE_VID.check(arg, to)? as u16;
        if to < from {
            return Err(Error::invalid(arg, format!("range {from}-{to} is reversed")));
        }
        Ok(VlanRange { from, to })
    }

    pub fn single(vid: u16) -> Self {
        VlanRange { from: vid, to: vid }
    }

    pub fn vids(self) -> impl Iterator<Item = u16> {
        self.from..=self.to
    }
}

impl std::fmt::Display for VlanRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// What a VLAN is on a port: PVID, untagged on egress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VlanFlags {
    pub pvid: bool,
    pub untagged: bool,
}

impl VlanFlags {
    fn bits(self) -> BridgeVlanInfoFlags {
        let mut f = BridgeVlanInfoFlags::empty();
        if self.pvid {
            f |= BridgeVlanInfoFlags::Pvid;
        }
        if self.untagged {
            f |= BridgeVlanInfoFlags::Untagged;
        }
        f
    }
}

/// Which table a request acts on: the bridge's for the port (`master`), the link's own
/// (`self`), both, or as the kernel defaults (neither flag sent: `master`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Side {
    pub own: bool,
    pub master: bool,
}

/// `bridge vlan add|del` (RTM_SETLINK / RTM_DELLINK of family AF_BRIDGE) for the link with
/// `index`: IFLA_AF_SPEC holds IFLA_BRIDGE_FLAGS when a side is named, then one
/// IFLA_BRIDGE_VLAN_INFO per VLAN, or two for a range (RANGE_BEGIN, RANGE_END).
pub(crate) fn encode_vlans(
    index: u32,
    side: Side,
    range: VlanRange,
    flags: VlanFlags,
    delete: bool,
) -> Vec<u8> {
    let mut spec = Vec::new();
    let side_bits = u16::from(side.master) | (u16::from(side.own) << 1);
    if side_bits != 0 {
        spec.push(AfSpecBridge::Flags(BridgeFlag::from(side_bits)));
    }
    let bits = flags.bits();
    if range.from == range.to {
        spec.push(AfSpecBridge::VlanInfo(BridgeVlanInfo {
            flags: bits,
            vid: range.from,
        }));
    } else {
        spec.push(AfSpecBridge::VlanInfo(BridgeVlanInfo {
            flags: bits | BridgeVlanInfoFlags::RangeBegin,
            vid: range.from,
        }));
        spec.push(AfSpecBridge::VlanInfo(BridgeVlanInfo {
            flags: bits | BridgeVlanInfoFlags::RangeEnd,
            vid: range.to,
        }));
    }
    let mut m = LinkMessage::default();
    m.header.interface_family = AddressFamily::Bridge;
    m.header.index = index;
    m.attributes.push(LinkAttribute::AfSpecBridge(spec));
    let msg = if delete {
        RouteNetlinkMessage::DelLink(m)
    } else {
        RouteNetlinkMessage::SetLink(m)
    };
    encode(msg, Flags::Plain)
}

/// The VLANs a link had, by id.
pub(crate) type VlanTable = BTreeMap<u16, VlanFlags>;

/// Requests that give the link back `was` for the VLANs in `vids` (those it did not have are
/// deleted), runs of equal VLANs as ranges (a PVID on its own: the kernel refuses it in one).
pub(crate) fn encode_restore(
    index: u32,
    side: Side,
    vids: impl Iterator<Item = u16>,
    was: &VlanTable,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut run: Option<(VlanRange, Option<VlanFlags>)> = None;
    let flush = |run: Option<(VlanRange, Option<VlanFlags>)>, out: &mut Vec<Vec<u8>>| {
        if let Some((range, flags)) = run {
            out.push(match flags {
                Some(f) => encode_vlans(index, side, range, f, false),
                None => encode_vlans(index, side, range, VlanFlags::default(), true),
            });
        }
    };
    for vid in vids {
        let state = was.get(&vid).copied();
        match &mut run {
            Some((range, flags))
                if *flags == state && range.to + 1 == vid && !state.is_some_and(|f| f.pvid) =>
            {
                range.to = vid;
            }
            _ => {
                flush(run.take(), &mut out);
                run = Some((VlanRange::single(vid), state));
            }
        }
    }
    flush(run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked() {
        assert_eq!(
            VlanRange::parse("vid", WireVids::One(10)).unwrap(),
            VlanRange::single(10)
        );
        assert_eq!(
            VlanRange::parse("vid", WireVids::Range(10, 20)).unwrap(),
            VlanRange { from: 10, to: 20 }
        );
        for bad in [
            WireVids::One(0),
            WireVids::One(4095),
            WireVids::Range(20, 10),
            WireVids::Range(1, 4095),
        ] {
            assert_eq!(
                VlanRange::parse("vid", bad).unwrap_err().arg(),
                Some("vid"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn restores_group_runs_and_keep_a_pvid_alone() {
        let mut was = VlanTable::new();
        let tagged = VlanFlags::default();
        let pvid = VlanFlags {
            pvid: true,
            untagged: true,
        };
        for v in [10, 11, 12] {
            was.insert(v, tagged);
        }
        was.insert(13, pvid);
        // 8-9 absent (deleted as one range), 10-12 re-added as one, 13 alone, 14 absent.
        let out = encode_restore(5, Side::default(), 8..=14, &was);
        assert_eq!(out.len(), 4);
        assert_eq!(
            out[0],
            encode_vlans(5, Side::default(), VlanRange { from: 8, to: 9 }, tagged, true)
        );
        assert_eq!(
            out[1],
            encode_vlans(5, Side::default(), VlanRange { from: 10, to: 12 }, tagged, false)
        );
        assert_eq!(
            out[2],
            encode_vlans(5, Side::default(), VlanRange::single(13), pvid, false)
        );
        assert_eq!(
            out[3],
            encode_vlans(5, Side::default(), VlanRange::single(14), tagged, true)
        );
    }
}

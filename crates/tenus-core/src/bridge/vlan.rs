//! `bridge vlan add|del vid VID[-VID] dev LINK [pvid] [untagged] [self] [master]` as batch
//! items: `[code, link, vids, options?]`, `vids` a VLAN id or `[from, to]`.
//!
//! Undo: the link's VLANs are read just before (a dump of every bridge port's VLANs: the kernel
//! cannot dump one link's, so the item waits for it; one dump serves a run of such items, each
//! given its link's message: `batch/shared.rs`), and what the item changed is put back:
//! VLANs an addition made are deleted, VLANs it changed (flags) and, when it moved the PVID,
//! the VLAN that was the PVID get their flags back; VLANs a deletion removed are added again
//! with their flags. Per-VLAN options the kernel keeps beside the flags (state, multicast
//! settings, tunnel ids) are not read, so not restored.

use serde::de::SeqAccess;
use serde_json::value::RawValue;

use crate::args;
use crate::batch::wire::{next, ReadContext, WireLink};
use crate::batch::{Before, Parsed, ReadKey, Reads, Step, Undo, UndoRequest, View};
use crate::error::{Error, Result};
use crate::link::LinkRef;

use super::list::{dump_request, table_of};
use super::{encode_restore, encode_vlans, BridgeVlanOptions, Side, VlanFlags, VlanRange, WireVids};

/// A checked `bridge vlan add|del`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeVlan {
    pub link: LinkRef,
    pub range: VlanRange,
    pub flags: VlanFlags,
    pub side: Side,
}

impl BridgeVlan {
    pub fn parse(link: LinkRef, vids: WireVids, o: BridgeVlanOptions) -> Result<Self> {
        let range = VlanRange::parse("vid", vids)?;
        let flags = VlanFlags {
            pvid: o.pvid.unwrap_or(false),
            untagged: o.untagged.unwrap_or(false),
        };
        if flags.pvid && range.from != range.to {
            return Err(Error::invalid(
                "pvid",
                format!("the PVID is one VLAN, not the range {range}"),
            ));
        }
        Ok(BridgeVlan {
            link,
            range,
            flags,
            side: Side {
                own: o.own.unwrap_or(false),
                master: o.master.unwrap_or(false),
            },
        })
    }

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let vids: serde_json::Value = next(seq, "vid")?;
        let options: Option<&RawValue> = seq.next_element()?;
        Ok((|| {
            let vids: WireVids = args::options("vid", vids)?;
            let options: BridgeVlanOptions = args::options_raw_or_default("options", options)?;
            BridgeVlan::parse(cx.link(link)?, vids, options)
        })())
    }

    fn label(&self) -> String {
        format!("vid {} dev {}", self.range, self.link)
    }

    fn encode(&self, names: &View, delete: bool) -> Result<Vec<u8>> {
        Ok(encode_vlans(
            names.index_of(&self.link)?,
            self.side,
            self.range,
            self.flags,
            delete,
        ))
    }

    fn reads() -> Reads {
        Reads::dump(dump_request())
    }
}

/// `bridge vlan add` (`DELETE` false: adds the VLANs, or changes their flags where the link has
/// them) and `bridge vlan del` (`DELETE` true): one step, the verb a parameter.
#[derive(Debug)]
pub struct BridgeVlanStep<const DELETE: bool>(pub BridgeVlan);

pub type AddBridgeVlan = BridgeVlanStep<false>;
pub type DelBridgeVlan = BridgeVlanStep<true>;

impl<const DELETE: bool> Step for BridgeVlanStep<DELETE> {
    const OP: &'static str = if DELETE {
        "bridge.vlan.delete"
    } else {
        "bridge.vlan.add"
    };

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(BridgeVlan::read(seq, cx)?.map(BridgeVlanStep))
    }
    fn label(&self) -> Option<String> {
        Some(self.0.label())
    }
    fn links(&self) -> Vec<&LinkRef> {
        vec![&self.0.link]
    }
    fn undo(&self) -> Undo {
        Undo::Restore
    }
    fn reads(&self, _: &View) -> Result<Reads> {
        Ok(BridgeVlan::reads())
    }
    /// The link: an item changes the VLANs of its link alone.
    fn read_key(&self, names: &View) -> Option<ReadKey> {
        names.index_of(&self.0.link).ok().map(link_key)
    }
    fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
        // The ifinfomsg's index, after the netlink header.
        let index = message.get(20..24)?;
        Some(link_key(u32::from_ne_bytes(index.try_into().ok()?)))
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        self.0.encode(names, DELETE)
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let v = &self.0;
        let index = names.index_of(&v.link)?;
        let Some(dump) = before.first() else {
            return Ok(Vec::new());
        };
        let was = table_of(index, dump);
        let out = if DELETE {
            // Only what was there comes back (a VLAN it did not have stays absent).
            let present: Vec<u16> = v.range.vids().filter(|vid| was.contains_key(vid)).collect();
            encode_restore(index, v.side, present.into_iter(), &was)
        } else {
            let mut out = encode_restore(index, v.side, v.range.vids(), &was);
            if v.flags.pvid {
                // The VLAN that was the PVID lost the flag to this one.
                let old = was.iter().find(|(vid, f)| f.pvid && **vid != v.range.from);
                if let Some((vid, f)) = old {
                    out.push(encode_vlans(index, v.side, VlanRange::single(*vid), *f, false));
                }
            }
            out
        };
        Ok(out.into_iter().map(|m| (names.target, m)).collect())
    }
}

/// The key of a link's message in the VLAN dump (`Step::read_key`).
fn link_key(index: u32) -> ReadKey {
    index.to_ne_bytes().to_vec()
}

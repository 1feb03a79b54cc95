//! `bridge fdb del MAC dev LINK ...` as a batch item: `[code, link, mac, options?]`.
//!
//! Undo: the link's entries are read just before (a dump of its table: the item waits for
//! it), and those the deletion takes (the MAC in the same table, in the VLAN and with the
//! remote when the deletion names them, in every VLAN and with every remote when not) are
//! added again as they were, where they were among a VXLAN entry's remotes (`after_taken`).

use netlink_packet_route::neighbour::NeighbourMessage;
use serde::de::SeqAccess;

use crate::batch::wire::ReadContext;
use crate::batch::{Before, Parsed, ReadKey, Reads, Step, Undo, UndoRequest, View};
use crate::error::Result;
use crate::link::LinkRef;
use crate::message::Flags;

use super::add::{answer_key, listed, read_key, read_link_entries};
use super::spec::{encode_remove, encode_restore, FdbEntry};
use super::FdbRecord;

#[derive(Debug)]
pub struct DelFdb(pub FdbEntry);

impl Step for DelFdb {
    const OP: &'static str = "fdb.delete";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(FdbEntry::read(seq, cx)?.map(DelFdb))
    }
    fn label(&self) -> Option<String> {
        Some(self.0.label())
    }
    fn links(&self) -> Vec<&LinkRef> {
        self.0.links()
    }
    fn undo(&self) -> Undo {
        Undo::Restore
    }
    fn reads(&self, names: &View) -> Result<Reads> {
        read_link_entries(&self.0, names)
    }
    fn read_key(&self, _: &View) -> Option<ReadKey> {
        Some(read_key(&self.0))
    }
    fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
        answer_key(message)
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        self.0.encode_del(names)
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let listed = listed(Self::OP, before);
        let taken: Vec<bool> = listed.iter().map(|(r, _)| self.0.selects(r)).collect();
        let moved = after_taken(&listed, &taken);
        let t = names.target;
        // Create + append: a VXLAN entry's remotes come back one by one, in the order read.
        let removes = listed
            .iter()
            .zip(&moved)
            .filter(|(_, m)| **m)
            .map(|((_, was), _)| (t, encode_remove(was)));
        let readds = listed
            .iter()
            .zip(taken.iter().zip(&moved))
            .filter(|(_, (taken, moved))| **taken || **moved)
            .map(|((_, was), _)| (t, encode_restore(was, Flags::Append)));
        Ok(removes.chain(readds).collect())
    }
}

/// The remotes a deletion leaves that must make way for the ones it took (`taken`, by position
/// in `listed`, the link's entries as the kernel listed them): the kernel appends a VXLAN
/// remote after its entry's others, so a remote put back where it stood goes after those that
/// followed it, which are taken away first and appended again after it.
fn after_taken(listed: &[(FdbRecord, NeighbourMessage)], taken: &[bool]) -> Vec<bool> {
    // One VXLAN entry's remotes: same link, table, MAC, VLAN and source VNI.
    let entry = |r: &FdbRecord| (r.index, r.master, r.mac.clone(), r.vlan, r.src_vni);
    let mut seen_taken = std::collections::HashSet::new();
    listed
        .iter()
        .zip(taken)
        .map(|((r, _), taken)| {
            if r.dst.is_none() {
                return false;
            }
            if *taken {
                seen_taken.insert(entry(r));
                return false;
            }
            seen_taken.contains(&entry(r))
        })
        .collect()
}

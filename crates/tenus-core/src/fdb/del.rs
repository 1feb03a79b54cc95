//! `bridge fdb del MAC dev LINK ...` as a batch item: `[code, link, mac, options?]`.
//!
//! Undo: the link's entries are read just before (a dump of its table: the item waits for
//! it), and those the deletion takes (the MAC in the same table, in the VLAN and with the
//! remote when the deletion names them, in every VLAN and with every remote when not) are
//! added again as they were.

use serde::de::SeqAccess;

use crate::batch::wire::ReadContext;
use crate::batch::{Before, Parsed, ReadKey, Reads, Step, Undo, UndoRequest, View};
use crate::error::Result;
use crate::link::LinkRef;
use crate::message::Flags;

use super::add::{answer_key, listed, read_key, read_link_entries};
use super::spec::{encode_restore, FdbEntry};

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
    fn read_key(&self) -> Option<ReadKey> {
        Some(read_key(&self.0))
    }
    fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
        answer_key(message)
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        self.0.encode_del(names)
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        Ok(listed(Self::OP, before)
            .iter()
            .filter(|(r, _)| self.0.selects(r))
            // Create + append: a VXLAN entry's remotes come back one by one.
            .map(|(_, was)| (names.target, encode_restore(was, Flags::Append)))
            .collect())
    }
}

//! `ip neigh del ADDRESS dev LINK [proxy]` as a batch item: `[code, link, address, options?]`.
//!
//! Undo: the entry is added again as it was read just before the deletion (RTM_GETNEIGH): its
//! link-layer address, state and flags. The kernel's timers for it start over.

use serde::de::SeqAccess;

use crate::batch::wire::ReadContext;
use crate::batch::{Before, Parsed, Reads, Step, Undo, UndoRequest, View};
use crate::error::Result;
use crate::link::LinkRef;

use super::spec::{encode_restore, NeighbourKey};

#[derive(Debug)]
pub struct DelNeighbour(pub NeighbourKey);

impl Step for DelNeighbour {
    const OP: &'static str = "neighbour.delete";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(NeighbourKey::read(seq, cx)?.map(DelNeighbour))
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
    fn reads(&self, names: &View) -> Result<Reads> {
        Ok(Reads::one(self.0.encode_get(self.0.index(names)?)))
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        Ok(self.0.encode_del(self.0.index(names)?))
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let was = before
            .first()
            .map(|m| super::messages(Self::OP, m))
            .unwrap_or_default();
        Ok(was
            .first()
            .map(|m| (names.target, encode_restore(m)))
            .into_iter()
            .collect())
    }
}

//! `ip neigh add` and `ip neigh replace` as batch items: `[code, link, address, options]`.
//!
//! Undo: an added entry is deleted. A replaced one is put back as it was read just before
//! (RTM_GETNEIGH), or deleted when the read found none; so is an added proxy entry (the kernel
//! answers an addition of one that is there with success, not EEXIST), and an IPv4 one on `lo`
//! (filed under 0.0.0.0, the one entry of the link, which an addition overwrites). An entry the kernel had learnt
//! (reachable, stale, ...) comes back as an administratively set entry in the same state: the
//! kernel's timers and probes for it start over.

use serde::de::SeqAccess;

use crate::batch::wire::ReadContext;
use crate::batch::{Before, Parsed, Reads, Step, Undo, UndoRequest, View};
use crate::error::{Error, Result};
use crate::link::LinkRef;

use super::spec::{encode_restore, Neighbour};

/// `ip neigh add ADDRESS dev LINK ...`: fails with EEXIST when the entry is there.
#[derive(Debug)]
pub struct AddNeighbour(pub Neighbour);

/// `ip neigh replace ADDRESS dev LINK ...`: adds it, or changes it when it is there.
#[derive(Debug)]
pub struct ReplaceNeighbour(pub Neighbour);

impl Step for AddNeighbour {
    const OP: &'static str = "neighbour.add";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(Neighbour::read(seq, cx)?.map(AddNeighbour))
    }
    fn label(&self) -> Option<String> {
        Some(self.0.key.label())
    }
    fn links(&self) -> Vec<&LinkRef> {
        vec![&self.0.key.link]
    }
    fn undo(&self) -> Undo {
        if self.0.key.proxy || self.0.key.on_loopback() {
            Undo::Restore
        } else {
            Undo::Inverse
        }
    }
    fn reads(&self, names: &View) -> Result<Reads> {
        read_entry(&self.0, names)
    }
    /// ENOENT: there was no such proxy entry.
    fn absent(&self, error: &Error) -> bool {
        no_entry(error)
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        Ok(self.0.encode(self.0.key.index(names)?, false))
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let key = &self.0.key;
        if key.proxy || key.on_loopback() {
            return restore_or_delete(&self.0, Self::OP, names, before);
        }
        Ok(vec![(names.target, key.encode_del(key.index(names)?))])
    }
    fn undo_again(&self, names: &View, error: &Error) -> Option<UndoRequest> {
        self.0.key.delete_unspecified(names, error)
    }
}

impl Step for ReplaceNeighbour {
    const OP: &'static str = "neighbour.replace";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(Neighbour::read(seq, cx)?.map(ReplaceNeighbour))
    }
    fn label(&self) -> Option<String> {
        Some(self.0.key.label())
    }
    fn links(&self) -> Vec<&LinkRef> {
        vec![&self.0.key.link]
    }
    fn undo(&self) -> Undo {
        Undo::Restore
    }
    fn reads(&self, names: &View) -> Result<Reads> {
        read_entry(&self.0, names)
    }
    /// ENOENT: there was no entry to replace.
    fn absent(&self, error: &Error) -> bool {
        no_entry(error)
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        Ok(self.0.encode(self.0.key.index(names)?, true))
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        restore_or_delete(&self.0, Self::OP, names, before)
    }
    /// ENOENT: the entry it made is deleted (there was none before), as for an addition.
    fn undo_again(&self, names: &View, error: &Error) -> Option<UndoRequest> {
        self.0.key.delete_unspecified(names, error)
    }
}

/// The entry as it is before the item (RTM_GETNEIGH), under the key the kernel files it by.
fn read_entry(n: &Neighbour, names: &View) -> Result<Reads> {
    Ok(Reads::one(n.key.filed().encode_get(n.key.index(names)?)))
}

/// ENOENT: the read found no entry.
fn no_entry(error: &Error) -> bool {
    error.errno() == Some(libc::ENOENT)
}

/// Puts the entry back as it was read before the item (`before`), or deletes it when the read
/// found none.
fn restore_or_delete(n: &Neighbour, op: &str, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
    let key = &n.key;
    let was = before.first().map(|m| super::messages(op, m)).unwrap_or_default();
    Ok(vec![(
        names.target,
        match was.first() {
            Some(m) => encode_restore(m),
            None => key.filed().encode_del(key.index(names)?),
        },
    )])
}

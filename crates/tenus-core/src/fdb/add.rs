//! `bridge fdb add`, `append` and `replace` as batch items: `[code, link, mac, options]`.
//!
//! Undo: an added entry is deleted. A replaced entry is put back as `bridge fdb get` read it
//! just before (a VXLAN entry: its first remote, the one a replace changes), or deleted when
//! there was none. Devices without `fdb get` (a plain port's own addresses, `self` on a veth)
//! answer EOPNOTSUPP: a replace there is undone by deleting.
//!
//! An append to a bridge's table (`master`) is an add-or-update (no NLM_F_EXCL): it may move
//! the entry to another port and change its state and flags. It is undone as a replace is:
//! read with `fdb get` before, put back or deleted. An append to a device's own table (a
//! VXLAN device's remotes) reads a dump of the link's entries (the item waits for it): with
//! no entry for the MAC there, what it made is deleted; with one, the appended remote is
//! deleted unless it was there, and the entry's state and flags, which the kernel rewrites on
//! every append, are put back (an append of one of its remotes as it was listed; an externally
//! learned entry, whose flags a user's request cannot give back, is deleted and its remotes
//! added again in their order).
//!
//! The kernel applies an item with both `self` and `master` half by half, the bridge's first,
//! and stops at the half that fails: such an item that failed is undone as far as it went
//! (`Step::encode_undo_failed`): the bridge's entry, read before, is put back or deleted.

use netlink_packet_route::neighbour::NeighbourFlags;
use serde::de::SeqAccess;

use crate::args;
use crate::batch::wire::ReadContext;
use crate::batch::{Before, Parsed, Read, ReadKey, Reads, Step, Undo, UndoRequest, View};
use crate::error::{Error, Result};
use crate::link::fast::read_ifinfo;
use crate::link::get::encode_link_get;
use crate::link::kinds::KindInfo;
use crate::link::LinkRef;
use crate::message::Flags;
use crate::transport::Messages;
use netlink_packet_route::neighbour::NeighbourMessage;

use super::spec::{encode_remove, encode_restore, FdbEntry};
use super::{FdbRecord, FdbState};

/// `bridge fdb add MAC dev LINK ...`: fails with EEXIST when the entry is there.
#[derive(Debug)]
pub struct AddFdb(pub FdbEntry);

/// `bridge fdb append MAC dev LINK dst IP ...`: one more remote for a VXLAN entry (the
/// all-zero MAC's remotes are where unknown and broadcast traffic goes).
#[derive(Debug)]
pub struct AppendFdb(pub FdbEntry);

/// `bridge fdb replace MAC dev LINK ...`: adds it, or changes it when it is there.
#[derive(Debug)]
pub struct ReplaceFdb(pub FdbEntry);

/// A dump of one link's FDB entries (the bridge's for a port, and the link's own).
pub(crate) fn read_link_entries(entry: &FdbEntry, names: &View) -> Result<Reads> {
    let index = names.index_of(&entry.link)?;
    Ok(Reads::dump(super::left::dump_of_port(index)))
}

/// An entry's key in a shared dump of its link's entries (`batch/shared.rs`): its MAC (an
/// item changes entries of one MAC only, in any VLAN and with any remote).
pub(crate) fn read_key(entry: &FdbEntry) -> ReadKey {
    args::format_mac(&entry.mac).into_bytes()
}

/// The key of a dumped entry.
pub(crate) fn answer_key(message: &[u8]) -> Option<ReadKey> {
    let m = match crate::message::decode("fdb.read", message) {
        Ok(netlink_packet_route::RouteNetlinkMessage::NewNeighbour(m)) => m,
        _ => return None,
    };
    FdbRecord::from_message(&m).map(|r| r.mac.into_bytes())
}

/// A VXLAN device's own port and VNI, from its RTM_GETLINK answer.
fn device_port_and_vni(answer: &Messages) -> Option<(u32, u32)> {
    let record = answer.iter().find_map(read_ifinfo)?;
    match record.info? {
        KindInfo::Vxlan(v) => Some((v.port?, v.vni)),
        _ => None,
    }
}

/// The entries read before an item, decoded.
pub(crate) fn listed(op: &str, before: &Before) -> Vec<(FdbRecord, NeighbourMessage)> {
    before.first().map(|m| decoded(op, m)).unwrap_or_default()
}

/// The entries of one read, decoded.
fn decoded(op: &str, read: &Messages) -> Vec<(FdbRecord, NeighbourMessage)> {
    crate::neigh::messages(op, read)
        .into_iter()
        .filter_map(|m| FdbRecord::from_message(&m).map(|r| (r, m)))
        .collect()
}

/// The undo of a change that adds `entry` or changes it in place (a replace, an append to a
/// bridge's table), given the entry `fdb get` read just before it: put back as it was, or
/// deleted when there was none.
fn put_back(entry: &FdbEntry, names: &View, was: Option<&NeighbourMessage>) -> Result<Vec<UndoRequest>> {
    let t = names.target;
    Ok(match was {
        // The kernel keeps an externally learned entry's state and flags through a replace (a
        // user's request may not take over what was learned): what the change made is
        // deleted, and the entry put back as it was (as a replace: a VXLAN entry with other
        // remotes is still there after the deletion).
        Some(was) if was.header.flags.contains(NeighbourFlags::ExtLearned) => {
            vec![
                (t, entry.encode_del(names)?),
                (t, encode_restore(was, Flags::Replace)),
            ]
        }
        Some(was) => vec![(t, encode_restore(was, Flags::Replace))],
        None => vec![(t, entry.encode_del(names)?)],
    })
}

/// The undo of an append to a device's own table (`entry`: that half), given the link's
/// entries listed before it and the device's own port and VNI (`own`).
fn append_undone(
    entry: &FdbEntry,
    names: &View,
    listed: &[(FdbRecord, NeighbourMessage)],
    own: Option<(u32, u32)>,
) -> Result<Vec<UndoRequest>> {
    let t = names.target;
    // The entry's remotes, in the order listed (the kernel keys an entry by MAC and, on a
    // collect-metadata device, source VNI).
    let remotes: Vec<&(FdbRecord, NeighbourMessage)> = listed
        .iter()
        .filter(|(r, _)| entry.same_entry(r) && r.vlan == entry.vlan && r.src_vni == entry.src_vni)
        .collect();
    let Some((_, first)) = remotes.first() else {
        return Ok(vec![(t, entry.encode_del(names)?)]);
    };
    let there = remotes.iter().any(|(r, _)| entry.is(r, own, names));
    let mut undo = Vec::new();
    if !there && entry.takes_remotes() {
        undo.push((t, entry.encode_del(names)?));
    }
    let kept = NeighbourFlags::Router | NeighbourFlags::ExtLearned | NeighbourFlags::Sticky;
    let state = FdbState::from_bits(u16::from(first.header.state));
    if state == entry.state && first.header.flags & kept == entry.flags() & kept {
        return Ok(undo);
    }
    if first.header.flags.contains(NeighbourFlags::ExtLearned) {
        // A user's request does not give an entry back its learned flags: the entry is
        // deleted (its last remote takes it) and its remotes added again, in their order.
        undo.extend(remotes.iter().map(|(_, was)| (t, encode_remove(was))));
        undo.extend(
            remotes
                .iter()
                .map(|(_, was)| (t, encode_restore(was, Flags::Append))),
        );
    } else {
        // An append of a remote that is there rewrites the entry's state and flags only.
        undo.push((t, encode_restore(first, Flags::Append)));
    }
    Ok(undo)
}

macro_rules! fdb_step_common {
    () => {
        fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
            Ok(FdbEntry::read(seq, cx)?.map(Self))
        }
        fn label(&self) -> Option<String> {
            Some(self.0.label())
        }
        fn links(&self) -> Vec<&LinkRef> {
            self.0.links()
        }
    };
}

impl Step for AddFdb {
    const OP: &'static str = "fdb.add";
    fdb_step_common!();

    /// With `self` and `master`, the bridge's half is read before it: when the device's half
    /// fails, the bridge's is taken back (`encode_undo_failed`).
    fn undo(&self) -> Undo {
        if self.0.both() {
            Undo::Restore
        } else {
            Undo::Inverse
        }
    }
    fn restores_when_failed(&self) -> bool {
        self.0.both()
    }
    // Without both tables, it reads nothing, but the dump of its link's entries no longer
    // shows this one as it is.
    fn reads(&self, names: &View) -> Result<Reads> {
        if self.0.both() {
            return Ok(Reads::one(self.0.half(true).encode_get(names)?));
        }
        read_link_entries(&self.0, names)
    }
    fn absent(&self, error: &Error) -> bool {
        matches!(error.errno(), Some(libc::ENOENT | libc::EOPNOTSUPP))
    }
    fn read_key(&self, _: &View) -> Option<ReadKey> {
        Some(read_key(&self.0))
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        self.0.encode(names, Flags::Create)
    }
    fn encode_undo(&self, names: &View, _: &Before) -> Result<Vec<UndoRequest>> {
        Ok(vec![(names.target, self.0.encode_del(names)?)])
    }
    /// The bridge's half, when it was not there before (an add that found it there failed
    /// with EEXIST before the device's half).
    fn encode_undo_failed(&self, names: &View, before: &Before, _error: &Error) -> Result<Vec<UndoRequest>> {
        if !listed(Self::OP, before).is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![(names.target, self.0.half(true).encode_del(names)?)])
    }
}

impl Step for AppendFdb {
    const OP: &'static str = "fdb.append";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(FdbEntry::read(seq, cx)?
            .and_then(FdbEntry::check_append)
            .map(Self))
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
    fn restores_when_failed(&self) -> bool {
        self.0.both()
    }
    /// The bridge's entry (`fdb get`) for the bridge's half; a dump of the link's entries for
    /// the device's own.
    fn reads(&self, names: &View) -> Result<Reads> {
        let mut reads = Reads::default();
        if self.0.master {
            reads.requests.push(Read {
                message: self.0.half(true).encode_get(names)?,
                dump: false,
            });
        }
        if !self.0.own {
            return Ok(reads);
        }
        reads.requests.extend(read_link_entries(&self.0, names)?.requests);
        // A listing leaves out the device's own port and VNI: to tell a remote given either
        // from one listed without, the device is read too (such an item reads on its own).
        if self.0.port.is_some() || self.0.vni.is_some() {
            let device = LinkRef::Index(names.index_of(&self.0.link)?);
            reads.requests.push(Read {
                message: encode_link_get(&device),
                dump: false,
            });
        }
        Ok(reads)
    }
    /// ENOENT: no such entry in the bridge; EOPNOTSUPP: the device cannot say.
    fn absent(&self, error: &Error) -> bool {
        matches!(error.errno(), Some(libc::ENOENT | libc::EOPNOTSUPP))
    }
    fn read_key(&self, _: &View) -> Option<ReadKey> {
        Some(read_key(&self.0))
    }
    fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
        answer_key(message)
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        self.0.encode(names, Flags::Append)
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let mut undo = Vec::new();
        let at = usize::from(self.0.master);
        if self.0.own {
            let listed = before.get(at).map(|m| decoded(Self::OP, m)).unwrap_or_default();
            let own = before.get(at + 1).and_then(device_port_and_vni);
            undo.extend(append_undone(&self.0.half(false), names, &listed, own)?);
        }
        if self.0.master {
            undo.extend(self.bridge_half_undone(names, before)?);
        }
        Ok(undo)
    }
    /// The bridge's half (the device's was not appended).
    fn encode_undo_failed(&self, names: &View, before: &Before, _error: &Error) -> Result<Vec<UndoRequest>> {
        self.bridge_half_undone(names, before)
    }
}

impl AppendFdb {
    /// The bridge's half put back as it was read before, or deleted.
    fn bridge_half_undone(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let was = listed(Self::OP, before);
        put_back(&self.0.half(true), names, was.first().map(|(_, m)| m))
    }
}

impl Step for ReplaceFdb {
    const OP: &'static str = "fdb.replace";
    fdb_step_common!();

    fn undo(&self) -> Undo {
        Undo::Restore
    }
    fn restores_when_failed(&self) -> bool {
        self.0.both()
    }
    /// With `self` and `master`, the kernel reads the bridge's entry.
    fn reads(&self, names: &View) -> Result<Reads> {
        Ok(Reads::one(self.0.encode_get(names)?))
    }
    /// ENOENT: no such entry; EOPNOTSUPP: the device cannot say.
    fn absent(&self, error: &Error) -> bool {
        matches!(error.errno(), Some(libc::ENOENT | libc::EOPNOTSUPP))
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        self.0.encode(names, Flags::Replace)
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let was = listed(Self::OP, before);
        put_back(&self.0, names, was.first().map(|(_, m)| m))
    }
    /// The bridge's half (the device's was not replaced).
    fn encode_undo_failed(&self, names: &View, before: &Before, _error: &Error) -> Result<Vec<UndoRequest>> {
        let was = listed(Self::OP, before);
        put_back(&self.0.half(true), names, was.first().map(|(_, m)| m))
    }
}

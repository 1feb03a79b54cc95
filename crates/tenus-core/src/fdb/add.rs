//! `bridge fdb add`, `append` and `replace` as batch items: `[code, link, mac, options]`.
//!
//! Undo: an added entry is deleted. An appended VXLAN remote is deleted unless the device's
//! table (read just before, a dump of the link's entries: the item waits for it) already had
//! it — appending a remote that is there changes nothing. A replaced entry is put back as
//! `bridge fdb get` read it just before (a VXLAN entry: its first remote, the one a replace
//! changes), or deleted when there was none. Devices without `fdb get` (a plain port's own
//! addresses, `self` on a veth) answer EOPNOTSUPP: a replace there is undone by deleting.

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

use super::spec::{encode_restore, FdbEntry};
use super::FdbRecord;

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
pub(crate) fn listed(
    op: &str,
    before: &Before,
) -> Vec<(FdbRecord, netlink_packet_route::neighbour::NeighbourMessage)> {
    before
        .first()
        .map(|m: &Messages| crate::neigh::messages(op, m))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| FdbRecord::from_message(&m).map(|r| (r, m)))
        .collect()
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

    fn undo(&self) -> Undo {
        Undo::Inverse
    }
    // It reads nothing, but the dump of its link's entries no longer shows this one as it is.
    fn reads(&self, names: &View) -> Result<Reads> {
        read_link_entries(&self.0, names)
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
}

impl Step for AppendFdb {
    const OP: &'static str = "fdb.append";
    fdb_step_common!();

    fn undo(&self) -> Undo {
        Undo::Restore
    }
    fn reads(&self, names: &View) -> Result<Reads> {
        let mut reads = read_link_entries(&self.0, names)?;
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
        let own = before.get(1).and_then(device_port_and_vni);
        if listed(Self::OP, before)
            .iter()
            .any(|(r, _)| self.0.is(r, own, names))
        {
            return Ok(Vec::new());
        }
        Ok(vec![(names.target, self.0.encode_del(names)?)])
    }
}

impl Step for ReplaceFdb {
    const OP: &'static str = "fdb.replace";
    fdb_step_common!();

    fn undo(&self) -> Undo {
        Undo::Restore
    }
    fn reads(&self, names: &View) -> Result<Reads> {
        Ok(Reads::one(self.0.encode_get(names)?))
    }
    /// ENOENT: no such entry; EOPNOTSUPP: the device cannot say (no `fdb get`).
    fn absent(&self, error: &Error) -> bool {
        matches!(error.errno(), Some(libc::ENOENT | libc::EOPNOTSUPP))
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        self.0.encode(names, Flags::Replace)
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let t = names.target;
        Ok(match listed(Self::OP, before).first() {
            // The kernel keeps an externally learned entry's state and flags through a replace
            // (a user's request may not take over what was learned): what the replace made is
            // deleted, and the entry put back as it was (as a replace: a VXLAN entry with other
            // remotes is still there after the deletion).
            Some((_, was)) if was.header.flags.contains(NeighbourFlags::ExtLearned) => {
                vec![
                    (t, self.0.encode_del(names)?),
                    (t, encode_restore(was, Flags::Replace)),
                ]
            }
            Some((_, was)) => vec![(t, encode_restore(was, Flags::Replace))],
            None => vec![(t, self.0.encode_del(names)?)],
        })
    }
}

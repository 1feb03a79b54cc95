//! The FDB entries a bridge deletes when a port leaves it (`br_fdb_delete_by_port`), those
//! added by hand too. A link change that takes a port out of its bridge (`nomaster()`, another
//! master) reads the port's entries before it, and its undo, once the port is back, puts back
//! the static and permanent ones the bridge had for it; learnt entries are learnt again, and the
//! entries for the port's own MAC the bridge makes again as it joins.

use netlink_packet_route::AddressFamily;

use crate::message::Flags;
use crate::neigh::get::dump_of_link;
use crate::neigh::messages;
use crate::transport::Messages;

use super::spec::encode_restore;
use super::{FdbRecord, FdbState};

/// The dump of the FDB entries of the link `index` (the bridge's for it, and its own).
pub(crate) fn dump_of_port(index: u32) -> Vec<u8> {
    dump_of_link(AddressFamily::Bridge, index)
}

/// The requests that put back the entries set by hand that the bridge `master` had for its
/// port (read by `dump_of_port`), whose own MAC is `own_mac`.
pub(crate) fn readd_set(read: &Messages, master: u32, own_mac: Option<&str>) -> Vec<Vec<u8>> {
    messages("link.set", read)
        .iter()
        .filter(|m| {
            FdbRecord::from_message(m).is_some_and(|r| {
                r.master == Some(master)
                    && matches!(r.state, FdbState::Static | FdbState::Permanent)
                    && Some(r.mac.as_str()) != own_mac
            })
        })
        .map(|m| encode_restore(m, Flags::Replace))
        .collect()
}

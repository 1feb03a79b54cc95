//! The VLANs of a port that leaves its bridge: the bridge drops them all as it goes
//! (`nbp_vlan_flush`) and gives it only its default PVID when it joins again. A link change
//! that takes a port out of its bridge (`nomaster()`, another master) and a move read the
//! bridges' VLANs before it; the undo, once the port is back, gives it the ones it had, before
//! the FDB entries set by hand (an entry of a VLAN needs the VLAN on the port).

use crate::transport::Messages;

use super::list::table_of;
use super::{encode_restore, Side};

/// The dump the VLANs are read from (every bridge port's: the kernel has no filter by port).
pub(crate) use super::list::dump_request;

/// The requests that give the port `index` back the VLANs `read` (a `dump_request` answer)
/// showed it with: each id 1-4094 as it was, the ones it had added with their flags (the one
/// the joining port got changes only its flags), the others deleted in ranges (the kernel
/// ignores the ids a port does not have). Deleting all and adding back would not do: a VLAN
/// deleted takes the port's own FDB entry of it, which the bridge keeps as its own when their
/// MACs are the same and does not give back. Nothing for a port that had none (a kernel
/// without VLAN filtering, or all deleted by hand).
pub(crate) fn readd_port_vlans(read: &Messages, index: u32) -> Vec<Vec<u8>> {
    let was = table_of(index, read);
    if was.is_empty() {
        return Vec::new();
    }
    let side = Side {
        own: false,
        master: true,
    };
    encode_restore(index, side, 1..=4094, &was)
}

//! The neighbours the kernel flushes from a link that goes down or changes its MAC
//! (`neigh_ifdown`, `neigh_changeaddr`), and the IPv6 ones of a link whose MTU goes below 1280
//! (`addrconf_ifdown`), and the IPv4 ones of a link that loses its last IPv4 address
//! (`fib_disable_ip`): administratively set ones too. What does any of these reads the entries
//! before it, and its undo puts back the set ones (permanent and noarp) once the link is back;
//! learnt entries are learnt again.

use std::net::IpAddr;

use netlink_packet_route::neighbour::NeighbourFlags;
use netlink_packet_route::AddressFamily;

use crate::error::Result;
use crate::handle::Handle;
use crate::transport::Messages;

use super::get::dump_of_link;
use super::spec::encode_restore;
use super::{messages, NeighbourRecord, NeighbourState};

/// The families read, one dump each.
pub(crate) const FAMILIES: [AddressFamily; 2] = [AddressFamily::Inet, AddressFamily::Inet6];

/// The requests that put back the set entries of such a dump's answer: not those for multicast
/// addresses, which the kernel makes (noarp) as it sends to them.
pub(crate) fn readd_set(read: &Messages) -> Vec<Vec<u8>> {
    readd_set_on(read, |_| true)
}

/// `readd_set`, of the entries on the links `on` accepts (the answer of a dump of every link's).
pub(crate) fn readd_set_on(read: &Messages, on: impl Fn(u32) -> bool) -> Vec<Vec<u8>> {
    let set = NeighbourState::Permanent.bits() | NeighbourState::Noarp.bits();
    messages("link.set", read)
        .iter()
        .filter(|m| on(m.header.ifindex))
        .filter(|m| u16::from(m.header.state) & set != 0 && !m.header.flags.contains(NeighbourFlags::Proxy))
        .filter(|m| NeighbourRecord::from_message(m).is_some_and(|r| !is_multicast(&r.address)))
        .map(encode_restore)
        .collect()
}

fn is_multicast(address: &str) -> bool {
    address.parse::<IpAddr>().is_ok_and(|a| a.is_multicast())
}

/// The requests that put back the set entries of the link `index`, read now (both families).
pub(crate) async fn read_set(h: &Handle, op: &str, index: u32) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for family in FAMILIES {
        out.extend(readd_set(&h.dump(op, dump_of_link(family, index)).await?));
    }
    Ok(out)
}

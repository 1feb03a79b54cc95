//! Dummy: `ip link add NAME type dummy`. Needs the `dummy` module, which some kernels lack.

use netlink_packet_route::link::{InfoData, InfoKind};

pub const KIND: &str = "dummy";

pub(crate) fn info() -> (InfoKind, Option<InfoData>) {
    (InfoKind::Dummy, None)
}

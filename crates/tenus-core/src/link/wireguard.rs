//! WireGuard: `ip link add NAME type wireguard` — the link only; keys and peers are set over
//! the wireguard generic-netlink family, which tenus does not speak yet. Needs `wireguard`.

use netlink_packet_route::link::{InfoData, InfoKind};

pub(crate) fn info() -> (InfoKind, Option<InfoData>) {
    (InfoKind::Wireguard, None)
}

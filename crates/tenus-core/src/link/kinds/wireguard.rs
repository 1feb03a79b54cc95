//! WireGuard: `ip link add NAME type wireguard` (the link; keys and peers are set over the
//! wireguard generic-netlink family, which tenus does not speak yet).

use netlink_packet_route::link::{InfoData, InfoKind};

use crate::error::Result;

use crate::link::build::Resolved;
pub use crate::link::kind::NoOptions;
use crate::link::kind::{Kind, ParseContext};

#[derive(Debug, Clone)]
pub struct Wireguard;

impl Kind for Wireguard {
    const NAME: &'static str = "wireguard";
    const PREFIX: &'static str = "wg";
    type Options = NoOptions;
    type Info = NoOptions;

    fn parse(_: NoOptions, _: &mut dyn ParseContext) -> Result<Self> {
        Ok(Wireguard)
    }

    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        Ok((InfoKind::Wireguard, None))
    }

    fn decode(_: Option<&InfoData>) -> Option<NoOptions> {
        Some(NoOptions {})
    }
}

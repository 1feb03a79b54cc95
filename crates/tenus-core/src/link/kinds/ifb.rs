//! IFB (intermediate functional block): `ip link add NAME type ifb`, the device ingress
//! traffic is redirected to for shaping with `tc`.

use netlink_packet_route::link::{InfoData, InfoKind};

use crate::error::Result;
use crate::link::build::Resolved;
pub use crate::link::kind::NoOptions;
use crate::link::kind::{Kind, ParseContext};

#[derive(Debug, Clone)]
pub struct Ifb;

impl Kind for Ifb {
    const NAME: &'static str = "ifb";
    const PREFIX: &'static str = "ifb";
    type Options = NoOptions;
    type Info = NoOptions;

    fn parse(_: NoOptions, _: &mut dyn ParseContext) -> Result<Self> {
        Ok(Ifb)
    }

    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        Ok((InfoKind::Ifb, None))
    }

    fn decode(_: Option<&InfoData>) -> Option<NoOptions> {
        Some(NoOptions {})
    }

    /// ifb sets no bounds (min_mtu and max_mtu 0, ifb_setup); the MTU is an `int` there.
    fn mtu_range(&self) -> std::ops::RangeInclusive<u32> {
        0..=i32::MAX as u32
    }
}

//! Dummy: `ip link add NAME type dummy`.

use netlink_packet_route::link::{InfoData, InfoKind};

use crate::error::Result;

use crate::link::build::Resolved;
pub use crate::link::kind::NoOptions;
use crate::link::kind::{Kind, ParseContext};

#[derive(Debug, Clone)]
pub struct Dummy;

impl Kind for Dummy {
    const NAME: &'static str = "dummy";
    const PREFIX: &'static str = "dummy";
    type Options = NoOptions;
    type Info = NoOptions;

    fn parse(_: NoOptions, _: &mut dyn ParseContext) -> Result<Self> {
        Ok(Dummy)
    }

    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        Ok((InfoKind::Dummy, None))
    }

    fn decode(_: Option<&InfoData>) -> Option<NoOptions> {
        Some(NoOptions {})
    }
}

//! Macvlan and macvtap: `ip link add link PARENT name NAME type macvlan|macvtap mode MODE`.
//! They share IFLA_MACVLAN_* attributes; only the kind string differs.

use netlink_packet_route::link::{InfoData, InfoKind, InfoMacVlan, InfoMacVtap, MacVlanMode};

use crate::error::{Error, Result};

use super::spec::LinkRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    Private,
    Vepa,
    #[default]
    Bridge,
    Passthru,
    Source,
}

impl Mode {
    pub fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "private" => Mode::Private,
            "vepa" => Mode::Vepa,
            "bridge" => Mode::Bridge,
            "passthru" => Mode::Passthru,
            "source" => Mode::Source,
            other => {
                return Err(Error::invalid(
                    "mode",
                    format!("unknown macvlan/macvtap mode {other:?} (expected private, vepa, bridge, passthru or source)"),
                ))
            }
        })
    }

    pub fn name(mode: &MacVlanMode) -> String {
        match mode {
            MacVlanMode::Private => "private".into(),
            MacVlanMode::Vepa => "vepa".into(),
            MacVlanMode::Bridge => "bridge".into(),
            MacVlanMode::Passthrough => "passthru".into(),
            MacVlanMode::Source => "source".into(),
            MacVlanMode::Other(n) => format!("mode-{n}"),
            _ => "unknown".into(),
        }
    }

    fn to_netlink(self) -> MacVlanMode {
        match self {
            Mode::Private => MacVlanMode::Private,
            Mode::Vepa => MacVlanMode::Vepa,
            Mode::Bridge => MacVlanMode::Bridge,
            Mode::Passthru => MacVlanMode::Passthrough,
            Mode::Source => MacVlanMode::Source,
        }
    }
}

#[derive(Debug, Clone)]
pub struct MacVlanSpec {
    pub parent: LinkRef,
    pub mode: Mode,
}

pub(crate) fn info_macvlan(spec: &MacVlanSpec) -> (InfoKind, Option<InfoData>) {
    (
        InfoKind::MacVlan,
        Some(InfoData::MacVlan(vec![InfoMacVlan::Mode(spec.mode.to_netlink())])),
    )
}

pub(crate) fn info_macvtap(spec: &MacVlanSpec) -> (InfoKind, Option<InfoData>) {
    (
        InfoKind::MacVtap,
        Some(InfoData::MacVtap(vec![InfoMacVtap::Mode(spec.mode.to_netlink())])),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_and_unknown_is_refused() {
        for name in ["private", "vepa", "bridge", "passthru", "source"] {
            assert_eq!(Mode::name(&Mode::parse(name).unwrap().to_netlink()), name);
        }
        assert!(matches!(Mode::parse("bogus"), Err(Error::InvalidArgument { arg, .. }) if arg == "mode"));
    }
}

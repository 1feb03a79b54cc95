//! IPvlan: `ip link add link PARENT name NAME type ipvlan mode l2|l3|l3s [bridge|private|vepa]`.
//! Needs the `ipvlan` module. On some kernels a parent cannot carry ipvlan and macvlan at once.

use netlink_packet_route::link::{InfoData, InfoIpVlan, InfoKind, IpVlanFlags, IpVlanMode};

use crate::error::{Error, Result};

use super::spec::LinkRef;

#[derive(Debug, Clone)]
pub struct IpVlanSpec {
    pub parent: LinkRef,
    /// "l2" (default), "l3" or "l3s".
    pub mode: Option<String>,
    /// "bridge" (default), "private" or "vepa".
    pub flag: Option<String>,
}

pub fn parse_mode(text: &str) -> Result<IpVlanMode> {
    match text {
        "l2" => Ok(IpVlanMode::L2),
        "l3" => Ok(IpVlanMode::L3),
        "l3s" => Ok(IpVlanMode::L3S),
        _ => Err(Error::invalid(
            "mode",
            format!("unknown ipvlan mode {text:?} (expected l2, l3 or l3s)"),
        )),
    }
}

pub fn mode_name(mode: &IpVlanMode) -> String {
    match mode {
        IpVlanMode::L2 => "l2".into(),
        IpVlanMode::L3 => "l3".into(),
        IpVlanMode::L3S => "l3s".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn parse_flag(text: &str) -> Result<IpVlanFlags> {
    match text {
        "bridge" => Ok(IpVlanFlags::empty()),
        "private" => Ok(IpVlanFlags::Private),
        "vepa" => Ok(IpVlanFlags::Vepa),
        _ => Err(Error::invalid(
            "flag",
            format!("unknown ipvlan flag {text:?} (expected bridge, private or vepa)"),
        )),
    }
}

impl IpVlanSpec {
    pub fn validate(&self) -> Result<()> {
        self.parent.validate("parent")?;
        self.mode.as_deref().map(parse_mode).transpose()?;
        self.flag.as_deref().map(parse_flag).transpose()?;
        Ok(())
    }
}

pub(crate) fn info(spec: &IpVlanSpec) -> Result<(InfoKind, Option<InfoData>)> {
    let mut data = vec![InfoIpVlan::Mode(
        spec.mode
            .as_deref()
            .map(parse_mode)
            .transpose()?
            .unwrap_or(IpVlanMode::L2),
    )];
    if let Some(f) = &spec.flag {
        data.push(InfoIpVlan::Flags(parse_flag(f)?));
    }
    Ok((InfoKind::IpVlan, Some(InfoData::IpVlan(data))))
}

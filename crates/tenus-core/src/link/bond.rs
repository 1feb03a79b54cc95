//! Bond: `ip link add NAME type bond mode MODE [miimon MS]`; slaves join with `master NAME`
//! (they must be down when they join). Needs the `bonding` module.

use netlink_packet_route::link::{BondMode, InfoBond, InfoData, InfoKind};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct BondSpec {
    /// balance-rr (default), active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb
    pub mode: Option<String>,
    /// Link monitoring interval in ms.
    pub miimon: Option<u32>,
}

const MODES: [(&str, BondMode); 7] = [
    ("balance-rr", BondMode::BalanceRr),
    ("active-backup", BondMode::ActiveBackup),
    ("balance-xor", BondMode::BalanceXor),
    ("broadcast", BondMode::Broadcast),
    ("802.3ad", BondMode::Ieee8023Ad),
    ("balance-tlb", BondMode::BalanceTlb),
    ("balance-alb", BondMode::BalanceAlb),
];

pub fn parse_mode(text: &str) -> Result<BondMode> {
    MODES
        .iter()
        .find(|(n, _)| *n == text)
        .map(|(_, m)| *m)
        .ok_or_else(|| {
            let names: Vec<&str> = MODES.iter().map(|(n, _)| *n).collect();
            Error::invalid(
                "mode",
                format!(
                    "unknown bond mode {text:?} (expected one of {})",
                    names.join(", ")
                ),
            )
        })
}

pub fn mode_name(mode: &BondMode) -> String {
    MODES
        .iter()
        .find(|(_, m)| m == mode)
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| format!("{mode:?}"))
}

impl BondSpec {
    pub fn validate(&self) -> Result<()> {
        self.mode.as_deref().map(parse_mode).transpose()?;
        Ok(())
    }
}

pub(crate) fn info(spec: &BondSpec) -> Result<(InfoKind, Option<InfoData>)> {
    let mut data = Vec::new();
    if let Some(m) = &spec.mode {
        data.push(InfoBond::Mode(parse_mode(m)?));
    }
    if let Some(ms) = spec.miimon {
        data.push(InfoBond::MiiMon(ms));
    }
    Ok((InfoKind::Bond, (!data.is_empty()).then_some(InfoData::Bond(data))))
}

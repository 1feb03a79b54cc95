//! Bonding: `ip link add NAME type bond [mode MODE] [miimon MS]`; slaves join with
//! `ip link set DEV master BOND` (`link.master(bond)`).

use netlink_packet_route::link::{BondMode as NlBondMode, InfoBond, InfoData, InfoKind};
use serde::{Deserialize, Serialize};

use crate::args;
use crate::error::Result;

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};

crate::js_enum!(BondMode {
    BalanceRr = "balance-rr",
    ActiveBackup = "active-backup",
    BalanceXor = "balance-xor",
    Broadcast = "broadcast",
    Ieee8023Ad = "802.3ad",
    BalanceTlb = "balance-tlb",
    BalanceAlb = "balance-alb",
});

impl BondMode {
    fn to_netlink(self) -> NlBondMode {
        match self {
            BondMode::BalanceRr => NlBondMode::BalanceRr,
            BondMode::ActiveBackup => NlBondMode::ActiveBackup,
            BondMode::BalanceXor => NlBondMode::BalanceXor,
            BondMode::Broadcast => NlBondMode::Broadcast,
            BondMode::Ieee8023Ad => NlBondMode::Ieee8023Ad,
            BondMode::BalanceTlb => NlBondMode::BalanceTlb,
            BondMode::BalanceAlb => NlBondMode::BalanceAlb,
        }
    }
}

/// `ip link add NAME type bond` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct BondOptions {
    /// Default 'balance-rr'.
    pub mode: Option<BondMode>,
    /// Link monitoring interval (ms).
    pub miimon: Option<u32>,
}

/// What a bond reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct BondInfo {
    pub mode: Option<BondMode>,
    pub miimon: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Bond {
    mode: Option<BondMode>,
    miimon: Option<u32>,
}

impl Kind for Bond {
    const NAME: &'static str = "bond";
    const PREFIX: &'static str = "bond";
    type Options = BondOptions;
    type Info = BondInfo;

    fn parse(o: BondOptions, _: &mut dyn ParseContext) -> Result<Self> {
        Ok(Bond {
            mode: o.mode,
            miimon: o.miimon.map(|m| args::MIIMON.check("miimon", m)).transpose()?,
        })
    }

    /// Bonds stay in their namespace (NETIF_F_NETNS_LOCAL).
    fn movable() -> bool {
        false
    }

    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        let mut data = Vec::new();
        if let Some(m) = self.mode {
            data.push(InfoBond::Mode(m.to_netlink()));
        }
        if let Some(ms) = self.miimon {
            data.push(InfoBond::MiiMon(ms));
        }
        Ok((InfoKind::Bond, (!data.is_empty()).then_some(InfoData::Bond(data))))
    }

    fn decode(data: Option<&InfoData>) -> Option<BondInfo> {
        let Some(InfoData::Bond(items)) = data else {
            return None;
        };
        let mut info = BondInfo::default();
        for item in items {
            match item {
                InfoBond::Mode(m) => info.mode = BondMode::ALL.iter().copied().find(|x| x.to_netlink() == *m),
                InfoBond::MiiMon(ms) => info.miimon = Some(*ms),
                _ => {}
            }
        }
        Some(info)
    }
}

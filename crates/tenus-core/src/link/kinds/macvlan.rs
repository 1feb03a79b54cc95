//! Macvlan and macvtap: `ip link add link PARENT name NAME type macvlan|macvtap mode MODE`.
//! They share IFLA_MACVLAN_* attributes; only the kind string differs.

use netlink_packet_route::link::{InfoData, InfoKind, InfoMacVlan, InfoMacVtap, MacVlanMode};
use serde::{Deserialize, Serialize};

use crate::error::Result;

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};
use crate::link::spec::LinkRef;

crate::js_enum!(MacvlanMode {
    Private = "private",
    Vepa = "vepa",
    Bridge = "bridge",
    Passthru = "passthru",
    Source = "source",
});

impl MacvlanMode {
    fn to_netlink(self) -> MacVlanMode {
        match self {
            MacvlanMode::Private => MacVlanMode::Private,
            MacvlanMode::Vepa => MacVlanMode::Vepa,
            MacvlanMode::Bridge => MacVlanMode::Bridge,
            MacvlanMode::Passthru => MacVlanMode::Passthrough,
            MacvlanMode::Source => MacVlanMode::Source,
        }
    }

    fn from_netlink(m: &MacVlanMode) -> Option<Self> {
        MacvlanMode::ALL.iter().copied().find(|x| x.to_netlink() == *m)
    }
}

/// `ip link add link PARENT name NAME type macvlan|macvtap mode MODE` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct MacvlanOptions {
    /// The lower link.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub parent: Option<LinkRef>,
    /// Default 'bridge'.
    pub mode: Option<MacvlanMode>,
}

/// What a macvlan or macvtap reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct MacvlanInfo {
    pub mode: Option<MacvlanMode>,
}

#[derive(Debug, Clone)]
pub struct Macvlan {
    parent: LinkRef,
    mode: MacvlanMode,
}

#[derive(Debug, Clone)]
pub struct Macvtap(Macvlan);

fn parse(o: MacvlanOptions, kind: &str) -> Result<Macvlan> {
    Ok(Macvlan {
        parent: LinkRef::required(o.parent, "parent", kind)?,
        mode: o.mode.unwrap_or(MacvlanMode::Bridge),
    })
}

impl Kind for Macvlan {
    fn probe() -> serde_json::Value {
        serde_json::json!({"parent": "probe0"})
    }

    const NAME: &'static str = "macvlan";
    const PREFIX: &'static str = "mvl";
    type Options = MacvlanOptions;
    type Info = MacvlanInfo;

    fn parse(o: MacvlanOptions, _: &mut dyn ParseContext) -> Result<Self> {
        parse(o, Self::NAME)
    }

    fn parent(&self) -> Option<&LinkRef> {
        Some(&self.parent)
    }

    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        Ok((
            InfoKind::MacVlan,
            Some(InfoData::MacVlan(vec![InfoMacVlan::Mode(self.mode.to_netlink())])),
        ))
    }

    fn decode(data: Option<&InfoData>) -> Option<MacvlanInfo> {
        let Some(InfoData::MacVlan(items)) = data else {
            return None;
        };
        let mode = items.iter().find_map(|i| match i {
            InfoMacVlan::Mode(m) => MacvlanMode::from_netlink(m),
            _ => None,
        });
        Some(MacvlanInfo { mode })
    }
}

impl Kind for Macvtap {
    fn probe() -> serde_json::Value {
        serde_json::json!({"parent": "probe0"})
    }

    const NAME: &'static str = "macvtap";
    const PREFIX: &'static str = "mvt";
    type Options = MacvlanOptions;
    type Info = MacvlanInfo;

    fn parse(o: MacvlanOptions, _: &mut dyn ParseContext) -> Result<Self> {
        parse(o, Self::NAME).map(Macvtap)
    }

    fn parent(&self) -> Option<&LinkRef> {
        Some(&self.0.parent)
    }

    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        Ok((
            InfoKind::MacVtap,
            Some(InfoData::MacVtap(vec![InfoMacVtap::Mode(
                self.0.mode.to_netlink(),
            )])),
        ))
    }

    fn decode(data: Option<&InfoData>) -> Option<MacvlanInfo> {
        let Some(InfoData::MacVtap(items)) = data else {
            return None;
        };
        let mode = items.iter().find_map(|i| match i {
            InfoMacVtap::Mode(m) => MacvlanMode::from_netlink(m),
            _ => None,
        });
        Some(MacvlanInfo { mode })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip() {
        for m in MacvlanMode::ALL {
            assert_eq!(MacvlanMode::from_netlink(&m.to_netlink()), Some(*m));
        }
    }
}

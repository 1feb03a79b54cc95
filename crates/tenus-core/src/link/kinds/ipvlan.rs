//! IPvlan: `ip link add link PARENT name NAME type ipvlan mode l2|l3|l3s [bridge|private|vepa]`.

use netlink_packet_route::link::{InfoData, InfoIpVlan, InfoKind, IpVlanFlags, IpVlanMode};
use serde::{Deserialize, Serialize};

use crate::error::Result;

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};
use crate::link::spec::LinkRef;

crate::js_enum!(IpvlanMode { L2 = "l2", L3 = "l3", L3s = "l3s" });
crate::js_enum!(IpvlanFlag { Bridge = "bridge", Private = "private", Vepa = "vepa" });

impl IpvlanMode {
    fn to_netlink(self) -> IpVlanMode {
        match self {
            IpvlanMode::L2 => IpVlanMode::L2,
            IpvlanMode::L3 => IpVlanMode::L3,
            IpvlanMode::L3s => IpVlanMode::L3S,
        }
    }
}

impl IpvlanFlag {
    fn to_netlink(self) -> IpVlanFlags {
        match self {
            IpvlanFlag::Bridge => IpVlanFlags::empty(),
            IpvlanFlag::Private => IpVlanFlags::Private,
            IpvlanFlag::Vepa => IpVlanFlags::Vepa,
        }
    }
}

/// `ip link add link PARENT name NAME type ipvlan mode MODE [FLAG]` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct IpvlanOptions {
    /// The lower link.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub parent: Option<LinkRef>,
    /// Default 'l2'.
    pub mode: Option<IpvlanMode>,
    /// Default 'bridge'.
    pub flag: Option<IpvlanFlag>,
}

/// What an ipvlan reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct IpvlanInfo {
    pub mode: Option<IpvlanMode>,
    pub flag: Option<IpvlanFlag>,
}

#[derive(Debug, Clone)]
pub struct Ipvlan {
    parent: LinkRef,
    mode: IpvlanMode,
    flag: Option<IpvlanFlag>,
}

impl Kind for Ipvlan {
    const NAME: &'static str = "ipvlan";
    const PREFIX: &'static str = "ipvl";
    type Options = IpvlanOptions;
    type Info = IpvlanInfo;

    fn probe() -> serde_json::Value {
        serde_json::json!({"parent": "probe0"})
    }

    fn parse(o: IpvlanOptions, _: &mut dyn ParseContext) -> Result<Self> {
        Ok(Ipvlan {
            parent: LinkRef::required(o.parent, "parent", Self::NAME)?,
            mode: o.mode.unwrap_or(IpvlanMode::L2),
            flag: o.flag,
        })
    }

    fn parent(&self) -> Option<&LinkRef> {
        Some(&self.parent)
    }

    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        let mut data = vec![InfoIpVlan::Mode(self.mode.to_netlink())];
        if let Some(f) = self.flag {
            data.push(InfoIpVlan::Flags(f.to_netlink()));
        }
        Ok((InfoKind::IpVlan, Some(InfoData::IpVlan(data))))
    }

    fn decode(data: Option<&InfoData>) -> Option<IpvlanInfo> {
        let Some(InfoData::IpVlan(items)) = data else {
            return None;
        };
        let mut info = IpvlanInfo::default();
        for item in items {
            match item {
                InfoIpVlan::Mode(m) => {
                    info.mode = IpvlanMode::ALL.iter().copied().find(|x| x.to_netlink() == *m)
                }
                InfoIpVlan::Flags(f) => {
                    info.flag = IpvlanFlag::ALL.iter().copied().find(|x| x.to_netlink() == *f)
                }
                _ => {}
            }
        }
        Some(info)
    }
}

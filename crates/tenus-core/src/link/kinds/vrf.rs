//! VRF: `ip link add NAME type vrf table N`; members join with `ip link set DEV master VRF`.

use netlink_packet_route::link::{InfoData, InfoKind, InfoVrf};
use serde::{Deserialize, Serialize};

use crate::args;
use crate::error::{Error, Result};

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};

/// `ip link add NAME type vrf table N` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct VrfOptions {
    /// The routing table of the VRF (not 0, 253, 254 or 255).
    pub table: Option<u32>,
}

/// What a VRF reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct VrfInfo {
    pub table: u32,
}

#[derive(Debug, Clone)]
pub struct Vrf {
    table: u32,
}

impl Kind for Vrf {
    const NAME: &'static str = "vrf";
    const PREFIX: &'static str = "vrf";
    type Options = VrfOptions;
    type Info = VrfInfo;

    fn probe() -> serde_json::Value {
        serde_json::json!({"table": 10})
    }

    fn parse(o: VrfOptions, _: &mut dyn ParseContext) -> Result<Self> {
        let table = args::TABLE.check("table", args::required(o.table, "table", Self::NAME)?)?;
        if (253..=255).contains(&table) {
            return Err(Error::invalid(
                "table",
                format!("routing table {table} is reserved"),
            ));
        }
        Ok(Vrf { table })
    }

    /// VRFs stay in their namespace (NETIF_F_NETNS_LOCAL).
    fn movable() -> bool {
        false
    }

    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        Ok((
            InfoKind::Vrf,
            Some(InfoData::Vrf(vec![InfoVrf::TableId(self.table)])),
        ))
    }

    fn decode(data: Option<&InfoData>) -> Option<VrfInfo> {
        let Some(InfoData::Vrf(items)) = data else {
            return None;
        };
        items.iter().find_map(|i| match i {
            InfoVrf::TableId(t) => Some(VrfInfo { table: *t }),
            _ => None,
        })
    }
}

//! VRF: `ip link add NAME type vrf table N`; links join with `master NAME`. Needs `vrf`.

use netlink_packet_route::link::{InfoData, InfoKind, InfoVrf};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct VrfSpec {
    pub table: u32,
}

impl VrfSpec {
    pub fn validate(&self) -> Result<()> {
        // 0 is unspec, 253-255 are the default/main/local tables.
        if self.table == 0 || (253..=255).contains(&self.table) {
            return Err(Error::invalid(
                "table",
                format!("routing table {} is reserved", self.table),
            ));
        }
        Ok(())
    }
}

pub(crate) fn info(spec: &VrfSpec) -> (InfoKind, Option<InfoData>) {
    (
        InfoKind::Vrf,
        Some(InfoData::Vrf(vec![InfoVrf::TableId(spec.table)])),
    )
}

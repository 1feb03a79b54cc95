//! Reading FDB entries: one (`bridge fdb get MAC dev LINK [vlan] [vni] self|master`, Linux 5.0
//! and later) or a listing (`bridge fdb show [dev LINK] [br BRIDGE]`, filtered by the kernel:
//! NDA_IFINDEX, NDA_MASTER with strict checking; then by VLAN here).

use netlink_packet_route::neighbour::NeighbourFlags;
use netlink_packet_route::AddressFamily;
use serde::Deserialize;

use crate::batch::{Names, View};
use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::neigh::get::{dump_filters, dump_request};

use super::{FdbEntry, FdbRecord};

/// Which entries a listing returns; absent fields do not filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct FdbFilter {
    /// Entries on this link: a port's in its bridge's table and its own (`bridge fdb show dev`).
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub link: Option<LinkRef>,
    /// Entries of this bridge's table and its ports' own (`bridge fdb show br`).
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub master: Option<LinkRef>,
    pub vlan: Option<u32>,
}

impl Handle {
    /// `bridge fdb get`: the entry in the table `entry` names (a VXLAN entry: its first
    /// remote). ENOENT when there is none; EOPNOTSUPP from a device that cannot say.
    pub async fn fdb_get(&self, entry: &FdbEntry) -> Result<FdbRecord> {
        let op = "fdb.get";
        let label = entry.label();
        entry.link.validate("link")?;
        let index = self
            .link_index(&entry.link)
            .await
            .map_err(|e| e.context(op, Some(&label)))?;
        let mut by_index = entry.clone();
        by_index.link = crate::link::LinkRef::Index(index);
        let names = Names::default();
        let request = by_index.encode_get(&View {
            names: &names,
            target: 0,
        })?;
        let reply = self.reply(op, Some(&label), request).await?;
        crate::neigh::messages(op, &reply.messages)
            .iter()
            .find_map(FdbRecord::from_message)
            .ok_or_else(|| Error::Protocol {
                op: op.into(),
                detail: "no FDB entry in the reply".into(),
            })
    }

    /// `bridge fdb show` with the filter's conditions.
    pub async fn fdb_list(&self, filter: &FdbFilter) -> Result<Vec<FdbRecord>> {
        let op = "fdb.list";
        let vlan = filter
            .vlan
            .map(|v| crate::args::BRIDGE_VID.check("vlan", v).map(|v| v as u16))
            .transpose()?;
        let attrs = dump_filters(self, op, filter.link.as_ref(), filter.master.as_ref()).await?;
        let request = dump_request(AddressFamily::Bridge, NeighbourFlags::empty(), &attrs);
        let dumped = self.dump(op, request).await?;
        Ok(crate::neigh::messages(op, &dumped)
            .iter()
            .filter_map(FdbRecord::from_message)
            .filter(|r| vlan.is_none() || r.vlan == vlan)
            .collect())
    }
}

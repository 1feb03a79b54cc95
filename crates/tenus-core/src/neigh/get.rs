//! Reading neighbours: one entry (`ip neigh get`, RTM_GETNEIGH for one address) or a listing
//! (`ip neigh show [dev LINK] [master BRIDGE] [proxy]`) filtered by the kernel where it can
//! (family in the header, NDA_IFINDEX and NDA_MASTER with strict checking).

use netlink_packet_route::neighbour::{NeighbourAttribute, NeighbourFlags, NeighbourMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::message::{encode, Flags};
use crate::route::spec::Family;

use super::{messages, NeighbourKey, NeighbourRecord, NeighbourState};

/// Which neighbours a listing returns; absent fields do not filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NeighbourFilter {
    /// Entries on this link (`ip neigh show dev LINK`).
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub link: Option<LinkRef>,
    /// Entries on the ports of this bridge or VRF (`ip neigh show master LINK`).
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub master: Option<LinkRef>,
    pub family: Option<Family>,
    /// Proxy entries instead of neighbours (`ip neigh show proxy`).
    pub proxy: Option<bool>,
    /// Only entries in these states (`ip neigh show nud STATE`).
    pub states: Option<Vec<NeighbourState>>,
}

/// NDA_IFINDEX / NDA_MASTER filters of a dump request, the links resolved to indexes.
pub(crate) async fn dump_filters(
    h: &Handle,
    op: &str,
    link: Option<&LinkRef>,
    master: Option<&LinkRef>,
) -> Result<Vec<NeighbourAttribute>> {
    let mut attrs = Vec::new();
    for (arg, l, make) in [
        (
            "link",
            link,
            NeighbourAttribute::IfIndex as fn(u32) -> NeighbourAttribute,
        ),
        ("master", master, NeighbourAttribute::Controller),
    ] {
        if let Some(l) = l {
            l.validate(arg)?;
            // Read even when given by index: the kernel's filter would take a link that does
            // not exist and answer nothing (ENODEV, as by name and in the other listings).
            let index = h
                .link_get(l)
                .await
                .map_err(|e| e.context(op, Some(&l.describe())))?
                .index;
            attrs.push(make(index));
        }
    }
    Ok(attrs)
}

/// The dump of the entries of `family` on the link `index` (AF_BRIDGE: its FDB entries).
pub(crate) fn dump_of_link(family: AddressFamily, index: u32) -> Vec<u8> {
    dump_request(
        family,
        NeighbourFlags::empty(),
        &[NeighbourAttribute::IfIndex(index)],
    )
}

/// An RTM_GETNEIGH dump request for one family.
pub(crate) fn dump_request(
    family: AddressFamily,
    flags: NeighbourFlags,
    attrs: &[NeighbourAttribute],
) -> Vec<u8> {
    let mut m = NeighbourMessage::default();
    m.header.family = family;
    m.header.flags = flags;
    m.attributes = attrs.to_vec();
    encode(RouteNetlinkMessage::GetNeighbour(m), Flags::Dump)
}

impl Handle {
    /// `ip neigh get ADDRESS dev LINK [proxy]`: ENOENT when there is no such entry.
    pub async fn neigh_get(&self, key: &NeighbourKey) -> Result<NeighbourRecord> {
        key.link.validate("link")?;
        let label = key.label();
        let index = self
            .link_index(&key.link)
            .await
            .map_err(|e| e.context("neighbour.get", Some(&label)))?;
        let reply = self
            .reply("neighbour.get", Some(&label), key.encode_get(index))
            .await?;
        messages("neighbour.get", &reply.messages)
            .iter()
            .find_map(NeighbourRecord::from_message)
            .ok_or_else(|| Error::Protocol {
                op: "neighbour.get".into(),
                detail: "no neighbour in the reply".into(),
            })
    }

    /// `ip neigh show nud all` with the filter's conditions.
    pub async fn neigh_list(&self, filter: &NeighbourFilter) -> Result<Vec<NeighbourRecord>> {
        let op = "neighbour.list";
        let attrs = dump_filters(self, op, filter.link.as_ref(), filter.master.as_ref()).await?;
        let flags = if filter.proxy == Some(true) {
            NeighbourFlags::Proxy
        } else {
            NeighbourFlags::empty()
        };
        let families = match filter.family {
            Some(f) => vec![f],
            // Not AF_UNSPEC: the kernel would add every bridge's FDB to the dump.
            None => vec![Family::Inet, Family::Inet6],
        };
        let mut out = Vec::new();
        for family in families {
            let dumped = self
                .dump(op, dump_request(family.netlink(), flags, &attrs))
                .await?;
            out.extend(
                messages(op, &dumped)
                    .iter()
                    .filter_map(NeighbourRecord::from_message)
                    .filter(|r| filter.states.as_ref().is_none_or(|s| s.contains(&r.state))),
            );
        }
        Ok(out)
    }
}

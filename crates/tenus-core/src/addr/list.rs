//! `ip [-4|-6] addr show [dev DEV]`: addresses filtered by the kernel (the family in the
//! request's header picks that family's dump; the link's index, with strict checking, that
//! link's addresses).

use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::RouteNetlinkMessage;
use serde::Deserialize;

use crate::error::Result;
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::message::{decode, encode, Flags};
use crate::route::spec::Family;

use super::AddressRecord;

/// Which addresses a listing returns; absent fields do not filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct AddressFilter {
    /// Addresses of this link (`ip addr show dev LINK`).
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub link: Option<LinkRef>,
    /// IPv4 or IPv6 addresses only (`ip -4 addr`, `ip -6 addr`).
    pub family: Option<Family>,
}

impl Handle {
    /// Addresses of one link or of every link.
    pub async fn addr_list(&self, link: Option<&LinkRef>) -> Result<Vec<AddressRecord>> {
        let filter = AddressFilter {
            link: link.cloned(),
            family: None,
        };
        self.addr_list_filtered(&filter).await
    }

    /// Addresses the filter selects, filtered by the kernel.
    pub async fn addr_list_filtered(&self, filter: &AddressFilter) -> Result<Vec<AddressRecord>> {
        let messages = self.addr_messages(filter).await?;
        Ok(messages.iter().filter_map(AddressRecord::from_message).collect())
    }

    /// The addresses a filter selects as the kernel sent them.
    pub(crate) async fn addr_messages(&self, filter: &AddressFilter) -> Result<Vec<AddressMessage>> {
        let op = "address.list";
        let mut msg = AddressMessage::default();
        if let Some(l) = &filter.link {
            l.validate("link")?;
            msg.header.index = self
                .link_index(l)
                .await
                .map_err(|e| e.context(op, Some(&l.describe())))?;
        }
        if let Some(family) = filter.family {
            msg.header.family = family.netlink();
        }
        let messages = self
            .dump(op, encode(RouteNetlinkMessage::GetAddress(msg), Flags::Dump))
            .await?;
        let mut out = Vec::with_capacity(messages.len());
        for bytes in &messages {
            if let RouteNetlinkMessage::NewAddress(m) = decode(op, bytes)? {
                out.push(m);
            }
        }
        Ok(out)
    }
}

//! Deleting links: one by index or name, or every link of a group in one RTM_DELLINK.

use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::message::{encode, Flags};

use super::get::selector;
use super::LinkRef;

/// `ip link del DEV`.
pub(crate) fn encode_link_del(link: &LinkRef) -> Vec<u8> {
    encode(RouteNetlinkMessage::DelLink(selector(link)), Flags::Plain)
}

/// `ip link del group N`.
pub(crate) fn encode_group_del(group: u32) -> Result<Vec<u8>> {
    if group == 0 {
        return Err(Error::invalid(
            "group",
            "group 0 is the default group of every link; refusing to delete it",
        ));
    }
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::Group(group));
    Ok(encode(RouteNetlinkMessage::DelLink(msg), Flags::Plain))
}

impl Handle {
    /// `ip link del DEV`. Deleting one end of a veth pair deletes both.
    pub async fn link_del(&self, link: &LinkRef) -> Result<()> {
        link.validate("link")?;
        self.ack("link.delete", Some(&link.describe()), encode_link_del(link))
            .await
            .map(drop)
    }

    /// `ip link del group N`: every link in the group, in one kernel operation.
    pub async fn link_del_group(&self, group: u32) -> Result<()> {
        let bytes = encode_group_del(group)?;
        self.ack("link.deleteGroup", None, bytes).await.map(drop)
    }
}

//! Reading links: one targeted RTM_GETLINK by index or IFLA_IFNAME, or a full dump.

use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::message::{encode, Flags};
use crate::transport::Messages;

use super::{LinkRecord, LinkRef};

/// A request that selects one link by index, or by name through IFLA_IFNAME.
pub(crate) fn selector(link: &LinkRef) -> LinkMessage {
    let mut msg = LinkMessage::default();
    match link {
        LinkRef::Index(i) => msg.header.index = *i,
        LinkRef::Name(n) => msg.attributes.push(LinkAttribute::IfName(n.clone())),
    }
    msg
}

fn records(messages: &Messages) -> Vec<LinkRecord> {
    messages.iter().filter_map(super::fast::read_link).collect()
}

impl Handle {
    pub async fn link_get(&self, link: &LinkRef) -> Result<LinkRecord> {
        link.validate("link")?;
        let mut msg = selector(link);
        msg.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let reply = self
            .ack(
                "link.get",
                Some(&link.describe()),
                encode(RouteNetlinkMessage::GetLink(msg), Flags::Plain),
            )
            .await?;
        records(&reply.messages)
            .into_iter()
            .next()
            .ok_or_else(|| Error::Protocol {
                op: "link.get".into(),
                detail: "no link in the reply".into(),
            })
    }

    /// The index of a link named by index or name (no request for an index).
    pub async fn link_index(&self, link: &LinkRef) -> Result<u32> {
        match link {
            LinkRef::Index(i) => Ok(*i),
            LinkRef::Name(_) => Ok(self.link_get(link).await?.index),
        }
    }

    pub async fn link_list(&self) -> Result<Vec<LinkRecord>> {
        self.link_list_with(true).await
    }

    /// Every link; without `stats` the kernel leaves the counters out (RTEXT_FILTER_SKIP_STATS).
    pub async fn link_list_with(&self, stats: bool) -> Result<Vec<LinkRecord>> {
        let mut req = LinkMessage::default();
        if !stats {
            req.attributes
                .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        }
        let messages = self
            .dump(
                "link.list",
                encode(RouteNetlinkMessage::GetLink(req), Flags::Dump),
            )
            .await?;
        Ok(records(&messages))
    }
}

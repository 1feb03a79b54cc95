//! Reading links: one targeted RTM_GETLINK by index or IFLA_IFNAME, or a full dump.

use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use serde::de::SeqAccess;

use crate::batch::wire::ReadContext;
use crate::batch::{Parsed, Step, Undo, View};
use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::message::{encode, Flags};
use crate::transport::Messages;

use super::{LinkRecord, LinkRef};

/// `ip link show DEV` as a batch item, `[code, link]`: a chain reads its link back with it, in
/// the same `sendmsg` as the changes before it.
#[derive(Debug)]
pub struct GetLink {
    pub link: LinkRef,
}

/// RTM_GETLINK for one link, without the per-protocol statistics.
pub(crate) fn encode_link_get(link: &LinkRef) -> Vec<u8> {
    let mut msg = selector(link);
    msg.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    encode(RouteNetlinkMessage::GetLink(msg), Flags::Plain)
}

impl Step for GetLink {
    const OP: &'static str = "link.get";

    fn touches(&self) -> Vec<&LinkRef> {
        vec![&self.link]
    }

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        let link = match cx.read_link(seq)? {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        Ok(link.validate("link").map(|()| GetLink { link }))
    }

    fn label(&self) -> Option<String> {
        Some(self.link.describe())
    }

    fn undo(&self) -> Undo {
        Undo::Nothing
    }

    fn encode(&self, _: &View) -> Result<Vec<u8>> {
        Ok(encode_link_get(&self.link))
    }

    fn returns_data(&self) -> bool {
        true
    }

    fn record(&self, reply: &Messages) -> Option<LinkRecord> {
        reply.iter().find_map(super::fast::read_link)
    }
}

/// A request that selects one link by index, or by name through IFLA_IFNAME.
pub(crate) fn selector(link: &LinkRef) -> LinkMessage {
    let mut msg = LinkMessage::default();
    match link {
        LinkRef::Index(i) => msg.header.index = *i,
        LinkRef::Name(n) => msg.attributes.push(LinkAttribute::IfName(n.clone())),
    }
    msg
}

fn no_link() -> Error {
    Error::Protocol {
        op: "link.get".into(),
        detail: "no link in the reply".into(),
    }
}

/// JSON that json.rs wrote, as text: every piece it writes is UTF-8 (ASCII, serde's output, or
/// lossily decoded text).
fn json_text(json: Vec<u8>) -> String {
    String::from_utf8(json).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn records(messages: &Messages) -> Vec<LinkRecord> {
    messages.iter().filter_map(super::fast::read_link).collect()
}

impl Handle {
    pub async fn link_get(&self, link: &LinkRef) -> Result<LinkRecord> {
        let reply = self.link_get_reply(link).await?;
        records(&reply.messages).into_iter().next().ok_or_else(no_link)
    }

    /// `link_get` as the record's JSON, written straight from the kernel's message (json.rs),
    /// with no record built and serialised in between: what JavaScript reads.
    pub async fn link_get_json(&self, link: &LinkRef) -> Result<String> {
        let reply = self.link_get_reply(link).await?;
        let mut out = Vec::with_capacity(1024);
        if !reply
            .messages
            .iter()
            .any(|m| super::json::write_link(&mut out, m, true))
        {
            return Err(no_link());
        }
        Ok(json_text(out))
    }

    async fn link_get_reply(&self, link: &LinkRef) -> Result<crate::transport::Reply> {
        link.validate("link")?;
        self.reply("link.get", Some(&link.describe()), encode_link_get(link))
            .await
    }

    /// The index of a link named by index or name: no request for an index; for a name, a
    /// RTM_GETLINK read for the index alone (no record decoded). A name no link has is ENODEV
    /// saying so, as the batch engine's lookups say it (the kernel says nothing).
    ///
    /// Not `SIOCGIFINDEX`, one system call: for a name no link has, the kernel's `dev_load`
    /// then has modprobe load a module of that name, as root, and one may create links in
    /// every namespace, the machine's own too (`gre0` loads ip_gre, `dummy` makes dummy0).
    pub async fn link_index(&self, link: &LinkRef) -> Result<u32> {
        let name = match link {
            LinkRef::Index(i) => return Ok(*i),
            LinkRef::Name(name) => name,
        };
        link.validate("link")?;
        match self.reply("link.get", Some(name), encode_link_get(link)).await {
            Ok(reply) => reply
                .messages
                .iter()
                .find_map(super::fast::new_link_index)
                .ok_or_else(no_link),
            Err(Error::Kernel {
                errno: libc::ENODEV,
                op,
                link,
                extack: None,
                extack_offset,
            }) => Err(Error::Kernel {
                errno: libc::ENODEV,
                op,
                link,
                extack: Some(format!("no link named {name}")),
                extack_offset,
            }),
            Err(e) => Err(e),
        }
    }

    pub async fn link_list(&self) -> Result<Vec<LinkRecord>> {
        self.link_list_with(true).await
    }

    /// Every link; without `stats` the records leave the counters out (the kernel, asked to skip
    /// its per-protocol statistics, still sends the link's own: see `list_request`).
    pub async fn link_list_with(&self, stats: bool) -> Result<Vec<LinkRecord>> {
        let messages = self.dump("link.list", list_request(stats)).await?;
        Ok(listed(&messages, stats))
    }

    /// Every link, handed to `part(attempt, json)` a few hundred at a time as the dump arrives,
    /// each part a JSON array of records (see `Handle::dump_parts`: parts of an earlier attempt
    /// are stale). The JSON is written straight from the messages (`json.rs`): a listing is
    /// bound by reading and parsing, and this spares both the records.
    pub async fn link_list_parts(&self, stats: bool, mut part: impl FnMut(u32, String)) -> Result<()> {
        self.dump_parts("link.list", list_request(stats), |attempt, messages| {
            // A link's JSON is a fraction of its message (most of that is per-family settings).
            let mut json = Vec::with_capacity(messages.byte_len() / 4 + 64);
            super::json::write_links(&mut json, messages.iter(), stats);
            part(attempt, json_text(json))
        })
        .await
    }
}

/// A listing's records; the counters the kernel always sends are dropped when not wanted.
fn listed(messages: &Messages, stats: bool) -> Vec<LinkRecord> {
    let mut links = records(messages);
    if !stats {
        links.iter_mut().for_each(|l| l.stats = None);
    }
    links
}

/// `ip link show`. RTEXT_FILTER_SKIP_STATS spares the kernel the per-family (IPv6) and VF
/// statistics; the link's own counters always come, and are dropped here when not wanted.
pub(crate) fn list_request(stats: bool) -> Vec<u8> {
    let mut req = LinkMessage::default();
    if !stats {
        req.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    }
    encode(RouteNetlinkMessage::GetLink(req), Flags::Dump)
}

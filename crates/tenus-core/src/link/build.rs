//! Turning a checked `LinkSpec` (with parent and master resolved to indexes) into the
//! RTM_NEWLINK message. Attribute order follows iproute2 so requests compare byte for byte.

use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::Result;
use crate::message::{encode, Flags};

use super::spec::{generate_name, LinkSpec};

/// Names and indexes the request needs, decided before building it.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub name: String,
    /// The second link's name, for kinds that make two (veth, netkit).
    pub peer: Option<String>,
    pub parent: Option<u32>,
    pub master: Option<u32>,
}

impl Resolved {
    /// The final names of what `spec` creates (generated where not given); indexes are left
    /// for the caller to resolve.
    pub fn names(spec: &LinkSpec) -> Resolved {
        Resolved {
            name: spec
                .common
                .name
                .clone()
                .unwrap_or_else(|| generate_name(spec.kind.prefix())),
            peer: spec
                .kind
                .peer()
                .map(|p| p.map_or_else(|| generate_name(spec.kind.prefix()), str::to_string)),
            parent: None,
            master: None,
        }
    }
}

pub fn new_link_message(spec: &LinkSpec, r: &Resolved) -> Result<LinkMessage> {
    let (kind, data) = spec.kind.info(r)?;
    let c = &spec.common;
    let mut msg = LinkMessage::default();
    if c.up {
        msg.header.flags |= LinkFlags::Up;
        msg.header.change_mask |= LinkFlags::Up;
    }
    let attrs = &mut msg.attributes;
    if let Some(mtu) = c.mtu {
        attrs.push(LinkAttribute::Mtu(mtu));
    }
    if let Some(q) = c.txqlen {
        attrs.push(LinkAttribute::TxQueueLen(q));
    }
    if let Some(g) = c.group {
        attrs.push(LinkAttribute::Group(g));
    }
    if let Some(mac) = c.mac {
        attrs.push(LinkAttribute::Address(mac.to_vec()));
    }
    if let (Some(parent), false) = (r.parent, spec.kind.parent_in_data()) {
        attrs.push(LinkAttribute::Link(parent));
    }
    if let Some(master) = r.master {
        attrs.push(LinkAttribute::Controller(master));
    }
    attrs.push(LinkAttribute::IfName(r.name.clone()));
    let mut info = vec![LinkInfo::Kind(kind)];
    if let Some(data) = data {
        info.push(LinkInfo::Data(data));
    }
    attrs.push(LinkAttribute::LinkInfo(info));
    Ok(msg)
}

pub fn encode_new_link(spec: &LinkSpec, r: &Resolved) -> Result<Vec<u8>> {
    Ok(encode(
        RouteNetlinkMessage::NewLink(new_link_message(spec, r)?),
        Flags::Create,
    ))
}

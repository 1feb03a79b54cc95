//! Turning a validated `LinkSpec` (with parent and master resolved to indexes) into the
//! RTM_NEWLINK message. Attribute order follows iproute2 so requests compare byte for byte.

use netlink_packet_route::link::{InfoData, InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::Result;
use crate::message::{encode, Flags};

use super::spec::{KindSpec, LinkSpec};
use super::{bond, bridge, dummy, gre, ipvlan, macvlan, veth, vlan, vrf, vxlan, wireguard};

/// Names and indexes the request needs, decided before building it.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub name: String,
    pub peer: Option<String>,
    pub parent: Option<u32>,
    pub master: Option<u32>,
    pub mac: Option<[u8; 6]>,
}

pub fn new_link_message(spec: &LinkSpec, r: &Resolved) -> Result<LinkMessage> {
    let (kind, data) = kind_info(spec, r)?;
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
    if let Some(mac) = r.mac {
        attrs.push(LinkAttribute::Address(mac.to_vec()));
    }
    // vxlan and gre name their parent inside their own data (IFLA_*_LINK), as iproute2 does.
    if let (Some(parent), false) = (
        r.parent,
        matches!(spec.kind, KindSpec::Vxlan(_) | KindSpec::Gre(_)),
    ) {
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

fn kind_info(spec: &LinkSpec, r: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
    Ok(match &spec.kind {
        KindSpec::Bridge(b) => bridge::info(b),
        KindSpec::Dummy => dummy::info(),
        KindSpec::Veth(v) => veth::info(v, r.peer.as_deref().unwrap_or_default())?,
        KindSpec::MacVlan(m) => macvlan::info_macvlan(m),
        KindSpec::MacVtap(m) => macvlan::info_macvtap(m),
        KindSpec::Vlan(v) => vlan::info(v)?,
        KindSpec::Vxlan(v) => vxlan::info(v, r.parent)?,
        KindSpec::IpVlan(v) => ipvlan::info(v)?,
        KindSpec::Bond(b) => bond::info(b)?,
        KindSpec::Vrf(v) => vrf::info(v),
        KindSpec::Gre(g) => gre::info(g, r.parent)?,
        KindSpec::Wireguard => wireguard::info(),
    })
}

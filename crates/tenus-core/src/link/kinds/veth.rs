//! Veth pair: `ip link add NAME type veth peer name PEER [address MAC] [netns NS]`.
//! The peer may be born in another namespace: its half of the request carries IFLA_NET_NS_FD.

use netlink_packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute, LinkMessage};
use serde::{Deserialize, Serialize};

use crate::args;
use crate::error::Result;
use crate::netns::Namespace;

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};

/// `ip link add NAME type veth peer name PEER` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct VethOptions {
    /// The peer's name; generated when omitted.
    pub peer: Option<String>,
    /// The peer's MAC address.
    pub peer_mac: Option<String>,
    /// Where the peer is born: the batch's n-th namespace (the TypeScript API fills this in
    /// from `{ in: netns }`).
    pub peer_netns: Option<u32>,
}

/// What a veth reports (its peer's index is the record's `parent`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct VethInfo {}

#[derive(Debug, Clone)]
pub struct Veth {
    peer: Option<String>,
    peer_mac: Option<[u8; 6]>,
    peer_ns: Option<Namespace>,
}

impl Kind for Veth {
    const NAME: &'static str = "veth";
    const PREFIX: &'static str = "veth";
    type Options = VethOptions;
    type Info = VethInfo;

    fn parse(o: VethOptions, ctx: &mut dyn ParseContext) -> Result<Self> {
        if let Some(peer) = &o.peer {
            args::ifname("peer", peer)?;
        }
        Ok(Veth {
            peer: o.peer,
            peer_mac: o
                .peer_mac
                .as_deref()
                .map(|m| args::mac("peerMac", m))
                .transpose()?,
            peer_ns: o.peer_netns.map(|p| ctx.peer("peerNetns", p)).transpose()?,
        })
    }

    fn peer(&self) -> Option<Option<&str>> {
        Some(self.peer.as_deref())
    }

    fn namespaces(&self) -> Vec<Namespace> {
        self.peer_ns.iter().cloned().collect()
    }

    fn info(&self, r: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        Ok((
            InfoKind::Veth,
            Some(InfoData::Veth(InfoVeth::Peer(peer_message(
                r,
                self.peer_mac,
                self.peer_ns.as_ref(),
            )))),
        ))
    }

    fn decode(_: Option<&InfoData>) -> Option<VethInfo> {
        Some(VethInfo {})
    }
}

/// The peer half of a pair request (veth, netkit): its name, MAC and namespace.
pub(crate) fn peer_message(r: &Resolved, mac: Option<[u8; 6]>, ns: Option<&Namespace>) -> LinkMessage {
    let mut msg = LinkMessage::default();
    if let Some(mac) = mac {
        msg.attributes.push(LinkAttribute::Address(mac.to_vec()));
    }
    msg.attributes
        .push(LinkAttribute::IfName(r.peer.clone().unwrap_or_default()));
    if let Some(ns) = ns {
        msg.attributes.push(LinkAttribute::NetNsFd(ns.raw_fd()));
    }
    msg
}

//! A link's default gateway (tenus' `SetLinkDefaultGw`), `ip route add|del default via GW dev
//! DEV`, as the link chains set it.

use std::net::IpAddr;

use netlink_packet_route::route::{RouteMessage, RouteProtocol};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::RouteMessageBuilder;
use serde::de::SeqAccess;

use crate::args;
use crate::batch::wire::{next, ReadContext, WireLink};
use crate::batch::{Before, Parsed, Step, Undo, UndoRequest, View};
use crate::error::Result;
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::message::{encode, Flags};

fn default_route(index: u32, gw: IpAddr) -> RouteMessage {
    match gw {
        IpAddr::V4(a) => RouteMessageBuilder::<std::net::Ipv4Addr>::new()
            .gateway(a)
            .output_interface(index)
            .protocol(RouteProtocol::Boot)
            .build(),
        IpAddr::V6(a) => RouteMessageBuilder::<std::net::Ipv6Addr>::new()
            .gateway(a)
            .output_interface(index)
            .protocol(RouteProtocol::Boot)
            .build(),
    }
}

/// `ip route add|replace default via GW dev INDEX`.
pub fn encode_gateway(index: u32, gw: IpAddr, replace: bool) -> Vec<u8> {
    let flags = if replace { Flags::Replace } else { Flags::Create };
    encode(RouteNetlinkMessage::NewRoute(default_route(index, gw)), flags)
}

/// `ip route del default via GW dev INDEX`.
pub fn encode_gateway_del(index: u32, gw: IpAddr) -> Vec<u8> {
    encode(
        RouteNetlinkMessage::DelRoute(default_route(index, gw)),
        Flags::Plain,
    )
}

/// `ip route add default via GW dev DEV` as a batch item: `[code, link, gateway]`.
#[derive(Debug)]
pub struct Gateway {
    pub link: LinkRef,
    pub gateway: IpAddr,
}

impl Step for Gateway {
    const OP: &'static str = "route.gateway";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let gateway: String = next(seq, "gateway")?;
        Ok((|| {
            let link = cx.link(link)?;
            Ok(Gateway {
                link,
                gateway: args::ip("gateway", &gateway)?,
            })
        })())
    }
    fn label(&self) -> Option<String> {
        Some(self.link.describe())
    }
    fn links(&self) -> Vec<&LinkRef> {
        vec![&self.link]
    }
    fn undo(&self) -> Undo {
        Undo::Inverse
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        Ok(encode_gateway(names.index_of(&self.link)?, self.gateway, false))
    }
    fn encode_undo(&self, names: &View, _: &Before) -> Result<Vec<UndoRequest>> {
        Ok(vec![(
            names.target,
            encode_gateway_del(names.index_of(&self.link)?, self.gateway),
        )])
    }
}

impl Handle {
    pub async fn default_gateway(&self, link: &LinkRef, gateway: &str, replace: bool) -> Result<()> {
        let gw = args::ip("gateway", gateway)?;
        let label = link.describe();
        let index = self
            .link_index(link)
            .await
            .map_err(|e| e.context("route.gateway", Some(&label)))?;
        self.ack("route.gateway", Some(&label), encode_gateway(index, gw, replace))
            .await
            .map(drop)
    }

    pub async fn default_gateway_del(&self, link: &LinkRef, gateway: &str) -> Result<()> {
        let gw = args::ip("gateway", gateway)?;
        let label = link.describe();
        let index = self
            .link_index(link)
            .await
            .map_err(|e| e.context("route.delete", Some(&label)))?;
        self.ack("route.delete", Some(&label), encode_gateway_del(index, gw))
            .await
            .map(drop)
    }
}

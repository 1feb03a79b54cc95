//! Routes tenus needs today: a link's default gateway (tenus' `SetLinkDefaultGw`),
//! `ip route add|del default via GW dev DEV`.

use std::net::IpAddr;

use netlink_packet_route::route::{RouteMessage, RouteProtocol};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::RouteMessageBuilder;

use crate::error::Result;
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::message::{encode, Flags};
use crate::validate;

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
pub fn encode_gateway(index: u32, gateway: &str, replace: bool) -> Result<Vec<u8>> {
    let gw = validate::ip("gateway", gateway)?;
    let flags = if replace { Flags::Replace } else { Flags::Create };
    Ok(encode(
        RouteNetlinkMessage::NewRoute(default_route(index, gw)),
        flags,
    ))
}

/// `ip route del default via GW dev INDEX`.
pub fn encode_gateway_del(index: u32, gateway: &str) -> Result<Vec<u8>> {
    let gw = validate::ip("gateway", gateway)?;
    Ok(encode(
        RouteNetlinkMessage::DelRoute(default_route(index, gw)),
        Flags::Plain,
    ))
}

impl Handle {
    pub async fn default_gateway(&self, link: &LinkRef, gateway: &str, replace: bool) -> Result<()> {
        validate::ip("gateway", gateway)?;
        let label = link.describe();
        let index = self
            .link_index(link)
            .await
            .map_err(|e| e.context("route.gateway", Some(&label)))?;
        self.ack(
            "route.gateway",
            Some(&label),
            encode_gateway(index, gateway, replace)?,
        )
        .await
        .map(drop)
    }

    pub async fn default_gateway_del(&self, link: &LinkRef, gateway: &str) -> Result<()> {
        validate::ip("gateway", gateway)?;
        let label = link.describe();
        let index = self
            .link_index(link)
            .await
            .map_err(|e| e.context("route.delete", Some(&label)))?;
        self.ack("route.delete", Some(&label), encode_gateway_del(index, gateway)?)
            .await
            .map(drop)
    }
}

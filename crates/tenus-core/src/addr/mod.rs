//! Addresses: `ip addr add|replace|del CIDR dev DEV` and `ip addr show [dev DEV]`, CIDR strings
//! in and out.

use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::AddressMessageBuilder;

use crate::error::Result;
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::message::{decode, encode, Flags};
use crate::validate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRecord {
    pub index: u32,
    /// "inet" or "inet6", as `ip -j` says.
    pub family: String,
    pub address: String,
    pub prefix_len: u8,
    /// `address/prefix_len`.
    pub cidr: String,
    /// "global", "link", "host", ...
    pub scope: String,
    pub label: Option<String>,
}

fn scope_name(s: &AddressScope) -> String {
    match s {
        AddressScope::Universe => "global".into(),
        AddressScope::Site => "site".into(),
        AddressScope::Link => "link".into(),
        AddressScope::Host => "host".into(),
        AddressScope::Nowhere => "nowhere".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

pub(crate) fn address_message(index: u32, addr: IpAddr, prefix: u8) -> AddressMessage {
    match addr {
        // The builder adds IFA_BROADCAST up to /30, as `ip addr add ... brd +` would.
        IpAddr::V4(a) => AddressMessageBuilder::<std::net::Ipv4Addr>::new()
            .index(index)
            .address(a, prefix)
            .build(),
        IpAddr::V6(a) => AddressMessageBuilder::<std::net::Ipv6Addr>::new()
            .index(index)
            .address(a, prefix)
            .build(),
    }
}

impl AddressRecord {
    pub fn from_message(m: &AddressMessage) -> Option<Self> {
        // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS otherwise.
        let mut address = None;
        let mut label = None;
        for a in &m.attributes {
            match a {
                AddressAttribute::Local(ip) => address = Some(*ip),
                AddressAttribute::Address(ip) if address.is_none() => address = Some(*ip),
                AddressAttribute::Label(l) => label = Some(l.clone()),
                _ => {}
            }
        }
        let address = address?;
        let family = if m.header.family == AddressFamily::Inet {
            "inet"
        } else {
            "inet6"
        };
        Some(AddressRecord {
            index: m.header.index,
            family: family.into(),
            address: address.to_string(),
            prefix_len: m.header.prefix_len,
            cidr: format!("{address}/{}", m.header.prefix_len),
            scope: scope_name(&m.header.scope),
            label,
        })
    }
}

impl Handle {
    /// Validates and encodes `ip addr add|replace`; used alone and by batches.
    pub fn encode_addr_add(index: u32, cidr: &str, replace: bool) -> Result<Vec<u8>> {
        let (addr, prefix) = validate::cidr("address", cidr)?;
        let flags = if replace { Flags::Replace } else { Flags::Create };
        Ok(encode(
            RouteNetlinkMessage::NewAddress(address_message(index, addr, prefix)),
            flags,
        ))
    }

    pub async fn addr_add(&self, link: &LinkRef, cidr: &str, replace: bool) -> Result<()> {
        validate::cidr("address", cidr)?;
        let label = link.describe();
        let index = self
            .link_index(link)
            .await
            .map_err(|e| e.context("address.add", Some(&label)))?;
        let op = if replace { "address.replace" } else { "address.add" };
        self.ack(op, Some(&label), Self::encode_addr_add(index, cidr, replace)?)
            .await
            .map(drop)
    }

    pub fn encode_addr_del(index: u32, cidr: &str) -> Result<Vec<u8>> {
        let (addr, prefix) = validate::cidr("address", cidr)?;
        Ok(encode(
            RouteNetlinkMessage::DelAddress(address_message(index, addr, prefix)),
            Flags::Plain,
        ))
    }

    pub async fn addr_del(&self, link: &LinkRef, cidr: &str) -> Result<()> {
        validate::cidr("address", cidr)?;
        let label = link.describe();
        let index = self
            .link_index(link)
            .await
            .map_err(|e| e.context("address.delete", Some(&label)))?;
        self.ack(
            "address.delete",
            Some(&label),
            Self::encode_addr_del(index, cidr)?,
        )
        .await
        .map(drop)
    }

    /// Addresses of one link (filtered by the kernel) or of every link.
    pub async fn addr_list(&self, link: Option<&LinkRef>) -> Result<Vec<AddressRecord>> {
        let mut msg = AddressMessage::default();
        if let Some(l) = link {
            msg.header.index = self
                .link_index(l)
                .await
                .map_err(|e| e.context("address.list", Some(&l.describe())))?;
        }
        let messages = self
            .dump(
                "address.list",
                encode(RouteNetlinkMessage::GetAddress(msg), Flags::Dump),
            )
            .await?;
        let mut out = Vec::with_capacity(messages.len());
        for bytes in &messages {
            if let RouteNetlinkMessage::NewAddress(m) = decode("address.list", bytes)? {
                out.extend(AddressRecord::from_message(&m));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broadcast(cidr: &str) -> Option<IpAddr> {
        let (addr, prefix) = validate::cidr("address", cidr).unwrap();
        address_message(2, addr, prefix)
            .attributes
            .into_iter()
            .find_map(|a| match a {
                AddressAttribute::Broadcast(b) => Some(IpAddr::V4(b)),
                _ => None,
            })
    }

    #[test]
    fn ipv4_broadcast_up_to_slash_30_only() {
        assert_eq!(broadcast("10.1.2.3/24"), Some("10.1.2.255".parse().unwrap()));
        assert_eq!(broadcast("10.1.2.1/30"), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(broadcast("10.1.2.0/31"), None);
        assert_eq!(broadcast("10.1.2.3/32"), None);
        assert_eq!(broadcast("fd00::1/64"), None);
    }
}

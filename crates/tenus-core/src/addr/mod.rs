//! Addresses: `ip addr add|replace|del CIDR dev DEV` and `ip addr show [dev DEV]`, CIDR strings
//! in and out.

use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::AddressMessageBuilder;
use serde::de::SeqAccess;
use serde::Serialize;

use crate::args;
use crate::batch::wire::{next, ReadContext, WireLink};
use crate::batch::{Before, Parsed, Step, Undo, UndoRequest, View};
use crate::error::Result;
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::message::{decode, encode, Flags};

/// One address on a link, as `ip -j addr` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct AddressRecord {
    /// The link's index.
    pub index: u32,
    /// 'inet' or 'inet6', as `ip -j` says.
    pub family: String,
    pub address: String,
    pub prefix_len: u8,
    /// `address/prefixLen`.
    pub cidr: String,
    /// 'global', 'link', 'host', ...
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// `ip addr add|replace CIDR dev INDEX`.
pub fn encode_addr_add(index: u32, addr: IpAddr, prefix: u8, replace: bool) -> Vec<u8> {
    let flags = if replace { Flags::Replace } else { Flags::Create };
    encode(
        RouteNetlinkMessage::NewAddress(address_message(index, addr, prefix)),
        flags,
    )
}

/// The order in which to add back a link's addresses, read from a dump in the kernel's order,
/// so that the kernel lists them as it did. It lists IPv4 addresses oldest first (a primary
/// after the primaries before it, a secondary at the end), but puts each new IPv6 address
/// first among those of its scope (`ipv6_link_dev_addr`), so it lists them newest first:
/// IPv4 ones go back in the order read, IPv6 ones in the reverse order.
pub(crate) fn readd_order<T>(read: Vec<T>, is_v6: impl Fn(&T) -> bool) -> Vec<T> {
    let (v6, mut out): (Vec<T>, Vec<T>) = read.into_iter().partition(|a| is_v6(a));
    out.extend(v6.into_iter().rev());
    out
}

/// `ip addr add CIDR dev INDEX label LABEL` with the address as it was read (`record`), to put it
/// back where the link lost it (a move): IPv4 addresses get their label back, which a later
/// change cannot set (the kernel keeps an address's label on NLM_F_REPLACE).
pub(crate) fn encode_addr_readd(index: u32, record: &AddressRecord) -> Result<Vec<u8>> {
    let (addr, prefix) = args::cidr("address", &record.cidr)?;
    let mut msg = address_message(index, addr, prefix);
    if let (IpAddr::V4(_), Some(label)) = (addr, &record.label) {
        msg.attributes.push(AddressAttribute::Label(label.clone()));
    }
    Ok(encode(RouteNetlinkMessage::NewAddress(msg), Flags::Replace))
}

/// `ip addr del CIDR dev INDEX`.
pub fn encode_addr_del(index: u32, addr: IpAddr, prefix: u8) -> Vec<u8> {
    encode(
        RouteNetlinkMessage::DelAddress(address_message(index, addr, prefix)),
        Flags::Plain,
    )
}

/// An address on a link, as items carry it: `[code, link, cidr]`.
#[derive(Debug)]
pub struct OnLink {
    pub link: LinkRef,
    pub addr: IpAddr,
    pub prefix: u8,
}

impl OnLink {
    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let cidr: String = next(seq, "address")?;
        Ok((|| {
            let link = cx.link(link)?;
            let (addr, prefix) = args::cidr("address", &cidr)?;
            Ok(OnLink { link, addr, prefix })
        })())
    }

    fn label(&self) -> Option<String> {
        Some(self.link.describe())
    }
}

/// `ip addr add CIDR dev DEV`.
#[derive(Debug)]
pub struct AddAddr(pub OnLink);

/// `ip addr replace CIDR dev DEV`: adds it, or changes it when it is there.
#[derive(Debug)]
pub struct ReplaceAddr(pub OnLink);

/// `ip addr del CIDR dev DEV`.
#[derive(Debug)]
pub struct DelAddr(pub OnLink);

impl Step for AddAddr {
    const OP: &'static str = "address.add";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(OnLink::read(seq, cx)?.map(AddAddr))
    }
    fn label(&self) -> Option<String> {
        self.0.label()
    }
    fn links(&self) -> Vec<&LinkRef> {
        vec![&self.0.link]
    }
    fn undo(&self) -> Undo {
        Undo::Inverse
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        let a = &self.0;
        Ok(encode_addr_add(names.index_of(&a.link)?, a.addr, a.prefix, false))
    }
    fn encode_undo(&self, names: &View, _: &Before) -> Result<Vec<UndoRequest>> {
        let a = &self.0;
        Ok(vec![(
            names.target,
            encode_addr_del(names.index_of(&a.link)?, a.addr, a.prefix),
        )])
    }
}

impl Step for ReplaceAddr {
    const OP: &'static str = "address.replace";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(OnLink::read(seq, cx)?.map(ReplaceAddr))
    }
    fn label(&self) -> Option<String> {
        self.0.label()
    }
    fn links(&self) -> Vec<&LinkRef> {
        vec![&self.0.link]
    }
    /// Undone by deleting it again (what a replace changed of an address that was there is
    /// not kept).
    fn undo(&self) -> Undo {
        Undo::Inverse
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        let a = &self.0;
        Ok(encode_addr_add(names.index_of(&a.link)?, a.addr, a.prefix, true))
    }
    fn encode_undo(&self, names: &View, _: &Before) -> Result<Vec<UndoRequest>> {
        let a = &self.0;
        Ok(vec![(
            names.target,
            encode_addr_del(names.index_of(&a.link)?, a.addr, a.prefix),
        )])
    }
}

impl Step for DelAddr {
    const OP: &'static str = "address.delete";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(OnLink::read(seq, cx)?.map(DelAddr))
    }
    fn label(&self) -> Option<String> {
        self.0.label()
    }
    fn links(&self) -> Vec<&LinkRef> {
        vec![&self.0.link]
    }
    /// Undone by adding it again, with its prefix length (lifetimes are not kept).
    fn undo(&self) -> Undo {
        Undo::Inverse
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        let a = &self.0;
        Ok(encode_addr_del(names.index_of(&a.link)?, a.addr, a.prefix))
    }
    fn encode_undo(&self, names: &View, _: &Before) -> Result<Vec<UndoRequest>> {
        let a = &self.0;
        Ok(vec![(
            names.target,
            encode_addr_add(names.index_of(&a.link)?, a.addr, a.prefix, false),
        )])
    }
}

impl Handle {
    pub async fn addr_add(&self, link: &LinkRef, cidr: &str, replace: bool) -> Result<()> {
        let (addr, prefix) = args::cidr("address", cidr)?;
        let label = link.describe();
        let op = if replace { "address.replace" } else { "address.add" };
        let index = self
            .link_index(link)
            .await
            .map_err(|e| e.context(op, Some(&label)))?;
        self.ack(op, Some(&label), encode_addr_add(index, addr, prefix, replace))
            .await
            .map(drop)
    }

    pub async fn addr_del(&self, link: &LinkRef, cidr: &str) -> Result<()> {
        let (addr, prefix) = args::cidr("address", cidr)?;
        let label = link.describe();
        let index = self
            .link_index(link)
            .await
            .map_err(|e| e.context("address.delete", Some(&label)))?;
        self.ack(
            "address.delete",
            Some(&label),
            encode_addr_del(index, addr, prefix),
        )
        .await
        .map(drop)
    }

    /// Addresses of one link (filtered by the kernel) or of every link.
    pub async fn addr_list(&self, link: Option<&LinkRef>) -> Result<Vec<AddressRecord>> {
        if let Some(l) = link {
            l.validate("link")?;
        }
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
        let (addr, prefix) = args::cidr("address", cidr).unwrap();
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

    #[test]
    fn addresses_are_added_back_ipv4_in_order_ipv6_reversed() {
        // As a dump lists them: IPv4 oldest first, IPv6 newest first (fd00::3 added last).
        let read = vec![
            "10.0.0.1", "fd00::3", "10.0.0.2", "fd00::2", "fd00::1", "10.0.0.3",
        ];
        let order = readd_order(read, |a| a.contains(':'));
        assert_eq!(
            order,
            vec!["10.0.0.1", "10.0.0.2", "10.0.0.3", "fd00::1", "fd00::2", "fd00::3"]
        );
        assert_eq!(readd_order(Vec::<&str>::new(), |_| true), Vec::<&str>::new());
    }
}

//! Addresses: `ip addr add|replace|del CIDR dev DEV [options]`, CIDR strings in and out. What
//! `add` and `replace` take besides the address, and the flag names records carry: `options.rs`;
//! `ip addr show`: `list.rs`.

mod list;
pub mod options;
mod prefix_route;

use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::AddressMessageBuilder;
use serde::de::SeqAccess;
use serde::Serialize;

use crate::args;
use crate::batch::wire::{next, ReadContext, WireLink};
use crate::batch::{Before, Parsed, Read, ReadKey, Reads, Step, Undo, UndoRequest, View};
use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::message::{decode, encode, Flags};
use crate::neigh::flushed as neigh_flushed;
use crate::neigh::get::dump_of_link;
use crate::route::dropped::{
    by_source, dropped_of, dump_inet, dump_through, local_address, only_through, Cause,
};
use crate::route::record::read_route;
use crate::route::spec::{Family, Route};
use crate::route::verbs::readd_in_order;
use crate::transport::Messages;

pub use list::AddressFilter;
pub use options::{AddressExtras, AddressOptions, FOREVER};
use prefix_route::PrefixRoute;

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
    #[cfg_attr(feature = "napi", napi(ts_type = "Family"))]
    pub family: String,
    pub address: String,
    pub prefix_len: u8,
    /// `address/prefixLen`.
    pub cidr: String,
    /// 'global', 'link', 'host', ...
    pub scope: String,
    /// IPv4: the broadcast address (IFA_BROADCAST), when the address has one (`ip addr`'s `brd`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// IFA_F_* flags by `ip`'s names: 'permanent', 'tentative', 'dadfailed', 'deprecated',
    /// 'nodad', 'noprefixroute', 'secondary' (IPv4) / 'temporary' (IPv6), ...
    pub flags: Vec<&'static str>,
    /// Seconds left until the address goes; absent: forever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_lifetime: Option<u32>,
    /// Seconds left until it is deprecated; absent: forever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_lifetime: Option<u32>,
    /// The metric of its prefix route (IFA_RT_PRIORITY), when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    /// A point-to-point address's other end (IFA_ADDRESS, `ip addr`'s `peer`), whose prefix
    /// length `prefixLen` is; `address` and `cidr` are the local end. Deleting the address
    /// takes it: `deleteAddress(cidr, { peer })`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
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
    if addr.is_multicast() {
        // rtnetlink's builder sends a multicast address as IFA_MULTICAST (IPv6) or not at all
        // (IPv4); the kernel wants IFA_LOCAL and IFA_ADDRESS, as `ip addr add ... autojoin` sends.
        let mut m = AddressMessage::default();
        m.header.family = family_of(addr);
        m.header.prefix_len = prefix;
        m.header.index = index;
        m.attributes.push(AddressAttribute::Address(addr));
        m.attributes.push(AddressAttribute::Local(addr));
        return m;
    }
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

/// A listed address's own end and its peer. IFA_LOCAL is the interface's own address;
/// IFA_ADDRESS is the same, or on point-to-point addresses the peer (and the only one for IPv6
/// without a peer).
pub(crate) fn ends(m: &AddressMessage) -> Option<(IpAddr, Option<IpAddr>)> {
    let mut local = None;
    let mut address = None;
    for a in &m.attributes {
        match a {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            _ => {}
        }
    }
    let peer = address.filter(|a| local.is_some_and(|l| l != *a));
    Some((local.or(address)?, peer))
}

/// A listed address's IFA_F_* flags: IFA_FLAGS holds all 32 bits when present; the header byte
/// only the low 8.
fn flags_of(m: &AddressMessage) -> AddressFlags {
    m.attributes
        .iter()
        .rev()
        .find_map(|a| match a {
            AddressAttribute::Flags(f) => Some(*f),
            _ => None,
        })
        .unwrap_or_else(|| AddressFlags::from_bits_retain(u32::from(m.header.flags.bits())))
}

impl AddressRecord {
    pub fn from_message(m: &AddressMessage) -> Option<Self> {
        let (address, peer) = ends(m)?;
        let mut label = None;
        let mut broadcast = None;
        let mut cache = None;
        let mut metric = None;
        for a in &m.attributes {
            match a {
                AddressAttribute::Label(l) => label = Some(l.clone()),
                AddressAttribute::Broadcast(b) => broadcast = Some(b.to_string()),
                AddressAttribute::CacheInfo(c) => cache = Some((c.ifa_preferred, c.ifa_valid)),
                AddressAttribute::RoutePriority(p) => metric = Some(*p),
                _ => {}
            }
        }
        let lifetime = |s: u32| (s != FOREVER).then_some(s);
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
            broadcast,
            label,
            flags: options::flag_names(flags_of(m), m.header.family == AddressFamily::Inet6),
            valid_lifetime: cache.and_then(|(_, v)| lifetime(v)),
            preferred_lifetime: cache.and_then(|(p, _)| lifetime(p)),
            metric,
            peer: peer.map(|p| p.to_string()),
        })
    }
}

/// `ip addr add|del LOCAL peer PEER/prefix dev INDEX`: IFA_LOCAL, and IFA_ADDRESS the peer.
fn peer_message(index: u32, local: IpAddr, peer: IpAddr, prefix: u8) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = family_of(local);
    m.header.prefix_len = prefix;
    m.header.index = index;
    m.attributes.push(AddressAttribute::Local(local));
    m.attributes.push(AddressAttribute::Address(peer));
    m
}

/// The address as a request names it: with its peer, when it has one.
fn message_for(index: u32, addr: IpAddr, prefix: u8, peer: Option<IpAddr>) -> AddressMessage {
    match peer {
        Some(p) => peer_message(index, addr, p, prefix),
        None => address_message(index, addr, prefix),
    }
}

/// `ip addr add|replace CIDR dev INDEX`.
pub fn encode_addr_add(index: u32, addr: IpAddr, prefix: u8, replace: bool) -> Vec<u8> {
    encode_addr_add_with(index, addr, prefix, replace, &AddressExtras::default())
}

/// `ip addr add|replace CIDR dev INDEX [valid_lft ...] [metric ...] [label ...] [broadcast ...]
/// [scope ...] [flags]`.
pub fn encode_addr_add_with(
    index: u32,
    addr: IpAddr,
    prefix: u8,
    replace: bool,
    extras: &AddressExtras,
) -> Vec<u8> {
    let flags = if replace { Flags::Replace } else { Flags::Create };
    let mut m = message_for(index, addr, prefix, extras.peer);
    m.header.scope = AddressScope::from(extras.scope_for(addr));
    if let Some(b) = extras.broadcast {
        m.attributes
            .retain(|a| !matches!(a, AddressAttribute::Broadcast(_)));
        m.attributes.push(AddressAttribute::Broadcast(b));
    }
    m.attributes.extend(extras.attributes());
    encode(RouteNetlinkMessage::NewAddress(m), flags)
}

/// The IFA_F_* flags a request may set (the others are the kernel's to say).
const SETTABLE: AddressFlags = AddressFlags::Nodad
    .union(AddressFlags::Optimistic)
    .union(AddressFlags::Homeaddress)
    .union(AddressFlags::Managetempaddr)
    .union(AddressFlags::Noprefixroute)
    .union(AddressFlags::Mcautojoin);

/// The request that puts an address back as a listing reported it (replace): its prefix,
/// scope, label, metric, flags a caller can set and remaining lifetimes.
pub(crate) fn encode_addr_restore(was: &AddressMessage) -> Vec<u8> {
    let mut m = AddressMessage::default();
    m.header = was.header.clone();
    m.header.flags = netlink_packet_route::address::AddressHeaderFlags::empty();
    for a in &was.attributes {
        match a {
            AddressAttribute::Flags(f) => m.attributes.push(AddressAttribute::Flags(*f & SETTABLE)),
            AddressAttribute::CacheInfo(c) => {
                let mut c = *c;
                c.cstamp = 0;
                c.tstamp = 0;
                m.attributes.push(AddressAttribute::CacheInfo(c));
            }
            AddressAttribute::Address(_)
            | AddressAttribute::Local(_)
            | AddressAttribute::Label(_)
            | AddressAttribute::Broadcast(_)
            | AddressAttribute::RoutePriority(_) => m.attributes.push(a.clone()),
            _ => {}
        }
    }
    encode(RouteNetlinkMessage::NewAddress(m), Flags::Replace)
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

/// `ip addr add CIDR dev INDEX label LABEL ...` with the address as a listing reported it
/// (`was`), to put it back where the link lost it (a move): IPv4 addresses get their label back,
/// which a later change cannot set (the kernel keeps an address's label on NLM_F_REPLACE), and
/// every address the flags a caller can set (without `nodad` an IPv6 one would come back
/// tentative), its metric and the lifetimes it had left; an IPv4 one its scope and broadcast
/// address (or none, as it had).
/// None for a message without an address.
pub(crate) fn encode_addr_readd(index: u32, was: &AddressMessage) -> Option<Vec<u8>> {
    let (addr, peer) = ends(was)?;
    let mut msg = message_for(index, addr, was.header.prefix_len, peer);
    let v6 = addr.is_ipv6();
    if !v6 {
        msg.header.scope = was.header.scope;
        msg.attributes
            .retain(|a| !matches!(a, AddressAttribute::Broadcast(_)));
        let broadcast = was
            .attributes
            .iter()
            .find(|a| matches!(a, AddressAttribute::Broadcast(_)));
        msg.attributes.extend(broadcast.cloned());
    }
    let mut extras = AddressExtras {
        flags: flags_of(was) & SETTABLE,
        peer,
        ..AddressExtras::default()
    };
    for a in &was.attributes {
        match a {
            AddressAttribute::Label(l) if !v6 => extras.label = Some(l.clone()),
            AddressAttribute::RoutePriority(p) => extras.metric = Some(*p),
            // Both forever: no lifetimes (as `ip addr add` without them).
            AddressAttribute::CacheInfo(c) if (c.ifa_preferred, c.ifa_valid) != (FOREVER, FOREVER) => {
                extras.lifetimes = Some((c.ifa_preferred, c.ifa_valid));
            }
            _ => {}
        }
    }
    msg.attributes.extend(extras.attributes());
    Some(encode(RouteNetlinkMessage::NewAddress(msg), Flags::Replace))
}

/// `ip addr del CIDR dev INDEX`.
pub fn encode_addr_del(index: u32, addr: IpAddr, prefix: u8) -> Vec<u8> {
    encode_addr_del_peer(index, addr, prefix, None)
}

/// `ip addr del LOCAL [peer PEER]/prefix dev INDEX`: an IPv4 point-to-point address is found
/// by its peer (the kernel matches IFA_ADDRESS against it).
pub fn encode_addr_del_peer(index: u32, addr: IpAddr, prefix: u8, peer: Option<IpAddr>) -> Vec<u8> {
    encode(
        RouteNetlinkMessage::DelAddress(message_for(index, addr, prefix, peer)),
        Flags::Plain,
    )
}

/// An address on a link, as items carry it: `[code, link, cidr]`, and for additions
/// `[code, link, cidr, options]` (`AddressOptions`).
#[derive(Debug)]
pub struct OnLink {
    pub link: LinkRef,
    pub addr: IpAddr,
    pub prefix: u8,
    pub extras: AddressExtras,
}

impl OnLink {
    /// A dump of the link's addresses of this one's family.
    fn read_link_addresses(&self, names: &View) -> Result<Reads> {
        let mut msg = AddressMessage::default();
        msg.header.family = family_of(self.addr);
        msg.header.index = names.index_of(&self.link)?;
        Ok(Reads::dump(encode(
            RouteNetlinkMessage::GetAddress(msg),
            Flags::Dump,
        )))
    }

    /// Refuses the unspecified address for an addition: the kernel answers success and adds
    /// nothing for 0.0.0.0 (and refuses ::).
    fn assignable(self) -> Result<Self> {
        if self.addr.is_unspecified() {
            return Err(Error::invalid(
                "address",
                format!(
                    "{}/{} is the unspecified address: a link cannot have it",
                    self.addr, self.prefix
                ),
            ));
        }
        Ok(self)
    }

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let cidr: String = next(seq, "address")?;
        let options: Option<&serde_json::value::RawValue> = seq.next_element()?;
        Ok((|| {
            let link = cx.link(link)?;
            let (addr, prefix) = args::cidr("address", &cidr)?;
            let extras = match options {
                Some(raw) => AddressExtras::parse(args::options_raw("options", raw)?, addr)?,
                None => AddressExtras::default(),
            };
            let prefix = extras.prefix_of(&cidr, prefix)?;
            Ok(OnLink {
                link,
                addr,
                prefix,
                extras,
            })
        })())
    }

    fn encode_add(&self, names: &View, replace: bool) -> Result<Vec<u8>> {
        let index = names.index_of(&self.link)?;
        Ok(encode_addr_add_with(
            index,
            self.addr,
            self.prefix,
            replace,
            &self.extras,
        ))
    }

    fn label(&self) -> Option<String> {
        Some(describe(self.addr, self.prefix, &self.link))
    }

    /// `ip addr del`, naming the peer when the item has one.
    fn encode_del(&self, index: u32) -> Vec<u8> {
        encode_addr_del_peer(index, self.addr, self.prefix, self.extras.peer)
    }

    /// Whether a listed address is this one: its local address and its peer (the prefix
    /// length is the caller's to compare).
    fn is(&self, m: &AddressMessage) -> bool {
        let peer = self.extras.peer.map(|p| p.to_string());
        AddressRecord::from_message(m).is_some_and(|r| r.address == self.addr.to_string() && r.peer == peer)
    }
}

/// An address on its link as errors name it, as `ip` does: `10.0.0.1/24 dev br0`.
fn describe(addr: IpAddr, prefix: u8, link: &LinkRef) -> String {
    format!("{addr}/{prefix} dev {}", link.describe())
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

/// The read an address item's undo needs, or that it makes stale: its link's addresses, shared
/// with the items around it (`batch/shared.rs`), keyed by `read_key`.
macro_rules! shared_read {
    () => {
        fn reads(&self, names: &View) -> Result<Reads> {
            self.0.read_link_addresses(names)
        }
        fn read_key(&self, _: &View) -> Option<ReadKey> {
            Some(read_key(self.0.addr, self.0.prefix))
        }
        fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
            answer_key(message)
        }
    };
}

impl AddAddr {
    /// The prefix route it leaves behind when deleted again (`prefix_route.rs`).
    fn prefix_route(&self) -> Option<PrefixRoute> {
        PrefixRoute::left_by(self.0.addr, self.0.prefix, &self.0.extras)
    }
}

impl Step for AddAddr {
    const OP: &'static str = "address.add";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(OnLink::read(seq, cx)?.and_then(OnLink::assignable).map(AddAddr))
    }
    fn label(&self) -> Option<String> {
        self.0.label()
    }
    fn links(&self) -> Vec<&LinkRef> {
        vec![&self.0.link]
    }
    /// Deleting the address takes it back; one that leaves its prefix route behind reads the
    /// link's routes first, to delete that route too when it was not there.
    fn undo(&self) -> Undo {
        if self.prefix_route().is_some() {
            Undo::Restore
        } else {
            Undo::Inverse
        }
    }
    // The others read nothing, but the dump of their link's addresses no longer shows them as
    // they are (`read_key`: the key to forget; None forgets the whole dump).
    fn reads(&self, names: &View) -> Result<Reads> {
        if self.prefix_route().is_some() {
            let index = names.index_of(&self.0.link)?;
            return Ok(Reads::dump(dump_through(Family::Inet6, index)));
        }
        self.0.read_link_addresses(names)
    }
    fn read_key(&self, _: &View) -> Option<ReadKey> {
        self.prefix_route()
            .is_none()
            .then(|| read_key(self.0.addr, self.0.prefix))
    }
    fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
        answer_key(message)
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        self.0.encode_add(names, false)
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let a = &self.0;
        let index = names.index_of(&a.link)?;
        let mut out = vec![(names.target, a.encode_del(index))];
        if let (Some(route), Some(read)) = (self.prefix_route(), before.first()) {
            out.extend(
                route
                    .encode_del_unless_there(read, index)
                    .map(|r| (names.target, r)),
            );
        }
        Ok(out)
    }
}

impl Step for ReplaceAddr {
    const OP: &'static str = "address.replace";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(OnLink::read(seq, cx)?
            .and_then(OnLink::assignable)
            .map(ReplaceAddr))
    }
    fn label(&self) -> Option<String> {
        self.0.label()
    }
    fn links(&self) -> Vec<&LinkRef> {
        vec![&self.0.link]
    }
    /// Undone by putting the address back as a listing of the link's addresses of its family
    /// read just before (a dump: the item waits for it) reported it, or by deleting it when
    /// it was not there.
    fn undo(&self) -> Undo {
        Undo::Restore
    }
    shared_read!();
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        self.0.encode_add(names, true)
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let a = &self.0;
        let was = before.first().and_then(|m| find_address(m, a));
        Ok(vec![(
            names.target,
            match was {
                Some(m) => encode_addr_restore(&m),
                None => a.encode_del(names.index_of(&a.link)?),
            },
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
    /// IPv6: undone by adding it again with its prefix length. IPv4: put back as the link's
    /// addresses read just before showed it (label, lifetimes, flags), and when it was a
    /// primary, the secondaries of its subnet after it (the kernel deletes them with it unless
    /// `promote_secondaries` is set); then the routes the kernel deleted with them.
    fn undo(&self) -> Undo {
        if self.0.addr.is_ipv4() {
            Undo::Restore
        } else {
            Undo::Inverse
        }
    }
    /// The link's addresses (shared with the items around it); for IPv4, then, every IPv4
    /// route and the link's IPv4 neighbours (`reads_more`): with its last IPv4 address the
    /// kernel deletes the routes through the link and flushes its ARP entries, set ones too
    /// (`fib_disable_ip`), and with a deleted address the routes through any link that have it
    /// as their preferred source.
    fn reads(&self, names: &View) -> Result<Reads> {
        let mut reads = self.0.read_link_addresses(names)?;
        reads.follow_up = self.0.addr.is_ipv4();
        Ok(reads)
    }
    fn reads_more(&self, names: &View, _: &Before) -> Result<Reads> {
        let index = names.index_of(&self.0.link)?;
        let mut reads = Reads::dump(dump_inet());
        reads
            .requests
            .push(Read::dump(dump_of_link(AddressFamily::Inet, index)));
        Ok(reads)
    }
    fn read_key(&self, _: &View) -> Option<ReadKey> {
        Some(read_key(self.0.addr, self.0.prefix))
    }
    fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
        answer_key(message)
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        let a = &self.0;
        Ok(a.encode_del(names.index_of(&a.link)?))
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let a = &self.0;
        let requests = match taken_v4(before, a) {
            Some(taken) => {
                let mut requests: Vec<Vec<u8>> = taken.addresses.iter().map(encode_addr_restore).collect();
                // The routes and the neighbours, read after the addresses (`reads_more`; not for
                // a last item).
                if let Some(routes) = before.get(1) {
                    let index = names.index_of(&a.link)?;
                    let routes: Vec<Route> = routes.iter().filter_map(read_route).collect();
                    let last = took_last(&routes, index, &taken);
                    requests.extend(readd_dropped_routes(&routes, index, &taken, last));
                    if let (true, Some(neighbours)) = (last, before.get(2)) {
                        requests.extend(neigh_flushed::readd_set(neighbours));
                    }
                }
                requests
            }
            None => vec![encode_addr_add_with(
                names.index_of(&a.link)?,
                a.addr,
                a.prefix,
                false,
                &AddressExtras {
                    peer: a.extras.peer,
                    ..AddressExtras::default()
                },
            )],
        };
        Ok(requests.into_iter().map(|r| (names.target, r)).collect())
    }
}

/// An address's key in a shared dump of its link's addresses (`batch/shared.rs`): an IPv4
/// address's subnet (deleting a primary deletes the secondaries of its subnet too), an IPv6
/// address itself (any prefix length).
fn read_key(addr: IpAddr, prefix: u8) -> ReadKey {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            let mut key = (u32::from(a) & mask).to_be_bytes().to_vec();
            key.push(prefix);
            key
        }
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The key of a dumped address (`read_key`).
fn answer_key(message: &[u8]) -> Option<ReadKey> {
    let (addr, prefix) = listed(message)?;
    Some(read_key(addr, prefix))
}

/// A dumped address, and its prefix length.
fn listed(message: &[u8]) -> Option<(IpAddr, u8)> {
    match decode("address.read", message) {
        Ok(RouteNetlinkMessage::NewAddress(m)) => {
            let r = AddressRecord::from_message(&m)?;
            Some((r.address.parse().ok()?, r.prefix_len))
        }
        _ => None,
    }
}

/// The IPv4 addresses a deletion took, as the addresses of their subnet on the link read
/// before it showed them: the one it named, then, when that was a primary, the secondaries of
/// its subnet (the kernel deletes them with it unless `promote_secondaries` is set).
struct TakenV4 {
    addresses: Vec<AddressMessage>,
    /// Their local addresses.
    locals: Vec<IpAddr>,
}

/// What an IPv4 deletion took (`TakenV4`); None when the read did not find the address.
fn taken_v4(before: &Before, a: &OnLink) -> Option<TakenV4> {
    let (addr, prefix) = (a.addr, a.prefix);
    let read: Vec<AddressMessage> = before
        .first()?
        .iter()
        .filter_map(|bytes| match decode("address.delete", bytes) {
            Ok(RouteNetlinkMessage::NewAddress(m)) => Some(m),
            _ => None,
        })
        .collect();
    let secondary =
        |m: &AddressMessage| AddressRecord::from_message(m).is_some_and(|r| r.flags.contains(&"secondary"));
    let is = |m: &AddressMessage| m.header.prefix_len == prefix && a.is(m);
    let was = read.iter().find(|m| is(m))?;
    let subnet = read_key(addr, prefix);
    let mut addresses = vec![was.clone()];
    if !secondary(was) {
        for m in read.iter().filter(|m| !is(m) && secondary(m)) {
            let same = AddressRecord::from_message(m)
                .and_then(|r| Some(read_key(r.address.parse().ok()?, r.prefix_len)))
                .is_some_and(|k| k == subnet);
            if same {
                addresses.push(m.clone());
            }
        }
    }
    let locals = local_ips(&addresses);
    Some(TakenV4 { addresses, locals })
}

/// The requests that put back the IPv4 routes the kernel deleted with the addresses `taken`
/// from the link `index` (`routes`: every IPv4 route, read just before the deletion): when
/// they were the link's `last` IPv4 addresses, every route whose every leg is on the link; and
/// those, through any link, with a taken address as their preferred source
/// (`route/dropped.rs`), each where it stood among the routes of its key (the first is used).
fn readd_dropped_routes(routes: &[Route], index: u32, taken: &TakenV4, last: bool) -> Vec<Vec<u8>> {
    let mut dropped = if last {
        let through = routes.iter().filter(|r| only_through(r, index));
        dropped_of(through.cloned(), Family::Inet, index, Cause::GoesDown)
    } else {
        Vec::new()
    };
    dropped.extend(
        by_source(routes, index, &taken.locals)
            .into_iter()
            .filter(|r| !(last && only_through(r, index))),
    );
    // Built from the kernel's own answers (links by index): encoding cannot fail.
    readd_in_order(routes, |r| dropped.contains(r)).unwrap_or_default()
}

/// Whether the addresses `taken` were the last IPv4 addresses of the link `index`, as the
/// local routes the kernel keeps for each address of a link show (`routes`: every IPv4 route,
/// read before; the read of the link's addresses before the item holds only those of the
/// deleted one's subnet).
fn took_last(routes: &[Route], index: u32, taken: &TakenV4) -> bool {
    !routes.iter().any(|r| {
        r.dev == Some(LinkRef::Index(index)) && local_address(r).is_some_and(|a| !taken.locals.contains(&a))
    })
}

/// The local addresses of address messages (IFA_LOCAL, else IFA_ADDRESS).
pub(crate) fn local_ips<'a>(messages: impl IntoIterator<Item = &'a AddressMessage>) -> Vec<IpAddr> {
    messages
        .into_iter()
        .filter_map(|m| AddressRecord::from_message(m)?.address.parse().ok())
        .collect()
}

fn family_of(addr: IpAddr) -> AddressFamily {
    if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    }
}

/// The item's address (`addr/prefix`, and its peer) among listed messages; an IPv6 address
/// with any prefix length (the kernel keys IPv6 addresses by address: a replace with another
/// prefix length changes the one there, which keeps its own).
fn find_address(messages: &Messages, a: &OnLink) -> Option<AddressMessage> {
    let any_prefix = a.addr.is_ipv6();
    messages
        .iter()
        .find_map(|bytes| match decode("address.replace", bytes) {
            Ok(RouteNetlinkMessage::NewAddress(m))
                if (any_prefix || m.header.prefix_len == a.prefix) && a.is(&m) =>
            {
                Some(m)
            }
            _ => None,
        })
}

impl Handle {
    pub async fn addr_add(&self, link: &LinkRef, cidr: &str, replace: bool) -> Result<()> {
        let (addr, prefix) = args::cidr("address", cidr)?;
        let label = describe(addr, prefix, link);
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
        let label = describe(addr, prefix, link);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readd(was: &AddressMessage) -> AddressMessage {
        match decode("test", &encode_addr_readd(9, was).unwrap()).unwrap() {
            RouteNetlinkMessage::NewAddress(m) => m,
            other => panic!("{other:?}"),
        }
    }

    fn cache(preferred: u32, valid: u32) -> AddressAttribute {
        let mut c = netlink_packet_route::address::CacheInfo::default();
        c.ifa_preferred = preferred;
        c.ifa_valid = valid;
        AddressAttribute::CacheInfo(c)
    }

    #[test]
    fn a_listed_address_is_added_back_with_its_peer_label_metric_settable_flags_and_lifetimes() {
        // IPv4 point-to-point, lifetimes forever: the peer stays IFA_ADDRESS, the label comes
        // back, of the flags only those a request may set; no cache info; its scope.
        let local: IpAddr = "10.0.0.1".parse().unwrap();
        let mut was = peer_message(2, local, "10.0.0.2".parse().unwrap(), 32);
        was.header.scope = AddressScope::Link;
        was.attributes.extend([
            AddressAttribute::Label("br0:1".into()),
            AddressAttribute::Flags(AddressFlags::Permanent | AddressFlags::Noprefixroute),
            AddressAttribute::RoutePriority(7),
            cache(FOREVER, FOREVER),
        ]);
        let m = readd(&was);
        assert_eq!(
            (m.header.index, m.header.prefix_len, m.header.scope),
            (9, 32, AddressScope::Link)
        );
        let mut want = peer_message(9, local, "10.0.0.2".parse().unwrap(), 32).attributes;
        want.extend([
            AddressAttribute::Label("br0:1".into()),
            AddressAttribute::RoutePriority(7),
            AddressAttribute::Flags(AddressFlags::Noprefixroute),
        ]);
        assert_eq!(m.attributes, want);
        // IPv6: no label; `nodad` kept, `tentative` not; the lifetimes left.
        let addr: IpAddr = "fd00::1".parse().unwrap();
        let mut was = address_message(2, addr, 64);
        was.attributes.extend([
            AddressAttribute::Label("x".into()),
            AddressAttribute::Flags(AddressFlags::Nodad | AddressFlags::Tentative),
            cache(100, 200),
        ]);
        let mut want = address_message(9, addr, 64).attributes;
        want.extend([AddressAttribute::Flags(AddressFlags::Nodad), cache(100, 200)]);
        assert_eq!(readd(&was).attributes, want);
    }

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

    #[test]
    fn a_peer_is_ifa_address_when_it_is_not_the_local_one() {
        let local: IpAddr = "10.0.0.1".parse().unwrap();
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let r = AddressRecord::from_message(&peer_message(2, local, peer, 32)).unwrap();
        assert_eq!((r.address.as_str(), r.cidr.as_str()), ("10.0.0.1", "10.0.0.1/32"));
        assert_eq!(r.peer.as_deref(), Some("10.0.0.2"));
        // Without a peer the kernel sends IFA_LOCAL and IFA_ADDRESS alike (IPv4), or only
        // IFA_ADDRESS (IPv6).
        let r = AddressRecord::from_message(&peer_message(2, local, local, 24)).unwrap();
        assert_eq!(r.peer, None);
        let r = AddressRecord::from_message(&address_message(2, "fd00::1".parse().unwrap(), 64)).unwrap();
        assert_eq!((r.address.as_str(), r.peer), ("fd00::1", None));
    }
}

//! Changing links: `ip link set DEV [up|down] [mtu] [address] [name] [alias] [txqueuelen]
//! [group] [master|nomaster] [promisc]`, all in one RTM_SETLINK.
//!
//! A change is undone from the link as it was read just before it. The kernel also changes
//! things on its own: when an MTU goes down, links on top of this one (macvlan, vlan, ipvlan)
//! that had a larger MTU follow it down, and below 1280 the kernel turns IPv6 off on the link
//! (and on those that followed it): it loses its IPv6 addresses, routes and neighbours; and
//! a link that goes down loses its IPv6 addresses (unless keep_addr_on_down), which an undo
//! that brings it down again or up again would not bring back. So such a change reads those too
//! (dumps: the item waits for them), and its undo puts them back after the link: the upper
//! links' MTUs and the IPv6 addresses (re-added as they were read: flags such as `nodad`, or
//! they would come back tentative, metric and the lifetimes left; the kernel makes link-local
//! addresses again by itself). A link that goes down also loses the routes through it and its
//! neighbours (a MAC change, the neighbours): a change that takes it down (or into or out of a
//! VRF), changes its MAC or turns IPv6 off (every link's IPv6 ones then) reads them, and its
//! undo adds them again last (`route/dropped.rs`, `neigh/flushed.rs`); going down also deletes
//! the nexthop objects on the link, which come back with their places in groups and the routes
//! on them (`nexthop/flushed.rs`). A change that also renames is undone the same way.
//!
//! A bridge's MTU follows its ports: unless it was set on the bridge after its creation, the
//! kernel sets it to the least MTU of its ports, or to 1500 when the last one leaves
//! (`br_mtu_auto_adjust`). So a change that attaches a link to a bridge reads the bridge too,
//! and its undo, once the link has left again, sets the bridge's MTU back to what was read: a
//! bridge without other ports would otherwise be left at 1500, or at the port's MTU. (With other
//! ports the kernel's least MTU is what was read, and setting an MTU a link has is a no-op.)
//! The creation of a link with a master does the same (`AddLink`: after the link is deleted).
//! What cannot be put back: an MTU set this way marks the bridge's MTU as set by the user
//! (BROPT_MTU_SET_BY_USER), so the kernel no longer adjusts it to ports that join later. A
//! link that leaves a bridge needs nothing: attaching it again makes the kernel take the least
//! MTU of the ports again, which is what the bridge had.
//!
//! A link that joins or leaves a VRF loses its IPv6 addresses (addrconf flushes a link linked
//! to or unlinked from an L3 master), and so it would when the undo takes it back: such a change
//! reads them (a master change waits for its first reads to know whether a VRF is involved) and
//! its undo adds them back after the link.

use std::net::IpAddr;

use netlink_packet_core::DefaultNla;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use serde::de::SeqAccess;
use serde::Deserialize;

use crate::addr::{encode_addr_restore, readd_order};
use crate::args;
use crate::batch::wire::{next, ReadContext, WireLink};
use crate::batch::{links_dump, Before, Effect, Parsed, Read, Reads, Step, Undo, UndoRequest, View};
use crate::bridge::left as bridge_left;
use crate::error::{Error, Result};
use crate::fdb::left as fdb_left;
use crate::handle::Handle;
use crate::message::{decode, encode, Flags};
use crate::neigh::flushed as neigh_flushed;
use crate::neigh::get::dump_of_link;
use crate::nexthop::flushed as nexthop_flushed;
use crate::route::dropped::{
    any_through, dropped_of, dump_family, dump_through, read_dropped, readd, Cause, FAMILIES,
};
use crate::route::record::read_route;
use crate::route::spec::{Family, Route};
use crate::route::verbs::readd_in_order;
use crate::transport::Messages;

use super::fast::read_link;
use super::get::selector;
use super::{LinkRecord, LinkRef};

const IFLA_IFALIAS: u16 = 20;
/// Below this MTU the kernel turns IPv6 off on a link and drops its addresses.
pub(crate) const IPV6_MIN_MTU: u32 = 1280;
/// The loopback link's index in every network namespace.
const LOOPBACK_INDEX: u32 = 1;

/// `ip link set` options as JavaScript passes them; absent fields are left alone.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct LinkChangeOptions {
    pub up: Option<bool>,
    pub mtu: Option<u32>,
    pub mac: Option<String>,
    /// A new name.
    pub name: Option<String>,
    /// Empty clears it.
    pub alias: Option<String>,
    pub txqlen: Option<u32>,
    pub group: Option<u32>,
    /// Attach to this bridge, bond or VRF.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub master: Option<LinkRef>,
    /// Detach from the current master.
    pub nomaster: Option<bool>,
    pub promisc: Option<bool>,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkChange {
    pub up: Option<bool>,
    pub mtu: Option<u32>,
    pub mac: Option<[u8; 6]>,
    pub name: Option<String>,
    /// Empty string clears the alias.
    pub alias: Option<String>,
    pub txqlen: Option<u32>,
    pub group: Option<u32>,
    /// `Some(None)` detaches from the current master (`nomaster`).
    pub master: Option<Option<LinkRef>>,
    pub promisc: Option<bool>,
}

impl LinkChange {
    pub fn parse(o: LinkChangeOptions) -> Result<Self> {
        if o.master.is_some() && o.nomaster == Some(true) {
            return Err(Error::invalid("nomaster", "master and nomaster are exclusive"));
        }
        if let Some(name) = &o.name {
            args::ifname("name", name)?;
        }
        if let Some(alias) = &o.alias {
            args::alias("alias", alias)?;
        }
        if let Some(m) = &o.master {
            m.validate("master")?;
        }
        Ok(LinkChange {
            up: o.up,
            mtu: o.mtu.map(|m| args::MTU_CHANGE.check("mtu", m)).transpose()?,
            mac: o.mac.as_deref().map(|m| args::mac("mac", m)).transpose()?,
            name: o.name,
            alias: o.alias,
            txqlen: o.txqlen,
            group: o.group,
            master: match (o.master, o.nomaster) {
                (Some(m), _) => Some(Some(m)),
                (None, Some(true)) => Some(None),
                _ => None,
            },
            promisc: o.promisc,
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == LinkChange::default()
    }

    /// The change that puts back what this one changes, from the link as it was.
    fn revert(&self, before: &LinkRecord) -> LinkChange {
        let has = |flag: &str| before.flags.contains(&flag);
        LinkChange {
            up: self.up.map(|_| before.up),
            mtu: self.mtu.and(before.mtu),
            mac: self
                .mac
                .and_then(|_| before.mac.as_deref().and_then(|m| args::mac("mac", m).ok())),
            name: self.name.as_ref().map(|_| before.name.clone()),
            alias: self
                .alias
                .as_ref()
                .map(|_| before.alias.clone().unwrap_or_default()),
            txqlen: self.txqlen.and(before.txqlen),
            group: self.group.map(|_| before.group),
            master: self.master.as_ref().map(|_| before.master.map(LinkRef::Index)),
            promisc: self.promisc.map(|_| has("PROMISC")),
        }
    }
}

/// Encodes `ip link set` for `link` (`index` must be known when renaming a link named by name;
/// `master` is the resolved master index, 0 for nomaster).
pub(crate) fn encode_link_set(
    link: &LinkRef,
    change: &LinkChange,
    index: Option<u32>,
    master: Option<u32>,
) -> Vec<u8> {
    let mut msg = selector(link);
    if change.name.is_some() {
        if let (LinkRef::Name(_), Some(index)) = (link, index) {
            // With a name selector the request already holds IFLA_IFNAME; a rename needs the index.
            msg.attributes.clear();
            msg.header.index = index;
        }
    }
    if let Some(up) = change.up {
        msg.header.change_mask |= LinkFlags::Up;
        if up {
            msg.header.flags |= LinkFlags::Up;
        }
    }
    if let Some(p) = change.promisc {
        msg.header.change_mask |= LinkFlags::Promisc;
        if p {
            msg.header.flags |= LinkFlags::Promisc;
        }
    }
    let attrs = &mut msg.attributes;
    if let Some(mtu) = change.mtu {
        attrs.push(LinkAttribute::Mtu(mtu));
    }
    if let Some(mac) = change.mac {
        attrs.push(LinkAttribute::Address(mac.to_vec()));
    }
    if let Some(name) = &change.name {
        attrs.push(LinkAttribute::IfName(name.clone()));
    }
    if let Some(alias) = &change.alias {
        // Sent without a trailing NUL, as iproute2 does: the kernel counts the attribute's
        // whole length against IFALIASZ, so a NUL would refuse a 255-byte alias.
        attrs.push(LinkAttribute::Other(DefaultNla::new(
            IFLA_IFALIAS,
            alias.as_bytes().to_vec(),
        )));
    }
    if let Some(q) = change.txqlen {
        attrs.push(LinkAttribute::TxQueueLen(q));
    }
    if let Some(g) = change.group {
        attrs.push(LinkAttribute::Group(g));
    }
    if let Some(m) = master {
        attrs.push(LinkAttribute::Controller(m));
    }
    encode(RouteNetlinkMessage::SetLink(msg), Flags::Plain)
}

/// Whether `error` answered a rename the way Linux before 6.2 refuses one on a link that is up.
pub(crate) fn is_refused_rename(change: &LinkChange, error: &Error) -> bool {
    change.name.is_some() && error.errno() == Some(libc::EBUSY)
}

/// The reads before a change after the link itself, which is always first (`SetLink::slot`).
#[derive(Debug, Clone, Copy)]
enum Slot {
    Master,
    Links,
    Addresses,
    /// The routes through the link, one read per family (`route/dropped.rs`).
    Routes(usize),
    /// The link's neighbours, one read per family (`neigh/flushed.rs`).
    Neighbours(usize),
    /// The FDB entries of a port that leaves its bridge (`fdb/left.rs`).
    Fdb,
    /// The bridges' VLANs, for those of a port that leaves its bridge (`bridge/left.rs`).
    Vlans,
    /// Every nexthop object, for those on a link that goes down (`nexthop/flushed.rs`).
    Nexthops,
}

/// `ip link set DEV ...` as a batch item: `[code, link, change]`.
#[derive(Debug)]
pub struct SetLink {
    pub link: LinkRef,
    pub change: LinkChange,
}

impl SetLink {
    pub fn renames(&self) -> bool {
        self.change.name.is_some()
    }

    fn master(&self, names: &View) -> Result<Option<u32>> {
        Ok(match &self.change.master {
            Some(Some(m)) => Some(names.index_of(m)?),
            Some(None) => Some(0),
            None => None,
        })
    }

    fn index(&self, names: &View) -> Result<Option<u32>> {
        match (&self.link, &self.change.name) {
            (LinkRef::Name(_), Some(_)) => names.index_of(&self.link).map(Some),
            _ => Ok(None),
        }
    }

    /// Sends the change on its own, renaming an up link the pre-6.2 way when refused.
    pub(crate) async fn send_alone(&self, h: &Handle, names: &View<'_>, request: Vec<u8>) -> Result<()> {
        match h.ack(Self::OP, Some(&self.link.describe()), request).await {
            Err(e) if is_refused_rename(&self.change, &e) => {
                let index = names.index_of(&self.link)?;
                h.rename_while_down(index, &self.change, self.master(names)?, &self.link.describe(), e)
                    .await
            }
            result => result.map(drop),
        }
    }

    /// The link as read before the change.
    fn before(before: &Before) -> Option<LinkRecord> {
        before.first().and_then(|m| m.iter().find_map(read_link))
    }

    /// The link (by index) and the change that puts it back as it was read before.
    pub(crate) fn reverted(&self, before: &Before) -> Option<(LinkRef, LinkChange)> {
        let was = Self::before(before)?;
        Some((LinkRef::Index(was.index), self.change.revert(&was)))
    }

    /// True when the change attaches the link to a master (read before it: see the module's
    /// comment on bridges).
    fn attaches(&self) -> bool {
        matches!(self.change.master, Some(Some(_)))
    }

    /// Where the reads before the change are in `Before`: the link (0), the master it attaches
    /// to (1, when it `attaches`), then the follow-up reads: the links, the IPv6 addresses, the
    /// routes through the link and its neighbours of each family, its FDB entries, the bridges'
    /// VLANs and every nexthop object (empty where not needed).
    fn slot(&self, read: Slot) -> usize {
        let first = 1 + usize::from(self.attaches());
        match read {
            Slot::Master => 1,
            Slot::Links => first,
            Slot::Addresses => first + 1,
            Slot::Routes(family) => first + 2 + family,
            Slot::Neighbours(family) => first + 4 + family,
            Slot::Fdb => first + 6,
            Slot::Vlans => first + 7,
            Slot::Nexthops => first + 8,
        }
    }

    /// True when the change lowers the MTU: then the kernel may change other things too.
    fn lowers_mtu(&self, before: &LinkRecord) -> bool {
        matches!((self.change.mtu, before.mtu), (Some(new), Some(old)) if new < old)
    }

    /// Whether the MTU crosses below 1280, where the kernel turns IPv6 off on the link.
    fn drops_v6(&self, before: &LinkRecord) -> bool {
        self.change.mtu.is_some_and(|m| m < IPV6_MIN_MTU) && before.mtu.is_some_and(|m| m >= IPV6_MIN_MTU)
    }

    /// The requests that put back, once the link itself is, what the kernel changed with it
    /// (see the module's comment): the MTU of the bridge it attached to, the MTUs of upper
    /// links that followed it down, and the IPv6 addresses the change made the kernel drop.
    /// Part of every undo of the change, a rename's too (`batch/undo.rs` sends that alone).
    pub(crate) fn aftermath(&self, before: &Before) -> Vec<Vec<u8>> {
        let Some(was) = Self::before(before) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        // Links whose IPv6 addresses the change made the kernel drop: this one, upper links it
        // took below 1280, and a bridge its ports took below 1280.
        let mut lost_v6 = vec![was.index];
        if self.attaches() {
            let bridge = before.get(self.slot(Slot::Master));
            out.extend(bridge.and_then(|b| restore_bridge_mtu(b, was.index)));
            let joined = bridge.and_then(|b| b.iter().find_map(read_link));
            if let Some(b) = joined.filter(|b| drags_bridge_v6(b, self.change.mtu.or(was.mtu))) {
                lost_v6.push(b.index);
            }
        }
        if let (Some(new), Some(links)) = (self.change.mtu, before.get(self.slot(Slot::Links))) {
            // The bridge it is a port of follows its least port's MTU (not once set by hand).
            let bridge = links
                .iter()
                .filter_map(read_link)
                .find(|b| Some(b.index) == was.master && was.index != b.index);
            if bridge.is_some_and(|b| drags_bridge_v6(&b, Some(new))) && self.lowers_mtu(&was) {
                lost_v6.extend(was.master);
            }
            // Upper links the kernel lowered with it get their MTU back: those of the kinds
            // that follow their lower link's MTU down (a veth's parent is its peer, which
            // keeps its own).
            for upper in links.iter().filter_map(read_link) {
                let upper_mtu = upper.mtu.unwrap_or_default();
                let follows = matches!(
                    upper.kind.as_deref(),
                    Some("macvlan" | "macvtap" | "vlan" | "ipvlan" | "ipvtap")
                );
                if follows && upper.parent == Some(was.index) && upper.index != was.index && upper_mtu > new {
                    let change = LinkChange {
                        mtu: Some(upper_mtu),
                        ..Default::default()
                    };
                    out.push(encode_link_set(&LinkRef::Index(upper.index), &change, None, None));
                    if new < IPV6_MIN_MTU && upper_mtu >= IPV6_MIN_MTU {
                        lost_v6.push(upper.index);
                    }
                }
            }
        }
        if let Some(addresses) = before.get(self.slot(Slot::Addresses)) {
            out.extend(readd_ipv6(&lost_v6, addresses));
        }
        // The links IPv6 was turned off on (below 1280): this one, and those it took below.
        let mut v6_off: Vec<u32> = lost_v6[1..].to_vec();
        if self.drops_v6(&was) {
            v6_off.push(was.index);
        }
        v6_off.sort_unstable();
        v6_off.dedup();
        // Then the nexthop objects on the link the kernel deleted as it went down, with their
        // places in groups (the routes on them go back with the others, below).
        let (objects, objects_went) = match before.get(self.slot(Slot::Nexthops)) {
            // Built from the kernel's own answers (links by index): encoding cannot fail.
            Some(read) => {
                nexthop_flushed::readd(read, &nexthop_flushed::on_link(read, was.index)).unwrap_or_default()
            }
            None => Default::default(),
        };
        out.extend(objects);
        // Then the routes the kernel deleted as the link went down (every route read then),
        // or as IPv6 was turned off on links (every link's IPv6 routes read then): their
        // gateways are reachable again.
        for (k, family) in FAMILIES.into_iter().enumerate() {
            let Some(read) = before.get(self.slot(Slot::Routes(k))) else {
                continue;
            };
            let off = if family == Family::Inet6 {
                v6_off.as_slice()
            } else {
                &[]
            };
            for index in off {
                let through = read
                    .iter()
                    .filter_map(read_route)
                    .filter(|r| any_through(r, *index));
                out.extend(readd(dropped_of(through, family, *index, Cause::Leaves), *index));
            }
            if !off.contains(&was.index) {
                // Where they stood among the routes of their key: the first one is used.
                let routes: Vec<Route> = read.iter().filter_map(read_route).collect();
                let dropped = dropped_of(routes.iter().cloned(), family, was.index, Cause::GoesDown);
                let went = |r: &Route| dropped.contains(r) || nexthop_flushed::on_any(r, &objects_went);
                out.extend(readd_in_order(&routes, went).unwrap_or_default());
            }
        }
        // And the neighbours set by hand the kernel flushed as it went down or changed its MAC,
        // or as IPv6 was turned off (every link's IPv6 ones read then: those of the links it
        // was turned off on), and the FDB entries set by hand its bridge had for it, if it left
        // the bridge.
        for (k, family) in neigh_flushed::FAMILIES.into_iter().enumerate() {
            if let Some(read) = before.get(self.slot(Slot::Neighbours(k))) {
                let every_link = family == AddressFamily::Inet6 && !v6_off.is_empty();
                out.extend(neigh_flushed::readd_set_on(read, |i| {
                    !every_link || i == was.index || v6_off.contains(&i)
                }));
            }
        }
        // Its VLANs first: an FDB entry of a VLAN needs the VLAN on the port.
        if let Some(read) = before.get(self.slot(Slot::Vlans)) {
            out.extend(bridge_left::readd_port_vlans(read, was.index));
        }
        if let (Some(read), Some(bridge)) = (before.get(self.slot(Slot::Fdb)), was.master) {
            out.extend(fdb_left::readd_set(read, bridge, was.mac.as_deref()));
        }
        out
    }
}

impl Step for SetLink {
    const OP: &'static str = "link.set";

    fn touches(&self) -> Vec<&LinkRef> {
        let mut refs = self.links();
        refs.push(&self.link);
        refs
    }

    // The kernel applies a change's attributes in turn (MTU, group, flags, ...) and may refuse
    // a later one (a master that cannot be one) after the earlier took effect.
    fn restores_when_failed(&self) -> bool {
        true
    }

    // One attribute alone is applied or refused as a whole; not a new master (joined after the
    // old one is left) nor a rename (Linux < 6.2: down, rename, up).
    fn fails_whole(&self) -> bool {
        let c = &self.change;
        let set = [
            c.up.is_some(),
            c.mtu.is_some(),
            c.mac.is_some(),
            c.alias.is_some(),
            c.txqlen.is_some(),
            c.group.is_some(),
            c.promisc.is_some(),
        ];
        c.master.is_none() && c.name.is_none() && set.iter().filter(|s| **s).count() <= 1
    }

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let change: serde_json::Value = next(seq, "change")?;
        Ok((|| {
            let link = cx.link(link)?;
            let change = LinkChange::parse(args::options("change", change)?)?;
            Ok(SetLink { link, change })
        })())
    }

    fn label(&self) -> Option<String> {
        Some(self.link.describe())
    }

    /// The kernel says only "File exists" for a rename to a name taken, and "Operation not
    /// supported" for a master that takes no ports.
    fn explain(&self, error: Error) -> Error {
        let change = &self.change;
        match error.errno() {
            Some(libc::EEXIST) => match &change.name {
                Some(name) => {
                    error.with_extack(|given| given.is_none().then(|| format!("a link named {name} exists")))
                }
                None => error,
            },
            Some(libc::EOPNOTSUPP) => match &change.master {
                Some(Some(master)) => error.with_extack(|given| {
                    given
                        .is_none()
                        .then(|| format!("{master} takes no ports (bridges, bonds, VRFs and teams do)"))
                }),
                _ => error,
            },
            _ => error,
        }
    }

    fn links(&self) -> Vec<&LinkRef> {
        let mut refs = Vec::new();
        if self.change.name.is_some() {
            refs.push(&self.link);
        }
        if let Some(Some(m)) = &self.change.master {
            refs.push(m);
        }
        refs
    }
    // A change goes with the link it changes when the run made it, never with the master it
    // names; one that attaches goes with nothing: it is undone on its own before the links
    // the run made are deleted, so that its aftermath puts back an existing bridge's MTU.
    fn goes_with(&self) -> Vec<&LinkRef> {
        if self.attaches() {
            Vec::new()
        } else {
            vec![&self.link]
        }
    }

    fn undo(&self) -> Undo {
        Undo::Restore
    }

    // A kernel before 5.3 has no nexthop objects and refuses their dump: none to put back.
    fn absent(&self, error: &Error) -> bool {
        error.errno() == Some(libc::EOPNOTSUPP)
    }

    /// The link itself, and the master it attaches to; then, for a change of its MTU, up state,
    /// master or MAC, what the kernel may change with it (`reads_more`: the links and IPv6
    /// addresses, the routes through it, its neighbours), once the link tells which.
    fn reads(&self, names: &View) -> Result<Reads> {
        let get = |link: &LinkRef| {
            let mut get = selector(link);
            get.attributes.push(LinkAttribute::ExtMask(vec![
                netlink_packet_route::link::LinkExtentMask::SkipStats,
            ]));
            encode(RouteNetlinkMessage::GetLink(get), Flags::Plain)
        };
        let mut reads = Reads::one(get(&self.link));
        if let Some(Some(master)) = &self.change.master {
            reads.requests.push(read_master(names.index_of(master)?));
        }
        // A master change waits for these: whether a VRF is involved decides (`reads_more`).
        reads.follow_up = self.change.mtu.is_some()
            || self.change.up.is_some()
            || self.change.master.is_some()
            || self.change.mac.is_some();
        Ok(reads)
    }

    fn reads_more(&self, _: &View, first: &Before) -> Result<Reads> {
        let Some(before) = Self::before(first) else {
            return Ok(Reads::default());
        };
        let mut reads = Reads::default();
        // The links (for upper links' MTUs), empty unless the MTU goes down.
        let links = if self.lowers_mtu(&before) {
            links_dump()
        } else {
            Vec::new()
        };
        reads.requests.push(Read::dump(links));
        // Up or down, either way: the undo takes the link through a state that flushes them.
        let up_changes = self.change.up.is_some_and(|up| up != before.up);
        // So does a VRF the link joins or leaves (addrconf flushes a link linked to or
        // unlinked from an L3 master), and again when the undo takes it back.
        let new_master = if self.attaches() {
            first
                .get(self.slot(Slot::Master))
                .and_then(|m| m.iter().find_map(read_link))
        } else {
            None
        };
        let master_changes =
            self.change.master.is_some() && new_master.as_ref().map(|m| m.index) != before.master;
        let drags_bridge = new_master
            .as_ref()
            .is_some_and(|m| drags_bridge_v6(m, self.change.mtu.or(before.mtu)));
        let joins_vrf = master_changes && new_master.is_some_and(|m| m.kind.as_deref() == Some("vrf"));
        let leaves_vrf = master_changes && before.port_kind.as_deref() == Some("vrf");
        // Below 1280 the upper links that follow the MTU down, and the bridge it is (or
        // becomes) a port of, lose theirs too: then every link's (the undo picks), else this
        // link's only. (An empty read keeps the slots of the reads after it.)
        let every_link = self.drops_v6(&before) || drags_bridge;
        let addresses = if every_link || up_changes || joins_vrf || leaves_vrf {
            read_ipv6_addresses(if every_link { 0 } else { before.index })
        } else {
            Read::none()
        };
        reads.requests.push(addresses);
        // A link that goes down loses the routes through it and its neighbours, and so does one
        // a VRF it joins or leaves takes down and up; one whose MAC changes loses its
        // neighbours: they are read to be put back (`route/dropped.rs`, `neigh/flushed.rs`).
        let goes_down = before.up && (self.change.up == Some(false) || joins_vrf || leaves_vrf);
        let was_mac = before.mac.as_deref().and_then(|m| args::mac("mac", m).ok());
        let mac_changes = self.change.mac.is_some_and(|m| Some(m) != was_mac);
        let dump = |wanted: bool, message: Vec<u8>| {
            if wanted {
                Read::dump(message)
            } else {
                Read::none()
            }
        };
        // Below 1280 the kernel turns IPv6 off on the link and on those that follow it below
        // (`addrconf_ifdown`): their IPv6 routes and neighbours go too, every link's are read.
        // Going down, every route is read: those that go come back where they stood among the
        // other routes of their key.
        for family in FAMILIES {
            let message = match family {
                Family::Inet6 if every_link => dump_family(family),
                _ if goes_down => dump_family(family),
                _ => dump_through(family, before.index),
            };
            let v6_off = every_link && family == Family::Inet6;
            reads.requests.push(dump(goes_down || v6_off, message));
        }
        for family in neigh_flushed::FAMILIES {
            let v6_off = every_link && family == AddressFamily::Inet6;
            let message = dump_of_link(family, if v6_off { 0 } else { before.index });
            reads
                .requests
                .push(dump(goes_down || mac_changes || v6_off, message));
        }
        // A port that leaves its bridge loses the bridge's entries for it (`fdb/left.rs`).
        let leaves_bridge = master_changes && before.port_kind.as_deref() == Some("bridge");
        let fdb = fdb_left::dump_of_port(before.index);
        reads.requests.push(dump(leaves_bridge, fdb));
        // And its VLANs (`bridge/left.rs`).
        reads
            .requests
            .push(dump(leaves_bridge, bridge_left::dump_request()));
        // A link that goes down loses its nexthop objects, and they their places in groups:
        // every object is read (`nexthop/flushed.rs`).
        reads
            .requests
            .push(dump(goes_down, nexthop_flushed::dump_every()));
        Ok(reads)
    }

    fn changed_link(&self, before: &Before) -> Option<u32> {
        let keeps_structure = self.change.master.is_none() && self.change.name.is_none();
        keeps_structure
            .then(|| Self::before(before))
            .flatten()
            .map(|b| b.index)
    }

    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        Ok(encode_link_set(
            &self.link,
            &self.change,
            self.index(names)?,
            self.master(names)?,
        ))
    }

    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let Some((target, back)) = self.reverted(before) else {
            return Ok(Vec::new());
        };
        let master = back.master.as_ref().map(|m| match m {
            Some(LinkRef::Index(i)) => *i,
            _ => 0,
        });
        let here = names.target;
        let mut out = vec![(here, encode_link_set(&target, &back, None, master))];
        out.extend(self.aftermath(before).into_iter().map(|m| (here, m)));
        Ok(out)
    }

    fn effect(&self) -> Effect<'_> {
        match &self.change.name {
            Some(to) => Effect::Renames(&self.link, to),
            None => Effect::None,
        }
    }
}

/// A GET of a master, for `restore_bridge_mtu`.
pub(crate) fn read_master(master: u32) -> Read {
    let mut get = selector(&LinkRef::Index(master));
    get.attributes.push(LinkAttribute::ExtMask(vec![
        netlink_packet_route::link::LinkExtentMask::SkipStats,
    ]));
    Read {
        message: encode(RouteNetlinkMessage::GetLink(get), Flags::Plain),
        dump: false,
    }
}

/// The request that sets back the MTU of a bridge (`read` by `read_master` before `port` joined
/// it), to send once `port` has left it again; None when the master is no bridge. See the
/// module's comment.
pub(crate) fn restore_bridge_mtu(read: &Messages, port: u32) -> Option<Vec<u8>> {
    let bridge = read
        .iter()
        .find_map(read_link)
        .filter(|m| m.kind.as_deref() == Some("bridge") && m.index != port)?;
    let change = LinkChange {
        mtu: Some(bridge.mtu?),
        ..Default::default()
    };
    Some(encode_link_set(
        &LinkRef::Index(bridge.index),
        &change,
        None,
        None,
    ))
}

/// A dump of one link's IPv6 addresses (every link's: index 0).
pub(crate) fn read_ipv6_addresses(index: u32) -> Read {
    let mut msg = AddressMessage::default();
    msg.header.family = AddressFamily::Inet6;
    msg.header.index = index;
    Read::dump(encode(RouteNetlinkMessage::GetAddress(msg), Flags::Dump))
}

/// Whether a port with MTU `port_mtu` takes `bridge` below 1280, where the kernel drops the
/// bridge's IPv6 addresses (a bridge's MTU follows its least port's: `br_mtu_auto_adjust`).
pub(crate) fn drags_bridge_v6(bridge: &LinkRecord, port_mtu: Option<u32>) -> bool {
    bridge.kind.as_deref() == Some("bridge")
        && bridge.mtu.is_some_and(|m| m >= IPV6_MIN_MTU)
        && port_mtu.is_some_and(|m| m < IPV6_MIN_MTU)
}

/// Requests that put back the IPv6 addresses of the links `lost` that were read before the
/// change, as they were read (flags such as `nodad`, metric, lifetimes left: `encode_addr_restore`;
/// a replace, as the kernel may have made the link-local ones again already), in the order
/// that makes the kernel list them as it did (`readd_order`: the reverse of the order read).
pub(crate) fn readd_ipv6(lost: &[u32], addresses: &Messages) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for bytes in addresses {
        let Ok(RouteNetlinkMessage::NewAddress(m)) = decode("link.set", bytes) else {
            continue;
        };
        let v6 = m.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(IpAddr::V6(a)) => Some(*a),
            _ => None,
        });
        // The loopback's ::1 the kernel makes again as IPv6 comes back on `lo` (index 1 in
        // every namespace); written again, it would get a prefix route in table main.
        let loopback = m.header.index == LOOPBACK_INDEX && v6.is_some_and(|a| a.is_loopback());
        if lost.contains(&m.header.index) && v6.is_some() && !loopback {
            out.push(encode_addr_restore(&m));
        }
    }
    readd_order(out, |_| true)
}

impl Handle {
    /// `ip link set DEV ...` on its own (not in a batch).
    pub async fn link_set(&self, link: &LinkRef, change: &LinkChange) -> Result<()> {
        link.validate("link")?;
        if change.is_empty() {
            return Ok(());
        }
        let label = link.describe();
        let master = match &change.master {
            Some(Some(m)) => Some(
                self.link_index(m)
                    .await
                    .map_err(|e| e.context("link.set", Some(&label)))?,
            ),
            Some(None) => Some(0),
            None => None,
        };
        let index = match (link, &change.name) {
            (LinkRef::Name(_), Some(_)) => Some(self.link_index(link).await?),
            _ => None,
        };
        let msg = encode_link_set(link, change, index, master);
        match self.ack("link.set", Some(&label), msg).await {
            Err(e) if is_refused_rename(change, &e) => {
                let index = match index {
                    Some(i) => i,
                    None => self.link_index(link).await?,
                };
                self.rename_while_down(index, change, master, &label, e).await
            }
            result => result.map(drop),
        }
    }

    /// Linux before 6.2 refuses to rename a link that is up (EBUSY). Then the change is made
    /// the way `ip` users do it by hand: down, change (the kernel renames before it applies
    /// flags, so the same request brings it up again), and up again if the change failed.
    /// `refused` (see `is_refused_rename`) is returned as is when the link was not up.
    pub(crate) async fn rename_while_down(
        &self,
        index: u32,
        change: &LinkChange,
        master: Option<u32>,
        label: &str,
        refused: Error,
    ) -> Result<()> {
        let target = LinkRef::Index(index);
        if !self.link_get(&target).await?.up {
            return Err(refused);
        }
        let flag = |up: bool| LinkChange {
            up: Some(up),
            ..Default::default()
        };
        // Going down flushes the link's IPv6 addresses (unless keep_addr_on_down), the routes
        // through it and its neighbours: they are read first and put back once it is up again,
        // in that order, so the rename changes nothing else.
        let addresses = self.dump("link.set", read_ipv6_addresses(index).message).await?;
        let mut back = readd_ipv6(&[index], &addresses);
        back.extend(readd(
            read_dropped(self, "link.set", index, Cause::GoesDown).await?,
            index,
        ));
        back.extend(neigh_flushed::read_set(self, "link.set", index).await?);
        let down = encode_link_set(&target, &flag(false), None, None);
        self.ack("link.set", Some(label), down).await?;
        let again = LinkChange {
            up: Some(change.up.unwrap_or(true)),
            ..change.clone()
        };
        let msg = encode_link_set(&target, &again, None, master);
        let result = match self.ack("link.set", Some(label), msg).await {
            Ok(_) if !again.up.unwrap_or(true) => return Ok(()),
            Ok(_) => Ok(()),
            Err(e) => {
                // Best effort: the caller gets the change's error, not this one's.
                let up = encode_link_set(&target, &flag(true), None, None);
                let _ = self.ack("link.set", Some(label), up).await;
                Err(e)
            }
        };
        for request in back {
            if let Err(e) = self.ack("link.set", Some(label), request).await {
                return result.and(Err(e));
            }
        }
        result
    }
}

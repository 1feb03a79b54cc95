//! Moving a link into another namespace: `ip link set DEV netns NS [name NEW]`.
//!
//! The kernel moves the link first and renames it after (do_setlink), so a rename that fails
//! in the target (the name is taken there) would leave the link moved under its old name; and
//! it refuses to move some kinds at all (bridges, bonds, VRFs, and the loopback: "The interface
//! netns is immutable") only once asked. So a move checks both first — the link's kind in its
//! namespace, the new name in the target — and if the kernel still moved without renaming,
//! moves the link back before reporting the error. A rollback moves it back from the target,
//! and puts back what the move took from it: its addresses, its master and its up state (a
//! link arrives in a namespace down, detached and without addresses), the routes through it
//! that the kernel deleted as it left, its nexthop objects (with their places in groups, and
//! the routes on them), and its neighbours, bridge VLANs and bridge FDB entries set by hand.

use std::sync::OnceLock;

use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkAttribute;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use serde::de::SeqAccess;

use crate::args;
use crate::batch::wire::{next, ReadContext, WireLink};
use crate::batch::{Effect, Parsed, Step, Undo, View};
use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::message::{encode, Flags};
use crate::netns::Namespace;

use super::get::selector;
use super::kinds::movable;
use super::set::LinkChange;
use super::{LinkRecord, LinkRef};
use crate::addr::{encode_addr_readd, local_ips, readd_order, AddressFilter};
use crate::bridge::left as bridge_left;
use crate::fdb::left as fdb_left;
use crate::neigh::flushed as neigh_flushed;
use crate::nexthop::flushed as nexthop_flushed;
use crate::route::dropped::{
    any_through, by_source_elsewhere, dropped, dropped_of, dump_family, dump_inet, dump_through,
    read_dropped, Cause, FAMILIES,
};
use crate::route::encode::{encode_route, Verb as RouteVerb};
use crate::route::record::read_route;
use crate::route::spec::{Family, Route};
use crate::route::verbs::{encode_readd, index_only};
use crate::transport::Messages;

/// `[code, link, namespace, newName | null]`: moves `link` into the batch's `namespace`-th
/// namespace; the items after it that act on it say `[IN, namespace]` first.
#[derive(Debug)]
pub struct MoveLink {
    pub link: LinkRef,
    /// Where to (the batch's n-th namespace).
    pub to: usize,
    pub new_name: Option<String>,
    /// The link, its addresses and the routes through it when it was moved (read by `send`:
    /// the item may name it by index, and the way back must restore what the move dropped).
    moved: OnceLock<Box<Moved>>,
}

/// What a move takes from the link's namespace with it: read before, put back on the way back.
#[derive(Debug)]
struct Moved {
    link: LinkRecord,
    addresses: Vec<AddressMessage>,
    /// The routes through the link that the kernel deletes as it leaves, other than its own
    /// (which come back with the addresses) and those on nexthop objects (which go with it).
    routes: Vec<Route>,
    /// The requests that put back its neighbours set by hand and, for a bridge port, the FDB
    /// entries set by hand its bridge had for it (`neigh/flushed.rs`, `fdb/left.rs`).
    entries: Vec<Vec<u8>>,
    /// Its nexthop objects, which go with it (None: it had none).
    nexthops: Option<NexthopsTaken>,
}

/// The nexthop objects on a link that leaves (`nexthop/flushed.rs`): every object as read (the
/// groups hold their places), the ids of those on the link, and the routes on any object that
/// goes with them (on them, or on a group they alone made up).
#[derive(Debug)]
struct NexthopsTaken {
    objects: Messages,
    gone: Vec<u32>,
    routes: Vec<Route>,
}

/// The nexthop objects the link `index` takes with it as it leaves, read before (None: none).
async fn nexthops_taken(h: &Handle, op: &str, index: u32) -> Result<Option<NexthopsTaken>> {
    let objects = match h.dump(op, nexthop_flushed::dump_every()).await {
        Ok(objects) => objects,
        // A kernel before 5.3 has no nexthop objects, and refuses their dump.
        Err(e) if e.errno() == Some(libc::EOPNOTSUPP) => return Ok(None),
        Err(e) => return Err(e),
    };
    let gone = nexthop_flushed::on_link(&objects, index);
    if gone.is_empty() {
        return Ok(None);
    }
    let went = nexthop_flushed::went(&objects, &gone);
    let mut routes = Vec::new();
    for family in FAMILIES {
        let read = h.dump(op, dump_family(family)).await?;
        routes.extend(
            read.iter()
                .filter_map(read_route)
                .filter(|r| nexthop_flushed::on_any(r, &went)),
        );
    }
    Ok(Some(NexthopsTaken {
        objects,
        gone,
        routes,
    }))
}

/// The routes the kernel deletes as the link `index` leaves with its `addresses`: every route
/// through it (`route/dropped.rs`), and, when it has IPv4 addresses, those through other links
/// with one of them as their preferred source (`by_source_elsewhere`). The IPv4 routes are then
/// read whole, once, for both (no kernel filter selects by preferred source).
async fn routes_taken(h: &Handle, op: &str, index: u32, addresses: &[AddressMessage]) -> Result<Vec<Route>> {
    let locals = local_ips(
        addresses
            .iter()
            .filter(|a| a.header.family == AddressFamily::Inet),
    );
    if locals.is_empty() {
        return read_dropped(h, op, index, Cause::Leaves).await;
    }
    let inet: Vec<Route> = h
        .dump(op, dump_inet())
        .await?
        .iter()
        .filter_map(read_route)
        .collect();
    let through = inet.iter().filter(|r| any_through(r, index)).cloned();
    let mut routes = dropped_of(through, Family::Inet, index, Cause::Leaves);
    routes.extend(by_source_elsewhere(&inet, index, &locals));
    let inet6 = h.dump(op, dump_through(Family::Inet6, index)).await?;
    routes.extend(dropped(&inet6, Family::Inet6, index, Cause::Leaves));
    Ok(routes)
}

/// What of the link's neighbours, bridge VLANs and bridge FDB entries set by hand a move takes
/// and the way back must put back (see `Moved::entries`).
async fn entries_of(h: &Handle, op: &str, link: &LinkRecord) -> Result<Vec<Vec<u8>>> {
    let mut entries = neigh_flushed::read_set(h, op, link.index).await?;
    if let (Some("bridge"), Some(bridge)) = (link.port_kind.as_deref(), link.master) {
        // Its VLANs first: an FDB entry of a VLAN needs the VLAN on the port.
        let vlans = h.dump(op, bridge_left::dump_request()).await?;
        entries.extend(bridge_left::readd_port_vlans(&vlans, link.index));
        let read = h.dump(op, fdb_left::dump_of_port(link.index)).await?;
        entries.extend(fdb_left::readd_set(&read, bridge, link.mac.as_deref()));
    }
    Ok(entries)
}

/// `route` with the link's index `was` turned into `now` (the link may come back renumbered).
fn renumbered(route: &Route, was: u32, now: u32) -> Route {
    let mut r = route.as_request();
    let swap = |dev: &mut Option<LinkRef>| {
        if *dev == Some(LinkRef::Index(was)) {
            *dev = Some(LinkRef::Index(now));
        }
    };
    swap(&mut r.dev);
    for leg in &mut r.multipath {
        swap(&mut leg.dev);
    }
    r
}

/// A neighbour or FDB request (its `ndmsg` names the link) for the link `was`, now `now`.
fn renumbered_entry(mut request: Vec<u8>, was: u32, now: u32) -> Vec<u8> {
    // nlmsghdr (16), then ndmsg (family, 3 pad bytes, ifindex) or, for VLANs, ifinfomsg
    // (family, pad, type, index): the index at the same place.
    const IFINDEX: std::ops::Range<usize> = 20..24;
    if request.get(IFINDEX) == Some(&was.to_ne_bytes()[..]) {
        request[IFINDEX].copy_from_slice(&now.to_ne_bytes());
    }
    request
}

/// `ip link set INDEX netns NS [name NEW]`, asking for the index `new_index` there when given
/// (IFLA_NEW_IFINDEX; the kernel refuses with EBUSY when a link of the target has it).
fn encode_move(index: u32, to: &Namespace, new_name: Option<&str>, new_index: Option<u32>) -> Vec<u8> {
    let mut msg = selector(&LinkRef::Index(index));
    if let Some(n) = new_name {
        msg.attributes.push(LinkAttribute::IfName(n.to_string()));
    }
    msg.attributes.push(LinkAttribute::NetNsFd(to.raw_fd()));
    if let Some(i) = new_index.and_then(|i| i32::try_from(i).ok()) {
        msg.attributes.push(LinkAttribute::NewIfIndex(i));
    }
    encode(RouteNetlinkMessage::SetLink(msg), Flags::Plain)
}

/// Moves `link` (in the namespace of `to`) back into `home`, asking for the index it had there,
/// or, when another link has that index now, for none.
async fn move_home(
    to: &Handle,
    op: &str,
    link: &LinkRecord,
    home: &Namespace,
    rename: Option<&str>,
    index: u32,
) -> Result<()> {
    let label = Some(link.name.as_str());
    match to
        .ack(op, label, encode_move(link.index, home, rename, Some(index)))
        .await
    {
        Err(e) if e.errno() == Some(libc::EBUSY) => {
            to.ack(op, label, encode_move(link.index, home, rename, None))
                .await?;
        }
        other => {
            other?;
        }
    }
    Ok(())
}

impl MoveLink {
    /// Checks, moves, and recovers from a half-done move (see the module's comment).
    /// `undoable`: a rollback may move it back (then the routes through it are read first).
    pub(crate) async fn send(&self, from: &Handle, to: &Handle, undoable: bool) -> Result<()> {
        let label = self.link.describe();
        let op = Self::OP;
        let link = from
            .link_get(&self.link)
            .await
            .map_err(|e| e.context(op, Some(&label)))?;
        let addresses = from
            .addr_messages(&AddressFilter {
                link: Some(LinkRef::Index(link.index)),
                family: None,
            })
            .await
            .map_err(|e| e.context(op, Some(&label)))?;
        // The loopback has no kind, and its namespace is immutable too (NETIF_F_NETNS_LOCAL);
        // the target's own lo must not be given as the reason.
        if link.flags.contains(&"LOOPBACK") {
            return Err(Error::invalid(
                "link",
                format!(
                    "{} is the loopback: the kernel keeps a namespace's loopback link in it",
                    link.name
                ),
            ));
        }
        if let Some(kind) = link.kind.as_deref().filter(|k| !movable(k)) {
            return Err(Error::invalid(
                "link",
                format!(
                    "{} is a {kind}: the kernel keeps {kind} links in their namespace",
                    link.name
                ),
            ));
        }
        let name_there = self.new_name.clone().unwrap_or_else(|| link.name.clone());
        // A move into the namespace the link is in is the kernel's no-op: there, the link found
        // under its own name is itself.
        let same_namespace = from.namespace().inode() == to.namespace().inode();
        let taken = to.link_get(&LinkRef::Name(name_there.clone())).await;
        if taken.is_ok_and(|there| !(same_namespace && there.index == link.index)) {
            return Err(Error::Kernel {
                errno: libc::EEXIST,
                op: op.into(),
                link: Some(label),
                extack: Some(format!(
                    "a link named {name_there} exists in the target namespace"
                )),
                extack_offset: None,
            });
        }
        // Only a rollback puts them back; a move into its own namespace is the kernel's no-op
        // (no route goes).
        let (routes, entries, nexthops) = if same_namespace || !undoable {
            (Vec::new(), Vec::new(), None)
        } else {
            let read = async {
                // Every route through it, in any table, and those through other links that
                // have one of its IPv4 addresses as their preferred source.
                Ok::<_, Error>((
                    routes_taken(from, op, link.index, &addresses).await?,
                    entries_of(from, op, &link).await?,
                    nexthops_taken(from, op, link.index).await?,
                ))
            };
            read.await.map_err(|e| e.context(op, Some(&label)))?
        };
        let _ = self.moved.set(Box::new(Moved {
            link: link.clone(),
            addresses,
            routes,
            entries,
            nexthops,
        }));
        let request = encode_move(link.index, to.namespace(), self.new_name.as_deref(), None);
        match from.ack(op, Some(&label), request).await {
            Ok(_) => Ok(()),
            Err(e) => {
                // Moved, but not renamed: bring it back under its own name.
                if self.new_name.is_some() {
                    if let Ok(there) = to.link_get(&LinkRef::Name(link.name.clone())).await {
                        let _ = move_home(to, op, &there, from.namespace(), None, link.index).await;
                    }
                }
                Err(e)
            }
        }
    }

    /// The link's name in the target after the move.
    pub fn name_there(&self) -> Option<&str> {
        self.new_name
            .as_deref()
            .or(self.moved.get().map(|m| m.link.name.as_str()))
            .or(self.link.name())
    }

    /// Moves the link back from the target, under its old name and, unless another link took
    /// it meanwhile, its old index: the undos of the items before the move name it by the
    /// index it had (a link entering a namespace keeps the index it had only when that index
    /// is free there, so without asking it came back renumbered whenever the index it had in
    /// the target was taken at home). Returns its index back home, and the routes it could
    /// not put back (their errors).
    pub(crate) async fn move_back(&self, from: &Handle, to: &Handle) -> Result<(u32, Vec<Error>)> {
        let (
            Some(Moved {
                link: was,
                addresses,
                routes,
                entries,
                nexthops,
            }),
            Some(there),
        ) = (self.moved.get().map(|m| &**m), self.name_there())
        else {
            return Err(Error::Protocol {
                op: "batch.undo".into(),
                detail: "the move never read its link".into(),
            });
        };
        let rec = to.link_get(&LinkRef::Name(there.to_string())).await?;
        let rename = self.new_name.as_ref().map(|_| was.name.as_str());
        move_home(to, "batch.undo", &rec, from.namespace(), rename, was.index).await?;
        // Back where it was: what the move took from it.
        let back = from.link_get(&LinkRef::Name(was.name.clone())).await?;
        let restore = LinkChange {
            up: Some(was.up),
            master: was.master.map(|m| Some(LinkRef::Index(m))),
            ..Default::default()
        };
        from.link_set(&LinkRef::Index(back.index), &restore).await?;
        // In the order that makes the kernel list them as before (IPv6 newest first), IPv4
        // ones with their labels.
        let v6 = |a: &&AddressMessage| a.header.family != AddressFamily::Inet;
        for a in readd_order(addresses.iter().collect(), v6) {
            if let Some(request) = encode_addr_readd(back.index, a) {
                from.ack("batch.undo", Some(&was.name), request).await?;
            }
        }
        // Then the routes through it (their gateways are reachable again): appended after the
        // routes of their key (an IPv6 multipath route that lost only this link's legs made
        // whole again, `encode_readd`). One that cannot be added does not stop the others: it
        // is told.
        let mut failed = Vec::new();
        for route in routes {
            let sent = match encode_readd(&renumbered(route, was.index, back.index), back.index) {
                Ok(request) => from.ack("batch.undo", Some(&was.name), request).await.map(drop),
                Err(e) => Err(e),
            };
            failed.extend(sent.err());
        }
        // And its neighbours and bridge FDB entries set by hand (read under its index then:
        // a link that came back renumbered is named by its new one).
        for request in entries {
            let request = renumbered_entry(request.clone(), was.index, back.index);
            let sent = from.ack("batch.undo", Some(&was.name), request).await;
            failed.extend(sent.err());
        }
        // And its nexthop objects, their places in groups, then the routes on them (appended
        // to their keys, as the routes above).
        if let Some(taken) = nexthops {
            let renumber = |i: u32| if i == was.index { back.index } else { i };
            let (objects, _) = nexthop_flushed::readd_renumbered(&taken.objects, &taken.gone, renumber)?;
            let routes = taken
                .routes
                .iter()
                .map(|r| encode_route(&r.as_request(), RouteVerb::Append, index_only));
            for request in objects.into_iter().map(Ok).chain(routes) {
                let sent = match request {
                    Ok(request) => from.ack("batch.undo", Some(&was.name), request).await.map(drop),
                    Err(e) => Err(e),
                };
                failed.extend(sent.err());
            }
        }
        Ok((back.index, failed))
    }

    /// The link's name before the move (known once the move has read it).
    pub(crate) fn name_before(&self) -> Option<&str> {
        self.moved.get().map(|m| m.link.name.as_str())
    }
}

impl Step for MoveLink {
    const OP: &'static str = "link.move";

    fn touches(&self) -> Vec<&LinkRef> {
        vec![&self.link]
    }

    // Its undo needs what it read even after a move that went through: the read of the link
    // in its new namespace may fail after it (a chain's), and moving it back without its
    // addresses and routes would leave it half-made.
    fn fails_whole(&self) -> bool {
        false
    }

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let to: u64 = next(seq, "namespace")?;
        let new_name: Option<String> = next(seq, "name")?;
        Ok((|| {
            let link = cx.link(link)?;
            if let Some(n) = &new_name {
                args::ifname("name", n)?;
            }
            let to = cx.peer_index("target", to)?;
            Ok(MoveLink {
                link,
                to,
                new_name,
                moved: OnceLock::new(),
            })
        })())
    }

    fn label(&self) -> Option<String> {
        Some(self.link.describe())
    }

    fn undo(&self) -> Undo {
        Undo::Inverse
    }

    /// Moves go through `send` (they check first); this is the bare request.
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        let _ = names;
        Err(Error::Protocol {
            op: Self::OP.into(),
            detail: "a move is sent with MoveLink::send".into(),
        })
    }

    fn effect(&self) -> Effect<'_> {
        Effect::Moves(&self.link, self.to, self.name_there())
    }
}

impl Handle {
    /// `ip link set DEV netns NS [name NEW]` on its own (not in a batch).
    pub async fn link_move(&self, link: &LinkRef, target: &Handle, new_name: Option<&str>) -> Result<()> {
        MoveLink {
            link: link.clone(),
            to: 1,
            new_name: new_name.map(str::to_string),
            moved: OnceLock::new(),
        }
        .send(self, target, false)
        .await
    }
}

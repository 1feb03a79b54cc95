//! Nexthop objects (`ip nexthop`, RTM_NEWNEXTHOP, Linux 5.3 and later): single nexthops
//! (gateway and/or link, blackhole, onlink, fdb) and groups (weighted; resilient on 5.13 and
//! later), which routes point at by id. Options and checks in `spec.rs`, requests and objects
//! read back in `encode.rs`; the batch items and their undo below.
//!
//! - add: undone by deleting the id.
//! - replace: every object is read just before (nexthop dumps cannot select an id, and a get
//!   of an absent id is an error the item would fail with); the old object is put back with a
//!   replace, or the new one deleted when there was none.
//! - delete: read the same way and added back, with what the kernel took away with it: the
//!   object is taken out of its groups (a group left empty goes too) and the routes that use
//!   it or such a group are deleted. So the routes of every table are read before as well;
//!   the groups are put back as read, then those routes (`flushed.rs`, which a link's going
//!   down uses too).

pub mod encode;
pub(crate) mod flushed;
pub mod spec;

use serde::de::SeqAccess;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::args;
use crate::batch::wire::{next, ReadContext};
use crate::batch::{Before, Parsed, Read, ReadKey, Reads, Step, Undo, UndoRequest, View};
use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::route::list::{dump_request as route_dump, RouteFilter};
use crate::route::record::read_route;
use crate::route::spec::{Family, Route, NEXTHOP_ID};
use crate::route::verbs::readd_in_order;

pub use encode::NexthopRecord;
pub use spec::{GroupMember, GroupType, Nexthop, NexthopOptions, Resilience};

use encode::{dump_request, encode_delete, encode_get, encode_nexthop, read_nexthop, Verb};

/// `ip nexthop add ...` as a batch item: `[code, options]`.
#[derive(Debug)]
pub struct AddNexthop(pub Nexthop);

/// `ip nexthop replace ...` as a batch item: `[code, options]`.
#[derive(Debug)]
pub struct ReplaceNexthop(pub Nexthop);

/// `ip nexthop del id ID` as a batch item: `[code, id]` or `[code, options]` (the id alone
/// counts: a builder turned into a deletion keeps the options it had).
#[derive(Debug)]
pub struct DeleteNexthop(pub u32);

fn read_options<'de, A: SeqAccess<'de>>(seq: &mut A) -> Parsed<Nexthop, A::Error> {
    let raw: &RawValue = next(seq, "nexthop")?;
    Ok(args::options_raw("nexthop", raw).and_then(Nexthop::parse))
}

/// Every object, read before an item whose undo needs the old one.
fn read_all() -> Reads {
    Reads::dump(flushed::dump_every())
}

/// An object's key in a shared dump of every object (`batch/shared.rs`).
fn read_key(id: u32) -> ReadKey {
    id.to_be_bytes().to_vec()
}

/// The object with `id` as read before.
fn was(before: &Before, id: u32) -> Option<Nexthop> {
    before
        .first()?
        .iter()
        .filter_map(read_nexthop)
        .find(|n| n.id == id)
}

fn label(id: u32) -> Option<String> {
    Some(format!("nexthop {id}"))
}

impl Step for AddNexthop {
    const OP: &'static str = "nexthop.add";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, _: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(read_options(seq)?.map(AddNexthop))
    }
    fn label(&self) -> Option<String> {
        label(self.0.id)
    }
    fn links(&self) -> Vec<&LinkRef> {
        self.0.links()
    }
    fn undo(&self) -> Undo {
        Undo::Inverse
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        encode_nexthop(&self.0, Verb::Add, |l| names.index_of(l))
    }
    fn encode_undo(&self, names: &View, _: &Before) -> Result<Vec<UndoRequest>> {
        Ok(vec![(names.target, encode_delete(self.0.id))])
    }
    // It reads nothing, but the dump of every object no longer shows this one as it is.
    fn reads(&self, _: &View) -> Result<Reads> {
        Ok(read_all())
    }
    fn read_key(&self, _: &View) -> Option<ReadKey> {
        Some(read_key(self.0.id))
    }
}

impl Step for ReplaceNexthop {
    const OP: &'static str = "nexthop.replace";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, _: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(read_options(seq)?.map(ReplaceNexthop))
    }
    fn label(&self) -> Option<String> {
        label(self.0.id)
    }
    fn links(&self) -> Vec<&LinkRef> {
        self.0.links()
    }
    // The object it replaced comes back before a link the run made is deleted.
    fn goes_with(&self) -> Vec<&LinkRef> {
        Vec::new()
    }
    fn undo(&self) -> Undo {
        Undo::Restore
    }
    fn reads(&self, _: &View) -> Result<Reads> {
        Ok(read_all())
    }
    // A replaced object changes alone (a deletion also changes the groups and routes using it:
    // it has no key, and reads a dump of its own).
    fn read_key(&self, _: &View) -> Option<ReadKey> {
        Some(read_key(self.0.id))
    }
    fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
        read_nexthop(message).map(|n| read_key(n.id))
    }
    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        encode_nexthop(&self.0, Verb::Replace, |l| names.index_of(l))
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let request = match was(before, self.0.id) {
            Some(n) => encode_nexthop(&n.as_request(), Verb::Replace, index_only)?,
            None => encode_delete(self.0.id),
        };
        Ok(vec![(names.target, request)])
    }
}

impl Step for DeleteNexthop {
    const OP: &'static str = "nexthop.delete";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, _: &mut ReadContext) -> Parsed<Self, A::Error> {
        #[derive(Deserialize)]
        struct Id {
            id: u32,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum IdOrOptions {
            Id(u32),
            Options(Id),
        }
        let id = match next(seq, "id")? {
            IdOrOptions::Id(id) | IdOrOptions::Options(Id { id }) => id,
        };
        Ok(NEXTHOP_ID.check("id", id).map(DeleteNexthop))
    }
    fn label(&self) -> Option<String> {
        label(self.0)
    }
    fn undo(&self) -> Undo {
        Undo::Restore
    }
    // Every object (it and the groups it is in), then the routes of every table of each family.
    fn reads(&self, _: &View) -> Result<Reads> {
        let mut reads = read_all();
        for family in [Family::Inet, Family::Inet6] {
            let filter = RouteFilter {
                family: Some(family),
                ..Default::default()
            };
            reads.requests.push(Read::dump(route_dump(&filter)));
        }
        Ok(reads)
    }
    fn encode(&self, _: &View) -> Result<Vec<u8>> {
        Ok(encode_delete(self.0))
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let (Some(objects), Some(_)) = (before.first(), was(before, self.0)) else {
            return Ok(Vec::new());
        };
        let routes: Vec<Route> = before
            .iter()
            .skip(1)
            .flat_map(|m| m.iter().filter_map(read_route))
            .collect();
        let (mut requests, went) = flushed::readd(objects, &[self.0])?;
        requests.extend(readd_in_order(&routes, |r| flushed::on_any(r, &went))?);
        Ok(requests.into_iter().map(|r| (names.target, r)).collect())
    }
}

fn index_only(l: &LinkRef) -> Result<u32> {
    crate::route::verbs::index_only(l)
}

/// Which objects a listing wants (`ns.nexthops(filter)`), filtered by the kernel.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NexthopListOptions {
    /// Nexthops out of this link.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub dev: Option<LinkRef>,
    /// Groups only.
    pub groups: Option<bool>,
    /// FDB nexthops only.
    pub fdb: Option<bool>,
}

impl Handle {
    /// `ip nexthop show [dev DEV] [groups] [fdb]`.
    pub async fn nexthop_list(&self, o: &NexthopListOptions) -> Result<Vec<NexthopRecord>> {
        let oif = match &o.dev {
            Some(l) => {
                l.validate("dev")?;
                Some(
                    self.link_index(l)
                        .await
                        .map_err(|e| e.context("nexthop.list", Some(&l.describe())))?,
                )
            }
            None => None,
        };
        let fdb = o.fdb.unwrap_or(false);
        let request = dump_request(oif, o.groups.unwrap_or(false), fdb);
        let messages = self.dump("nexthop.list", request).await?;
        let names = self.link_names().await?;
        Ok(messages
            .iter()
            .filter_map(read_nexthop)
            // The kernel takes NHA_FDB in a dump request but (up to 6.18 at least) does not
            // filter by it: done here.
            .filter(|n| !fdb || n.fdb)
            .map(|n| n.record(&|i| names.get(&i).cloned()))
            .collect())
    }

    /// `ip nexthop get id ID` (ENOENT when there is none).
    pub async fn nexthop_get(&self, id: u32) -> Result<NexthopRecord> {
        NEXTHOP_ID.check("id", id)?;
        let reply = self
            .reply("nexthop.get", Some(&format!("nexthop {id}")), encode_get(id))
            .await?;
        let nh = reply
            .messages
            .iter()
            .find_map(read_nexthop)
            .ok_or_else(|| Error::Protocol {
                op: "nexthop.get".into(),
                detail: "no nexthop in the answer".into(),
            })?;
        let names = self.link_names().await?;
        Ok(nh.record(&|i| names.get(&i).cloned()))
    }
}

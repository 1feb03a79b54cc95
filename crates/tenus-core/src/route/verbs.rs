//! The route verbs as batch items, `[code, options]`: add, replace, append, prepend, change
//! and delete, and how a rollback takes each back.
//!
//! - add, append, prepend: undone by deleting exactly the route they added (same prefix,
//!   table, metric, type, protocol, gateways and links; on IPv6 an appended leg that the
//!   kernel merged into a multipath route is removed from it alone). A deletion takes the
//!   first route it matches, comparing only what it gives: one without a gateway also
//!   matches routes through one (IPv6 does not even compare types), an IPv4 one through a
//!   gateway matches a route through it with another MTU, source, realm or weight. Where the
//!   key already held such a route, read before the append, the key is emptied and what it
//!   held appended again, in order (`restore_key`).
//! - replace, change: the routes of the table are read just before (a dump filtered by table:
//!   no request reads one route by its key) and the one with the same key (prefix, TOS,
//!   metric; IPv6: prefix, source prefix, metric) is put back with a replace (of several with
//!   that key, IPv4 appended routes, the first: the one the kernel replaced, and the one an
//!   undo's replace replaces again, as long as undos keep every route in its place); when
//!   there was none, the new route is deleted. One dump serves a run of route items on one table, each
//!   given the routes of its own prefix (`read_key`, `batch/shared.rs`).
//! - delete: read the same way; the route the kernel deleted (the first one matching what was
//!   asked) is added back: on IPv4 where it stood among the routes with the same key (appended
//!   routes: `readd_in_place`); on IPv6 a multipath route one leg was taken from by a replace
//!   (whole again), a route taken whole by emptying its key and appending what it held (an
//!   IPv6 replace would overwrite the first other route with the key).
//!
//! A route put back has what it was read with, including what tenus has no option for: its
//! realm and lightweight-tunnel encap (and its legs'), TTL propagation, `congctl`.
//!
//! What cannot be undone: a route's expiry (RTA_EXPIRES) and cached exceptions (learnt path
//! MTUs, redirects) are not read; the kernel's own routes put back get protocol 'kernel' again
//! but are now static (they no longer follow their address).

use std::marker::PhantomData;

use serde::de::SeqAccess;
use serde_json::value::RawValue;

use crate::args;
use crate::batch::wire::{next, ReadContext};
use crate::batch::{Before, Parsed, ReadKey, Reads, Step, Undo, UndoRequest, View};
use crate::error::Result;
use crate::link::LinkRef;

use super::encode::{encode_route, Verb};
use super::list::{dump_request, RouteFilter};
use super::record::read_route;
use super::spec::{Family, Purpose, Route, RouteOptions};

/// One verb's name and request flags.
pub trait RouteVerb: Send + Sync + 'static {
    const OP: &'static str;
    const VERB: Verb;
}

macro_rules! verbs {
    ($($marker:ident, $alias:ident, $op:literal, $verb:ident;)*) => {$(
        #[derive(Debug)]
        pub struct $marker;
        impl RouteVerb for $marker {
            const OP: &'static str = $op;
            const VERB: Verb = Verb::$verb;
        }
        pub type $alias = RouteItem<$marker>;
    )*};
}

verbs! {
    AddVerb, AddRoute, "route.add", Add;
    ReplaceVerb, ReplaceRoute, "route.replace", Replace;
    AppendVerb, AppendRoute, "route.append", Append;
    PrependVerb, PrependRoute, "route.prepend", Prepend;
    ChangeVerb, ChangeRoute, "route.change", Change;
    DeleteVerb, DeleteRoute, "route.delete", Delete;
}

/// A route item: `[code, dst, options]`.
#[derive(Debug)]
pub struct RouteItem<V> {
    pub route: Route,
    verb: PhantomData<V>,
}

impl<V: RouteVerb> RouteItem<V> {
    pub fn new(route: Route) -> Self {
        RouteItem {
            route,
            verb: PhantomData,
        }
    }

    /// The route of the request that deletes exactly the route this item installs (an IPv6
    /// deletion without a metric would take the route with the lowest one).
    fn what_was_added(&self) -> Route {
        let mut r = self.route.clone();
        r.scope = Some(r.scope_for(V::VERB.purpose()));
        if r.family == Family::Inet6 {
            r.metric = Some(r.effective_metric());
            // A leg the kernel merged into another multipath route may have been put back by a
            // later undo with that route's protocol (dumps show one per route); its gateway
            // names it alone (IPv6 refuses the same gateway twice).
            if r.gateway.is_some() || !r.multipath.is_empty() {
                r.protocol = 0;
            }
        }
        r
    }

    /// The request that deletes exactly the route this item installs.
    fn delete_what_was_added(&self, names: &View) -> Result<Vec<u8>> {
        encode_route(&self.what_was_added(), Verb::Delete, |l| names.index_of(l))
    }

    /// The undo of an append or prepend: deleting what it added, unless that deletion would
    /// match a route the key held before it: the kernel might take that one instead. IPv4
    /// compares only what a deletion gives (one without a gateway matches any route on its
    /// link; one through a gateway, a route through it with another MTU, source or realm), and
    /// takes the first match; an IPv6 deletion through a gateway takes that leg alone (the
    /// kernel refuses one gateway twice in a key).
    fn undo_addition(&self, names: &View, before: &Before) -> Result<Vec<Vec<u8>>> {
        let r = &self.route;
        let precise = r.family == Family::Inet6
            && (r.gateway.is_some() || !r.multipath.is_empty() || r.nexthop.is_some());
        let key: Vec<Route> = Self::read_before(before)
            .into_iter()
            .filter(|k| k.same_key(r))
            .collect();
        let added = self.what_was_added();
        if precise || !key.iter().any(|k| deletion_matches(&added, k, names)) {
            return Ok(vec![self.delete_what_was_added(names)?]);
        }
        // The routes of the key now: those read and the one added (not merged into one: it
        // has no gateway).
        restore_key(r, key.len() + 1, &key)
    }

    /// The routes of the table as read before the item.
    fn read_before(before: &Before) -> Vec<Route> {
        before
            .first()
            .map(|m| m.iter().filter_map(read_route).collect())
            .unwrap_or_default()
    }
}

/// Whether the kernel would take the route `read` for the deletion `d` (what the deletion
/// leaves out matches anything; IPv6 compares no types, and takes a route on a nexthop object
/// whatever link or gateway the deletion names).
fn deletion_matches(d: &Route, read: &Route, names: &View) -> bool {
    let index = |l: &Option<LinkRef>| l.as_ref().and_then(|l| names.index_of(l).ok());
    let same_prefix = d.family == read.family
        && d.table == read.table
        && d.dst.map(|p| (p.addr, p.len)) == read.dst.map(|p| (p.addr, p.len))
        && d.src == read.src
        && d.tos == read.tos;
    let gateways: Vec<_> = read
        .gateway
        .iter()
        .chain(read.multipath.iter().filter_map(|l| l.gateway.as_ref()))
        .collect();
    let devs: Vec<u32> = index(&read.dev)
        .into_iter()
        .chain(read.multipath.iter().filter_map(|l| index(&l.dev)))
        .collect();
    let v6 = d.family == Family::Inet6;
    let on_object = v6 && read.nexthop.is_some() && d.nexthop.is_none();
    // IPv6 legs are routes of their own, each with its protocol; a dump shows the first's.
    let legs_v6 = v6 && read.multipath.len() > 1;
    same_prefix
        && d.metric.is_none_or(|m| read.effective_metric() == m)
        && (v6 || d.kind == 0 || d.kind == read.kind)
        && (legs_v6 || d.protocol == 0 || d.protocol == read.protocol)
        && (on_object || d.gateway.as_ref().is_none_or(|g| gateways.contains(&g)))
        && (on_object || index(&d.dev).is_none_or(|i| devs.contains(&i)))
        && d.nexthop.is_none_or(|id| read.nexthop == Some(id))
}

/// The requests that empty the key of `route` (`now`: how many routes it holds, a multipath
/// route counting once) and append `was` again, in order: the key as read before.
fn restore_key(route: &Route, now: usize, was: &[Route]) -> Result<Vec<Vec<u8>>> {
    // Prefix, source, TOS, table and metric alone: each such deletion takes the key's first
    // route, whatever its type, protocol, gateways or links (IPv6: all its legs).
    let mut any = Route {
        protocol: 0,
        scope: None,
        kind: 0,
        flags: 0,
        gateway: None,
        dev: None,
        prefsrc: None,
        metric: Some(route.effective_metric()),
        multipath: Vec::new(),
        nexthop: None,
        pref: None,
        expires: None,
        ..route.clone()
    };
    any.metrics = Default::default();
    any.kept = Default::default();
    let wipe = encode_route(&any, Verb::Delete, index_only)?;
    let mut out = vec![wipe; now];
    for r in was {
        out.push(encode_route(&r.as_request(), Verb::Append, index_only)?);
    }
    Ok(out)
}

impl<V: RouteVerb> Step for RouteItem<V> {
    const OP: &'static str = V::OP;

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, _cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        let dst: String = next(seq, "dst")?;
        let raw: &RawValue = next(seq, "route")?;
        Ok(parse_item(dst, raw, V::VERB.purpose()).map(Self::new))
    }

    fn label(&self) -> Option<String> {
        Some(self.route.label())
    }

    fn links(&self) -> Vec<&LinkRef> {
        self.route.links()
    }

    // A replace or change onto a link the run made is undone on its own (the route it replaced
    // comes back) before that link is deleted; what an addition made goes with the link.
    fn goes_with(&self) -> Vec<&LinkRef> {
        match V::VERB {
            Verb::Replace | Verb::Change => Vec::new(),
            _ => self.route.links(),
        }
    }

    fn undo(&self) -> Undo {
        match V::VERB {
            Verb::Add => Undo::Inverse,
            // An append or prepend reads its key before: its undo may have to put it back.
            Verb::Append | Verb::Prepend | Verb::Replace | Verb::Change | Verb::Delete => Undo::Restore,
        }
    }

    fn reads(&self, _: &View) -> Result<Reads> {
        let filter = RouteFilter {
            family: Some(self.route.family),
            table: Some(self.route.table),
            ..Default::default()
        };
        Ok(Reads::dump(dump_request(&filter)))
    }

    /// A table that does not exist yet (strict dumps refuse it with ENOENT) has no routes.
    fn absent(&self, error: &crate::error::Error) -> bool {
        error.errno() == Some(libc::ENOENT)
    }

    fn read_key(&self, _: &View) -> Option<ReadKey> {
        Some(read_key(&self.route))
    }

    fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
        read_route(message).map(|r| read_key(&r))
    }

    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        encode_route(&self.route, V::VERB, |l| names.index_of(l))
    }

    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let t = names.target;
        match V::VERB {
            Verb::Add => Ok(vec![(t, self.delete_what_was_added(names)?)]),
            Verb::Append | Verb::Prepend => Ok(self
                .undo_addition(names, before)?
                .into_iter()
                .map(|r| (t, r))
                .collect()),
            Verb::Replace | Verb::Change => {
                let was = Self::read_before(before)
                    .into_iter()
                    .find(|r| r.same_key(&self.route));
                Ok(vec![(
                    t,
                    match was {
                        Some(r) => encode_route(&r.as_request(), Verb::Replace, index_only)?,
                        None => self.delete_what_was_added(names)?,
                    },
                )])
            }
            Verb::Delete => {
                let read = Self::read_before(before);
                let Some(at) = read.iter().position(|r| deletion_matches(&self.route, r, names)) else {
                    return Ok(Vec::new());
                };
                let was = &read[at];
                let requests = match was.family {
                    Family::Inet => readd_in_place(&read, at)?,
                    // A deletion through a gateway takes that leg alone: the rest of the route stays,
                    // and a replace makes it whole (IPv6 replaces the first route with legs).
                    Family::Inet6 if self.route.gateway.is_some() && was.multipath.len() > 1 => {
                        vec![encode_route(&was.as_request(), Verb::Replace, index_only)?]
                    }
                    Family::Inet6 => {
                        let key: Vec<Route> = read.iter().filter(|r| r.same_key(was)).cloned().collect();
                        restore_key(was, key.len() - 1, &key)?
                    }
                };
                Ok(requests.into_iter().map(|r| (t, r)).collect())
            }
        }
    }
}

/// The request that puts back a route through the link `gone` the kernel deleted as the link
/// left the namespace, as it was read (`route`: already a request, see
/// `RouteRecord::as_request`, with the link's index now): an IPv4 one after the routes of its
/// key; an IPv6 multipath route that only lost the link's legs by a replace (whole again), any
/// other IPv6 one appended (a replace would overwrite another route with its key).
pub(crate) fn encode_readd(route: &Route, gone: u32) -> Result<Vec<u8>> {
    let shrunk = route
        .multipath
        .iter()
        .any(|leg| leg.dev.as_ref().is_some_and(|l| *l != LinkRef::Index(gone)));
    let verb = match route.family {
        Family::Inet6 if shrunk => Verb::Replace,
        Family::Inet | Family::Inet6 => Verb::Append,
    };
    encode_route(route, verb, index_only)
}

/// The requests that put back, where they stood, the routes of `read` (a table's or every
/// table's routes, in the kernel's order) for which `went` holds: the kernel deleted them along
/// with something else (a nexthop object). Per key that lost any: IPv4, the routes from the
/// first that went on are taken away and appended again in order; IPv6, the key is emptied and
/// all its routes appended again (`restore_key`: an IPv6 replace would overwrite another route).
pub(crate) fn readd_in_order(read: &[Route], went: impl Fn(&Route) -> bool) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut done: Vec<&Route> = Vec::new();
    for (at, first) in read.iter().enumerate() {
        if !went(first) || done.iter().any(|d| d.same_key(first)) {
            continue;
        }
        done.push(first);
        let key: Vec<&Route> = read.iter().filter(|r| r.same_key(first)).collect();
        match first.family {
            Family::Inet => {
                let after: Vec<&Route> = read[at..].iter().filter(|r| r.same_key(first)).collect();
                for r in after.iter().filter(|r| !went(r)) {
                    out.push(encode_route(&r.as_request(), Verb::Delete, index_only)?);
                }
                for r in after {
                    out.push(encode_route(&r.as_request(), Verb::Append, index_only)?);
                }
            }
            Family::Inet6 => {
                let left = key.iter().filter(|r| !went(r)).count();
                let was: Vec<Route> = key.into_iter().cloned().collect();
                out.extend(restore_key(first, left, &was)?);
            }
        }
    }
    Ok(out)
}

/// The requests that put the IPv4 route `read[at]` a deletion took back where it stood among
/// the routes with its key (`read`: the table's routes of its prefix, in the kernel's order).
/// The kernel adds a route only in front of them (prepend) or after them (append): one that
/// stood between others comes back by taking those after it away, appending it, and appending
/// them again. Put back anywhere else, a replace under that key undone later would put its
/// route in place of the wrong one (a replace changes the first route with the key).
fn readd_in_place(read: &[Route], at: usize) -> Result<Vec<Vec<u8>>> {
    let was = &read[at];
    let same_key = |r: &&Route| r.same_key(was);
    if !read[..at].iter().any(|r| same_key(&r)) {
        return Ok(vec![encode_route(&was.as_request(), Verb::Prepend, index_only)?]);
    }
    let after: Vec<&Route> = read[at + 1..].iter().filter(same_key).collect();
    let mut out = Vec::with_capacity(2 * after.len() + 1);
    for r in &after {
        out.push(encode_route(&r.as_request(), Verb::Delete, index_only)?);
    }
    for r in std::iter::once(was).chain(after) {
        out.push(encode_route(&r.as_request(), Verb::Append, index_only)?);
    }
    Ok(out)
}

/// The routes one item may change or delete, as a shared dump of its table finds them: same
/// family, table and destination prefix (a deletion without a metric takes any of them).
fn read_key(route: &Route) -> ReadKey {
    let mut key = vec![route.family.code()];
    key.extend_from_slice(&route.table.to_be_bytes());
    // `default` and a prefix of length 0 are the same route.
    if let Some(p) = route.dst.filter(|p| p.len > 0) {
        key.push(p.len);
        match p.addr {
            std::net::IpAddr::V4(a) => key.extend_from_slice(&a.octets()),
            std::net::IpAddr::V6(a) => key.extend_from_slice(&a.octets()),
        }
    }
    key
}

/// What a batch's routes share: bulk work adds thousands of routes that differ only in their
/// destination (`b.route(dst, { via, dev, table })` in a loop). The last options read, with
/// the route they made, are kept (per thread: batches are read on the I/O thread, one at a
/// time); an item with the same options text, purpose and kind of destination reuses that
/// route with its own destination instead of reading and checking the options again. Nothing
/// else in the checks depends on the destination's value.
struct Template {
    text: String,
    purpose: Purpose,
    kind: DstKind,
    route: Route,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DstKind {
    Default,
    V4,
    V6,
}

fn dst_kind(dst: &str) -> DstKind {
    if dst == "default" {
        DstKind::Default
    } else if dst.contains(':') {
        DstKind::V6
    } else {
        DstKind::V4
    }
}

thread_local! {
    static LAST: std::cell::RefCell<Option<Template>> = const { std::cell::RefCell::new(None) };
}

/// Reads one item's destination and options into a checked route.
fn parse_item(dst: String, raw: &RawValue, purpose: Purpose) -> Result<Route> {
    let kind = dst_kind(&dst);
    let cached = LAST.with(|last| {
        let last = last.borrow();
        let t = last.as_ref()?;
        (t.text == raw.get() && t.purpose == purpose && t.kind == kind).then(|| t.route.clone())
    });
    if let Some(mut route) = cached {
        if kind != DstKind::Default {
            route.dst = Some(super::spec::prefix("dst", &dst)?);
        }
        return Ok(route);
    }
    let mut o: RouteOptions = args::options_raw("route", raw)?;
    // A record given back carries its `dst`: the same as the item's, or refused. Such options
    // are not kept as a template (the next item's destination would go unchecked against it).
    let given = !o.dst.is_empty();
    if given && o.dst != dst {
        return Err(crate::error::Error::invalid(
            "dst",
            format!(
                "{:?} in the options is not the destination given before them ({dst:?})",
                o.dst
            ),
        ));
    }
    o.dst = dst;
    let route = Route::parse(o, purpose)?;
    if given {
        return Ok(route);
    }
    LAST.with(|last| {
        *last.borrow_mut() = Some(Template {
            text: raw.get().to_string(),
            purpose,
            kind,
            route: route.clone(),
        })
    });
    Ok(route)
}

/// Links of a route read from the kernel are indexes.
pub(crate) fn index_only(l: &LinkRef) -> Result<u32> {
    match l {
        LinkRef::Index(i) => Ok(*i),
        LinkRef::Name(n) => Err(crate::error::Error::kernel_errno(libc::ENODEV, "route", n)),
    }
}

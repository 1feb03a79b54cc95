//! The table of batch operations: one line per verb, `code => Variant(Type)`. The `Op` enum,
//! every dispatch on it and the wire codes handed to JavaScript are generated from it; each
//! type implements `Step` next to the object it acts on.

use serde::de::SeqAccess;

use crate::addr::{AddAddr, DelAddr, ReplaceAddr};
use crate::error::{Error, Result};
use crate::link::add::AddLink;
use crate::link::del::{DelGroup, DelLink};
use crate::link::get::GetLink;
use crate::link::mv::MoveLink;
use crate::link::set::SetLink;
use crate::link::{LinkRecord, LinkRef};
use crate::route::Gateway;
// Routing (issue 13 part A).
use crate::nexthop::{AddNexthop, DeleteNexthop, ReplaceNexthop};
use crate::route::verbs::{AddRoute, AppendRoute, ChangeRoute, DeleteRoute, PrependRoute, ReplaceRoute};
use crate::rule::{AddRule, DeleteRule};
use crate::transport::Messages;

use super::names::View;
use super::step::{Before, Effect, Parsed, ReadKey, Reads, Step, Undo, UndoRequest};
use super::wire::ReadContext;

macro_rules! ops {
    ($($code:literal => $variant:ident($ty:ty),)*) => {
        /// One batch item's operation.
        #[derive(Debug)]
        pub enum Op {
            $($variant($ty),)*
        }

        /// Operation names and their wire codes (`[code, ...arguments]`).
        pub const OP_CODES: &[(&str, u8)] = &[$((<$ty as Step>::OP, $code),)*];

        /// Reads the arguments of the item with `code`.
        pub(crate) fn read_op<'de, A: SeqAccess<'de>>(
            code: u8,
            seq: &mut A,
            cx: &mut ReadContext,
        ) -> Parsed<Op, A::Error> {
            match code {
                $($code => Ok(<$ty as Step>::read(seq, cx)?.map(Op::$variant)),)*
                other => Err(serde::de::Error::custom(format!("unknown batch operation {other}"))),
            }
        }

        impl Op {
            pub fn name(&self) -> &'static str {
                match self { $(Op::$variant(_) => <$ty as Step>::OP,)* }
            }
            pub fn label(&self) -> Option<String> {
                match self { $(Op::$variant(s) => s.label(),)* }
            }
            pub fn explain(&self, error: Error) -> Error {
                match self { $(Op::$variant(s) => s.explain(error),)* }
            }
            pub fn links(&self) -> Vec<&LinkRef> {
                match self { $(Op::$variant(s) => s.links(),)* }
            }
            pub fn goes_with(&self) -> Vec<&LinkRef> {
                match self { $(Op::$variant(s) => s.goes_with(),)* }
            }
            pub fn touches(&self) -> Vec<&LinkRef> {
                match self { $(Op::$variant(s) => s.touches(),)* }
            }
            pub fn restores_when_failed(&self) -> bool {
                match self { $(Op::$variant(s) => s.restores_when_failed(),)* }
            }
            pub fn fails_whole(&self) -> bool {
                match self { $(Op::$variant(s) => s.fails_whole(),)* }
            }
            pub fn undo(&self) -> Undo {
                match self { $(Op::$variant(s) => s.undo(),)* }
            }
            pub fn reads(&self, names: &View) -> Result<Reads> {
                match self { $(Op::$variant(s) => s.reads(names),)* }
            }
            pub fn absent(&self, error: &Error) -> bool {
                match self { $(Op::$variant(s) => s.absent(error),)* }
            }
            pub fn read_key(&self, names: &View) -> Option<ReadKey> {
                match self { $(Op::$variant(s) => s.read_key(names),)* }
            }
            pub fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
                match self { $(Op::$variant(s) => s.answer_key(message),)* }
            }
            pub fn changed_link(&self, before: &Before) -> Option<u32> {
                match self { $(Op::$variant(s) => s.changed_link(before),)* }
            }
            pub fn reads_more(&self, names: &View, first: &Before) -> Result<Reads> {
                match self { $(Op::$variant(s) => s.reads_more(names, first),)* }
            }
            pub fn encode(&self, names: &View) -> Result<Vec<u8>> {
                match self { $(Op::$variant(s) => s.encode(names),)* }
            }
            pub fn returns_data(&self) -> bool {
                match self { $(Op::$variant(s) => s.returns_data(),)* }
            }
            pub fn record(&self, reply: &Messages) -> Option<LinkRecord> {
                match self { $(Op::$variant(s) => s.record(reply),)* }
            }
            pub fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
                match self { $(Op::$variant(s) => s.encode_undo(names, before),)* }
            }
            pub fn encode_undo_failed(&self, names: &View, before: &Before, error: &Error) -> Result<Vec<UndoRequest>> {
                match self { $(Op::$variant(s) => s.encode_undo_failed(names, before, error),)* }
            }
            pub fn undo_again(&self, names: &View, error: &Error) -> Option<UndoRequest> {
                match self { $(Op::$variant(s) => s.undo_again(names, error),)* }
            }
            pub fn effect(&self) -> Effect<'_> {
                match self { $(Op::$variant(s) => s.effect(),)* }
            }
        }
    };
}

ops! {
    0 => AddLink(AddLink),
    1 => SetLink(SetLink),
    2 => DelLink(DelLink),
    3 => AddAddr(AddAddr),
    4 => ReplaceAddr(ReplaceAddr),
    5 => DelAddr(DelAddr),
    6 => Gateway(Gateway),
    7 => DelGroup(DelGroup),
    8 => MoveLink(MoveLink),
    9 => GetLink(GetLink),
    // Routing (issue 13 part A): codes 40..=59.
    40 => AddRoute(AddRoute),
    41 => ReplaceRoute(ReplaceRoute),
    42 => AppendRoute(AppendRoute),
    43 => PrependRoute(PrependRoute),
    44 => ChangeRoute(ChangeRoute),
    45 => DeleteRoute(DeleteRoute),
    46 => AddRule(AddRule),
    47 => DeleteRule(DeleteRule),
    48 => AddNexthop(AddNexthop),
    49 => ReplaceNexthop(ReplaceNexthop),
    50 => DeleteNexthop(DeleteNexthop),
    // Issue 13, part B: neighbours, the bridge FDB, bridge VLANs (codes 60-79).
    60 => AddNeighbour(crate::neigh::add::AddNeighbour),
    61 => ReplaceNeighbour(crate::neigh::add::ReplaceNeighbour),
    62 => DelNeighbour(crate::neigh::del::DelNeighbour),
    63 => AddFdb(crate::fdb::add::AddFdb),
    64 => AppendFdb(crate::fdb::add::AppendFdb),
    65 => ReplaceFdb(crate::fdb::add::ReplaceFdb),
    66 => DelFdb(crate::fdb::del::DelFdb),
    67 => AddBridgeVlan(crate::bridge::vlan::AddBridgeVlan),
    68 => DelBridgeVlan(crate::bridge::vlan::DelBridgeVlan),
    69 => SetBridge(crate::bridge::settings::SetBridge),
    // Bridge port settings (issue 15, the CNI bridge plugin's hairpinMode and portIsolation;
    // its vlan and vlanTrunk are the bridge.vlan items above): codes 80..=89.
    80 => SetPort(crate::link::port::SetPort),
}

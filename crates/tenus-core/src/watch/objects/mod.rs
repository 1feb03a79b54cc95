//! The table of objects a watcher can follow. Each is one file in this folder implementing
//! `Object` (`../object.rs`) and one line here:
//! `mod file { option = "name": Variant => Type(JsRecord); }` — `option` is the `watch()`
//! option that selects it (`links: true`), `name` its name in events (`Object::NAME`, which a
//! test checks), `JsRecord` the record type JavaScript sees (the listing's; named here so that
//! index.d.ts can name it).
//! Lines are in dependency order (a link before its addresses): a watcher dumps and reports
//! existing objects in this order, and reports deletions that a resync finds in the reverse.
//! The key, record and option types below, and the event types in `index.d.ts`, are generated
//! from the table.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::object::{Object, Read, Set};

macro_rules! objects {
    ($(mod $module:ident { $option:ident = $name:literal: $variant:ident => $ty:ident($js:ident); })*) => {
        $(pub mod $module;)*
        $(use $module::$ty;)*
        #[cfg(feature = "napi")]
        use self::js_records::*;

        /// A kind of object a watcher follows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ObjectKind {
            $($variant,)*
        }

        /// What identifies an object of any kind (ordered by kind, in table order, first).
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Key {
            $($variant(<$ty as Object>::Key),)*
        }

        /// The record of an object of any kind, written to JSON as the record alone.
        // Always held in an Arc: the size of the largest record costs nothing per event.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        pub enum Record {
            $($variant(<$ty as Object>::Record),)*
        }

        /// What `watch()` takes: which objects to follow, and how.
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[cfg_attr(feature = "napi", napi_derive::napi(object, object_to_js = false, object_from_js = false))]
        pub struct WatchOptions {
            $(pub $option: Option<bool>,)*
            /// Report the objects that exist first (action 'new'), then the changes.
            pub existing: Option<bool>,
            /// Bytes of kernel buffer for events not read yet (SO_RCVBUFFORCE when privileged,
            /// else capped by net.core.rmem_max). A burst larger than this is an overrun,
            /// recovered by a resync. Default 4 MiB.
            #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
            pub receive_buffer: Option<u64>,
            /// Events held for a consumer that reads slower than they come; past this many the
            /// watcher stops holding them and resyncs when the consumer catches up. Default 4096
            /// (the JavaScript side holds up to two batches of 1,024 more).
            #[cfg_attr(feature = "napi", napi(ts_type = "number"))]
            pub queue: Option<u64>,
        }

        /// The record each object's events carry, by object name: `ChangeEvent` is derived
        /// from it.
        #[cfg(feature = "napi")]
        #[napi_derive::napi(object, object_to_js = false, object_from_js = false)]
        pub struct WatchRecordTable {
            $(#[napi(js_name = $name)] pub $option: Option<$js>,)*
        }

        #[cfg(test)]
        #[test]
        fn the_table_spells_each_object_as_the_object_does() {
            $(assert_eq!($name, <$ty as Object>::NAME);)*
            $(assert_eq!(
                stringify!($js),
                std::any::type_name::<<$ty as Object>::Js>().rsplit("::").next().unwrap()
            );)*
        }

        impl ObjectKind {
            /// Every kind, in table order.
            pub const ALL: &'static [ObjectKind] = &[$(ObjectKind::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(ObjectKind::$variant => <$ty as Object>::NAME,)* }
            }

            pub fn groups(self) -> &'static [u32] {
                match self { $(ObjectKind::$variant => <$ty as Object>::GROUPS,)* }
            }

            pub fn types(self) -> &'static [u16] {
                match self { $(ObjectKind::$variant => <$ty as Object>::TYPES,)* }
            }

            pub fn dump(self) -> Vec<u8> {
                match self { $(ObjectKind::$variant => <$ty as Object>::dump(),)* }
            }

            /// Its records name links: the watcher follows links too, for their names.
            pub fn names_links(self) -> bool {
                match self { $(ObjectKind::$variant => <$ty as Object>::NAMES_LINKS,)* }
            }

            /// Its objects go silently with their link.
            pub fn goes_with_link(self) -> bool {
                match self { $(ObjectKind::$variant => <$ty as Object>::GOES_WITH_LINK,)* }
            }

            /// Reads one message of this kind's.
            pub fn read(self, msg: &[u8], names: &Names) -> Option<Said> {
                match self {
                    $(ObjectKind::$variant => {
                        if let Some(s) = <$ty as Object>::read_set(msg, names) {
                            let s: Set<_, _> = s;
                            return Some(Said::Set(Replace {
                                kind: self,
                                link: s.link,
                                entries: s
                                    .entries
                                    .into_iter()
                                    .map(|(k, r)| Decoded {
                                        key: Key::$variant(k),
                                        record: Arc::new(Record::$variant(r)),
                                        gone: false,
                                    })
                                    .collect(),
                            }));
                        }
                        <$ty as Object>::read(msg, names).map(|r: Read<_, _>| Said::One(Decoded {
                            key: Key::$variant(r.key),
                            record: Arc::new(Record::$variant(r.record)),
                            gone: r.gone,
                        }))
                    })*
                }
            }
        }

        impl WatchOptions {
            /// The kinds selected, in table order.
            pub fn selected(&self) -> Vec<ObjectKind> {
                let mut kinds = Vec::new();
                $(if self.$option == Some(true) { kinds.push(ObjectKind::$variant); })*
                kinds
            }

            /// The option names that select objects.
            pub const OBJECT_OPTIONS: &'static [&'static str] = &[$(stringify!($option),)*];
        }

        impl Key {
            pub fn kind(&self) -> ObjectKind {
                match self { $(Key::$variant(_) => ObjectKind::$variant,)* }
            }

            /// The link the object belongs to, for objects announced a link's set at a time.
            pub fn link(&self) -> Option<u32> {
                match self { $(Key::$variant(k) => <$ty as Object>::link_of(k),)* }
            }
        }

        impl Record {
            pub fn kind(&self) -> ObjectKind {
                match self { $(Record::$variant(_) => ObjectKind::$variant,)* }
            }

            /// Whether two records describe the same state (`Object::same`; records of
            /// different kinds never do).
            pub fn same(&self, other: &Record) -> bool {
                match (self, other) {
                    $((Record::$variant(a), Record::$variant(b)) => <$ty as Object>::same(a, b),)*
                    #[allow(unreachable_patterns)]
                    _ => false,
                }
            }
        }
    };
}

/// One message read: the object it is about and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub key: Key,
    pub record: Arc<Record>,
    /// The object is gone.
    pub gone: bool,
}

/// A message that replaces every object of one kind on one link (`object::Set`).
#[derive(Debug, Clone, PartialEq)]
pub struct Replace {
    pub kind: ObjectKind,
    pub link: u32,
    /// Every object of the link now.
    pub entries: Vec<Decoded>,
}

impl Replace {
    /// Whether `key` is one of the objects it replaces.
    pub fn covers(&self, key: &Key) -> bool {
        key.kind() == self.kind && key.link() == Some(self.link)
    }

    /// What it does to `view`, as messages one object at a time: the objects of the link
    /// that are no longer there go (in key order), then every entry. (The view is searched
    /// whole: sets are rare, bridge ports changing VLANs.)
    pub fn apply_to(self, view: &super::view::View) -> Vec<Decoded> {
        let mut gone: Vec<Decoded> = view
            .iter()
            .filter(|(k, _)| self.covers(k) && !self.entries.iter().any(|e| &e.key == *k))
            .map(|(k, r)| Decoded {
                key: k.clone(),
                record: r.clone(),
                gone: true,
            })
            .collect();
        gone.sort_by(|a, b| a.key.cmp(&b.key));
        let mut came = self.entries;
        came.sort_by(|a, b| a.key.cmp(&b.key));
        gone.extend(came);
        gone
    }
}

/// What one message says: one object, or a link's whole set.
#[derive(Debug, Clone, PartialEq)]
pub enum Said {
    One(Decoded),
    Set(Replace),
}

/// Link names by index, as the watcher last heard them (for records that name links).
pub type Names = std::collections::HashMap<u32, String>;

/// Reads a message of any of `kinds` (None: not theirs).
pub fn read(kinds: &[ObjectKind], msg: &[u8], names: &Names) -> Option<Said> {
    let kind = u16::from_ne_bytes([*msg.get(4)?, *msg.get(5)?]);
    kinds
        .iter()
        .filter(|k| k.types().contains(&kind))
        .find_map(|k| k.read(msg, names))
}

/// The record types JavaScript sees, for the table's `JsRecord` column.
#[cfg(feature = "napi")]
mod js_records {
    pub use crate::addr::AddressRecord;
    pub use crate::bridge::BridgeVlanRecord;
    pub use crate::fdb::FdbRecord;
    pub use crate::link::LinkRecord;
    pub use crate::neigh::NeighbourRecord;
    pub use crate::nexthop::encode::NexthopRecord;
    pub use crate::route::RouteRecord;
    pub use crate::rule::encode::RuleRecord;
}

objects! {
    mod link { links = "link": Link => Links(LinkRecord); }
    mod address { addresses = "address": Address => Addresses(AddressRecord); }
    mod neighbour { neighbours = "neighbour": Neighbour => Neighbours(NeighbourRecord); }
    mod fdb { fdb = "fdb": Fdb => FdbEntries(FdbRecord); }
    mod bridge_vlan { bridge_vlans = "bridgeVlan": BridgeVlan => BridgeVlans(BridgeVlanRecord); }
    mod nexthop { nexthops = "nexthop": Nexthop => Nexthops(NexthopRecord); }
    mod route { routes = "route": Route => Routes(RouteRecord); }
    mod rule { rules = "rule": Rule => Rules(RuleRecord); }
}

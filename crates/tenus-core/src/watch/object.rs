//! What the watcher needs to know about one kind of kernel object (links, addresses, ...):
//! which multicast groups announce its changes, how to dump it, and how to read one message
//! into a key and a record. Each kind implements `Object` in its own file in `objects/` and is
//! registered by one line of the table in `objects/mod.rs`.

use std::fmt::Debug;
use std::hash::Hash;

use serde::Serialize;

use super::objects::Names;

/// One message of an object's, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Read<K, R> {
    /// What identifies the object while it exists (a link's index, an address on a link).
    pub key: K,
    /// The record the listing of this object returns.
    pub record: R,
    /// The message says the object is gone (RTM_DEL*).
    pub gone: bool,
}

/// A message that says every entry one link has (a bridge port's VLANs): it replaces them all.
#[derive(Debug, Clone, PartialEq)]
pub struct Set<K, R> {
    pub link: u32,
    /// Every entry of the link now (none: all are gone).
    pub entries: Vec<(K, R)>,
}

pub trait Object {
    /// The object's name in events ('link', 'address').
    const NAME: &'static str;
    /// RTNLGRP_* groups whose messages announce its changes.
    const GROUPS: &'static [u32];
    /// Netlink message types that carry it (RTM_NEW*, RTM_DEL*).
    const TYPES: &'static [u16];

    /// Its records name links (by name): the watcher then follows links as well.
    const NAMES_LINKS: bool = false;
    /// Its objects go with their link without a word from the kernel: the watcher then
    /// follows links as well, and removes them when their link goes (`fallout.rs`).
    const GOES_WITH_LINK: bool = false;

    type Key: Clone + Debug + Eq + Hash + Ord + Send + Sync;
    /// What the watcher holds; it writes to JSON as `Js`.
    type Record: Clone + Debug + PartialEq + Serialize + Send + Sync;
    /// The record the listing returns, which events carry.
    type Js;

    /// The dump request that lists every object of this kind (its sequence number is set by
    /// the watcher).
    fn dump() -> Vec<u8>;

    /// Reads one message of one of `TYPES` (header included). None when the message is not
    /// this object's (another address family on a shared message type, say) or is malformed.
    fn read(msg: &[u8], names: &Names) -> Option<Read<Self::Key, Self::Record>>;

    /// The link an object belongs to, for objects announced a link's set at a time.
    fn link_of(_: &Self::Key) -> Option<u32> {
        None
    }

    /// Reads one message that replaces every object of a link (`Set`); objects announced one
    /// at a time leave this None and implement `read`.
    fn read_set(_: &[u8], _: &Names) -> Option<Set<Self::Key, Self::Record>> {
        None
    }

    /// Whether two records describe the same state. Fields that change without the kernel
    /// announcing it (counters, lifetimes) must be left out, or every re-dump would report
    /// changes that never were.
    fn same(a: &Self::Record, b: &Self::Record) -> bool {
        a == b
    }
}

//! Nexthop objects as the watcher follows them: RTNLGRP_NEXTHOP, keyed by id. Records name
//! their link, so a watcher of nexthops follows links too (the kernel also removes nexthops
//! without a word when their link goes: `fallout.rs`).

use serde::Serialize;

use crate::link::LinkRef;
use crate::nexthop::encode::{
    dump_request, read_nexthop_message, NexthopRecord, RTM_DELNEXTHOP, RTM_NEWNEXTHOP,
};
use crate::nexthop::spec::Kind;
use crate::watch::object::{Object, Read};
use crate::watch::objects::Names;

const RTNLGRP_NEXTHOP: u32 = 32;

/// A nexthop's record, and its link by index.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct WatchedNexthop {
    pub record: NexthopRecord,
    #[serde(skip)]
    pub link: Option<u32>,
}

pub struct Nexthops;

impl Object for Nexthops {
    const NAME: &'static str = "nexthop";
    const GROUPS: &'static [u32] = &[RTNLGRP_NEXTHOP];
    const TYPES: &'static [u16] = &[RTM_NEWNEXTHOP, RTM_DELNEXTHOP];
    const NAMES_LINKS: bool = true;

    type Key = u32;
    type Record = WatchedNexthop;
    type Js = NexthopRecord;

    /// `ip nexthop show`: groups, blackholes and FDB nexthops included.
    fn dump() -> Vec<u8> {
        dump_request(None, false, false)
    }

    fn read(msg: &[u8], names: &Names) -> Option<Read<u32, WatchedNexthop>> {
        let nh = read_nexthop_message(msg)?;
        let link = match &nh.kind {
            Kind::Path {
                dev: Some(LinkRef::Index(i)),
                ..
            } => Some(*i),
            _ => None,
        };
        Some(Read {
            key: nh.id,
            record: WatchedNexthop {
                record: nh.record(&|i| names.get(&i).cloned()),
                link,
            },
            gone: crate::nla::message_type(msg)? == RTM_DELNEXTHOP,
        })
    }

    /// 'dead' and 'linkdown' come and go unannounced.
    fn same(a: &WatchedNexthop, b: &WatchedNexthop) -> bool {
        let strip = |r: &NexthopRecord| {
            let mut r = r.clone();
            r.flags = None;
            r
        };
        a.record == b.record || strip(&a.record) == strip(&b.record)
    }
}

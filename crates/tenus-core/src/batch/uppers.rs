//! One dump of a namespace's links for a run of MTU changes. In rollback mode a change that
//! lowers a link's MTU reads the links on top of it (the kernel lowers theirs with it, and the
//! undo raises them again: `link/set.rs`); no request reads a link's upper links alone, so
//! each such change dumped every link of the namespace and kept the whole dump: lowering the
//! MTU of 800 veth pairs in one rollback batch took 31 s and would keep 800 copies of a
//! 1,600-link dump. Now one dump serves a run of them: indexed once by parent (`IFLA_LINK`),
//! each item given only the links on top of its own.
//!
//! A bridge port's MTU also sets its bridge's (the least of its ports'): the bridge a link is a
//! port of is served with its upper links, and changing any of its ports makes it stale.
//!
//! The dump shows a link's upper links as they are as long as nothing sent since changed them:
//! only link changes that keep the links' structure (no master, no name) may be sent in
//! between, and a change to link L may change L, the links on top of L and theirs (MTUs follow
//! down), which are then no longer served. Any other item means a fresh dump.

use std::collections::{HashMap, HashSet};

use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::RouteNetlinkMessage;

use crate::link::fast::read_link;
use crate::message::{encode, Flags};
use crate::transport::Messages;

/// The dump of every link of a namespace, as link changes read it (`Read::message`).
pub(crate) fn links_dump() -> Vec<u8> {
    encode(RouteNetlinkMessage::GetLink(LinkMessage::default()), Flags::Dump)
}

/// The last links dump read for MTU changes, indexed by parent.
#[derive(Default)]
pub(super) struct UpperLinks(Option<Dump>);

struct Dump {
    target: usize,
    /// The links on top of each link (the messages whose `IFLA_LINK` names it).
    by_parent: HashMap<u32, Messages>,
    parent_of: HashMap<u32, u32>,
    /// The indexes of the links on top of each link (kept when `by_parent`'s are taken).
    uppers: HashMap<u32, Vec<u32>>,
    /// Each bridge port's bridge, and the bridges' messages.
    bridge_of: HashMap<u32, u32>,
    bridges: HashMap<u32, Vec<u8>>,
    /// Links whose upper links may have changed since the dump.
    changed: HashSet<u32>,
}

impl UpperLinks {
    /// The links on top of `link` in `target`, when the dump kept still shows them as they are.
    /// Taken, not copied: the item asking is about to change `link`.
    pub(super) fn take(&mut self, target: usize, link: u32) -> Option<Messages> {
        let d = self.0.as_mut()?;
        let bridge = d.bridge_of.get(&link).copied();
        if d.target != target || d.changed.contains(&link) || bridge.is_some_and(|b| d.changed.contains(&b)) {
            return None;
        }
        d.changed.insert(link);
        let mut found = d.by_parent.remove(&link).unwrap_or_default();
        if let Some(message) = bridge.and_then(|b| d.bridges.get(&b)) {
            found.push(message);
        }
        Some(found)
    }

    /// Keeps a links dump read in `target`.
    pub(super) fn keep(&mut self, target: usize, answer: &Messages) {
        let mut by_parent: HashMap<u32, Messages> = HashMap::new();
        let mut parent_of = HashMap::new();
        let mut uppers: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut bridge_of = HashMap::new();
        let mut bridges = HashMap::new();
        for message in answer {
            let Some(link) = read_link(message) else { continue };
            if link.kind.as_deref() == Some("bridge") {
                bridges.insert(link.index, message.to_vec());
            }
            if let Some(master) = link.master.filter(|m| *m != 0) {
                bridge_of.insert(link.index, master);
            }
            match link.parent {
                Some(parent) if parent != 0 && parent != link.index => {
                    by_parent.entry(parent).or_default().push(message);
                    parent_of.insert(link.index, parent);
                    uppers.entry(parent).or_default().push(link.index);
                }
                _ => {}
            }
        }
        self.0 = Some(Dump {
            target,
            by_parent,
            parent_of,
            uppers,
            bridge_of: bridge_of
                .into_iter()
                .filter(|(_, b)| bridges.contains_key(b))
                .collect(),
            bridges,
            changed: HashSet::new(),
        });
    }

    /// An item is being sent in `target`: `changes`, the link it changes when it is a change
    /// that keeps the links' structure (None for any other item, which may change anything).
    pub(super) fn sending(&mut self, target: usize, changes: Option<u32>) {
        let Some(d) = &mut self.0 else { return };
        match changes {
            Some(link) if d.target == target => d.changed_from(link),
            _ => self.0 = None,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl Dump {
    /// `link` changes: so may the links on top of it, and theirs. Their parents' upper links
    /// are no longer as the dump shows them.
    fn changed_from(&mut self, link: u32) {
        if let Some(parent) = self.parent_of.get(&link) {
            self.changed.insert(*parent);
        }
        // Its bridge's MTU follows its ports'.
        if let Some(bridge) = self.bridge_of.get(&link) {
            self.changed.insert(*bridge);
        }
        let mut seen = HashSet::new();
        let mut next = vec![link];
        while let Some(l) = next.pop() {
            if !seen.insert(l) {
                continue; // veth peers name each other
            }
            self.changed.insert(l);
            next.extend(self.uppers.get(&l).into_iter().flatten());
        }
    }
}

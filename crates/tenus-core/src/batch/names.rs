//! Turning the link names a batch refers to into indexes with as few round trips as possible:
//! names that exist before the batch are looked up up front, in one pipelined round per
//! namespace; names the batch creates are looked up when first needed, once the requests
//! before them are answered (the kernel handles a socket's requests in order).

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::link::LinkRef;

use super::step::Effect;

/// A name in one of the batch's namespaces (0 is the batch's own, n its n-th peer).
type Key = (usize, String);

#[derive(Default)]
pub struct Names {
    index: HashMap<Key, u32>,
    /// Why a name has no index (its look-up failed).
    missing: HashMap<Key, Error>,
    /// Names this batch has created (or renamed to) whose index is not known yet.
    pending: HashSet<Key>,
}

impl Names {
    /// Looks up, in one pipelined round per namespace, every name in `wanted`.
    pub(crate) async fn lookup(&mut self, handles: &[Handle], wanted: Vec<(usize, &str)>) {
        let mut seen = HashSet::new();
        let wanted: Vec<(usize, LinkRef)> = wanted
            .into_iter()
            .filter(|(t, n)| seen.insert((*t, *n)))
            .map(|(t, n)| (t, LinkRef::Name(n.to_string())))
            .collect();
        let results = futures::future::join_all(wanted.iter().map(|(t, l)| handles[*t].link_get(l))).await;
        for ((t, link), result) in wanted.into_iter().zip(results) {
            let LinkRef::Name(name) = link else { continue };
            let key = (t, name);
            self.pending.remove(&key);
            match result {
                Ok(rec) => {
                    self.missing.remove(&key);
                    self.index.insert(key, rec.index);
                }
                Err(e) => {
                    self.missing.insert(key, e);
                }
            }
        }
    }

    /// True when `name` in namespace `target` was created by this batch and its index is not
    /// known yet.
    pub fn is_pending(&self, target: usize, link: &LinkRef) -> bool {
        match link {
            LinkRef::Name(n) => self.pending.contains(&(target, n.clone())),
            LinkRef::Index(_) => false,
        }
    }

    /// The index of `link` in namespace `target`.
    pub fn index_of(&self, target: usize, link: &LinkRef) -> Result<u32> {
        match link {
            LinkRef::Index(i) => Ok(*i),
            LinkRef::Name(n) => {
                let key = (target, n.clone());
                // The error is the item's (it names the link the item acts on); the text says
                // which name was not found.
                self.index.get(&key).copied().ok_or_else(|| {
                    let errno = self
                        .missing
                        .get(&key)
                        .and_then(Error::errno)
                        .unwrap_or(libc::ENODEV);
                    Error::Kernel {
                        errno,
                        op: String::new(),
                        link: None,
                        extack: Some(format!("no link named {n}")),
                        extack_offset: None,
                    }
                })
            }
        }
    }

    /// Records what sending an item changes about names.
    pub(crate) fn note(&mut self, target: usize, effect: Effect<'_>) {
        match effect {
            Effect::None => {}
            Effect::Creates(name, peer) => {
                // A name that exists keeps its index (creating it again fails with EEXIST). A
                // pair's peer is new too, in its own namespace.
                for key in std::iter::once((target, name)).chain(peer) {
                    let key = (key.0, key.1.to_string());
                    if !self.index.contains_key(&key) {
                        self.pending.insert(key);
                    }
                }
            }
            Effect::Renames(link, to) => {
                if let LinkRef::Name(old) = link {
                    self.index.remove(&(target, old.clone()));
                }
                self.pending.insert((target, to.to_string()));
            }
            Effect::Removes(link) => {
                if let LinkRef::Name(n) = link {
                    self.index.remove(&(target, n.clone()));
                }
            }
            Effect::Moves(link, to, there) => {
                if let LinkRef::Name(n) = link {
                    self.index.remove(&(target, n.clone()));
                }
                if let Some(name) = there {
                    self.forget(to, name);
                }
            }
        }
    }

    /// Records that `name` in namespace `target` is the link `index` (a rollback put it back).
    pub(crate) fn found(&mut self, target: usize, name: &str, index: u32) {
        let key = (target, name.to_string());
        self.pending.remove(&key);
        self.missing.remove(&key);
        self.index.insert(key, index);
    }

    /// Forgets what is known of a name, so that it is looked up again when next needed.
    pub(crate) fn forget(&mut self, target: usize, name: &str) {
        let key = (target, name.to_string());
        self.index.remove(&key);
        self.pending.insert(key);
    }
}

/// The names of the namespace one item acts in.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub names: &'a Names,
    /// 0 for the batch's own namespace, n for its n-th peer.
    pub target: usize,
}

impl View<'_> {
    pub fn index_of(&self, link: &LinkRef) -> Result<u32> {
        self.names.index_of(self.target, link)
    }
}

//! Turning the link names a batch refers to into indexes with as few round trips as possible:
//! names that exist before the batch are looked up up front, in one pipelined round per
//! namespace; names the batch creates are looked up when first needed, once the requests
//! before them are answered (the kernel handles a socket's requests in order).

use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::link::LinkRef;

use super::step::Effect;

/// What is known of the names of one namespace (0 is the batch's own, n its n-th peer).
/// Looked up by `&str` in a map of its own: a key of (namespace, name) had to be built, its
/// name copied, for every item's look-up.
#[derive(Default)]
struct Known {
    index: FxHashMap<String, u32>,
    /// Why a name has no index (its look-up failed).
    missing: FxHashMap<String, Error>,
    /// Names this batch has created (or renamed to) whose index is not known yet.
    pending: FxHashSet<String>,
}

#[derive(Default)]
pub struct Names {
    /// By namespace.
    known: Vec<Known>,
}

impl Names {
    fn known(&self, target: usize) -> Option<&Known> {
        self.known.get(target)
    }

    fn known_mut(&mut self, target: usize) -> &mut Known {
        if self.known.len() <= target {
            self.known.resize_with(target + 1, Known::default);
        }
        &mut self.known[target]
    }

    /// Looks up, in one pipelined round per namespace, every name in `wanted` (for its index
    /// alone: `Handle::link_index`).
    pub(crate) async fn lookup(&mut self, handles: &[Handle], wanted: Vec<(usize, &str)>) {
        if wanted.is_empty() {
            return; // most awaited calls name their link by index
        }
        let mut seen = FxHashSet::default();
        let wanted: Vec<(usize, LinkRef)> = wanted
            .into_iter()
            .filter(|(t, n)| seen.insert((*t, *n)))
            .map(|(t, n)| (t, LinkRef::Name(n.to_string())))
            .collect();
        let results = futures::future::join_all(wanted.iter().map(|(t, l)| handles[*t].link_index(l))).await;
        for ((t, link), result) in wanted.into_iter().zip(results) {
            let LinkRef::Name(name) = link else { continue };
            let known = self.known_mut(t);
            known.pending.remove(&name);
            match result {
                Ok(index) => {
                    known.missing.remove(&name);
                    known.index.insert(name, index);
                }
                Err(e) => {
                    known.missing.insert(name, e);
                }
            }
        }
    }

    /// True when `name` in namespace `target` was created by this batch and its index is not
    /// known yet.
    pub fn is_pending(&self, target: usize, link: &LinkRef) -> bool {
        match link {
            LinkRef::Name(n) => self.known(target).is_some_and(|k| k.pending.contains(n.as_str())),
            LinkRef::Index(_) => false,
        }
    }

    /// The index of `link` in namespace `target`.
    pub fn index_of(&self, target: usize, link: &LinkRef) -> Result<u32> {
        match link {
            LinkRef::Index(i) => Ok(*i),
            LinkRef::Name(n) => {
                let known = self.known(target);
                // The error is the item's (it names the link the item acts on); the text says
                // which name was not found.
                known
                    .and_then(|k| k.index.get(n.as_str()))
                    .copied()
                    .ok_or_else(|| {
                        let errno = known
                            .and_then(|k| k.missing.get(n.as_str()))
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
                for (t, name) in std::iter::once((target, name)).chain(peer) {
                    let known = self.known_mut(t);
                    if !known.index.contains_key(name) {
                        known.pending.insert(name.to_string());
                    }
                }
            }
            Effect::Renames(link, to) => {
                let known = self.known_mut(target);
                if let LinkRef::Name(old) = link {
                    known.index.remove(old.as_str());
                }
                known.pending.insert(to.to_string());
            }
            Effect::Removes(link) => {
                if let LinkRef::Name(n) = link {
                    self.known_mut(target).index.remove(n.as_str());
                }
            }
            Effect::Moves(link, to, there) => {
                if let LinkRef::Name(n) = link {
                    self.known_mut(target).index.remove(n.as_str());
                }
                if let Some(name) = there {
                    self.forget(to, name);
                }
            }
        }
    }

    /// Records that `name` in namespace `target` is the link `index` (a rollback put it back).
    pub(crate) fn found(&mut self, target: usize, name: &str, index: u32) {
        let known = self.known_mut(target);
        known.pending.remove(name);
        known.missing.remove(name);
        known.index.insert(name.to_string(), index);
    }

    /// Forgets what is known of a name, so that it is looked up again when next needed.
    pub(crate) fn forget(&mut self, target: usize, name: &str) {
        let known = self.known_mut(target);
        known.index.remove(name);
        known.pending.insert(name.to_string());
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

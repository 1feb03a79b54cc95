//! The names a batch gives links (a creation, a rename, a move's name in the target), and the
//! item that gives each. A later item that names a link by such a name means the link that item
//! makes: it waits for that item's answer, and fails without being sent when that item failed.
//! Otherwise, in 'continue' mode, a creation the kernel refused (EEXIST: a link had the name
//! already) would hand its later items — an address, a master, a deletion — to that other link.

use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::link::LinkRef;

use super::step::Effect;

/// By namespace (0: the batch's own, n: its n-th peer): each name given, and the item giving it.
#[derive(Default)]
pub(super) struct Given {
    by: Vec<FxHashMap<String, usize>>,
}

impl Given {
    fn of(&mut self, target: usize) -> &mut FxHashMap<String, usize> {
        if self.by.len() <= target {
            self.by.resize_with(target + 1, FxHashMap::default);
        }
        &mut self.by[target]
    }

    /// No item has given a name (yet).
    pub(super) fn is_empty(&self) -> bool {
        self.by.iter().all(FxHashMap::is_empty)
    }

    /// Records what item `item`, acting in namespace `target`, does to names.
    pub(super) fn note(&mut self, item: usize, target: usize, effect: Effect<'_>) {
        match effect {
            Effect::None => {}
            Effect::Creates(name, peer) => {
                self.of(target).insert(name.to_string(), item);
                if let Some((t, peer)) = peer {
                    self.of(t).insert(peer.to_string(), item);
                }
            }
            Effect::Renames(link, to) => {
                if let LinkRef::Name(old) = link {
                    self.of(target).remove(old.as_str());
                }
                self.of(target).insert(to.to_string(), item);
            }
            Effect::Removes(link) => {
                if let LinkRef::Name(name) = link {
                    self.of(target).remove(name.as_str());
                }
            }
            Effect::Moves(link, to, there) => {
                if let LinkRef::Name(name) = link {
                    self.of(target).remove(name.as_str());
                    let there = there.unwrap_or(name);
                    self.of(to).insert(there.to_string(), item);
                }
            }
        }
    }

    /// The item that gives `link` its name in namespace `target`, if one does.
    pub(super) fn giver<'l>(&self, target: usize, link: &'l LinkRef) -> Option<(usize, &'l str)> {
        let LinkRef::Name(name) = link else {
            return None;
        };
        let item = self.by.get(target)?.get(name.as_str())?;
        Some((*item, name.as_str()))
    }
}

/// The error of an item naming a link item `giver` was to make (or name) and did not.
pub(super) fn not_made(giver: usize, name: &str) -> Error {
    Error::Kernel {
        errno: libc::ENODEV,
        op: String::new(),
        link: None,
        extack: Some(format!(
            "no link named {name} from this batch: item {giver}, which was to make or name it, failed"
        )),
        extack_offset: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_given_by_creations_renames_and_moves_and_taken_by_deletions() {
        let mut g = Given::default();
        g.note(0, 0, Effect::Creates("a", Some((1, "b"))));
        assert_eq!(g.giver(0, &LinkRef::Name("a".into())), Some((0, "a")));
        assert_eq!(g.giver(1, &LinkRef::Name("b".into())), Some((0, "b")));
        assert_eq!(g.giver(0, &LinkRef::Name("b".into())), None);
        assert_eq!(g.giver(0, &LinkRef::Index(3)), None);
        let a = LinkRef::Name("a".into());
        g.note(1, 0, Effect::Renames(&a, "c"));
        assert_eq!(g.giver(0, &a), None);
        assert_eq!(g.giver(0, &LinkRef::Name("c".into())), Some((1, "c")));
        let c = LinkRef::Name("c".into());
        g.note(2, 0, Effect::Moves(&c, 1, None));
        assert_eq!((g.giver(0, &c), g.giver(1, &c)), (None, Some((2, "c"))));
        g.note(3, 1, Effect::Removes(&c));
        assert_eq!(g.giver(1, &c), None);
    }
}

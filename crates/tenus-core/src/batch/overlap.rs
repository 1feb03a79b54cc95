//! Which of several runs sent together (calls started in one turn of the event loop) must run
//! one after the other. Runs pipelined at once each read what their undo needs before they
//! change it: a run that fails and is undone would otherwise write back a link's state over a
//! change another run made to it meanwhile, and a run naming a link another renames or makes
//! would find it or not depending on timing. So runs that touch a common link, one of them
//! beyond adding what deleting takes back (an address, a route), run in the order they were
//! made; the others still run at once.

use std::collections::HashSet;

use crate::link::LinkRef;

use super::{Effect, Item, Op, Undo};

/// The links a run names, and whether it does more to them than additions.
#[derive(Debug, Default)]
pub struct Touches {
    names: HashSet<String>,
    indexes: HashSet<u32>,
    /// It changes, makes, renames, moves or deletes links (undone by writing state back).
    changes_links: bool,
    /// It may act on any link.
    every_link: bool,
}

impl Touches {
    pub fn of(items: &[crate::error::Result<Item>]) -> Touches {
        let mut t = Touches::default();
        for item in items.iter().flatten() {
            let op = &item.op;
            for l in op.touches() {
                t.add(l);
            }
            // A group's deletion may take any link.
            t.every_link |= matches!(op, Op::DelGroup(_));
            t.changes_links |= !matches!(op.undo(), Undo::Inverse | Undo::Nothing);
            match op.effect() {
                Effect::None => {}
                Effect::Creates(name, peer) => {
                    t.changes_links = true;
                    t.names.insert(name.to_string());
                    if let Some((_, peer)) = peer {
                        t.names.insert(peer.to_string());
                    }
                }
                Effect::Renames(l, to) => {
                    t.changes_links = true;
                    t.add(l);
                    t.names.insert(to.to_string());
                }
                Effect::Removes(l) => {
                    t.changes_links = true;
                    t.add(l);
                }
                Effect::Moves(l, _, there) => {
                    t.changes_links = true;
                    t.add(l);
                    if let Some(name) = there {
                        t.names.insert(name.to_string());
                    }
                }
            }
        }
        t
    }

    fn add(&mut self, l: &LinkRef) {
        match l {
            LinkRef::Name(n) => self.names.insert(n.clone()),
            LinkRef::Index(i) => self.indexes.insert(*i),
        };
    }

    /// Whether the two runs must not overlap: a common link, changed by either; or changes by
    /// both to links one names by index and the other by name (they may be the same).
    fn conflicts(&self, other: &Touches) -> bool {
        if !(self.changes_links || other.changes_links) {
            return false;
        }
        if self.every_link || other.every_link {
            return true;
        }
        let common = !self.names.is_disjoint(&other.names) || !self.indexes.is_disjoint(&other.indexes);
        let mixed = (!self.names.is_empty() && !other.indexes.is_empty())
            || (!self.indexes.is_empty() && !other.names.is_empty());
        common || (self.changes_links && other.changes_links && mixed)
    }
}

/// The runs in groups: each group's runs run one after the other in the order given, the
/// groups at once. Every run is in exactly one group, and a run conflicting with an earlier
/// one is in its group.
pub fn serial_groups(runs: &[Touches]) -> Vec<Vec<usize>> {
    // Union-find over the conflicts; a group lists its runs in order.
    let mut parent: Vec<usize> = (0..runs.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..runs.len() {
        for j in 0..i {
            if runs[i].conflicts(&runs[j]) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of = vec![usize::MAX; runs.len()];
    for i in 0..runs.len() {
        let r = root(&mut parent, i);
        if group_of[r] == usize::MAX {
            group_of[r] = groups.len();
            groups.push(Vec::new());
        }
        groups[group_of[r]].push(i);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touches(names: &[&str], indexes: &[u32], changes_links: bool) -> Touches {
        Touches {
            names: names.iter().map(|n| n.to_string()).collect(),
            indexes: indexes.iter().copied().collect(),
            changes_links,
            every_link: false,
        }
    }

    #[test]
    fn runs_changing_a_common_link_are_one_group_in_order() {
        let runs = [
            touches(&["e1"], &[], true),
            touches(&["e0", "nope"], &[], true),
            touches(&["e0"], &[], true),
            touches(&["t0", "s0"], &[], true),
            touches(&["t0"], &[], false),
        ];
        assert_eq!(serial_groups(&runs), vec![vec![0], vec![1, 2], vec![3, 4]]);
    }

    #[test]
    fn additions_to_one_link_overlap() {
        let runs: Vec<Touches> = (0..4).map(|_| touches(&[], &[7], false)).collect();
        assert_eq!(serial_groups(&runs), vec![vec![0], vec![1], vec![2], vec![3]]);
    }

    #[test]
    fn changes_by_index_and_by_name_may_be_one_link() {
        let runs = [
            touches(&[], &[7], true),
            touches(&["e0"], &[], true),
            touches(&[], &[8], false),
        ];
        assert_eq!(serial_groups(&runs), vec![vec![0, 1], vec![2]]);
    }

    #[test]
    fn a_chain_of_conflicts_joins_groups() {
        let runs = [
            touches(&["a"], &[], true),
            touches(&["b"], &[], true),
            touches(&["a", "b"], &[], true),
        ];
        assert_eq!(serial_groups(&runs), vec![vec![0, 1, 2]]);
    }
}

//! Which runs of one namespace handle may overlap. Runs pipelined at once each read what their
//! undo needs before they change it: a run that fails and is undone would otherwise write back
//! a link's state over a change another run made to it meanwhile, and a run naming a link
//! another renames or makes would find it or not depending on timing. So a run touching a link
//! that an earlier run still in flight also touches, one of them beyond adding what deleting
//! takes back (an address, a route), waits for that run to end (`Order`); the others overlap.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use futures::future::{FutureExt, Shared};
use tokio::sync::oneshot;

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
            let effect = op.effect();
            t.changes_links |= effect != Effect::None || !matches!(op.undo(), Undo::Inverse | Undo::Nothing);
            // A deletion takes other links with it (a veth's peer, the macvlans on a parent) and
            // ports off a bridge, a group's any link: either may touch any link.
            t.every_link |= matches!(effect, Effect::Removes(_)) || matches!(op, Op::DelGroup(_));
            // The names it gives (the link it acts on is among `touches`).
            let (given, peer) = match effect {
                Effect::Creates(name, peer) => (Some(name), peer.map(|(_, p)| p)),
                Effect::Renames(_, to) => (Some(to), None),
                Effect::Moves(_, _, there) => (there, None),
                Effect::None | Effect::Removes(_) => (None, None),
            };
            t.names.extend(given.into_iter().chain(peer).map(str::to_string));
        }
        t
    }

    /// A run not read here (a large batch): it may touch any link.
    pub fn everything() -> Touches {
        Touches {
            changes_links: true,
            every_link: true,
            ..Touches::default()
        }
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

/// The runs of one namespace handle in flight, in the order they were made.
#[derive(Default)]
pub struct Order {
    in_flight: Mutex<Vec<Entry>>,
}

struct Entry {
    id: u64,
    touches: Touches,
    /// Made when a later run first waits for this one: most runs overlap with none, and an
    /// awaited call paid for the channel's allocations. Dropping the entry (the run is over)
    /// drops the sender, which ends the wait.
    over: Option<(oneshot::Sender<()>, Shared<oneshot::Receiver<()>>)>,
}

impl Entry {
    /// What a later run waits on until this one is over (made on the first such run).
    fn waited_on(&mut self) -> Shared<oneshot::Receiver<()>> {
        let (_, rx) = self.over.get_or_insert_with(|| {
            let (tx, rx) = oneshot::channel();
            (tx, rx.shared())
        });
        rx.clone()
    }
}

/// A run's place in its handle's `Order`, taken when the run is made: `ready` waits for the
/// earlier runs it conflicts with; dropped when the run is over.
pub struct Ticket {
    order: Arc<Order>,
    id: u64,
    before: Vec<Shared<oneshot::Receiver<()>>>,
}

impl Order {
    /// Takes the next place for a run touching `touches`.
    pub fn enter(self: &Arc<Self>, touches: Touches) -> Ticket {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let before = in_flight
            .iter_mut()
            .filter(|e| e.touches.conflicts(&touches))
            .map(Entry::waited_on)
            .collect();
        let id = in_flight.last().map_or(0, |e| e.id + 1);
        in_flight.push(Entry {
            id,
            touches,
            over: None,
        });
        Ticket {
            order: Arc::clone(self),
            id,
            before,
        }
    }
}

impl Ticket {
    /// Waits until the earlier runs this one conflicts with are over.
    pub async fn ready(&mut self) {
        while let Some(over) = self.before.last().cloned() {
            // Over or dropped: either way it no longer runs.
            let _ = over.await;
            self.before.pop();
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let gone = {
            let mut in_flight = self.order.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            let at = in_flight.iter().position(|e| e.id == self.id);
            at.map(|at| in_flight.remove(at))
        };
        // Dropped once the lock is released: its sender wakes the runs waiting for this one.
        drop(gone);
    }
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

    /// Which of the runs entered before (by position) each run waits for.
    fn waits(runs: Vec<Touches>) -> Vec<usize> {
        let order = Arc::new(Order::default());
        let tickets: Vec<Ticket> = runs.into_iter().map(|t| order.enter(t)).collect();
        tickets.iter().map(|t| t.before.len()).collect()
    }

    #[test]
    fn runs_changing_a_common_link_wait_for_each_other() {
        let runs = vec![
            touches(&["e1"], &[], true),
            touches(&["e0", "nope"], &[], true),
            touches(&["e0"], &[], true),
            touches(&["t0", "s0"], &[], true),
            touches(&["t0"], &[], false),
        ];
        assert_eq!(waits(runs), vec![0, 0, 1, 0, 1]);
    }

    #[test]
    fn additions_to_one_link_overlap() {
        assert_eq!(
            waits((0..4).map(|_| touches(&[], &[7], false)).collect()),
            vec![0, 0, 0, 0]
        );
    }

    #[test]
    fn changes_by_index_and_by_name_may_be_one_link() {
        let runs = vec![
            touches(&[], &[7], true),
            touches(&["e0"], &[], true),
            touches(&[], &[8], false),
        ];
        assert_eq!(waits(runs), vec![0, 1, 0]);
    }

    #[test]
    fn a_run_not_read_waits_for_every_change_and_every_change_for_it() {
        let runs = vec![
            touches(&["a"], &[], true),
            Touches::everything(),
            touches(&[], &[3], false),
        ];
        assert_eq!(waits(runs), vec![0, 1, 1]);
    }

    #[test]
    fn the_channel_a_run_is_waited_on_by_is_made_only_when_a_later_run_waits() {
        let order = Arc::new(Order::default());
        let first = order.enter(touches(&["a"], &[], true));
        let other = order.enter(touches(&["b"], &[], true));
        assert!(order.in_flight.lock().unwrap().iter().all(|e| e.over.is_none()));
        let second = order.enter(touches(&["a"], &[], true));
        let made: Vec<bool> = order
            .in_flight
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.over.is_some())
            .collect();
        assert_eq!(made, vec![true, false, false]);
        assert_eq!(second.before.len(), 1);
        drop((first, other));
    }

    #[tokio::test]
    async fn a_run_is_ready_once_those_before_it_are_over() {
        let order = Arc::new(Order::default());
        let first = order.enter(touches(&["a"], &[], true));
        let mut second = order.enter(touches(&["a"], &[], true));
        assert!(futures::poll!(Box::pin(second.ready())).is_pending());
        drop(first);
        second.ready().await;
        assert_eq!(order.in_flight.lock().unwrap().len(), 1);
        drop(second);
        assert!(order.in_flight.lock().unwrap().is_empty());
    }
}

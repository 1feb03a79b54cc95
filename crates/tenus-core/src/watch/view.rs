//! A view of the kernel's objects (what a consumer has been told, or what the watcher knows),
//! the events one message makes of it, and the events that turn one view into another. Pure.

use std::collections::HashMap;
use std::sync::Arc;

use super::event::{Event, WatchAction};
use super::objects::{Decoded, Key, ObjectKind, Record};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    objects: HashMap<Key, Arc<Record>>,
}

impl View {
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn get(&self, key: &Key) -> Option<&Arc<Record>> {
        self.objects.get(key)
    }

    /// Takes in what one message says, and returns the event it is for a consumer holding
    /// this view: none when it changes nothing (a repeat, a counters-only update, the deletion
    /// of something never seen).
    pub fn apply(&mut self, d: Decoded) -> Option<Event> {
        if d.gone {
            return self
                .objects
                .remove(&d.key)
                .map(|_| Event::change(WatchAction::Deleted, d.record));
        }
        match self.objects.insert(d.key, d.record.clone()) {
            None => Some(Event::change(WatchAction::New, d.record)),
            Some(old) if old.same(&d.record) => None,
            Some(_) => Some(Event::change(WatchAction::Changed, d.record)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Arc<Record>)> {
        self.objects.iter()
    }

    /// Whether `apply(d)` would make an event.
    pub fn changes(&self, d: &Decoded) -> bool {
        match self.objects.get(&d.key) {
            None => !d.gone,
            Some(_) if d.gone => true,
            Some(old) => !old.same(&d.record),
        }
    }

    /// Keeps the objects whose key `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&Key) -> bool) {
        self.objects.retain(|k, _| keep(k));
    }

    /// Sets an object as a dump reports it, with no event.
    pub fn insert(&mut self, key: Key, record: Arc<Record>) {
        self.objects.insert(key, record);
    }

    pub fn remove(&mut self, key: &Key) {
        self.objects.remove(key);
    }

    /// Every object as a 'new' event, in table order, then by key.
    pub fn snapshot(&self) -> Vec<Event> {
        View::default().diff(self)
    }

    /// The events that turn this view into `to`: deletions first, dependents before what
    /// they depend on (an address before its link), then creations and changes in table
    /// order (a link before its addresses); by key within a kind.
    pub fn diff(&self, to: &View) -> Vec<Event> {
        let mut gone: Vec<(&Key, &Arc<Record>)> = self
            .objects
            .iter()
            .filter(|(k, _)| !to.objects.contains_key(k))
            .collect();
        gone.sort_by(|a, b| rank_gone(a.0).cmp(&rank_gone(b.0)).then(a.0.cmp(b.0)));
        let mut came: Vec<(&Key, WatchAction, &Arc<Record>)> = to
            .objects
            .iter()
            .filter_map(|(k, r)| match self.objects.get(k) {
                None => Some((k, WatchAction::New, r)),
                Some(old) if !old.same(r) => Some((k, WatchAction::Changed, r)),
                Some(_) => None,
            })
            .collect();
        came.sort_by(|a, b| a.0.cmp(b.0));
        gone.into_iter()
            .map(|(_, r)| Event::change(WatchAction::Deleted, r.clone()))
            .chain(came.into_iter().map(|(_, a, r)| Event::change(a, r.clone())))
            .collect()
    }
}

/// Deletions are reported in reverse table order.
fn rank_gone(k: &Key) -> std::cmp::Reverse<ObjectKind> {
    std::cmp::Reverse(k.kind())
}

#[cfg(test)]
mod tests {
    use super::super::objects::address::AddressKey;
    use super::*;
    use crate::addr::AddressRecord;
    use crate::link::LinkRecord;

    fn link(index: u32, mtu: u32) -> (Key, Arc<Record>) {
        let r = LinkRecord {
            index,
            name: format!("l{index}"),
            mtu: Some(mtu),
            operstate: "DOWN".into(),
            ..Default::default()
        };
        (Key::Link(index), Arc::new(Record::Link(r)))
    }

    fn addr(index: u32, last: u8) -> (Key, Arc<Record>) {
        let ip: std::net::IpAddr = format!("10.0.0.{last}").parse().unwrap();
        let key = AddressKey {
            index,
            local: ip,
            prefix_len: 24,
            peer: None,
        };
        let r = AddressRecord {
            index,
            family: "inet".into(),
            address: ip.to_string(),
            prefix_len: 24,
            cidr: format!("{ip}/24"),
            scope: "global".into(),
            broadcast: None,
            label: None,
            flags: vec!["permanent"],
            valid_lifetime: None,
            preferred_lifetime: None,
            metric: None,
            peer: None,
        };
        (Key::Address(key), Arc::new(Record::Address(r.into())))
    }

    fn d((key, record): (Key, Arc<Record>), gone: bool) -> Decoded {
        Decoded { key, record, gone }
    }

    fn view(items: &[(Key, Arc<Record>)]) -> View {
        let mut v = View::default();
        for (k, r) in items {
            v.insert(k.clone(), r.clone());
        }
        v
    }

    fn key_of(r: &Record) -> Key {
        match r {
            Record::Link(l) => Key::Link(l.index),
            Record::Address(a) => Key::Address(AddressKey {
                index: a.index,
                local: a.address.parse().unwrap(),
                prefix_len: a.prefix_len,
                peer: None,
            }),
            _ => unreachable!("links and addresses only"),
        }
    }

    /// Applies `events` to `v` as a consumer would.
    fn replay(v: &mut View, events: &[Event]) {
        for e in events {
            if let Event::Change { action, record } = e {
                let gone = *action == WatchAction::Deleted;
                v.apply(Decoded {
                    key: key_of(record),
                    record: record.clone(),
                    gone,
                });
            }
        }
    }

    fn actions(events: &[Event]) -> Vec<(WatchAction, &'static str)> {
        events
            .iter()
            .map(|e| match e {
                Event::Change { action, record } => (*action, record.kind().name()),
                _ => panic!("not a change: {e:?}"),
            })
            .collect()
    }

    #[test]
    fn a_message_is_new_then_changed_then_deleted_and_repeats_are_nothing() {
        let mut v = View::default();
        assert!(matches!(
            v.apply(d(link(2, 1500), false)),
            Some(Event::Change {
                action: WatchAction::New,
                ..
            })
        ));
        assert_eq!(v.apply(d(link(2, 1500), false)), None, "a repeat changes nothing");
        assert!(matches!(
            v.apply(d(link(2, 1400), false)),
            Some(Event::Change {
                action: WatchAction::Changed,
                ..
            })
        ));
        assert!(matches!(
            v.apply(d(link(2, 1400), true)),
            Some(Event::Change {
                action: WatchAction::Deleted,
                ..
            })
        ));
        assert_eq!(v.apply(d(link(2, 1400), true)), None, "gone already");
        assert!(v.is_empty());
    }

    #[test]
    fn an_address_lifetime_counting_down_is_no_change_but_growing_or_becoming_forever_is() {
        let set_at = |valid: Option<u32>, updated: Option<u32>| {
            let (key, r) = addr(2, 1);
            let Record::Address(mut a) = (*r).clone() else {
                unreachable!()
            };
            a.record.valid_lifetime = valid;
            a.record.preferred_lifetime = valid;
            a.updated = updated;
            (key, Arc::new(Record::Address(a)))
        };
        let with = |valid: Option<u32>| set_at(valid, None);
        let mut v = View::default();
        assert!(v.apply(d(with(Some(300)), false)).is_some());
        assert_eq!(v.apply(d(with(Some(290)), false)), None, "seconds went by");
        assert!(
            matches!(
                v.apply(d(with(Some(3600)), false)),
                Some(Event::Change {
                    action: WatchAction::Changed,
                    ..
                })
            ),
            "renewed"
        );
        assert!(matches!(
            v.apply(d(with(None), false)),
            Some(Event::Change {
                action: WatchAction::Changed,
                ..
            })
        ));

        // With the time they were set: shorter ones set anew are a change, a countdown is not;
        // `forever` set again is none.
        let mut v = View::default();
        assert!(v.apply(d(set_at(Some(200), Some(1000)), false)).is_some());
        assert_eq!(
            v.apply(d(set_at(Some(190), Some(1000)), false)),
            None,
            "seconds went by"
        );
        assert!(
            v.apply(d(set_at(Some(20), Some(2000)), false)).is_some(),
            "shortened"
        );
        assert!(
            v.apply(d(set_at(None, Some(3000)), false)).is_some(),
            "made forever"
        );
        assert_eq!(v.apply(d(set_at(None, Some(4000)), false)), None, "forever again");

        // Set twice within one stamp (a hundredth of a second): read a moment apart, a
        // lifetime shorter by more than that moment is set anew.
        let now = std::time::Instant::now();
        let read_at = |valid: u32, seen: std::time::Instant| {
            let (key, r) = set_at(Some(valid), Some(5000));
            let Record::Address(mut a) = (*r).clone() else {
                unreachable!()
            };
            a.seen = Some(seen);
            (key, Arc::new(Record::Address(a)))
        };
        let mut v = View::default();
        assert!(v.apply(d(read_at(3600, now), false)).is_some());
        let later = now + std::time::Duration::from_millis(1500);
        assert_eq!(
            v.apply(d(read_at(3598, later), false)),
            None,
            "a second and a half"
        );
        assert!(v.apply(d(read_at(20, later), false)).is_some(), "shortened");
    }

    #[test]
    fn a_diff_deletes_addresses_before_links_and_creates_links_before_addresses() {
        let from = view(&[link(1, 1500), link(2, 1500), addr(2, 1), addr(1, 9)]);
        let to = view(&[link(1, 9000), link(3, 1500), addr(3, 1), addr(1, 9)]);
        let events = from.diff(&to);
        assert_eq!(
            actions(&events),
            vec![
                (WatchAction::Deleted, "address"),
                (WatchAction::Deleted, "link"),
                (WatchAction::Changed, "link"),
                (WatchAction::New, "link"),
                (WatchAction::New, "address"),
            ]
        );
        let mut replayed = from.clone();
        replay(&mut replayed, &events);
        assert_eq!(replayed, to);
        assert!(to.diff(&to).is_empty());
    }

    #[test]
    fn diffs_turn_any_view_into_any_other() {
        // Views drawn from a small universe, every pair: replaying the diff gives the target.
        let universe = [
            link(1, 1500),
            link(1, 9000),
            link(2, 1500),
            addr(1, 1),
            addr(2, 1),
            addr(2, 2),
        ];
        let views: Vec<View> = (0u32..64)
            .map(|bits| {
                let mut v = View::default();
                for (i, (k, r)) in universe.iter().enumerate() {
                    if bits & (1 << i) != 0 {
                        v.insert(k.clone(), r.clone());
                    }
                }
                v
            })
            .collect();
        for a in &views {
            for b in &views {
                let events = a.diff(b);
                let mut replayed = a.clone();
                replay(&mut replayed, &events);
                assert_eq!(&replayed, b);
                assert!(events.len() <= a.len() + b.len());
            }
        }
    }
}

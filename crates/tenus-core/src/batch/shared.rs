//! One dump read for many items. In rollback mode a route replace reads its table before it is
//! sent (no request reads one route by its key); done per item, 10,000 replaces would read
//! 10,000 tables of 10,000 routes, keep them all, and search each whole at undo: quadratic in
//! time and memory. Items whose undo needs one object of such a dump say which
//! (`Step::read_key`), so one dump serves a run of them: its answer is indexed by key once, and
//! each item is given only the messages with its own key.
//!
//! The dump still shows what each item overwrites as long as nothing sent since changed that
//! object: only items that read the same dump (the same request, in the same namespace) may be
//! sent in between, each changing the one object its key names, and none with a key already
//! changed since. Any other item, or a second change of one object, means a fresh dump.

use std::collections::{HashMap, HashSet};

use crate::transport::Messages;

use super::step::ReadKey;

/// The last dump read for keyed items, indexed by key.
#[derive(Default)]
pub(super) struct SharedDump(Option<Dump>);

struct Dump {
    target: usize,
    request: Vec<u8>,
    by_key: HashMap<ReadKey, Messages>,
    /// Objects changed by items sent since the dump: it no longer shows them as they are.
    changed: HashSet<ReadKey>,
}

impl SharedDump {
    /// What the dump `request` in `target` read for `key`, when it still shows that object as
    /// it is (an object the dump did not find is absent: empty). Taken, not copied: the item
    /// asking is about to change the object, so the dump no longer shows it as it is.
    pub(super) fn take(&mut self, target: usize, request: &[u8], key: &ReadKey) -> Option<Messages> {
        let d = self.0.as_mut()?;
        if d.target != target || d.request != request || d.changed.contains(key) {
            return None;
        }
        d.changed.insert(key.clone());
        Some(d.by_key.remove(key).unwrap_or_default())
    }

    /// Keeps a dump's answer, indexed by the key `key_of` gives each message (`Op::answer_key`).
    pub(super) fn keep(
        &mut self,
        target: usize,
        request: Vec<u8>,
        answer: &Messages,
        key_of: impl Fn(&[u8]) -> Option<ReadKey>,
    ) {
        let mut by_key: HashMap<ReadKey, Messages> = HashMap::new();
        for message in answer {
            if let Some(key) = key_of(message) {
                by_key.entry(key).or_default().push(message);
            }
        }
        self.0 = Some(Dump {
            target,
            request,
            by_key,
            changed: HashSet::new(),
        });
    }

    /// An item is being sent in `target`: `shared`, the key and dump request of an item that
    /// reads this dump (None for any other item, which may change anything the dump saw).
    pub(super) fn sending(&mut self, target: usize, shared: Option<(&ReadKey, &[u8])>) {
        let Some(d) = &mut self.0 else { return };
        match shared {
            Some((key, request)) if d.target == target && d.request == request => {
                if !d.changed.contains(key) {
                    d.changed.insert(key.clone());
                }
            }
            _ => self.0 = None,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages whose key is their first byte.
    fn answer(messages: &[&[u8]]) -> Messages {
        let mut m = Messages::default();
        for message in messages {
            m.push(message);
        }
        m
    }

    fn first_byte(message: &[u8]) -> Option<ReadKey> {
        message.first().map(|b| vec![*b])
    }

    fn kept() -> SharedDump {
        let mut shared = SharedDump::default();
        shared.keep(0, b"dump".to_vec(), &answer(&[b"a1", b"b1", b"a2"]), first_byte);
        shared
    }

    #[test]
    fn an_item_gets_only_the_messages_with_its_key_in_dump_order() {
        let mut shared = kept();
        let found = shared.take(0, b"dump", &b"a".to_vec()).unwrap();
        assert_eq!(found.iter().collect::<Vec<_>>(), vec![b"a1".as_slice(), b"a2"]);
        // What the dump did not find is absent, not unknown.
        assert!(shared.take(0, b"dump", &b"z".to_vec()).unwrap().is_empty());
        // Taken by an item that changes it: a second item must read it again.
        assert!(shared.take(0, b"dump", &b"a".to_vec()).is_none());
    }

    #[test]
    fn another_request_or_namespace_is_not_served() {
        let mut shared = kept();
        assert!(shared.take(1, b"dump", &b"a".to_vec()).is_none());
        assert!(shared.take(0, b"other", &b"a".to_vec()).is_none());
    }

    #[test]
    fn an_object_changed_since_the_dump_must_be_read_again() {
        let mut shared = kept();
        shared.sending(0, Some((&b"a".to_vec(), b"dump")));
        assert!(shared.take(0, b"dump", &b"a".to_vec()).is_none());
        assert_eq!(shared.take(0, b"dump", &b"b".to_vec()).unwrap().len(), 1);
    }

    #[test]
    fn any_other_item_sent_drops_the_dump() {
        let b = b"b".to_vec();
        for (target, other) in [
            (0, None),
            (1, Some((&b, b"dump".as_slice()))),
            (0, Some((&b, b"other".as_slice()))),
        ] {
            let mut shared = kept();
            shared.sending(target, other);
            assert!(shared.is_empty());
            assert!(shared.take(0, b"dump", &b"b".to_vec()).is_none());
        }
    }
}

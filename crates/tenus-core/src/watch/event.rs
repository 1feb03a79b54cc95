//! What a watcher hands its consumer, as JSON: changes, the resync marker, the ready marker.

use std::sync::Arc;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::objects::Record;

crate::js_enum!(WatchAction {
    New = "new",
    Changed = "changed",
    Deleted = "deleted"
});

crate::js_enum!(ResyncReason {
    Overrun = "overrun",
    SlowConsumer = "slow-consumer"
});

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// An object appeared, changed or went: `{ type: 'change', object, action, record }`.
    Change {
        action: WatchAction,
        record: Arc<Record>,
    },
    /// The events just before this one were synthesised from a re-dump, after the kernel
    /// dropped events (overrun) or the consumer fell behind the queue: they turn what the
    /// consumer saw into what the kernel has. `{ type: 'resync', synthesised, reason }`.
    Resync {
        synthesised: usize,
        reason: ResyncReason,
    },
    /// The existing objects (if asked for) have all been reported; every change from the
    /// moment the watcher subscribed is reported from here on. `{ type: 'ready' }`.
    Ready,
}

impl Event {
    pub fn change(action: WatchAction, record: Arc<Record>) -> Self {
        Event::Change { action, record }
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Event::Change { action, record } => {
                let mut m = s.serialize_map(Some(4))?;
                m.serialize_entry("type", "change")?;
                m.serialize_entry("object", record.kind().name())?;
                m.serialize_entry("action", action)?;
                m.serialize_entry("record", &**record)?;
                m.end()
            }
            Event::Resync { synthesised, reason } => {
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("type", "resync")?;
                m.serialize_entry("synthesised", synthesised)?;
                m.serialize_entry("reason", reason)?;
                m.end()
            }
            Event::Ready => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("type", "ready")?;
                m.end()
            }
        }
    }
}

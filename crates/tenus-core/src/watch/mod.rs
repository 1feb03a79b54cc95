//! Watching the kernel: change events of links, addresses (and every object in the table of
//! `objects/`) as a stream that never loses state.
//!
//! A watcher subscribes a socket of its own to the objects' multicast groups, dumps them on that
//! socket, and from then on turns each announced change into an event carrying the same record
//! the listing returns ('new', 'changed' or 'deleted'). When the kernel drops events (the
//! socket's buffer overran) or the consumer falls behind a bounded queue, it re-dumps (or uses
//! what it knows), emits exactly the events that bring the consumer's view up to the kernel's,
//! and a `resync` marker. The rules are in `sync.rs` (pure), the views and their differences in
//! `view.rs` (pure), the socket in `socket.rs`, reading it (with the kernel quirks that call for
//! care) in `reader.rs`, the loop in `task.rs`.

pub mod event;
pub mod fallout;
pub mod object;
pub mod objects;
mod reader;
pub mod socket;
pub mod sync;
pub mod task;
#[cfg(test)]
mod testkernel;
pub mod view;

pub use event::{Event, ResyncReason, WatchAction};
pub use objects::{ObjectKind, WatchOptions};
pub use sync::Settings;
pub use task::{run, Control, WatchStatus};

use crate::args::{QUEUE, RECEIVE_BUFFER};
use crate::error::{Error, Result};

/// The receive buffer a watcher asks for unless told otherwise.
pub const DEFAULT_RECEIVE_BUFFER: u64 = 4 << 20;
/// Events a watcher holds for a slow consumer unless told otherwise.
pub const DEFAULT_QUEUE: u64 = 4096;

impl WatchOptions {
    /// Reads the options JSON `watch()` was given.
    pub fn from_json(json: &str) -> Result<WatchOptions> {
        let value = serde_json::from_str(json).map_err(|e| Error::invalid("options", e.to_string()))?;
        crate::args::options("options", value)
    }

    /// The settings it stands for, and the receive buffer; at least one object must be chosen.
    pub fn settings(&self) -> Result<(Settings, u64)> {
        let shown = self.selected();
        if shown.is_empty() {
            return Err(Error::invalid(
                "options",
                format!(
                    "choose what to watch: {}",
                    WatchOptions::OBJECT_OPTIONS
                        .iter()
                        .map(|o| camel(o))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let queue = QUEUE.check("queue", self.queue.unwrap_or(DEFAULT_QUEUE))?;
        let buffer = RECEIVE_BUFFER.check(
            "receiveBuffer",
            self.receive_buffer.unwrap_or(DEFAULT_RECEIVE_BUFFER),
        )?;
        // Records that name links need their names, and objects that go silently with their
        // link need its end: links are followed too (first).
        let mut kinds = shown.clone();
        if kinds.iter().any(|k| k.names_links() || k.goes_with_link()) && !kinds.contains(&ObjectKind::Link) {
            kinds.insert(0, ObjectKind::Link);
        }
        // A link's last IPv4 address takes its IPv4 routes with it, unannounced: routes need
        // addresses followed to know (`fallout.rs`).
        if kinds.contains(&ObjectKind::Route) && !kinds.contains(&ObjectKind::Address) {
            kinds.insert(1, ObjectKind::Address);
        }
        Ok((
            Settings {
                kinds,
                shown,
                existing: self.existing.unwrap_or(false),
                queue: queue as usize,
            },
            buffer,
        ))
    }
}

/// An option's name as JavaScript spells it (`bridge_vlans` is `bridgeVlans`).
fn camel(name: &str) -> String {
    let mut parts = name.split('_');
    let mut out = parts.next().unwrap_or_default().to_string();
    for p in parts {
        let mut c = p.chars();
        out.extend(c.next().map(|f| f.to_ascii_uppercase()));
        out.push_str(c.as_str());
    }
    out
}

#[cfg(test)]
#[test]
fn a_missing_choice_names_the_options_as_javascript_spells_them() {
    let e = WatchOptions::default().settings().unwrap_err().to_string();
    assert!(e.contains("fdb, bridgeVlans, nexthops"), "{e}");
}

//! What the transaction engine needs to know of one kind of item: how it is read from the
//! wire, which links it names, what it sends, and how a rollback takes it back. Each object
//! type implements `Step` for its verbs in its own folder (`link/add.rs`, `addr/mod.rs`, ...);
//! `ops.rs` registers them.

use serde::de::SeqAccess;

use crate::error::{Error, Result};
use crate::link::{LinkRecord, LinkRef};
use crate::transport::Messages;

use super::names::View;

/// How a rollback undoes a done item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undo {
    /// It changed nothing (a read).
    Nothing,
    /// One request computed from the item alone takes it back (delete what was added).
    Inverse,
    /// The state it changes is read just before it is sent, and written back to undo it.
    Restore,
    /// It created a link: deleting the link takes back it and everything done to it since.
    Created,
    /// Nothing can take it back (a deletion): in rollback mode it is sent only once everything
    /// before it is known to have succeeded.
    Irreversible,
}

/// The requests that read what an item's undo will need, and whether any is a dump (then the
/// item waits for them: the driver runs one dump at a time, so a dump would not keep its place
/// in the pipeline).
#[derive(Debug, Default)]
pub struct Reads {
    pub requests: Vec<Read>,
    /// What these reads find decides whether more are needed (`Step::reads_more`): the item
    /// waits for them.
    pub follow_up: bool,
}

#[derive(Debug)]
pub struct Read {
    /// Empty: nothing to read in this slot (it keeps the slots of later reads where they are).
    pub message: Vec<u8>,
    pub dump: bool,
}

impl Read {
    /// A dump.
    pub fn dump(message: Vec<u8>) -> Self {
        Read { message, dump: true }
    }

    /// Nothing to read in this slot (see `message`).
    pub fn none() -> Self {
        Read {
            message: Vec::new(),
            dump: false,
        }
    }
}

impl Reads {
    pub fn one(message: Vec<u8>) -> Self {
        Reads {
            requests: vec![Read { message, dump: false }],
            follow_up: false,
        }
    }

    /// One dump.
    pub fn dump(message: Vec<u8>) -> Self {
        Reads {
            requests: vec![Read::dump(message)],
            follow_up: false,
        }
    }

    /// Whether the item must wait for these reads before it is sent.
    pub fn must_wait(&self) -> bool {
        self.follow_up || self.requests.iter().any(|r| r.dump)
    }
}

/// What was read before an item, one entry per request of its `Reads`.
pub type Before = [Messages];

/// Which one object of a dump an item changes (a route's family, table and prefix, ...): the
/// same bytes for the item and for that object's message in the dump's answer (`shared.rs`).
pub type ReadKey = Vec<u8>;

/// An item reads its arguments from the wire: `Err` on the outside is a document the builder
/// could not have written (the whole batch fails), on the inside a bad argument (the item fails).
pub type Parsed<T, E> = std::result::Result<Result<T>, E>;

/// What sending an item changes about the names a batch refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect<'a> {
    None,
    /// A new link with this name, and for pairs the peer's namespace (the batch's n-th) and name.
    Creates(&'a str, Option<(usize, &'a str)>),
    /// A link gets a new name.
    Renames(&'a LinkRef, &'a str),
    /// A link is gone from the target's namespace.
    Removes(&'a LinkRef),
    /// A link leaves for the batch's n-th namespace, where it has this name.
    Moves(&'a LinkRef, usize, Option<&'a str>),
}

/// A request of an undo, and the namespace it is sent in (0: the batch's own, n: its n-th peer).
pub type UndoRequest = (usize, Vec<u8>);

/// One verb on one kind of object.
pub trait Step: Sized + Send + Sync {
    /// The operation's name in errors and in the wire table ('link.add', 'address.add', ...).
    const OP: &'static str;

    /// Reads the item's arguments (what follows the code in `[code, ...arguments]`).
    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut super::wire::ReadContext)
        -> Parsed<Self, A::Error>;

    /// What the item is about, for errors (a link's name, an address, ...).
    fn label(&self) -> Option<String>;

    /// Its kernel error, with what the kernel leaves unsaid (the name a rename found taken, a
    /// master that takes no ports); by default as it is.
    fn explain(&self, error: Error) -> Error {
        error
    }

    /// Links it names whose index the request needs (in the namespace it acts in).
    fn links(&self) -> Vec<&LinkRef> {
        Vec::new()
    }

    /// Whether a rollback writes back what was read before it even when it failed: a change the
    /// kernel may have applied in part before refusing it, or whole before its answer timed
    /// out, whose undo is harmless when nothing changed.
    fn restores_when_failed(&self) -> bool {
        false
    }

    /// Whether, when it fails with the kernel's answer, none of it took effect (so that a
    /// batch's last change, with no change after it to fail, reads only its object, not its
    /// follow-up reads: `batch/mod.rs`).
    fn fails_whole(&self) -> bool {
        !self.restores_when_failed()
    }

    /// Every link it acts on or names (`overlap.rs`: which runs sent together must not
    /// overlap). By default those it names; an item on a link of its own says so.
    fn touches(&self) -> Vec<&LinkRef> {
        self.links()
    }

    /// Links whose deletion takes what it did with them: when the batch made one of them, a
    /// rollback leaves the item to that link's deletion rather than undoing it. By default every
    /// link it names. Items that change something that outlives those links say less: a link
    /// change goes with its own link only (not with a new master it names: an existing link's
    /// change must still be put back), route and nexthop replaces with nothing (the route or
    /// object they replaced must come back).
    fn goes_with(&self) -> Vec<&LinkRef> {
        self.links()
    }

    /// How a rollback takes it back.
    fn undo(&self) -> Undo;

    /// What to read before it, for `Undo::Restore`.
    fn reads(&self, _names: &View) -> Result<Reads> {
        Ok(Reads::default())
    }

    /// Whether a read before it that failed with `error` found the object absent, rather than
    /// failed: then the item goes on, and its undo sees an empty answer for that read (a
    /// replace of something that was not there is undone by deleting it).
    fn absent(&self, _error: &Error) -> bool {
        false
    }

    /// For an item whose one read is a dump of many objects (a table's routes), the object it
    /// changes: items around it then share that dump, and its undo is given only the answer's
    /// messages with this key (`shared.rs`). Items that do not read (additions) give theirs too:
    /// the dump no longer shows that object as it is.
    fn read_key(&self, _names: &View) -> Option<ReadKey> {
        None
    }

    /// The key of one message of that dump's answer (None: no item's `read_key`).
    fn answer_key(&self, _message: &[u8]) -> Option<ReadKey> {
        None
    }

    /// For a link change, given what was read before it: the link it changes, when the change
    /// keeps the links' structure (no master, no name). A run of such changes shares one dump
    /// of the namespace's links for the links on top of each (`uppers.rs`).
    fn changed_link(&self, _before: &Before) -> Option<u32> {
        None
    }

    /// More reads, once the first ones are in (`Reads::follow_up`).
    fn reads_more(&self, _names: &View, _first: &Before) -> Result<Reads> {
        Ok(Reads::default())
    }

    /// The request.
    fn encode(&self, names: &View) -> Result<Vec<u8>>;

    /// Whether the answer carries data the caller wants (a read): then it is asked for an ACK
    /// and its messages are kept.
    fn returns_data(&self) -> bool {
        false
    }

    /// The link record its answer carries, for items that read or create a link.
    fn record(&self, _reply: &Messages) -> Option<LinkRecord> {
        None
    }

    /// Requests that undo it, given what was read before it (`Undo::Inverse`, `Undo::Restore`).
    fn encode_undo(&self, _names: &View, _before: &Before) -> Result<Vec<UndoRequest>> {
        Ok(Vec::new())
    }

    /// Requests that undo it when it failed with `error` having been applied in part
    /// (`restores_when_failed`): by default those of `encode_undo`. An item whose error tells
    /// how far the kernel got puts back only what it applied (a setting the kernel refused may
    /// be one it refuses in the undo too), and one whose undo, once done, would also take what
    /// it did not do (an FDB add with `self` and `master`, whose `self` half failed: the
    /// device's own entry may have been there) says less.
    fn encode_undo_failed(&self, names: &View, before: &Before, _error: &Error) -> Result<Vec<UndoRequest>> {
        self.encode_undo(names, before)
    }

    /// One more undo request, for when its undo failed with `error`: the kernel may keep the
    /// object under another key than the one the item named.
    fn undo_again(&self, _names: &View, _error: &Error) -> Option<UndoRequest> {
        None
    }

    /// What sending it changes about names.
    fn effect(&self) -> Effect<'_> {
        Effect::None
    }
}

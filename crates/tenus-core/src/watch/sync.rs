//! A watcher's state, from subscription to every event after: pure (no socket, no clock), fed
//! the datagrams the subscription socket receives and told when it overran or ran empty; it
//! says when to send which dump. Every rule is unit-tested here; `task.rs` moves the bytes.
//!
//! Three views are kept:
//! - `live`: the kernel's objects as the watcher knows them, from a dump and every event since;
//! - the queue: events not yet handed to the consumer (after them, the consumer's view is
//!   `live`);
//! - `behind`: while events are not being queued (the queue was full, or the kernel dropped
//!   events), the view the consumer will have once the queue drains. When it does, the
//!   difference between `behind` and `live` is queued, then a resync marker.
//!
//! Dumps run on the subscription socket itself, so that replies and events arrive in the order
//! the kernel made them. Events that arrive while a dump runs are set aside; when the last dump
//! ends, each object's state is the last event about it, or else what the dump said (an event
//! is the object's whole state after a change; any change after the dump read an object comes
//! as a later event, and any before it is in what the dump read). That is the kernel's state at
//! the moment the last dump ended, with no event missed since and none reported twice.
//!
//! When the kernel drops events (ENOBUFS) it reports it once, then stays silent about more
//! drops until the socket has been read empty (NETLINK_S_CONGESTED). So after an overrun the
//! socket is drained first, and only then is a dump asked for: any drop during it is reported.
//! A dump reported interrupted (NLM_F_DUMP_INTR: the kernel's list changed underway, objects
//! may be missing) is run again; one during which events were dropped is run again after
//! another drain.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::event::{Event, ResyncReason};
use super::fallout;
use super::objects::{self, Decoded, Key, Names, ObjectKind, Record, Replace, Said};
use super::view::View;
use crate::error::{Error, Result};
use crate::transport::ack::{self, Header, NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP_INTR};
use crate::transport::header;

/// What a watcher follows, and how much it holds for its consumer.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What the watcher follows, in table order, at least one: what it reports, and links
    /// when what it reports names them.
    pub kinds: Vec<ObjectKind>,
    /// What it reports events of.
    pub shown: Vec<ObjectKind>,
    pub existing: bool,
    /// Events queued before the watcher stops queuing and resyncs the consumer instead.
    pub queue: usize,
}

/// A request for the socket: a dump, its sequence number set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    pub kind: ObjectKind,
    pub message: Vec<u8>,
}

/// What happened so far (reported in `WatchStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Announcements read from the kernel (each decoded, whether or not it changed anything).
    pub notifications: u64,
    /// Change events queued (synthesised ones included).
    pub events: u64,
    /// Resync markers queued.
    pub resyncs: u64,
    /// Events synthesised by resyncs.
    pub synthesised: u64,
    /// Times the kernel reported dropped events (ENOBUFS) or a datagram did not fit.
    pub overruns: u64,
    /// Dumps asked for (one per object kind per sync, and every retry).
    pub dumps: u64,
    /// Dumps the kernel reported interrupted, run again.
    pub interrupted: u64,
}

enum Phase {
    /// Dumping `kinds[step]`.
    Dumping(Running),
    /// After an overrun: reading and discarding until the socket is empty.
    Draining,
    Streaming,
}

struct Running {
    step: usize,
    seq: u32,
    /// What the dumps said so far.
    dumped: View,
    /// The last event about each object since the first dump was asked for.
    raced: HashMap<Key, Raced>,
    /// Links whose whole set of objects of a kind an event replaced since then (`Replace`):
    /// what the dumps say of them does not stand (the set's entries are in `raced`).
    replaced: HashSet<(ObjectKind, u32)>,
    /// Events were dropped while it ran: its result cannot be trusted.
    spoiled: bool,
    interrupted: bool,
}

/// An event that raced the dumps. One whose record names links keeps its message, to be read
/// again once the dumps are in: it may name a link that the link dump had not reached yet
/// (the kernel sends a dump in parts, and events slip in between them), and would otherwise
/// carry no link name for good.
struct Raced {
    decoded: Decoded,
    message: Option<Vec<u8>>,
}

pub struct Sync {
    settings: Settings,
    /// The port of the socket: dump replies carry it.
    port: u32,
    next_seq: u32,
    phase: Phase,
    live: View,
    behind: Option<View>,
    queue: VecDeque<Event>,
    /// The first sync has been queued (with the ready marker).
    ready: bool,
    /// An overrun happened since the last resync marker.
    overrun: bool,
    counters: Counters,
    /// Link names by index, from every link message read (dump or event), for the records of
    /// routes and nexthops.
    names: Names,
    /// Links are followed: the kernel's silent removals are inferred (`fallout.rs`).
    infer: bool,
}

/// A sequence number to start from that another socket's requests are unlikely to carry:
/// events caused by them carry their numbers (and their port, which may equal ours when they
/// live in another namespace).
fn first_seq() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    (h.finish() as u32).max(1)
}

impl Sync {
    /// Starts with the first dump, to send.
    pub fn new(settings: Settings, port: u32) -> (Sync, Dump) {
        assert!(!settings.kinds.is_empty(), "a watcher follows at least one kind");
        let infer = settings.kinds.contains(&ObjectKind::Link);
        let mut sync = Sync {
            names: Names::new(),
            infer,
            settings,
            port,
            next_seq: first_seq(),
            phase: Phase::Streaming,
            live: View::default(),
            behind: None,
            queue: VecDeque::new(),
            ready: false,
            overrun: false,
            counters: Counters::default(),
        };
        let dump = sync.start_dump();
        (sync, dump)
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Events waiting for the consumer.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Whether the watcher is following events (not dumping or draining after an overrun).
    pub fn is_streaming(&self) -> bool {
        matches!(self.phase, Phase::Streaming)
    }

    /// Whether a dump is under way (its replies not all read).
    pub fn is_dumping(&self) -> bool {
        matches!(self.phase, Phase::Dumping(_))
    }

    /// The objects the watcher knows (its view of the kernel).
    pub fn live(&self) -> &View {
        &self.live
    }

    fn dump_request(&mut self, step: usize) -> Dump {
        let kind = self.settings.kinds[step];
        let mut message = kind.dump();
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        header::set_seq(&mut message, seq);
        self.counters.dumps += 1;
        Dump { kind, message }
    }

    fn start_dump(&mut self) -> Dump {
        let dump = self.dump_request(0);
        self.phase = Phase::Dumping(Running {
            step: 0,
            seq: header::seq(&dump.message),
            dumped: View::default(),
            raced: HashMap::new(),
            replaced: HashSet::new(),
            spoiled: false,
            interrupted: false,
        });
        dump
    }

    /// Whether events of this kind are reported.
    fn shows(&self, kind: ObjectKind) -> bool {
        self.settings.shown.contains(&kind)
    }

    /// Whether an event is for the consumer (not about something followed only for names).
    fn shown(&self, e: &Event) -> bool {
        match e {
            Event::Change { record, .. } => self.shows(record.kind()),
            _ => true,
        }
    }

    /// Reads one message, keeping the names of links up to date.
    fn read(&mut self, msg: &[u8]) -> Option<Said> {
        let said = objects::read(&self.settings.kinds, msg, &self.names)?;
        let Said::One(d) = &said else {
            return Some(said);
        };
        if let Record::Link(l) = &*d.record {
            if d.gone {
                self.names.remove(&l.index);
            } else if self.names.get(&l.index) != Some(&l.name) {
                self.names.insert(l.index, l.name.clone());
            }
        }
        Some(said)
    }

    /// Takes in one datagram; returns the dump to send next, if any.
    pub fn on_datagram(&mut self, mut buf: &[u8]) -> Result<Option<Dump>> {
        let mut next = None;
        while let Some(h) = ack::header(buf) {
            let msg = &buf[..h.len];
            if let Some(dump) = self.on_message(msg, &h)? {
                next = Some(dump);
            }
            buf = &buf[ack::align4(h.len).min(buf.len())..];
        }
        Ok(next)
    }

    fn on_message(&mut self, msg: &[u8], h: &Header) -> Result<Option<Dump>> {
        let reply = match &self.phase {
            Phase::Dumping(r) => header::pid(msg) == self.port && h.seq == r.seq,
            _ => false,
        };
        if !reply {
            match self.read(msg) {
                Some(Said::One(d)) => {
                    self.counters.notifications += 1;
                    self.on_event(d, msg);
                }
                Some(Said::Set(set)) => {
                    self.counters.notifications += 1;
                    self.on_set(set);
                }
                None => {}
            }
            return Ok(None);
        }
        let Phase::Dumping(r) = &mut self.phase else {
            unreachable!()
        };
        r.interrupted |= h.flags & NLM_F_DUMP_INTR != 0;
        match h.kind {
            NLMSG_DONE => {
                let errno = msg
                    .get(ack::NLMSG_HDRLEN..ack::NLMSG_HDRLEN + 4)
                    .map_or(0, |b| i32::from_ne_bytes(b.try_into().unwrap_or_default()));
                if errno < 0 {
                    return Err(Error::Kernel {
                        errno: -errno,
                        op: format!("watch.{}", self.settings.kinds[r.step].name()),
                        link: None,
                        extack: None,
                        extack_offset: None,
                    });
                }
                Ok(self.on_dump_end())
            }
            NLMSG_ERROR => {
                let a = ack::parse_error(msg, h);
                if a.errno == libc::ENOBUFS {
                    // The receive buffer was full when the dump began: it begins once the
                    // socket is read, and what it says will not be trusted.
                    self.on_overrun();
                    return Ok(None);
                }
                Err(Error::Kernel {
                    errno: a.errno,
                    op: format!("watch.{}", self.settings.kinds[r.step].name()),
                    link: None,
                    extack: a.message,
                    extack_offset: a.offset,
                })
            }
            _ => {
                let kind = self.settings.kinds[r.step];
                let found = match self.read(msg) {
                    Some(Said::One(d)) => vec![d],
                    Some(Said::Set(set)) => set.entries,
                    None => Vec::new(),
                };
                for d in found {
                    // A dump of one kind may carry others (neighbours with FDB entries): only
                    // its own kind's dump says what of those exists.
                    if !d.gone && d.key.kind() == kind {
                        if let Phase::Dumping(r) = &mut self.phase {
                            r.dumped.insert(d.key, d.record);
                        }
                    }
                }
                Ok(None)
            }
        }
    }

    /// A change the kernel announced (`msg` says it).
    fn on_event(&mut self, d: Decoded, msg: &[u8]) {
        match &mut self.phase {
            Phase::Dumping(r) => {
                let message = d.key.kind().names_links().then(|| msg.to_vec());
                r.raced.insert(d.key.clone(), Raced { decoded: d, message });
            }
            Phase::Draining => {}
            Phase::Streaming => self.stream(d),
        }
    }

    /// A link's whole set of objects the kernel announced: while dumping, it stands in for
    /// what the dumps say of that link; while streaming, each object that came, changed or
    /// went is an event.
    fn on_set(&mut self, set: Replace) {
        match &mut self.phase {
            Phase::Dumping(r) => {
                r.raced.retain(|k, _| !set.covers(k));
                r.replaced.insert((set.kind, set.link));
                for d in set.entries {
                    r.raced.insert(
                        d.key.clone(),
                        Raced {
                            decoded: d,
                            message: None,
                        },
                    );
                }
            }
            Phase::Draining => {}
            Phase::Streaming => {
                for d in set.apply_to(&self.live) {
                    self.stream(d);
                }
            }
        }
    }

    fn stream(&mut self, d: Decoded) {
        let d = self.folded(d);
        // What the kernel did silently along with it follows it (`fallout.rs`).
        let probe = (self.infer && self.live.changes(&d)).then(|| d.clone());
        let renamed = probe.as_ref().and_then(|p| self.rename_of(p));
        let was = probe.as_ref().and_then(|p| self.live.get(&p.key).cloned());
        self.apply(d);
        if let Some(probe) = probe {
            for silent in fallout::after(&self.live, &probe, was.as_deref()) {
                self.apply(silent);
            }
        }
        if let Some((old, new)) = renamed {
            for silent in fallout::renamed(&self.live, &old, &new) {
                self.apply(silent);
            }
        }
    }

    /// An IPv6 multipath route's leg, folded into the route the view holds
    /// (`objects::route::fold_legs`).
    fn folded(&self, d: Decoded) -> Decoded {
        let (Record::Route(new), Some(Record::Route(old))) =
            (&*d.record, self.live.get(&d.key).map(|r| &**r))
        else {
            return d;
        };
        match super::objects::route::fold_legs(old, new, d.gone) {
            Some((route, gone)) => Decoded {
                key: d.key,
                record: Arc::new(Record::Route(route)),
                gone,
            },
            None => d,
        }
    }

    /// A link's old and new names, when `d` renames one the view holds.
    fn rename_of(&self, d: &Decoded) -> Option<(String, String)> {
        let Record::Link(new) = &*d.record else {
            return None;
        };
        match self.live.get(&d.key).map(|r| &**r) {
            Some(Record::Link(old)) if !d.gone && old.name != new.name => {
                Some((old.name.clone(), new.name.clone()))
            }
            _ => None,
        }
    }

    fn apply(&mut self, d: Decoded) {
        if self.behind.is_none()
            && self.queue.len() >= self.settings.queue
            && self.shows(d.key.kind())
            && self.live.changes(&d)
        {
            // The consumer is too far behind: stop queuing, resync it when it catches up.
            self.behind = Some(self.live.clone());
        }
        let event = self.live.apply(d);
        if let (Some(e), None) = (event, &self.behind) {
            if self.shown(&e) {
                self.queue.push_back(e);
                self.counters.events += 1;
            }
        }
    }

    fn on_dump_end(&mut self) -> Option<Dump> {
        let Phase::Dumping(r) = &mut self.phase else {
            return None;
        };
        if r.spoiled {
            self.phase = Phase::Draining;
            return None;
        }
        if r.interrupted {
            // Run this kind's dump again; what the others said, and the events since the
            // first began, still hold.
            self.counters.interrupted += 1;
            let kind = self.settings.kinds[r.step];
            r.dumped.retain(|k| k.kind() != kind);
            r.interrupted = false;
            let step = r.step;
            let dump = self.dump_request(step);
            if let Phase::Dumping(r) = &mut self.phase {
                r.seq = header::seq(&dump.message);
            }
            return Some(dump);
        }
        if r.step + 1 < self.settings.kinds.len() {
            let step = r.step + 1;
            let dump = self.dump_request(step);
            if let Phase::Dumping(r) = &mut self.phase {
                r.step = step;
                r.seq = header::seq(&dump.message);
            }
            return Some(dump);
        }
        let Phase::Dumping(r) = std::mem::replace(&mut self.phase, Phase::Streaming) else {
            unreachable!()
        };
        let mut truth = r.dumped;
        if !r.replaced.is_empty() {
            truth.retain(|k| k.link().is_none_or(|l| !r.replaced.contains(&(k.kind(), l))));
        }
        let mut again = Vec::new();
        for (key, raced) in r.raced {
            let d = raced.decoded;
            if d.gone {
                truth.remove(&key);
            } else {
                if let Some(message) = raced.message {
                    again.push(message);
                }
                truth.insert(key, d.record);
            }
        }
        if !again.is_empty() && self.infer {
            // The links' names as the state now stands, then the records that name them.
            self.names = truth
                .iter()
                .filter_map(|(_, r)| match &**r {
                    Record::Link(l) => Some((l.index, l.name.clone())),
                    _ => None,
                })
                .collect();
            for message in again {
                if let Some(Said::One(d)) = objects::read(&self.settings.kinds, &message, &self.names) {
                    truth.insert(d.key, d.record);
                }
            }
        }
        if self.infer {
            fallout::prune(&mut truth);
        }
        if !self.ready {
            self.ready = true;
            self.overrun = false;
            if self.settings.existing {
                let mut events = truth.snapshot();
                events.retain(|e| self.shown(e));
                self.counters.events += events.len() as u64;
                self.queue.extend(events);
            }
            self.queue.push_back(Event::Ready);
            self.live = truth;
        } else {
            if self.behind.is_none() {
                self.behind = Some(std::mem::take(&mut self.live));
            }
            self.live = truth;
        }
        None
    }

    /// The kernel dropped events for this socket (ENOBUFS), or a datagram did not fit.
    pub fn on_overrun(&mut self) {
        self.counters.overruns += 1;
        self.overrun = true;
        match &mut self.phase {
            Phase::Dumping(r) => r.spoiled = true,
            Phase::Draining => {}
            Phase::Streaming => {
                self.phase = Phase::Draining;
                if self.behind.is_none() {
                    self.behind = Some(std::mem::take(&mut self.live));
                }
            }
        }
    }

    /// The socket has nothing more to read; returns the dump to send, if one is due.
    pub fn on_empty(&mut self) -> Option<Dump> {
        match self.phase {
            Phase::Draining => Some(self.start_dump()),
            _ => None,
        }
    }

    /// Whether `take` would give anything.
    pub fn has_output(&self) -> bool {
        !self.queue.is_empty() || (self.behind.is_some() && matches!(self.phase, Phase::Streaming))
    }

    /// Up to `max` events for the consumer. When the queue has drained and the consumer is
    /// behind, the events that bring it up to date are queued first, then the resync marker.
    pub fn take(&mut self, max: usize) -> Vec<Event> {
        if self.queue.is_empty() && matches!(self.phase, Phase::Streaming) {
            if let Some(behind) = self.behind.take() {
                let mut events = behind.diff(&self.live);
                events.retain(|e| self.shown(e));
                let synthesised = events.len();
                self.queue.extend(events);
                self.queue.push_back(Event::Resync {
                    synthesised,
                    reason: if self.overrun {
                        ResyncReason::Overrun
                    } else {
                        ResyncReason::SlowConsumer
                    },
                });
                self.overrun = false;
                self.counters.events += synthesised as u64;
                self.counters.synthesised += synthesised as u64;
                self.counters.resyncs += 1;
            }
        }
        let n = max.min(self.queue.len());
        self.queue.drain(..n).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::super::event::WatchAction;
    use super::super::objects::address::AddressKey;
    use super::super::objects::{Record, WatchOptions};
    use super::super::socket::Received;
    use super::super::testkernel::*;
    use super::super::view::View;
    use super::*;
    use crate::transport::ack::NLM_F_MULTI;

    const PORT: u32 = 77;

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

    /// A consumer: applies events to its view, checking that each is a real transition.
    #[derive(Default)]
    struct Consumer {
        view: BTreeMap<Key, Arc<Record>>,
        events: usize,
        ready: usize,
        resyncs: Vec<(usize, ResyncReason)>,
        /// Change events since the last marker (what a resync says it synthesised).
        since_marker: usize,
    }

    impl Consumer {
        /// Takes events; `initial` is the state the first sync found, which a consumer that
        /// did not ask for it starts from at the ready marker.
        fn consume(&mut self, events: Vec<Event>, initial: Option<&View>) {
            for e in events {
                match e {
                    Event::Change { action, record } => {
                        let key = key_of(&record);
                        let known = self.view.get(&key);
                        match action {
                            WatchAction::New => assert!(known.is_none(), "new for a known {key:?}"),
                            WatchAction::Changed => {
                                let old = known.unwrap_or_else(|| panic!("changed for an unknown {key:?}"));
                                assert!(!old.same(&record), "changed without a change: {key:?}");
                            }
                            WatchAction::Deleted => assert!(known.is_some(), "deleted an unknown {key:?}"),
                        }
                        if action == WatchAction::Deleted {
                            self.view.remove(&key);
                        } else {
                            self.view.insert(key, record);
                        }
                        self.events += 1;
                        self.since_marker += 1;
                    }
                    Event::Resync { synthesised, reason } => {
                        assert!(synthesised <= self.since_marker);
                        assert_eq!(self.ready, 1, "a resync before ready");
                        self.resyncs.push((synthesised, reason));
                        self.since_marker = 0;
                    }
                    Event::Ready => {
                        if self.view.is_empty() {
                            for (k, r) in initial.expect("ready after the first sync").iter() {
                                self.view.insert(k.clone(), r.clone());
                            }
                        }
                        self.ready += 1;
                        self.since_marker = 0;
                    }
                }
            }
        }

        /// The view as the simulated kernel's state.
        fn state(&self) -> State {
            let mut s = State::default();
            for r in self.view.values() {
                match &**r {
                    Record::Link(l) => {
                        s.links.insert(l.index, l.mtu.unwrap());
                    }
                    Record::Address(a) => {
                        let last = a.address.rsplit('.').next().unwrap().parse().unwrap();
                        s.addresses.insert((a.index, last), ());
                    }
                    _ => unreachable!(),
                }
            }
            s
        }
    }

    struct Run {
        consumer: Consumer,
        counters: Counters,
        dropped: u64,
    }

    /// Drives a watcher against the simulated kernel: `changes` random changes while the
    /// watcher reads and the consumer takes (each with its own odds), then quiet until
    /// everything is delivered. The consumer's view must then be the kernel's state.
    fn simulate(
        seed: u64,
        capacity: usize,
        queue: usize,
        existing: bool,
        changes: usize,
        consumer_odds: u64,
    ) -> Run {
        let mut rng = Rng::new(seed);
        let mut kernel = Kernel::new(capacity, PORT);
        for _ in 0..10 {
            kernel.change(&mut rng);
        }
        while kernel.receive(&mut [0u8; 4096][..]) != Received::Empty {}
        let settings = Settings {
            kinds: vec![ObjectKind::Link, ObjectKind::Address],
            shown: vec![ObjectKind::Link, ObjectKind::Address],
            existing,
            queue,
        };
        let (mut sync, first) = Sync::new(settings, PORT);
        kernel.request(&first.message, first.kind);
        let mut consumer = Consumer::default();
        let mut buf = vec![0u8; 65536];
        let mut made = 0;
        let mut quiet_rounds = 0;
        let mut initial = None;
        loop {
            let roll = rng.below(100);
            if made < changes && roll < 30 {
                kernel.change(&mut rng);
                made += 1;
            } else if roll < 45 {
                kernel.dump_part(1 + rng.below(3) as usize);
            } else if rng.below(100) < consumer_odds {
                if sync.has_output() {
                    consumer.consume(sync.take(1 + rng.below(4) as usize), initial.as_ref());
                }
            } else {
                let next = match kernel.receive(&mut buf) {
                    Received::Datagram(n) => sync.on_datagram(&buf[..n]).unwrap(),
                    Received::Overrun => {
                        sync.on_overrun();
                        None
                    }
                    Received::Empty => sync.on_empty(),
                    Received::Truncated => unreachable!(),
                };
                if let Some(d) = next {
                    kernel.request(&d.message, d.kind);
                }
                if initial.is_none() && sync.is_streaming() {
                    // What a consumer that did not ask for the existing objects starts from.
                    initial = Some(sync.live().clone());
                }
            }
            let quiet = made == changes
                && !kernel.dumping()
                && kernel.queue_is_empty()
                && sync.is_streaming()
                && !sync.has_output();
            quiet_rounds = if quiet { quiet_rounds + 1 } else { 0 };
            if quiet_rounds > 20 {
                break;
            }
        }
        assert_eq!(consumer.ready, 1, "seed {seed}: one ready marker");
        assert_eq!(
            consumer.state(),
            kernel.state,
            "seed {seed}: the consumer's view is the kernel's"
        );
        assert_eq!(
            sync.live().len(),
            kernel.state.links.len() + kernel.state.addresses.len()
        );
        Run {
            consumer,
            counters: sync.counters().clone(),
            dropped: kernel.dropped,
        }
    }

    #[test]
    fn with_room_to_spare_every_change_arrives_and_nothing_is_resynced() {
        for seed in 0..200 {
            let run = simulate(seed, 1 << 20, 1 << 20, seed % 2 == 0, 300, 45);
            assert_eq!(run.dropped, 0);
            assert_eq!(run.counters.resyncs, 0, "seed {seed}");
            assert!(run.consumer.resyncs.is_empty());
        }
    }

    #[test]
    fn overruns_are_recovered_by_resyncs_that_bring_the_consumer_to_the_kernels_state() {
        let mut resyncs = 0;
        for seed in 0..300 {
            let run = simulate(seed, 3, 1 << 20, seed % 2 == 0, 300, 45);
            assert!(run.dropped > 0, "seed {seed}: the small queue must drop");
            assert!(run.counters.overruns > 0);
            resyncs += run.consumer.resyncs.len();
            assert!(run
                .consumer
                .resyncs
                .iter()
                .all(|(_, r)| *r == ResyncReason::Overrun));
            assert_eq!(run.counters.resyncs as usize, run.consumer.resyncs.len());
        }
        assert!(resyncs > 50, "{resyncs} resyncs");
    }

    #[test]
    fn a_slow_consumer_is_resynced_instead_of_queued_for() {
        let mut slow = 0;
        for seed in 0..300 {
            let run = simulate(seed, 1 << 20, 4, seed % 2 == 0, 300, 5);
            assert_eq!(run.dropped, 0);
            slow += run
                .consumer
                .resyncs
                .iter()
                .filter(|(_, r)| *r == ResyncReason::SlowConsumer)
                .count();
        }
        assert!(slow > 300, "{slow} slow-consumer resyncs");
    }

    #[test]
    fn everything_at_once_small_socket_small_queue_slow_consumer() {
        for seed in 0..300 {
            simulate(seed, 2, 2, seed % 3 == 0, 400, 10);
        }
    }

    fn link(kind: u16, seq: u32, port: u32, index: u32, mtu: u32) -> Vec<u8> {
        link_message(
            kind,
            if port == PORT { NLM_F_MULTI } else { 0 },
            seq,
            port,
            index,
            mtu,
        )
    }

    fn done(seq: u32, flags: u16) -> Vec<u8> {
        let mut m =
            crate::transport::testpeer::message(NLMSG_DONE, NLM_F_MULTI | flags, seq, &0i32.to_ne_bytes());
        m[12..16].copy_from_slice(&PORT.to_ne_bytes());
        m
    }

    fn links_only(existing: bool, queue: usize) -> (Sync, u32) {
        let settings = Settings {
            kinds: vec![ObjectKind::Link],
            shown: vec![ObjectKind::Link],
            existing,
            queue,
        };
        let (sync, first) = Sync::new(settings, PORT);
        let seq = header::seq(&first.message);
        (sync, seq)
    }

    fn mtus(events: &[Event]) -> Vec<(WatchAction, u32)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Change { action, record } => match &**record {
                    Record::Link(l) => Some((*action, l.mtu.unwrap())),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// (action, link, vid, pvid) of each bridge VLAN event, and the markers.
    fn vlan_events(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                Event::Change { action, record } => match &**record {
                    Record::BridgeVlan(v) => format!(
                        "{action:?} {}.{}{}",
                        v.index,
                        v.vid,
                        if v.pvid == Some(true) { " pvid" } else { "" }
                    ),
                    r => panic!("not shown: {r:?}"),
                },
                Event::Resync { synthesised, .. } => format!("resync {synthesised}"),
                Event::Ready => "ready".into(),
            })
            .collect()
    }

    #[test]
    fn a_message_with_a_ports_whole_vlan_set_is_an_event_per_vlan_that_came_changed_or_went() {
        use netlink_packet_route::link::BridgeVlanInfoFlags as F;
        let vlans = |kind, seq, port, index, v: &[(u16, F)]| {
            let flags = if port == PORT { NLM_F_MULTI } else { 0 };
            bridge_vlan_message(kind, flags, seq, port, index, v)
        };
        let settings = WatchOptions {
            bridge_vlans: Some(true),
            existing: Some(true),
            ..Default::default()
        }
        .settings()
        .unwrap()
        .0;
        assert_eq!(settings.kinds, vec![ObjectKind::Link, ObjectKind::BridgeVlan]);
        let (mut sync, first) = Sync::new(settings, PORT);
        let seq = header::seq(&first.message);
        let mut part = link(RTM_NEWLINK, seq, PORT, 5, 1500);
        part.extend(link(RTM_NEWLINK, seq, PORT, 7, 1500));
        sync.on_datagram(&part).unwrap();
        let next = sync.on_datagram(&done(seq, 0)).unwrap().expect("the VLAN dump");
        let seq = header::seq(&next.message);
        // The dump reads port 5 with 1 and 10; an event after it says 1 and 20: the event's set
        // replaces the dump's, 10 included. Bridge 7's own VLAN 1 is only in the dump.
        sync.on_datagram(&vlans(
            RTM_NEWLINK,
            seq,
            PORT,
            5,
            &[(1, F::Pvid | F::Untagged), (10, F::empty())],
        ))
        .unwrap();
        sync.on_datagram(&vlans(RTM_NEWLINK, seq, PORT, 7, &[(1, F::Pvid)]))
            .unwrap();
        sync.on_datagram(&vlans(
            RTM_NEWLINK,
            9,
            OTHER_PORT,
            5,
            &[(1, F::Pvid | F::Untagged), (20, F::empty())],
        ))
        .unwrap();
        assert_eq!(sync.on_datagram(&done(seq, 0)).unwrap(), None);
        assert_eq!(
            vlan_events(&sync.take(100)),
            ["New 5.1 pvid", "New 5.20", "New 7.1 pvid", "ready"]
        );
        // A new set, with a range: 1 changed, 30 and 31 came, 20 stayed (no event).
        sync.on_datagram(&vlans(
            RTM_NEWLINK,
            9,
            OTHER_PORT,
            5,
            &[
                (1, F::Untagged),
                (20, F::empty()),
                (30, F::RangeBegin),
                (31, F::RangeEnd),
            ],
        ))
        .unwrap();
        assert_eq!(
            vlan_events(&sync.take(100)),
            ["Changed 5.1", "New 5.30", "New 5.31"]
        );
        // The same set again is nothing.
        sync.on_datagram(&vlans(
            RTM_NEWLINK,
            9,
            OTHER_PORT,
            5,
            &[
                (1, F::Untagged),
                (20, F::empty()),
                (30, F::RangeBegin),
                (31, F::RangeEnd),
            ],
        ))
        .unwrap();
        assert!(!sync.has_output());
        // Fewer: those left out went.
        sync.on_datagram(&vlans(RTM_NEWLINK, 9, OTHER_PORT, 5, &[(30, F::empty())]))
            .unwrap();
        assert_eq!(
            vlan_events(&sync.take(100)),
            ["Deleted 5.1", "Deleted 5.20", "Deleted 5.31"]
        );
        // Events were lost; meanwhile the port got 40 back in place of 30: the resync says so.
        sync.on_overrun();
        let dump = sync.on_empty().expect("a dump after the drain");
        let seq = header::seq(&dump.message);
        let mut part = link(RTM_NEWLINK, seq, PORT, 5, 1500);
        part.extend(link(RTM_NEWLINK, seq, PORT, 7, 1500));
        sync.on_datagram(&part).unwrap();
        let next = sync.on_datagram(&done(seq, 0)).unwrap().unwrap();
        let seq = header::seq(&next.message);
        let mut part = vlans(RTM_NEWLINK, seq, PORT, 5, &[(40, F::empty())]);
        part.extend(vlans(RTM_NEWLINK, seq, PORT, 7, &[(1, F::Pvid)]));
        sync.on_datagram(&part).unwrap();
        sync.on_datagram(&done(seq, 0)).unwrap();
        assert_eq!(
            vlan_events(&sync.take(100)),
            ["Deleted 5.30", "New 5.40", "resync 2"]
        );
        // The port leaves its bridge (RTM_DELLINK of AF_BRIDGE, still listing its VLANs).
        sync.on_datagram(&vlans(RTM_DELLINK, 9, OTHER_PORT, 5, &[(40, F::empty())]))
            .unwrap();
        assert_eq!(vlan_events(&sync.take(100)), ["Deleted 5.40"]);
        // The bridge goes: its own VLANs go unannounced with it.
        sync.on_datagram(&link(RTM_DELLINK, 9, OTHER_PORT, 7, 1500))
            .unwrap();
        assert_eq!(vlan_events(&sync.take(100)), ["Deleted 7.1 pvid"]);
        assert_eq!(sync.live().len(), 1, "link 5 alone");
    }

    #[test]
    fn events_that_raced_the_dump_are_folded_into_the_existing_state() {
        let (mut sync, seq) = links_only(true, 100);
        // Link 1 changed before the dump read it (the dump says 1400 too); link 2 changed
        // after (the event is newer); link 3 went after it was read; link 4 came after.
        sync.on_datagram(&link(RTM_NEWLINK, 9, OTHER_PORT, 1, 1400))
            .unwrap();
        let mut part = link(RTM_NEWLINK, seq, PORT, 1, 1400);
        part.extend(link(RTM_NEWLINK, seq, PORT, 2, 1500));
        part.extend(link(RTM_NEWLINK, seq, PORT, 3, 1500));
        sync.on_datagram(&part).unwrap();
        sync.on_datagram(&link(RTM_NEWLINK, 9, OTHER_PORT, 2, 9000))
            .unwrap();
        sync.on_datagram(&link(RTM_DELLINK, 9, OTHER_PORT, 3, 1500))
            .unwrap();
        sync.on_datagram(&link(RTM_NEWLINK, 9, OTHER_PORT, 4, 1280))
            .unwrap();
        assert_eq!(sync.on_datagram(&done(seq, 0)).unwrap(), None);
        let events = sync.take(100);
        assert_eq!(
            mtus(&events),
            vec![
                (WatchAction::New, 1400),
                (WatchAction::New, 9000),
                (WatchAction::New, 1280)
            ]
        );
        assert_eq!(events.last(), Some(&Event::Ready));
        // The same state announced again is no event; a real change is.
        sync.on_datagram(&link(RTM_NEWLINK, 9, OTHER_PORT, 2, 9000))
            .unwrap();
        assert!(!sync.has_output());
        sync.on_datagram(&link(RTM_NEWLINK, 9, OTHER_PORT, 2, 1500))
            .unwrap();
        assert_eq!(mtus(&sync.take(100)), vec![(WatchAction::Changed, 1500)]);
    }

    #[test]
    fn an_event_that_names_a_link_the_link_dump_has_not_reached_yet_names_it_once_it_has() {
        // The kernel sends a dump in parts and events slip in between: a route on link 2
        // announced after the part with link 1, before the part with link 2.
        let settings = Settings {
            kinds: vec![ObjectKind::Link, ObjectKind::Route],
            shown: vec![ObjectKind::Route],
            existing: true,
            queue: 100,
        };
        let (mut sync, first) = Sync::new(settings, PORT);
        let seq = header::seq(&first.message);
        // Up (IFF_UP in ifinfomsg's flags): the IPv4 routes of a link that is down are gone.
        let up = |index| {
            let mut m = link(RTM_NEWLINK, seq, PORT, index, 1500);
            m[24..28].copy_from_slice(&1u32.to_ne_bytes());
            m
        };
        sync.on_datagram(&up(1)).unwrap();
        sync.on_datagram(&route_message(RTM_NEWROUTE, 0, 9, OTHER_PORT, 2, 7))
            .unwrap();
        sync.on_datagram(&up(2)).unwrap();
        let routes = sync.on_datagram(&done(seq, 0)).unwrap().expect("the route dump");
        let seq = header::seq(&routes.message);
        sync.on_datagram(&done(seq, 0)).unwrap();
        let events = sync.take(100);
        let devs: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Change { record, .. } => match &**record {
                    Record::Route(r) => Some((r.record.dst.clone(), r.record.dev.clone())),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert_eq!(devs, vec![("10.2.7.0/24".to_string(), Some("l2".to_string()))]);
        assert_eq!(events.last(), Some(&Event::Ready));
    }

    #[test]
    fn an_event_from_another_socket_with_our_sequence_number_is_an_event() {
        let (mut sync, seq) = links_only(true, 100);
        sync.on_datagram(&link(RTM_NEWLINK, seq, OTHER_PORT, 5, 1500))
            .unwrap();
        sync.on_datagram(&done(seq, 0)).unwrap();
        assert_eq!(mtus(&sync.take(100)), vec![(WatchAction::New, 1500)]);
    }

    #[test]
    fn an_interrupted_dump_is_run_again() {
        let (mut sync, seq) = links_only(true, 100);
        sync.on_datagram(&link(RTM_NEWLINK, seq, PORT, 1, 1500)).unwrap();
        let again = sync
            .on_datagram(&done(seq, NLM_F_DUMP_INTR))
            .unwrap()
            .expect("a second dump");
        let seq2 = header::seq(&again.message);
        assert_ne!(seq, seq2);
        assert!(!sync.has_output(), "nothing until a dump completes");
        sync.on_datagram(&link(RTM_NEWLINK, seq2, PORT, 2, 1500)).unwrap();
        sync.on_datagram(&done(seq2, 0)).unwrap();
        let events = sync.take(100);
        assert_eq!(
            mtus(&events),
            vec![(WatchAction::New, 1500)],
            "only what the second dump said"
        );
        assert_eq!(sync.counters().interrupted, 1);
    }

    #[test]
    fn an_overrun_drains_then_dumps_then_resyncs_with_the_difference() {
        let (mut sync, seq) = links_only(false, 100);
        let mut part = link(RTM_NEWLINK, seq, PORT, 1, 1500);
        part.extend(link(RTM_NEWLINK, seq, PORT, 2, 1500));
        sync.on_datagram(&part).unwrap();
        sync.on_datagram(&done(seq, 0)).unwrap();
        assert_eq!(sync.take(100), vec![Event::Ready]);
        sync.on_datagram(&link(RTM_NEWLINK, 9, OTHER_PORT, 1, 1400))
            .unwrap();
        sync.on_overrun();
        // Queued before the overrun was read: discarded while draining, no dump yet.
        assert_eq!(
            sync.on_datagram(&link(RTM_NEWLINK, 9, OTHER_PORT, 2, 9000))
                .unwrap(),
            None
        );
        let dump = sync.on_empty().expect("a dump once drained");
        let seq = header::seq(&dump.message);
        assert!(sync.has_output(), "the event queued before the overrun");
        assert_eq!(mtus(&sync.take(100)), vec![(WatchAction::Changed, 1400)]);
        assert!(!sync.has_output(), "no resync before the dump completes");
        let mut part = link(RTM_NEWLINK, seq, PORT, 1, 1400);
        part.extend(link(RTM_NEWLINK, seq, PORT, 3, 1500));
        sync.on_datagram(&part).unwrap();
        sync.on_datagram(&done(seq, 0)).unwrap();
        let events = sync.take(100);
        assert_eq!(
            mtus(&events),
            vec![(WatchAction::Deleted, 1500), (WatchAction::New, 1500)]
        );
        assert_eq!(
            events.last(),
            Some(&Event::Resync {
                synthesised: 2,
                reason: ResyncReason::Overrun
            })
        );
    }

    #[test]
    fn a_dump_refused_for_want_of_buffer_is_waited_for_and_not_trusted() {
        let (mut sync, seq) = links_only(true, 100);
        let mut error = (-libc::ENOBUFS).to_ne_bytes().to_vec();
        error.extend_from_slice(&[0; 16]);
        let mut msg = crate::transport::testpeer::message(NLMSG_ERROR, 0, seq, &error);
        msg[12..16].copy_from_slice(&PORT.to_ne_bytes());
        assert_eq!(sync.on_datagram(&msg).unwrap(), None);
        // The dump goes on once the socket is read, and ends; then drain, then dump again.
        sync.on_datagram(&link(RTM_NEWLINK, seq, PORT, 1, 1500)).unwrap();
        assert_eq!(sync.on_datagram(&done(seq, 0)).unwrap(), None);
        assert!(!sync.has_output());
        let again = sync.on_empty().expect("dump again");
        let seq = header::seq(&again.message);
        sync.on_datagram(&link(RTM_NEWLINK, seq, PORT, 1, 1500)).unwrap();
        sync.on_datagram(&done(seq, 0)).unwrap();
        assert_eq!(mtus(&sync.take(100)), vec![(WatchAction::New, 1500)]);
    }

    #[test]
    fn a_failed_dump_is_an_error_naming_the_object() {
        let (mut sync, seq) = links_only(true, 100);
        let mut error = (-libc::EOPNOTSUPP).to_ne_bytes().to_vec();
        error.extend_from_slice(&[0; 16]);
        let mut msg = crate::transport::testpeer::message(NLMSG_ERROR, 0, seq, &error);
        msg[12..16].copy_from_slice(&PORT.to_ne_bytes());
        let e = sync.on_datagram(&msg).unwrap_err();
        assert_eq!(e.errno(), Some(libc::EOPNOTSUPP));
        assert_eq!(e.op(), Some("watch.link"));
    }

    #[test]
    fn past_the_queue_the_consumer_gets_the_difference_not_every_event() {
        let (mut sync, seq) = links_only(false, 2);
        sync.on_datagram(&link(RTM_NEWLINK, seq, PORT, 1, 1000)).unwrap();
        sync.on_datagram(&done(seq, 0)).unwrap();
        for mtu in 1001..1100 {
            sync.on_datagram(&link(RTM_NEWLINK, 9, OTHER_PORT, 1, mtu))
                .unwrap();
        }
        assert_eq!(sync.queued(), 2, "the ready marker and one change; no more held");
        let events = sync.take(100);
        assert_eq!(events[0], Event::Ready);
        assert_eq!(mtus(&events[1..]), vec![(WatchAction::Changed, 1001)]);
        let events = sync.take(100);
        assert_eq!(mtus(&events), vec![(WatchAction::Changed, 1099)]);
        assert_eq!(
            events.last(),
            Some(&Event::Resync {
                synthesised: 1,
                reason: ResyncReason::SlowConsumer
            })
        );
    }
}

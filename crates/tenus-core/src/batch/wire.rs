//! The batch wire format: a JSON array with one small array per item, `[code, ...arguments]`
//! (codes from `ops.rs`; the addon hands the table to JavaScript, which does not restate it).
//! Positional arrays rather than objects with named fields: the document is less than half the
//! size, and neither JSON.stringify nor this parser has keys to write, buffer or match.
//!
//! `[IN, n]` makes the items after it act in the batch's n-th peer namespace (0: its own):
//! a chain that moves a link goes on in the namespace it moved it to.
//!
//! Items are turned into operations as they are parsed, with no array of parsed items in
//! between: the first large batch of a process pays for every fresh page it touches.

use std::fmt;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::Deserializer as _;

use crate::error::{Error, Result};
use crate::link::kind::ParseContext;
use crate::link::LinkRef;
use crate::netns::Namespace;

use super::ops::{read_op, Op};
use super::step::Parsed;

/// `[IN, target]`: the namespace the following items act in.
pub const IN: u8 = 255;

/// One item and the namespace it acts in.
#[derive(Debug)]
pub struct Item {
    pub target: usize,
    pub op: Op,
}

/// The items of a batch.
#[derive(Default, Debug)]
pub struct Items {
    /// By position; an item whose arguments were refused holds its error.
    pub items: Vec<Result<Item>>,
}

/// What reading items needs: the peers' namespaces, where the items act, and the names of
/// the links items before have created (generated names included).
pub struct ReadContext {
    peers: Vec<Namespace>,
    target: usize,
    /// By item position: the name (and peer name) of the link it creates.
    created: Vec<Option<(String, Option<String>)>>,
    /// The namespace the item being read last named for a peer (`peerNetns`).
    named_peer: Option<usize>,
}

/// How an item names a link: an index or a name, or the link an earlier item creates
/// (`{ "created": k }`) or that link's peer (`{ "peerOf": k }`), whose names may be
/// generated and so known only here.
pub enum WireLink {
    Ref(LinkRef),
    Created(usize),
    PeerOf(usize),
}

impl<'de> serde::Deserialize<'de> for WireLink {
    /// Names and indexes are read as they are and checked in `ReadContext::link`, so that a bad
    /// one fails its item, naming the argument, not the whole document. A visitor of its own
    /// (not an untagged enum, which buffers every value first): batches read thousands.
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        enum Earlier {
            Created(usize),
            PeerOf(usize),
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireLink;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a link: an index, a name, {created: k} or {peerOf: k}")
            }
            fn visit_u64<E: de::Error>(self, i: u64) -> std::result::Result<WireLink, E> {
                Ok(WireLink::Ref(LinkRef::Index(
                    u32::try_from(i).unwrap_or(u32::MAX),
                )))
            }
            fn visit_str<E: de::Error>(self, n: &str) -> std::result::Result<WireLink, E> {
                Ok(WireLink::Ref(LinkRef::Name(n.to_string())))
            }
            fn visit_string<E: de::Error>(self, n: String) -> std::result::Result<WireLink, E> {
                Ok(WireLink::Ref(LinkRef::Name(n)))
            }
            fn visit_map<M: de::MapAccess<'de>>(self, map: M) -> std::result::Result<WireLink, M::Error> {
                Ok(
                    match <Earlier as serde::Deserialize>::deserialize(
                        de::value::MapAccessDeserializer::new(map),
                    )? {
                        Earlier::Created(k) => WireLink::Created(k),
                        Earlier::PeerOf(k) => WireLink::PeerOf(k),
                    },
                )
            }
        }
        d.deserialize_any(V)
    }
}

impl ReadContext {
    /// `peers[0]` is the batch's own namespace.
    pub fn new(peers: Vec<Namespace>) -> Self {
        ReadContext {
            peers,
            target: 0,
            created: Vec::new(),
            named_peer: None,
        }
    }

    /// More namespaces for the items still to read (a streamed batch learns its peers last).
    pub fn add_peers(&mut self, more: impl IntoIterator<Item = Namespace>) {
        self.peers.extend(more);
    }

    /// The link a `WireLink` names.
    pub fn link(&self, link: WireLink) -> Result<LinkRef> {
        let earlier = |k: usize| self.created.get(k).and_then(Option::as_ref);
        let link = match link {
            WireLink::Ref(r) => r,
            WireLink::Created(k) => match earlier(k) {
                Some((name, _)) => LinkRef::Name(name.clone()),
                None => return Err(Error::invalid("link", format!("item {k} does not create a link"))),
            },
            WireLink::PeerOf(k) => match earlier(k).and_then(|(_, p)| p.as_ref()) {
                Some(peer) => LinkRef::Name(peer.clone()),
                None => return Err(Error::invalid("link", format!("item {k} does not create a pair"))),
            },
        };
        link.validate("link")?;
        Ok(link)
    }

    /// Reads an item's link argument.
    pub fn read_link<'de, A: SeqAccess<'de>>(&self, seq: &mut A) -> Parsed<LinkRef, A::Error> {
        let link: WireLink = next(seq, "link")?;
        Ok(self.link(link))
    }

    /// The batch's `index`-th namespace (checked with `peer_index`).
    pub fn namespace(&self, index: usize) -> Namespace {
        self.peers[index].clone()
    }

    /// The namespace the items being read act in.
    pub fn target(&self) -> usize {
        self.target
    }

    /// The namespace an item's options named for a peer since the last call (None: none).
    pub fn take_named_peer(&mut self) -> Option<usize> {
        self.named_peer.take()
    }

    /// Checks a peer number (as an item names a namespace).
    pub fn peer_index(&self, arg: &str, index: u64) -> Result<usize> {
        usize::try_from(index)
            .ok()
            .filter(|i| *i < self.peers.len())
            .ok_or_else(|| Error::invalid(arg, format!("no namespace {index} in this batch")))
    }
}

impl ParseContext for ReadContext {
    fn peer(&mut self, arg: &str, index: u32) -> Result<Namespace> {
        let i = self.peer_index(arg, u64::from(index))?;
        self.named_peer = Some(i);
        Ok(self.peers[i].clone())
    }
}

impl Items {
    /// Parses a batch document. A document the builder could not have written fails as a
    /// whole; an item with a bad argument fails alone.
    pub fn parse(json: &str, cx: &mut ReadContext) -> Result<Items> {
        let malformed = |e: serde_json::Error| Error::invalid("items", format!("malformed batch: {e}"));
        // Room for every item up front: a growing vector moved each (large) item again and
        // again, a tenth of the engine's time in a 10,000-neighbour batch. Each item is an
        // array: a `[` nested in one (or in a string) only makes the room larger.
        let room = count_byte(json.as_bytes(), b'[');
        let mut items = Items {
            items: Vec::with_capacity(room),
        };
        let mut de = serde_json::Deserializer::from_str(json);
        de.deserialize_seq(ItemsVisitor(&mut items, cx))
            .map_err(malformed)?;
        de.end().map_err(malformed)?;
        Ok(items)
    }
}

/// How many times `byte` occurs in `bytes`, counted in byte-wide lanes (≤ 255 per chunk, so
/// they cannot overflow) that the compiler vectorises; a plain count widened every byte.
fn count_byte(bytes: &[u8], byte: u8) -> usize {
    bytes
        .chunks(255)
        .map(|chunk| chunk.iter().map(|&b| u8::from(b == byte)).sum::<u8>() as usize)
        .sum()
}

struct ItemsVisitor<'a>(&'a mut Items, &'a mut ReadContext);

impl<'de> Visitor<'de> for ItemsVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of batch items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while let Some(item) = seq.next_element_seed(ItemSeed(&mut *self.1))? {
            if let Some(item) = item {
                self.0.items.push(item);
            }
        }
        Ok(())
    }
}

/// Reads one `[code, ...]` array: None for a directive (`[IN, n]`).
struct ItemSeed<'a>(&'a mut ReadContext);

impl<'de> DeserializeSeed<'de> for ItemSeed<'_> {
    type Value = Option<Result<Item>>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

/// The next argument of an item, which the builder always writes.
pub fn next<'de, T: serde::Deserialize<'de>, A: SeqAccess<'de>>(
    seq: &mut A,
    what: &str,
) -> std::result::Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::custom(format!("an item without its {what}")))
}

impl<'de> Visitor<'de> for ItemSeed<'_> {
    type Value = Option<Result<Item>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a batch item [code, ...arguments]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
        let code: u8 = next(&mut seq, "operation")?;
        if code == IN {
            let target: u64 = next(&mut seq, "namespace")?;
            self.0.target = self.0.peer_index("in", target).map_err(de::Error::custom)?;
            return Ok(None);
        }
        let target = self.0.target;
        let op = read_op(code, &mut seq, self.0)?;
        let created = match &op {
            Ok(Op::AddLink(add)) => Some((add.names.name.clone(), add.names.peer.clone())),
            _ => None,
        };
        self.0.created.push(created);
        Ok(Some(op.map(|op| Item { target, op })))
    }
}

#[cfg(test)]
mod tests {
    use super::count_byte;

    #[test]
    fn count_byte_counts_across_chunks() {
        // Every length around the 255-byte chunks, with the byte everywhere and nowhere.
        for len in [0, 1, 254, 255, 256, 510, 511, 1000] {
            assert_eq!(count_byte(&vec![b'['; len], b'['), len);
            assert_eq!(count_byte(&vec![b']'; len], b'['), 0);
        }
        let items = r#"[[60,"a","10.0.0.1",{}],[60,"a","10.0.0.2",{"x":"[ ]"}]]"#;
        assert_eq!(count_byte(items.as_bytes(), b'['), 4);
    }
}

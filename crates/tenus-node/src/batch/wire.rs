//! The batch wire format: JavaScript's `BatchBuilder` sends a JSON array with one small array
//! per item, `[op, ...arguments]` (the codes below; `src/batch.ts` holds the same table).
//! Positional arrays rather than objects with named fields: the document is less than half the
//! size, and neither JSON.stringify nor this parser has keys to write, buffer or match.
//!
//! Items are turned into core operations as they are parsed, with no array of parsed items in
//! between: the first large batch of a process pays for every fresh page it touches.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::Deserializer as _;
use tenus_core::batch::BatchOp;
use tenus_core::{Error, LinkRef, Namespace};

use crate::spec::{link_change, link_ref, link_spec, JsonLinkRef, NativeLinkChange, NativeLinkSpec};

/// `[0, spec, peerNamespacePath?]`
const LINK_ADD: u8 = 0;
/// `[1, link, change]`
const LINK_SET: u8 = 1;
/// `[2, link]`
const LINK_DELETE: u8 = 2;
/// `[3, link, cidr]`
const ADDRESS_ADD: u8 = 3;
/// `[4, link, cidr]`
const ADDRESS_REPLACE: u8 = 4;
/// `[5, link, cidr]`
const ADDRESS_DELETE: u8 = 5;
/// `[6, link, gateway]`
const GATEWAY: u8 = 6;

/// The items of a batch as core operations.
#[derive(Default)]
pub(super) struct Items {
    pub ops: Vec<BatchOp>,
    /// Items whose arguments were refused, by position (an empty op holds their place; the
    /// caller reports them as failed).
    pub invalid: HashMap<usize, Error>,
    /// Namespaces named by the items (veth peers born elsewhere), opened once each.
    namespaces: HashMap<String, Namespace>,
}

impl Items {
    /// Parses a batch document. A document the builder could not have written fails as a
    /// whole; an item with a bad argument fails alone.
    pub fn parse(json: &str) -> Result<Items, Error> {
        let malformed = |e: serde_json::Error| Error::invalid("items", format!("malformed batch: {e}"));
        let mut items = Items::default();
        let mut de = serde_json::Deserializer::from_str(json);
        de.deserialize_seq(&mut items).map_err(malformed)?;
        de.end().map_err(malformed)?;
        Ok(items)
    }

    fn push(&mut self, item: Result<BatchOp, Error>) {
        match item {
            Ok(op) => self.ops.push(op),
            Err(e) => {
                self.invalid.insert(self.ops.len(), e);
                self.ops.push(BatchOp::DelLink(LinkRef::Index(0)));
            }
        }
    }

    fn namespace(&mut self, path: String) -> Result<Namespace, Error> {
        if let Some(ns) = self.namespaces.get(&path) {
            return Ok(ns.clone());
        }
        let ns = Namespace::from_path(&path)?;
        self.namespaces.insert(path, ns.clone());
        Ok(ns)
    }
}

impl<'de> Visitor<'de> for &mut Items {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of batch items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element_seed(ItemSeed(&mut *self))? {
            self.push(item);
        }
        Ok(())
    }
}

/// Reads one `[op, ...]` array; the outer result is the document's shape, the inner one the
/// item's arguments.
struct ItemSeed<'a>(&'a mut Items);

impl<'de> DeserializeSeed<'de> for ItemSeed<'_> {
    type Value = Result<BatchOp, Error>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

fn next<'de, T: serde::Deserialize<'de>, A: SeqAccess<'de>>(seq: &mut A, what: &str) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::custom(format!("an item without its {what}")))
}

impl<'de> Visitor<'de> for ItemSeed<'_> {
    type Value = Result<BatchOp, Error>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a batch item [op, ...arguments]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let op: u8 = next(&mut seq, "operation")?;
        if op == LINK_ADD {
            let spec: Box<NativeLinkSpec> = next(&mut seq, "spec")?;
            let peer_ns: Option<String> = seq.next_element()?;
            return Ok(peer_ns
                .map(|path| self.0.namespace(path))
                .transpose()
                .and_then(|ns| link_spec(*spec, ns))
                .map(|spec| BatchOp::AddLink(Box::new(spec))));
        }
        let link = link_ref(next::<JsonLinkRef, _>(&mut seq, "link")?.into());
        Ok(match op {
            LINK_SET => {
                let change: Box<NativeLinkChange> = next(&mut seq, "change")?;
                link_change(*change).map(|c| BatchOp::SetLink(link, Box::new(c)))
            }
            LINK_DELETE => Ok(BatchOp::DelLink(link)),
            ADDRESS_ADD | ADDRESS_REPLACE => Ok(BatchOp::AddAddr {
                link,
                cidr: next(&mut seq, "cidr")?,
                replace: op == ADDRESS_REPLACE,
            }),
            ADDRESS_DELETE => Ok(BatchOp::DelAddr {
                link,
                cidr: next(&mut seq, "cidr")?,
            }),
            GATEWAY => Ok(BatchOp::Gateway {
                link,
                gateway: next(&mut seq, "gateway")?,
            }),
            other => return Err(de::Error::custom(format!("unknown batch operation {other}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_reads_back() {
        let json = r#"[[0,{"kind":"bridge","name":"br0"}],[1,"br0",{"up":true}],[2,7],
            [3,"br0","10.0.0.1/24"],[4,5,"10.0.0.2/24"],[5,5,"10.0.0.3/24"],[6,"br0","10.0.0.254"]]"#;
        let items = Items::parse(json).unwrap();
        assert!(items.invalid.is_empty());
        let names: Vec<&str> = items.ops.iter().map(BatchOp::name).collect();
        assert_eq!(
            names,
            [
                "link.add",
                "link.set",
                "link.delete",
                "address.add",
                "address.replace",
                "address.delete",
                "route.gateway"
            ]
        );
        assert!(matches!(&items.ops[2], BatchOp::DelLink(LinkRef::Index(7))));
        assert!(
            matches!(&items.ops[4], BatchOp::AddAddr { link: LinkRef::Index(5), cidr, replace: true } if cidr == "10.0.0.2/24")
        );
    }

    #[test]
    fn a_bad_argument_fails_its_item_only() {
        let json = r#"[[3,1,"10.0.0.1/24"],[1,1,{"master":2,"nomaster":true}],[3,1,"10.0.0.2/24"]]"#;
        let items = Items::parse(json).unwrap();
        assert_eq!(items.ops.len(), 3);
        assert_eq!(items.invalid.keys().copied().collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn a_malformed_document_fails_whole() {
        for json in [
            r#"[[9,1]]"#,
            r#"[[3,1]]"#,
            r#"[[3,1,"a",4]]"#,
            r#"{"op":3}"#,
            r#"[[3,-1,"a"]]"#,
            "[[3,1,\"a\"]] x",
        ] {
            let e = Items::parse(json)
                .err()
                .unwrap_or_else(|| panic!("{json} was accepted"));
            assert!(e.to_string().contains("malformed batch"), "{json}: {e}");
        }
    }
}

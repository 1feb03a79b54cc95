//! A transaction for the core's engine (`tenus_core::batch::run`): items written in the wire
//! format the TypeScript API also writes (`[code, ...arguments]`, codes from the core's table),
//! run with rollback, so that a step that fails leaves none of the steps before it done.
//! Namespace 0 is the plugin's own ("host"), 1 the pod's.

use serde_json::{json, Value};
use tenus_core::batch::wire::{ReadContext, IN};
use tenus_core::batch::{self, BatchOptions, Items, OnError, Outcome, OP_CODES};
use tenus_core::{Error, Handle, Result};

use crate::types::Cidr;

pub const HOST: usize = 0;
pub const POD: usize = 1;

#[derive(Debug, Default)]
pub struct Tx {
    items: Vec<Value>,
    target: usize,
}

fn code(op: &str) -> u8 {
    OP_CODES
        .iter()
        .find(|(name, _)| *name == op)
        .map(|(_, c)| *c)
        .unwrap_or_else(|| panic!("the core has no operation {op}"))
}

impl Tx {
    pub fn new() -> Tx {
        Tx::default()
    }

    /// Whether it holds no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Items after this act in namespace `ns`.
    pub fn on(&mut self, ns: usize) -> &mut Tx {
        if ns != self.target {
            self.items.push(json!([IN, ns]));
            self.target = ns;
        }
        self
    }

    fn push(&mut self, op: &str, args: Vec<Value>) -> &mut Tx {
        let mut item = vec![json!(code(op))];
        item.extend(args);
        self.items.push(Value::Array(item));
        self
    }

    /// `ip link add` (`options`: the common options and the kind's, as in `ns.batch`).
    pub fn link_add(&mut self, kind: &str, options: Value) -> &mut Tx {
        self.push("link.add", vec![json!(kind), options])
    }

    /// `ip link set DEV ...`.
    pub fn link_set(&mut self, link: &str, change: Value) -> &mut Tx {
        self.push("link.set", vec![json!(link), change])
    }

    /// `ip link set DEV netns N name NEW` (items on it after this say `on(N)` first).
    pub fn link_move(&mut self, link: &str, to: usize, name: &str) -> &mut Tx {
        self.push("link.move", vec![json!(link), json!(to), json!(name)])
    }

    /// A bridge port's settings (`hairpin`, `isolated`).
    pub fn port(&mut self, link: &str, options: Value) -> &mut Tx {
        self.push("link.port", vec![json!(link), options])
    }

    /// `bridge vlan add|del dev LINK vid N [pvid] [untagged]`.
    pub fn port_vlan(&mut self, link: &str, add: bool, vid: u16, pvid_untagged: bool) -> &mut Tx {
        let op = if add {
            "bridge.vlan.add"
        } else {
            "bridge.vlan.delete"
        };
        let flags = json!({"pvid": pvid_untagged, "untagged": pvid_untagged});
        self.push(op, vec![json!(link), json!(vid), flags])
    }

    pub fn address(&mut self, link: &str, cidr: &Cidr) -> &mut Tx {
        self.push("address.add", vec![json!(link), json!(cidr.to_string())])
    }

    /// `ip route add DST ...` (`options` as `ns.route()` takes them).
    pub fn route_add(&mut self, dst: &Cidr, options: Value) -> &mut Tx {
        self.push("route.add", vec![json!(dst.network().to_string()), options])
    }

    pub fn route_delete(&mut self, dst: &Cidr, options: Value) -> &mut Tx {
        self.push("route.delete", vec![json!(dst.network().to_string()), options])
    }

    /// Appends `other`'s items (written as a transaction of their own, from namespace 0).
    pub fn append(&mut self, other: Tx) -> &mut Tx {
        if other.items.is_empty() {
            return self;
        }
        if self.target != HOST {
            self.items.push(json!([IN, HOST]));
        }
        self.items.extend(other.items);
        self.target = other.target;
        self
    }

    /// Runs the items on `handles` (0: host, 1: pod); the first failure undoes what was done
    /// and is returned.
    pub async fn run(self, handles: &[Handle]) -> Result<()> {
        if self.items.is_empty() {
            return Ok(());
        }
        let json = Value::Array(self.items).to_string();
        let mut cx = ReadContext::new(handles.iter().map(|h| h.namespace().clone()).collect());
        let items = Items::parse(&json, &mut cx)?;
        let options = BatchOptions {
            on_error: OnError::Rollback,
            window: batch::DEFAULT_WINDOW,
        };
        let report = batch::run(handles, items.items, &options, &|_, _| {}).await;
        for e in &report.undo_errors {
            eprintln!("tenus-cni: while undoing a failed step: {e}");
        }
        let failed: Option<Error> = report.outcomes.into_iter().find_map(|o| match o {
            Outcome::Failed(e) => Some(e),
            _ => None,
        });
        failed.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_the_wire_format() {
        let mut tx = Tx::new();
        tx.link_add("veth", json!({"name": "v0"}))
            .on(POD)
            .address("eth0", &Cidr::parse("10.0.0.2/24").unwrap())
            .on(POD)
            .route_add(&Cidr::parse("10.9.1.7/16").unwrap(), json!({"dev": "eth0"}));
        let doc = Value::Array(tx.items.clone());
        assert_eq!(doc[0], json!([code("link.add"), "veth", {"name": "v0"}]));
        assert_eq!(doc[1], json!([IN, 1]));
        assert_eq!(doc[2], json!([code("address.add"), "eth0", "10.0.0.2/24"]));
        // One switch only, and routes name their network.
        assert_eq!(doc[3][1], json!("10.9.0.0/16"));
        assert_eq!(doc.as_array().unwrap().len(), 4);
    }
}

//! Policy rules (`ip rule add|del|show`): options and checks (`spec.rs`), requests and rules
//! read back (`encode.rs`), and the batch items, with their undo (below).
//!
//! - add: undone by deleting it (the same selectors and priority). A deletion matches what it
//!   leaves out with anything (no `iif`, fwmark 0 and protocol 0 match any), and takes the
//!   first rule it matches; the kernel adds a rule after those of its priority. In rollback
//!   mode the rules of that priority are read before the add: when the deletion would match
//!   one of them, the priority is emptied and what it held added again, in order.
//! - delete: the family's rules are read just before (rule dumps take no filter but the
//!   family) and the first one the deletion matches — the one the kernel deletes — is added
//!   back with its priority, and the rules of that priority that stood behind it are put back
//!   behind it (the kernel adds a rule after those of its priority). A
//!   deletion that names a priority can match only rules of that priority: a run of such
//!   deletions shares one dump (`batch/shared.rs`, keyed by family and priority).

pub mod encode;
pub mod spec;

use serde::de::SeqAccess;
use serde_json::value::RawValue;

use crate::args;
use crate::batch::wire::{next, ReadContext};
use crate::batch::{Before, Parsed, ReadKey, Reads, Step, Undo, UndoRequest, View};
use crate::error::Result;
use crate::handle::Handle;
use crate::route::spec::Family;

pub use encode::RuleRecord;
pub use spec::{IpProto, IpProtocol, Range, Rule, RuleAction, RuleOptions};

use encode::{dump_request, encode_rule, read_rule};

/// `ip rule add ...` as a batch item: `[code, options]`.
#[derive(Debug)]
pub struct AddRule(pub Rule);

/// `ip rule del ...` as a batch item: `[code, options]` (what is left out matches any rule).
#[derive(Debug)]
pub struct DeleteRule(pub Rule);

fn read_options<'de, A: SeqAccess<'de>>(seq: &mut A, install: bool) -> Parsed<Rule, A::Error> {
    let raw: &RawValue = next(seq, "rule")?;
    Ok(args::options_raw("rule", raw).and_then(|o| Rule::parse(o, install)))
}

impl Step for AddRule {
    const OP: &'static str = "rule.add";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, _: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(read_options(seq, true)?.map(AddRule))
    }
    fn label(&self) -> Option<String> {
        Some(self.0.label())
    }
    fn undo(&self) -> Undo {
        match self.shared_priority() {
            Some(_) => Undo::Restore,
            None => Undo::Inverse,
        }
    }
    // The rules of its priority, for an undo that must not take one of them instead. Without
    // a priority (the kernel picks one) or at 0 (the local rule's) it reads nothing.
    fn reads(&self, _: &View) -> Result<Reads> {
        Ok(match self.shared_priority() {
            Some(_) => read_rules(self.0.family),
            None => Reads::default(),
        })
    }
    fn read_key(&self, _: &View) -> Option<ReadKey> {
        let p = self.shared_priority()?;
        Some(read_key(self.0.family?, p))
    }
    fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
        answer_key(message)
    }
    fn encode(&self, _: &View) -> Result<Vec<u8>> {
        Ok(encode_rule(&self.0, false))
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let t = names.target;
        let Some(priority) = self.shared_priority() else {
            return Ok(vec![(t, encode_rule(&self.0, true))]);
        };
        let held: Vec<Rule> = before
            .first()
            .into_iter()
            .flat_map(|m| m.iter().filter_map(read_rule))
            .filter(|r| r.family == self.0.family && r.priority == Some(priority))
            .collect();
        if !held.iter().any(|r| self.0.deletes(r)) {
            return Ok(vec![(t, encode_rule(&self.0, true))]);
        }
        // Each deletion naming the priority alone takes its first rule.
        let any = Rule {
            family: self.0.family,
            priority: Some(priority),
            ..Rule::default()
        };
        let mut undo = vec![(t, encode_rule(&any, true)); held.len() + 1];
        undo.extend(held.iter().map(|r| (t, encode_rule(&r.as_request(), false))));
        Ok(undo)
    }
}

impl AddRule {
    /// The priority whose rules its undo reads: one given, not 0.
    fn shared_priority(&self) -> Option<u32> {
        self.0.priority.filter(|p| *p != 0)
    }
}

impl Step for DeleteRule {
    const OP: &'static str = "rule.delete";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, _: &mut ReadContext) -> Parsed<Self, A::Error> {
        Ok(read_options(seq, false)?.map(DeleteRule))
    }
    fn label(&self) -> Option<String> {
        Some(self.0.label())
    }
    fn undo(&self) -> Undo {
        Undo::Restore
    }
    fn reads(&self, _: &View) -> Result<Reads> {
        Ok(read_rules(self.0.family))
    }
    // Keyed only by a priority given: without one the kernel deletes the first rule that
    // matches the selectors, whatever its priority. Priority 0 is not keyed either (whether
    // the kernel matches it exactly or as "unset" is not something to build a key on): such
    // a deletion reads the rules for itself.
    fn read_key(&self, _: &View) -> Option<ReadKey> {
        let family = self.0.family?;
        self.0.priority.filter(|p| *p != 0).map(|p| read_key(family, p))
    }
    fn answer_key(&self, message: &[u8]) -> Option<ReadKey> {
        answer_key(message)
    }
    fn encode(&self, _: &View) -> Result<Vec<u8>> {
        Ok(encode_rule(&self.0, true))
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let rules: Vec<Rule> = before
            .first()
            .map(|m| m.iter().filter_map(read_rule).collect())
            .unwrap_or_default();
        let Some(at) = rules.iter().position(|r| self.0.deletes(r)) else {
            return Ok(Vec::new());
        };
        let was = &rules[at];
        let t = names.target;
        let mut undo = vec![(t, encode_rule(&was.as_request(), false))];
        // The kernel adds a rule after the others of its priority: those that stood behind it
        // (the undo runs last to first, so they are as they were) go back behind it.
        for r in rules[at + 1..]
            .iter()
            .filter(|r| r.family == was.family && r.priority == was.priority)
        {
            undo.push((t, encode_rule(&r.as_request(), true)));
            undo.push((t, encode_rule(&r.as_request(), false)));
        }
        Ok(undo)
    }
}

/// A dump of a family's rules (rule dumps take no other filter), for an item's undo.
fn read_rules(family: Option<Family>) -> Reads {
    Reads::dump(dump_request(family))
}

/// The key of a dumped rule (`read_key`).
fn answer_key(message: &[u8]) -> Option<ReadKey> {
    read_rule(message).and_then(|r| Some(read_key(r.family?, r.priority.unwrap_or(0))))
}

/// The rules of one family and priority (a dump's rules of a family are in priority order).
fn read_key(family: Family, priority: u32) -> ReadKey {
    let mut key = vec![family.code()];
    key.extend_from_slice(&priority.to_be_bytes());
    key
}

impl Handle {
    /// `ip rule show` (both families unless one is given), in the kernel's order.
    pub async fn rule_list(&self, family: Option<Family>) -> Result<Vec<RuleRecord>> {
        let messages = self.dump("rule.list", dump_request(family)).await?;
        Ok(messages
            .iter()
            .filter_map(read_rule)
            .map(|r| r.record())
            .collect())
    }
}

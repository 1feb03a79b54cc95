//! Rollback: undoing what a failed batch made, newest first.

use crate::error::Error;
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::transport::Expect;

use super::op::{BatchOp, Plan};
use super::resolve::Names;
use super::Outcome;

/// Deletes the links the batch created (all at once, by group) and removes the addresses and
/// gateways it added to links that remain. Returns the errors met.
pub(crate) async fn rollback(
    h: &Handle,
    ops: &[BatchOp],
    plans: &[Option<Plan>],
    outcomes: &mut [Outcome],
    names: &Names,
) -> Vec<Error> {
    let mut errors = Vec::new();
    let created: Vec<(usize, String)> = plans
        .iter()
        .enumerate()
        .filter(|(i, _)| outcomes[*i] == Outcome::Done)
        .filter_map(|(i, p)| match p {
            Some(Plan::Link(r)) => Some((i, r.name.clone())),
            _ => None,
        })
        .collect();
    // A created link renamed later in the batch is deleted under its new name.
    let mut current: std::collections::HashMap<String, String> =
        created.iter().map(|(_, n)| (n.clone(), n.clone())).collect();
    // Changes made to links the batch created go with them.
    let mut sets_on_created = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if let (Outcome::Done, BatchOp::SetLink(LinkRef::Name(from), change)) = (&outcomes[i], op) {
            if current.values().any(|n| n == from) {
                sets_on_created.push(i);
            }
            if let Some(to) = &change.name {
                for name in current.values_mut() {
                    if name == from {
                        *name = to.clone();
                    }
                }
            }
        }
    }
    let created_names: std::collections::HashSet<&str> = current.values().map(String::as_str).collect();

    // Addresses and gateways on links that stay; those on created links go with the links.
    let mut waits = Vec::new();
    for (i, op) in ops.iter().enumerate().rev() {
        if outcomes[i] != Outcome::Done {
            continue;
        }
        let on_created = match op {
            BatchOp::AddAddr {
                link: LinkRef::Name(n),
                ..
            }
            | BatchOp::Gateway {
                link: LinkRef::Name(n),
                ..
            } => created_names.contains(n.as_str()),
            _ => false,
        };
        if on_created {
            outcomes[i] = Outcome::Undone;
            continue;
        }
        match names.encode_undo(op) {
            Some(Ok(bytes)) => match h.connection().submit(bytes, Expect::Ack, h.timeout()) {
                Ok(rx) => waits.push((i, rx)),
                Err(e) => errors.push(e),
            },
            Some(Err(e)) => errors.push(e),
            None => {}
        }
    }
    for (i, rx) in waits {
        match rx.await {
            Ok(Ok(_)) => outcomes[i] = Outcome::Undone,
            Ok(Err(e)) => errors.push(e.context("batch.undo", ops[i].link_label().as_deref())),
            Err(_) => errors.push(Error::Closed {
                op: "batch.undo".into(),
            }),
        }
    }

    if !created.is_empty() {
        let refs: Vec<LinkRef> = created
            .iter()
            .map(|(_, n)| LinkRef::Name(current[n].clone()))
            .collect();
        match h.delete_links(&refs).await {
            Ok(()) => {
                for i in created.iter().map(|(i, _)| *i).chain(sets_on_created) {
                    outcomes[i] = Outcome::Undone;
                }
            }
            Err(e) => errors.push(e.context("batch.undo", None)),
        }
    }
    errors
}

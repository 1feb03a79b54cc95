//! Turning the names a batch refers to into indexes with as few round trips as possible.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::link::build::encode_new_link;
use crate::link::del::encode_link_del;
use crate::link::set::encode_link_set;
use crate::link::{LinkChange, LinkRef};
use crate::route::{encode_gateway, encode_gateway_del};

use super::op::{BatchOp, Plan};

#[derive(Default)]
pub(crate) struct Names {
    index: HashMap<String, u32>,
    /// Why a name has no index (its look-up failed).
    missing: HashMap<String, Error>,
    /// Names this batch has created (or renamed to) whose index is not known yet.
    pending: HashSet<String>,
}

fn name_of(r: &LinkRef) -> Option<&str> {
    match r {
        LinkRef::Name(n) => Some(n),
        LinkRef::Index(_) => None,
    }
}

impl Names {
    /// Looks up, in one pipelined round, every name the batch refers to. Names the batch
    /// creates are looked up again once created (see `note` and `needs_drain`).
    pub(crate) async fn prefetch(h: &Handle, ops: &[BatchOp]) -> Names {
        let wanted: HashSet<&str> = ops
            .iter()
            .flat_map(|op| op.needs_index())
            .filter_map(name_of)
            .collect();
        let mut names = Names::default();
        names
            .lookup(h, wanted.into_iter().map(str::to_string).collect())
            .await;
        names
    }

    async fn lookup(&mut self, h: &Handle, wanted: Vec<String>) {
        let refs: Vec<LinkRef> = wanted.iter().map(|n| LinkRef::Name(n.clone())).collect();
        let results = futures::future::join_all(refs.iter().map(|r| h.link_get(r))).await;
        for (name, result) in wanted.into_iter().zip(results) {
            self.pending.remove(&name);
            match result {
                Ok(rec) => {
                    self.missing.remove(&name);
                    self.index.insert(name, rec.index);
                }
                Err(e) => {
                    self.missing.insert(name, e);
                }
            }
        }
    }

    /// True when `op` refers to a link this batch created and whose index is not known yet.
    pub(crate) fn needs_drain(&self, op: &BatchOp) -> bool {
        op.needs_index()
            .into_iter()
            .filter_map(name_of)
            .any(|n| self.pending.contains(n))
    }

    pub(crate) async fn resolve_created(&mut self, h: &Handle, op: &BatchOp) {
        let wanted: Vec<String> = op
            .needs_index()
            .into_iter()
            .filter_map(name_of)
            .filter(|n| self.pending.contains(*n))
            .map(str::to_string)
            .collect();
        self.lookup(h, wanted).await;
    }

    pub(crate) fn index_of(&self, r: &LinkRef) -> Result<u32> {
        match r {
            LinkRef::Index(i) => Ok(*i),
            LinkRef::Name(n) => self.index.get(n).copied().ok_or_else(|| {
                self.missing
                    .get(n)
                    .cloned()
                    .unwrap_or_else(|| Error::kernel_errno(libc::ENODEV, "", n))
            }),
        }
    }

    /// The master index a change sets: `Some(0)` for nomaster.
    pub(crate) fn master_of(&self, change: &LinkChange) -> Result<Option<u32>> {
        Ok(match &change.master {
            Some(Some(m)) => Some(self.index_of(m)?),
            Some(None) => Some(0),
            None => None,
        })
    }

    /// Records what submitting `op` will change about names.
    pub(crate) fn note(&mut self, op: &BatchOp, plan: &Plan) {
        match (op, plan) {
            // A name that exists keeps its index (creating it again fails with EEXIST).
            (BatchOp::AddLink(_), Plan::Link(r)) if !self.index.contains_key(&r.name) => {
                self.pending.insert(r.name.clone());
            }
            (BatchOp::SetLink(link, change), _) => {
                if let Some(new) = &change.name {
                    if let Some(old) = name_of(link) {
                        self.index.remove(old);
                    }
                    self.pending.insert(new.clone());
                }
            }
            (BatchOp::DelLink(LinkRef::Name(n)), _) => {
                self.index.remove(n);
            }
            _ => {}
        }
    }

    pub(crate) fn encode(&self, op: &BatchOp, plan: &Plan) -> Result<Vec<u8>> {
        match (op, plan) {
            (BatchOp::AddLink(spec), Plan::Link(r)) => {
                let mut r = r.clone();
                r.parent = spec.kind.parent().map(|p| self.index_of(p)).transpose()?;
                r.master = spec
                    .common
                    .master
                    .as_ref()
                    .map(|m| self.index_of(m))
                    .transpose()?;
                encode_new_link(spec, &r)
            }
            (BatchOp::SetLink(link, change), _) => {
                let index = match (link, &change.name) {
                    (LinkRef::Name(_), Some(_)) => Some(self.index_of(link)?),
                    _ => None,
                };
                encode_link_set(link, change, index, self.master_of(change)?)
            }
            (BatchOp::DelLink(link), _) => Ok(encode_link_del(link)),
            (BatchOp::AddAddr { link, cidr, replace }, _) => {
                Handle::encode_addr_add(self.index_of(link)?, cidr, *replace)
            }
            (BatchOp::DelAddr { link, cidr }, _) => Handle::encode_addr_del(self.index_of(link)?, cidr),
            (BatchOp::Gateway { link, gateway }, _) => encode_gateway(self.index_of(link)?, gateway, false),
            (BatchOp::AddLink(_), Plan::Checked) => unreachable!("a new link is always planned"),
        }
    }

    /// The undo request for a done item, if it made something.
    pub(crate) fn encode_undo(&self, op: &BatchOp) -> Option<Result<Vec<u8>>> {
        match op {
            BatchOp::AddAddr {
                link,
                cidr,
                replace: false,
            } => Some(self.index_of(link).and_then(|i| Handle::encode_addr_del(i, cidr))),
            BatchOp::Gateway { link, gateway } => {
                Some(self.index_of(link).and_then(|i| encode_gateway_del(i, gateway)))
            }
            _ => None,
        }
    }
}

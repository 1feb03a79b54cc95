//! One item of a batch: what it does, what it must know before it can be encoded.

use crate::error::Result;
use crate::link::add::plan;
use crate::link::build::Resolved;
use crate::link::{LinkChange, LinkRef, LinkSpec};
use crate::validate;

/// Link specs and changes are boxed: batches hold thousands of items, most of them small.
#[derive(Debug, Clone)]
pub enum BatchOp {
    AddLink(Box<LinkSpec>),
    SetLink(LinkRef, Box<LinkChange>),
    DelLink(LinkRef),
    AddAddr {
        link: LinkRef,
        cidr: String,
        replace: bool,
    },
    DelAddr {
        link: LinkRef,
        cidr: String,
    },
    Gateway {
        link: LinkRef,
        gateway: String,
    },
}

/// What checking an item produced: for a new link its final names.
#[derive(Debug, Clone)]
pub enum Plan {
    Link(Box<Resolved>),
    Checked,
}

impl BatchOp {
    /// The operation name used in errors ('link.add', 'address.add', ...).
    pub fn name(&self) -> &'static str {
        match self {
            BatchOp::AddLink(_) => "link.add",
            BatchOp::SetLink(..) => "link.set",
            BatchOp::DelLink(_) => "link.delete",
            BatchOp::AddAddr { replace: false, .. } => "address.add",
            BatchOp::AddAddr { replace: true, .. } => "address.replace",
            BatchOp::DelAddr { .. } => "address.delete",
            BatchOp::Gateway { .. } => "route.gateway",
        }
    }

    pub fn link_label(&self) -> Option<String> {
        match self {
            BatchOp::AddLink(s) => s.common.name.clone(),
            BatchOp::SetLink(l, _) | BatchOp::DelLink(l) => Some(l.describe()),
            BatchOp::AddAddr { link, .. } | BatchOp::DelAddr { link, .. } | BatchOp::Gateway { link, .. } => {
                Some(link.describe())
            }
        }
    }

    /// Checks every argument without sending anything.
    pub(crate) fn plan(&self) -> Result<Plan> {
        match self {
            BatchOp::AddLink(spec) => return plan(spec).map(|r| Plan::Link(Box::new(r))),
            BatchOp::SetLink(link, change) => {
                link.validate("link")?;
                change.validate()?;
            }
            BatchOp::DelLink(link) => link.validate("link")?,
            BatchOp::AddAddr { link, cidr, .. } | BatchOp::DelAddr { link, cidr } => {
                link.validate("link")?;
                validate::cidr("address", cidr)?;
            }
            BatchOp::Gateway { link, gateway } => {
                link.validate("link")?;
                validate::ip("gateway", gateway)?;
            }
        }
        Ok(Plan::Checked)
    }

    /// Links this item names that must be turned into indexes before encoding.
    pub(crate) fn needs_index(&self) -> Vec<&LinkRef> {
        match self {
            BatchOp::AddLink(spec) => spec
                .kind
                .parent()
                .into_iter()
                .chain(spec.common.master.as_ref())
                .collect(),
            BatchOp::SetLink(link, change) => {
                let mut refs: Vec<&LinkRef> = Vec::new();
                if change.name.is_some() {
                    refs.push(link);
                }
                if let Some(Some(m)) = &change.master {
                    refs.push(m);
                }
                refs
            }
            BatchOp::DelLink(_) => Vec::new(),
            BatchOp::AddAddr { link, .. } | BatchOp::DelAddr { link, .. } | BatchOp::Gateway { link, .. } => {
                vec![link]
            }
        }
    }
}

//! Creating links: resolve names to indexes, fill in generated names, send one RTM_NEWLINK,
//! read the new link back.

use crate::error::Result;
use crate::handle::Handle;

use super::build::{encode_new_link, Resolved};
use super::spec::{generate_name, KindSpec, LinkRef, LinkSpec};
use super::LinkRecord;

/// Validates `spec` and decides its names (generated where not given); indexes are left for
/// the caller to resolve.
pub(crate) fn plan(spec: &LinkSpec) -> Result<Resolved> {
    let mac = spec.validate()?;
    let name = spec
        .common
        .name
        .clone()
        .unwrap_or_else(|| generate_name(spec.kind.name_prefix()));
    let peer = match &spec.kind {
        KindSpec::Veth(v) => Some(v.peer.clone().unwrap_or_else(|| generate_name("veth"))),
        _ => None,
    };
    Ok(Resolved {
        name,
        peer,
        parent: None,
        master: None,
        mac,
    })
}

impl Handle {
    /// Validates, resolves and encodes a creation request without sending it.
    pub async fn prepare_link_add(&self, spec: &LinkSpec) -> Result<(Resolved, Vec<u8>)> {
        let mut resolved = plan(spec)?;
        if let Some(p) = spec.kind.parent() {
            resolved.parent = Some(self.resolve("link.add", &resolved.name, p).await?);
        }
        if let Some(m) = &spec.common.master {
            resolved.master = Some(self.resolve("link.add", &resolved.name, m).await?);
        }
        let bytes = encode_new_link(spec, &resolved)?;
        Ok((resolved, bytes))
    }

    /// `ip link add ...`: creates the link and returns it as the kernel now reports it.
    pub async fn link_add(&self, spec: &LinkSpec) -> Result<LinkRecord> {
        let (resolved, bytes) = self.prepare_link_add(spec).await?;
        // The peer namespace's fd must stay open until the kernel has read the request.
        let _keep = spec.referenced_namespaces();
        self.ack("link.add", Some(&resolved.name), bytes).await?;
        self.link_get(&LinkRef::Name(resolved.name)).await
    }

    async fn resolve(&self, op: &str, name: &str, link: &LinkRef) -> Result<u32> {
        self.link_index(link).await.map_err(|e| e.context(op, Some(name)))
    }
}

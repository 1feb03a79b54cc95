//! The two namespaces a plugin works in: its own (the runtime's "host" namespace) and the
//! pod's (`CNI_NETNS`), each with a core `Handle` (a netlink socket opened inside it by a
//! short-lived thread of the core's; this thread never changes namespace).

use tenus_core::netns::Namespace;
use tenus_core::{Error, Handle, LinkRecord, LinkRef};

use crate::error::{CniError, Result, INVALID_NETNS, UNKNOWN_CONTAINER};
use crate::tx::Tx;

pub struct Net {
    /// `[host, pod]`, as transactions number them.
    pub handles: Vec<Handle>,
}

/// Opens `CNI_NETNS`. A path that does not exist: error 3 (the container is gone).
pub fn open_pod(path: &str) -> Result<Namespace> {
    let ns = Namespace::from_path(path).map_err(|e| match e.errno() {
        Some(libc::ENOENT) => CniError::new(UNKNOWN_CONTAINER, format!("failed to open netns {path:?}"))
            .with_details(e.to_string()),
        _ => {
            CniError::new(INVALID_NETNS, format!("failed to open netns {path:?}")).with_details(e.to_string())
        }
    })?;
    let own = Namespace::current().map_err(|e| CniError::netlink("cannot open the plugin's own netns", e))?;
    if own.inode() == ns.inode() {
        return Err(CniError::new(
            INVALID_NETNS,
            "plugin's netns and netns from CNI_NETNS should not be the same",
        ));
    }
    Ok(ns)
}

/// Whether opening `path` failed because it is not there (DEL treats that as done).
pub fn is_gone(e: &CniError) -> bool {
    e.code == UNKNOWN_CONTAINER
}

impl Net {
    /// Handles on the plugin's namespace and the pod's, opened side by side.
    pub async fn open(pod: Namespace, path: &str) -> Result<Net> {
        let own =
            Namespace::current().map_err(|e| CniError::netlink("cannot open the plugin's own netns", e))?;
        let (host, pod) = futures::join!(Handle::open(own), Handle::open(pod));
        let host = host.map_err(|e| CniError::netlink("cannot open a netlink socket", e))?;
        let pod = pod.map_err(|e| CniError::netlink(format!("cannot open a netlink socket in {path}"), e))?;
        Ok(Net {
            handles: vec![host, pod],
        })
    }

    pub fn host(&self) -> &Handle {
        &self.handles[0]
    }

    pub fn pod(&self) -> &Handle {
        &self.handles[1]
    }

    pub fn pod_ns(&self) -> &Namespace {
        self.pod().namespace()
    }

    pub async fn run(&self, tx: Tx) -> std::result::Result<(), Error> {
        tx.run(&self.handles).await
    }
}

/// A link by name, None when there is none.
pub async fn find(h: &Handle, name: &str) -> Result<Option<LinkRecord>> {
    match h.link_get(&LinkRef::Name(name.to_string())).await {
        Ok(l) => Ok(Some(l)),
        Err(e) if e.errno() == Some(libc::ENODEV) => Ok(None),
        Err(e) => Err(CniError::netlink(format!("failed to look up {name:?}"), e)),
    }
}

/// A name for a host-side link: "veth" and 8 hex digits, as the reference plugins name them
/// (NetworkManager leaves links named veth* alone).
pub fn random_veth_name() -> String {
    let mut b = [0u8; 4];
    // SAFETY: getrandom writes at most 4 bytes into the buffer.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n != 4 {
        // No entropy source: the clock still tells concurrent plugins apart.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ std::process::id())
            .unwrap_or_default();
        b = t.to_ne_bytes();
    }
    format!("veth{:02x}{:02x}{:02x}{:02x}", b[0], b[1], b[2], b[3])
}

/// Deletes `name` in `h` if it is there (DEL and the clean-up after a failed ADD).
pub async fn delete_if_present(h: &Handle, name: &str) -> Result<bool> {
    let link = LinkRef::Name(name.to_string());
    // A name no link can have (DEL takes any CNI_IFNAME the spec allows: `env.rs`) is gone.
    if link.validate("ifname").is_err() {
        return Ok(false);
    }
    match h.link_del(&link).await {
        Ok(()) => Ok(true),
        Err(e) if e.errno() == Some(libc::ENODEV) => Ok(false),
        Err(e) => Err(CniError::netlink(format!("failed to delete {name:?}"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn veth_names_fit_and_differ() {
        let a = random_veth_name();
        let b = random_veth_name();
        assert_eq!(a.len(), 12);
        assert!(a.starts_with("veth"));
        assert_ne!(a, b);
    }
}

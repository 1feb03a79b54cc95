//! Named namespaces, interoperable with `ip netns`: a bind mount of the namespace file on
//! /run/netns/NAME, with /run/netns itself a shared mount so that the name is seen from other
//! mount namespaces too (iproute2's `netns_add`).

use std::ffi::CString;
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

use crate::error::{Error, Result};

use super::holders::processes_in;
use super::Namespace;

pub const NETNS_RUN_DIR: &str = "/run/netns";

pub(super) fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(Error::invalid(
            "name",
            format!("{name:?} is not a usable namespace name"),
        ));
    }
    if name.len() > 255 {
        return Err(Error::invalid("name", "namespace name is longer than 255 bytes"));
    }
    Ok(())
}

fn c(path: &str) -> Result<CString> {
    CString::new(path).map_err(|_| Error::invalid("path", "path contains a NUL byte"))
}

fn mount(src: &str, dst: &str, flags: libc::c_ulong) -> io::Result<()> {
    let (src, dst, none) = (
        c(src).unwrap_or_default(),
        c(dst).unwrap_or_default(),
        c("none").unwrap_or_default(),
    );
    if unsafe { libc::mount(src.as_ptr(), dst.as_ptr(), none.as_ptr(), flags, std::ptr::null()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes /run/netns exist and be a shared mount, then creates the empty mount-point file.
pub(super) fn prepare(name: &str) -> Result<String> {
    validate_name(name)?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(NETNS_RUN_DIR)
        .map_err(|e| Error::os("netns.create", format!("mkdir {NETNS_RUN_DIR}"), &e))?;
    let shared = libc::MS_SHARED | libc::MS_REC;
    if let Err(e) = mount("", NETNS_RUN_DIR, shared) {
        // Not a mount point yet: bind it onto itself first, as iproute2 does.
        if e.raw_os_error() != Some(libc::EINVAL) {
            return Err(Error::os(
                "netns.create",
                format!("make {NETNS_RUN_DIR} shared"),
                &e,
            ));
        }
        mount(NETNS_RUN_DIR, NETNS_RUN_DIR, libc::MS_BIND | libc::MS_REC)
            .and_then(|_| mount("", NETNS_RUN_DIR, shared))
            .map_err(|e| Error::os("netns.create", format!("bind {NETNS_RUN_DIR}"), &e))?;
    }
    let path = format!("{NETNS_RUN_DIR}/{name}");
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o000)
        .open(&path)
        .map_err(|e| {
            let mut err = Error::os("netns.create", format!("create {path}"), &e);
            if e.kind() == io::ErrorKind::AlreadyExists {
                err = Error::Os {
                    errno: libc::EEXIST,
                    op: "netns.create".into(),
                    detail: format!("a namespace named {name:?} already exists ({path})"),
                };
            }
            err
        })?;
    Ok(path)
}

/// Runs on a throwaway native thread: a new namespace, bind-mounted on `path`.
pub(super) fn unshare_and_bind(path: &str) -> Result<()> {
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(Error::os(
            "netns.create",
            "unshare(CLONE_NEWNET)",
            &io::Error::last_os_error(),
        ));
    }
    mount("/proc/thread-self/ns/net", path, libc::MS_BIND)
        .map_err(|e| Error::os("netns.create", format!("bind mount on {path}"), &e))
}

/// `ip netns list`: the names under /run/netns, sorted.
pub fn list_named() -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(NETNS_RUN_DIR) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::os("netns.list", format!("read {NETNS_RUN_DIR}"), &e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// `ip netns delete NAME`: unmounts and removes the name. Refuses (EBUSY, naming the PIDs)
/// while processes still run in the namespace, unless `force`; then the namespace lives on
/// until they exit, and only the name goes. Returns the PIDs that were found in it.
///
/// `expected`: the inode of the namespace a handle opened under this name. The name may have
/// been deleted and given to another namespace since: then nothing is deleted (`ERR_INVALID_STATE`),
/// and a name that is gone is ENOENT saying so.
pub fn delete_named(name: &str, force: bool, expected: Option<u64>) -> Result<Vec<u32>> {
    validate_name(name)?;
    let path = format!("{NETNS_RUN_DIR}/{name}");
    let holders = match Namespace::from_name(name) {
        Ok(ns) => {
            if let Some(inode) = expected.filter(|&i| i != ns.inode()) {
                return Err(Error::Refused {
                    code: "ERR_INVALID_STATE",
                    op: "netns.delete".into(),
                    message: format!(
                        "the name {name:?} now names another namespace (inode {}, this handle's is \
                         {inode}): nothing was deleted",
                        ns.inode()
                    ),
                });
            }
            processes_in(ns.inode())
        }
        Err(e) if expected.is_some() && gone(&e) => {
            return Err(Error::Os {
                errno: libc::ENOENT,
                op: "netns.delete".into(),
                detail: format!(
                    "the name {name:?} is gone (deleted since this handle opened it): nothing was \
                     deleted; the namespace lives while handles on it are open"
                ),
            })
        }
        // A stale name (file without mount) has no holders; remove the file all the same.
        Err(Error::InvalidArgument { .. }) => Vec::new(),
        Err(e) => return Err(e.context("netns.delete", None)),
    };
    if !holders.is_empty() && !force {
        let list: Vec<String> = holders.iter().map(u32::to_string).collect();
        return Err(Error::Os {
            errno: libc::EBUSY,
            op: "netns.delete".into(),
            detail: format!(
                "processes {} still run in namespace {name:?}; stop them or delete with force (the namespace then lives until they exit)",
                list.join(", ")
            ),
        });
    }
    let cpath = c(&path)?;
    if unsafe { libc::umount2(cpath.as_ptr(), libc::MNT_DETACH) } != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINVAL) {
            return Err(Error::os("netns.delete", format!("unmount {path}"), &e));
        }
    }
    std::fs::remove_file(&path).map_err(|e| Error::os("netns.delete", format!("remove {path}"), &e))?;
    Ok(holders)
}

/// Whether opening the name found no namespace under it: no file, or a stale one (no mount).
fn gone(e: &Error) -> bool {
    matches!(e, Error::InvalidArgument { .. }) || e.errno() == Some(libc::ENOENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for bad in ["", ".", "..", "a/b", "a\0b"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_name(&"x".repeat(256)).is_err());
        assert!(validate_name("blue").is_ok());
    }
}

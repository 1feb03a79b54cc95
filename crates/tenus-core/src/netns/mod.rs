//! Network namespaces as open file descriptors. Only short-lived native threads ever call
//! `setns`/`unshare`; the caller's thread (Node's JS thread) never changes namespace.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::error::{Error, Result};

mod holders;
mod named;

pub use holders::processes_in;
pub use named::{delete_named, list_named, NETNS_RUN_DIR};

const NSFS_MAGIC: i64 = 0x6e736673;
/// `NS_GET_NSTYPE` from <linux/nsfs.h>: _IO(0xb7, 0x3).
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The namespace the process started in (its main thread's).
    Current,
    /// Created here with `unshare(CLONE_NEWNET)`; alive as long as something holds it.
    Anonymous,
    /// Opened from a file: /proc/PID/ns/net or any nsfs bind mount.
    Path,
    /// A named namespace under /run/netns (as `ip netns` makes them).
    Named,
}

/// An open network namespace. Cloning shares the descriptor.
#[derive(Debug, Clone)]
pub struct Namespace {
    fd: Arc<OwnedFd>,
    origin: Origin,
    path: Option<String>,
    inode: u64,
}

impl Namespace {
    /// The process's own namespace, as seen by its main thread.
    pub fn current() -> Result<Self> {
        Self::open("/proc/self/ns/net", Origin::Current)
    }

    /// Any file that refers to a network namespace.
    pub fn from_path(path: &str) -> Result<Self> {
        if path.is_empty() || path.contains('\0') {
            return Err(Error::invalid(
                "path",
                format!("{path:?} is not a usable namespace path"),
            ));
        }
        // PATH_MAX counts the terminating NUL; longer paths would fail as ENAMETOOLONG.
        if path.len() >= libc::PATH_MAX as usize {
            return Err(Error::invalid(
                "path",
                format!(
                    "is {} bytes long; the limit is {}",
                    path.len(),
                    libc::PATH_MAX - 1
                ),
            ));
        }
        Self::open(path, Origin::Path)
    }

    /// The namespace of a process. Unless `allow_own`, refuses the caller's own namespace: a
    /// process started to make a namespace of its own (`unshare --net ...`) has not always done
    /// so yet, and opening "its" namespace then silently opens ours.
    pub fn from_pid(pid: u32, allow_own: bool) -> Result<Self> {
        if pid == 0 {
            return Err(Error::invalid("pid", "0 is not a process id"));
        }
        let ns = Self::from_pid_any(pid)?;
        if !allow_own && ns.inode == Self::current()?.inode {
            return Err(Error::Refused {
                code: "ERR_OWN_NETNS",
                op: "netns.open".into(),
                message: format!(
                    "process {pid} is in this process's own network namespace (it may not have \
                     entered its own yet); pass {{ allowOwn: true }} to open it anyway"
                ),
            });
        }
        Ok(ns)
    }

    fn from_pid_any(pid: u32) -> Result<Self> {
        let path = format!("/proc/{pid}/ns/net");
        Self::open(&path, Origin::Path).map_err(|e| match e {
            Error::Os {
                errno: libc::ENOENT, ..
            } => Error::Os {
                errno: libc::ESRCH,
                op: "netns.open".into(),
                detail: format!("process {pid} does not exist (it may have exited)"),
            },
            other => other,
        })
    }

    /// A namespace named like `ip netns` names them (/run/netns/NAME).
    pub fn from_name(name: &str) -> Result<Self> {
        named::validate_name(name)?;
        // The caller gave a name: a file there that is no namespace is that name's fault.
        Self::open(&format!("{NETNS_RUN_DIR}/{name}"), Origin::Named).map_err(|e| match e {
            Error::InvalidArgument {
                arg,
                message,
                problem,
            } if arg == "path" => Error::InvalidArgument {
                arg: "name".into(),
                message: format!("{name:?}: {message}"),
                problem,
            },
            other => other,
        })
    }

    /// Creates a named namespace as `ip netns add NAME` does: a new namespace bind-mounted on
    /// /run/netns/NAME, visible to `ip netns list` and `ip netns exec`.
    pub async fn create_named(name: &str) -> Result<Self> {
        let path = named::prepare(name)?;
        let target = path.clone();
        let mounted = on_native_thread(move || named::unshare_and_bind(&target))
            .await
            .and_then(|r| r);
        if let Err(e) = mounted {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Self::open(&path, Origin::Named)
    }

    fn open(path: &str, origin: Origin) -> Result<Self> {
        // Non-blocking: opening a FIFO (or a device) must not hold the I/O thread; whatever it
        // is, it is refused right after unless it is a network namespace.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY)
            .open(path)
            .map_err(|e| Error::os("netns.open", format!("open {path}"), &e))?;
        let fd = OwnedFd::from(file);
        check_is_netns(fd.as_raw_fd(), path)?;
        let inode = inode_of(&fd, path)?;
        Ok(Namespace {
            fd: Arc::new(fd),
            origin,
            path: Some(path.to_string()),
            inode,
        })
    }

    /// A new, empty network namespace created on a throwaway native thread.
    pub async fn create_anonymous() -> Result<Self> {
        let fd = on_native_thread(|| {
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                return Err(Error::os(
                    "netns.create",
                    "unshare(CLONE_NEWNET)",
                    &io::Error::last_os_error(),
                ));
            }
            let file = File::open("/proc/thread-self/ns/net")
                .map_err(|e| Error::os("netns.create", "open /proc/thread-self/ns/net", &e))?;
            Ok(OwnedFd::from(file))
        })
        .await??;
        let inode = inode_of(&fd, "anonymous namespace")?;
        Ok(Namespace {
            fd: Arc::new(fd),
            origin: Origin::Anonymous,
            path: None,
            inode,
        })
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The path it was opened from, if any.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// A path that other processes can open while this handle is alive
    /// (`/proc/<our pid>/fd/<fd>`), e.g. for `nsenter --net=`.
    pub fn proc_path(&self) -> String {
        format!("/proc/{}/fd/{}", std::process::id(), self.fd.as_raw_fd())
    }

    /// The nsfs inode: two handles on the same namespace have the same one.
    pub fn inode(&self) -> u64 {
        self.inode
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Runs `f` on a new native thread that has joined this namespace.
    pub async fn run_in<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let fd = self.fd.clone();
        on_native_thread(move || {
            if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(Error::os("netns.enter", "setns", &io::Error::last_os_error()));
            }
            Ok(f())
        })
        .await?
    }
}

/// Spawns a thread for work that changes the thread's namespace, so that no pooled or JS
/// thread is ever left in another namespace; the thread ends with the work.
async fn on_native_thread<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("tenus-netns".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| Error::os("netns.thread", "spawn", &e))?;
    rx.await.map_err(|_| Error::Protocol {
        op: "netns.thread".into(),
        detail: "namespace thread ended without a result (panic)".into(),
    })
}

fn check_is_netns(fd: RawFd, path: &str) -> Result<()> {
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatfs(fd, &mut st) } != 0 {
        return Err(Error::os(
            "netns.open",
            format!("statfs {path}"),
            &io::Error::last_os_error(),
        ));
    }
    if st.f_type as i64 != NSFS_MAGIC {
        return Err(Error::invalid(
            "path",
            format!("{path} is not a namespace file (nsfs)"),
        ));
    }
    let kind = unsafe { libc::ioctl(fd, NS_GET_NSTYPE as _) };
    if kind >= 0 && kind != libc::CLONE_NEWNET {
        return Err(Error::invalid(
            "path",
            format!("{path} is a namespace but not a network namespace"),
        ));
    }
    Ok(())
}

fn inode_of(fd: &OwnedFd, what: &str) -> Result<u64> {
    // Borrow the fd as a File without taking ownership.
    let file = unsafe { File::from_raw_fd(fd.as_raw_fd()) };
    let meta = file.metadata();
    std::mem::forget(file);
    meta.map(|m| m.ino())
        .map_err(|e| Error::os("netns.open", format!("stat {what}"), &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_files_that_are_not_namespaces() {
        let err = Namespace::from_path("/proc/self/status").unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { ref arg, .. } if arg == "path"),
            "{err:?}"
        );
        let err = Namespace::from_path("/nonexistent/ns").unwrap_err();
        assert_eq!(err.errno(), Some(libc::ENOENT));
    }

    #[test]
    fn refuses_other_namespace_kinds() {
        let err = Namespace::from_path("/proc/self/ns/uts").unwrap_err();
        assert!(err.to_string().contains("not a network namespace"), "{err}");
    }

    #[test]
    fn current_namespace_is_stable() {
        let a = Namespace::current().unwrap();
        let b = Namespace::current().unwrap();
        assert_eq!(a.inode(), b.inode());
        assert_eq!(a.origin(), Origin::Current);
    }
}

//! `NativeNetns`: a namespace handle as a JS class, and the namespace functions. Every kernel
//! round trip runs on the I/O thread and resolves a promise; the JS thread never changes
//! namespace.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use tenus_core::batch::overlap::Order;
use tenus_core::link::tuntap::TunTapSpec;
use tenus_core::{args, netns, Error, Handle, Namespace, Origin};

use crate::error::to_napi;
use crate::promise::spawn;

/// What `NativeNetns.info()` returns (`Netns.info` is the public form).
/// @internal
#[napi(object)]
pub struct NativeNetnsInfo {
    /// "current" | "anonymous" | "path" | "named"
    pub origin: String,
    pub path: Option<String>,
    /// `/proc/<pid>/fd/<fd>`: usable by other processes (nsenter --net=...) while open.
    pub proc_path: String,
    /// nsfs inode number: equal for handles on the same namespace.
    pub inode: f64,
}

/// The addon's handle on a namespace: use `Netns`, which wraps it.
/// @internal
#[napi]
pub struct NativeNetns {
    handle: RwLock<Option<Handle>>,
    /// Its runs in flight, in the order they were made (`run.rs`).
    pub(crate) order: Arc<Order>,
}

impl NativeNetns {
    fn wrap(handle: Handle) -> Self {
        NativeNetns {
            handle: RwLock::new(Some(handle)),
            order: Arc::default(),
        }
    }

    pub(crate) fn get(&self, op: &str) -> Result<Handle, Error> {
        self.handle
            .read()
            .ok()
            .and_then(|h| h.clone())
            .ok_or_else(|| Error::Closed { op: op.into() })
    }
}

async fn open(ns: Result<Namespace, Error>) -> Result<NativeNetns, Error> {
    Ok(NativeNetns::wrap(Handle::open(ns?).await?))
}

/// A handle on the namespace the process started in.
/// @internal
#[napi]
pub fn netns_current(env: &Env) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(env, "netns.current", open(Namespace::current()))
}

/// A new, empty namespace created on a native thread; alive while a handle holds it.
/// @internal
#[napi]
pub fn netns_create_anonymous(env: &Env) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(env, "netns.create", async {
        open(Namespace::create_anonymous().await).await
    })
}

/// A namespace file: /proc/PID/ns/net, /run/netns/NAME or any nsfs bind mount.
/// @internal
#[napi]
pub fn netns_open_path(env: &Env, path: String) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(env, "netns.open", async move {
        open(Namespace::from_path(&path)).await
    })
}

/// The namespace of process `pid`; the caller's own is refused unless `allow_own`.
/// @internal
#[napi]
pub fn netns_open_pid(env: &Env, pid: u32, allow_own: bool) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(env, "netns.open", async move {
        open(Namespace::from_pid(pid, allow_own)).await
    })
}

/// A named namespace (/run/netns/NAME), as `ip netns` names them.
/// @internal
#[napi]
pub fn netns_open_name(env: &Env, name: String) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(env, "netns.open", async move {
        open(Namespace::from_name(&name)).await
    })
}

/// `ip netns add NAME`, returning a handle on the new namespace.
/// @internal
#[napi]
pub fn netns_create_named(env: &Env, name: String) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(env, "netns.create", async move {
        open(Namespace::create_named(&name).await).await
    })
}

/// Runs a short filesystem job off the I/O thread.
async fn blocking<T: Send + 'static>(
    op: &'static str,
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        Err(Error::Protocol {
            op: op.into(),
            detail: "internal panic in tenus (this is a bug)".into(),
        })
    })
}

/// `ip netns delete NAME`; resolves to the PIDs that were still inside (only with `force`).
/// `inode`: a handle's namespace, which the name must still name.
/// @internal
#[napi]
pub fn netns_delete_named(
    env: &Env,
    name: String,
    force: bool,
    inode: Option<f64>,
) -> napi::Result<PromiseRaw<'_, Vec<u32>>> {
    spawn(
        env,
        "netns.delete",
        blocking("netns.delete", move || {
            netns::delete_named(&name, force, inode.map(|i| i as u64))
        }),
    )
}

/// `ip netns list`.
/// @internal
#[napi]
pub fn netns_list_named(env: &Env) -> napi::Result<PromiseRaw<'_, Vec<String>>> {
    spawn(env, "netns.list", blocking("netns.list", netns::list_named))
}

/// PIDs of the processes inside the namespace with this nsfs inode.
/// @internal
#[napi]
pub fn netns_processes(env: &Env, inode: f64) -> napi::Result<PromiseRaw<'_, Vec<u32>>> {
    spawn(
        env,
        "netns.processes",
        blocking("netns.processes", move || Ok(netns::processes_in(inode as u64))),
    )
}

/// The batch operations' wire codes, `[name, code]` (see `tenus_core::batch::wire`).
/// @internal
#[napi]
pub fn op_codes() -> Vec<(String, u32)> {
    tenus_core::batch::OP_CODES
        .iter()
        .map(|(name, code)| (name.to_string(), u32::from(*code)))
        .chain(std::iter::once((
            "in".to_string(),
            u32::from(tenus_core::batch::wire::IN),
        )))
        .collect()
}

/// Whether the running kernel can create links of `kind` (tried in a throwaway namespace).
/// @internal
#[napi]
pub fn kernel_supports(env: &Env, kind: String) -> napi::Result<PromiseRaw<'_, bool>> {
    spawn(env, "kernelSupports", async move {
        tenus_core::link::kinds::kernel_supports(&kind).await
    })
}

/// The link kinds this build can create.
/// @internal
#[napi]
pub fn link_kinds() -> Vec<&'static str> {
    tenus_core::link::KIND_NAMES.to_vec()
}

/// Checks an interface name as the kernel takes one (throws the typed error naming `arg`): for
/// names that go to no request (a wait matches links by name in JavaScript).
/// @internal
#[napi]
pub fn check_link_name(arg: String, name: String) -> napi::Result<()> {
    tenus_core::args::ifname(&arg, &name).map_err(to_napi)
}

#[napi]
impl NativeNetns {
    #[napi]
    pub fn info(&self) -> napi::Result<NativeNetnsInfo> {
        let h = self.get("netns.info").map_err(to_napi)?;
        let ns = h.namespace();
        Ok(NativeNetnsInfo {
            origin: match ns.origin() {
                Origin::Current => "current",
                Origin::Anonymous => "anonymous",
                Origin::Path => "path",
                Origin::Named => "named",
            }
            .into(),
            path: ns.path().map(str::to_string),
            proc_path: ns.proc_path(),
            inode: ns.inode() as f64,
        })
    }

    /// Replies slower than this reject with ETIMEDOUT.
    #[napi]
    pub fn set_timeout(&self, millis: f64) -> napi::Result<()> {
        let millis = args::TIMEOUT_MS
            .check("timeout", millis as u64)
            .map_err(to_napi)?;
        let mut guard = self
            .handle
            .write()
            .map_err(|_| crate::error::from_panic("netns.setTimeout"))?;
        match guard.as_mut() {
            Some(h) => {
                h.set_timeout(Duration::from_millis(millis));
                Ok(())
            }
            None => Err(to_napi(Error::Closed {
                op: "netns.setTimeout".into(),
            })),
        }
    }

    /// Drops the socket and the namespace fd (the namespace goes when nothing else holds it).
    #[napi]
    pub fn close(&self) {
        if let Ok(mut guard) = self.handle.write() {
            guard.take();
        }
    }

    /// `ip tuntap add NAME mode tun|tap [user U] [group G] [multi_queue]`: made with ioctls on
    /// /dev/net/tun inside the namespace (the kernel refuses tun/tap over netlink); persistent.
    /// Resolves to the new link's record as JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn tuntap_add<'env>(
        &self,
        env: &'env Env,
        options_json: String,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let h = self.get("tuntap.add");
        spawn(env, "tuntap.add", async move {
            let spec = TunTapSpec::from_json(&options_json)?;
            let record = h?.tuntap_add(&spec).await?;
            Ok(serde_json::to_string(&record).unwrap_or_default())
        })
    }
}

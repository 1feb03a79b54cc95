//! `NativeNetns`: a namespace handle as a JS class. Every kernel round trip runs on the Rust
//! side and resolves a promise; the JS thread never changes namespace.

use std::sync::RwLock;
use std::time::Duration;

use napi::bindgen_prelude::{Either, FnArgs, Function, PromiseRaw};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Env;
use napi_derive::napi;
use tenus_core::link::tuntap::TunTapSpec;
use tenus_core::netns;
use tenus_core::{Error, Handle, LinkRecord, Namespace, Origin};

use crate::error::{from_panic, to_napi};
use crate::record::{NativeAddress, NativeLink};
use crate::settle::spawn;
use crate::spec::{link_change, link_ref, link_spec, NativeLinkChange, NativeLinkSpec};

/// A tun/tap device to create.
#[napi(object)]
pub struct NativeTunTapSpec {
    pub name: String,
    /// "tun" or "tap".
    pub mode: String,
    /// Owning user id.
    pub owner: Option<u32>,
    /// Owning group id.
    pub group: Option<u32>,
    pub multi_queue: Option<bool>,
}

/// A listing's part: the I/O thread decodes the records, the JS thread (in the threadsafe
/// function's callback) serialises them for `JSON.parse`, so that the I/O thread can go back to
/// reading the dump sooner.
type PartCallback =
    ThreadsafeFunction<(u32, Vec<LinkRecord>), (), FnArgs<(u32, String)>, napi::Status, false>;

/// How a streamed listing ended.
#[napi(object)]
pub struct NativeListEnd {
    /// The attempt whose parts are valid.
    pub attempt: u32,
    /// How many parts that attempt delivered.
    pub parts: u32,
}

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

#[napi]
pub struct NativeNetns {
    handle: RwLock<Option<Handle>>,
}

impl NativeNetns {
    fn wrap(handle: Handle) -> Self {
        NativeNetns {
            handle: RwLock::new(Some(handle)),
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
#[napi]
pub fn netns_current(env: &Env) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(env, "netns.current", open(Namespace::current()))
}

/// A new, empty namespace created on a native thread; alive while a handle holds it.
#[napi]
pub fn netns_create_anonymous(env: &Env) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(env, "netns.create", async {
        open(Namespace::create_anonymous().await).await
    })
}

/// A namespace file: /proc/PID/ns/net, /run/netns/NAME or any nsfs bind mount.
#[napi]
pub fn netns_open_path(env: &Env, path: String) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(env, "netns.open", async move {
        open(Namespace::from_path(&path)).await
    })
}

/// The namespace of process `pid`.
#[napi]
pub fn netns_open_pid(env: &Env, pid: u32) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(
        env,
        "netns.open",
        async move { open(Namespace::from_pid(pid)).await },
    )
}

/// A named namespace (/run/netns/NAME), as `ip netns` names them.
#[napi]
pub fn netns_open_name(env: &Env, name: String) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(env, "netns.open", async move {
        open(Namespace::from_name(&name)).await
    })
}

/// `ip netns add NAME`, returning a handle on the new namespace.
#[napi]
pub fn netns_create_named(env: &Env, name: String) -> napi::Result<PromiseRaw<'_, NativeNetns>> {
    spawn(env, "netns.create", async move {
        open(Namespace::create_named(&name).await).await
    })
}

/// Runs a short filesystem job off the JS thread.
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
#[napi]
pub fn netns_delete_named(
    env: &Env,
    name: String,
    force: Option<bool>,
) -> napi::Result<PromiseRaw<'_, Vec<u32>>> {
    spawn(
        env,
        "netns.delete",
        blocking("netns.delete", move || {
            netns::delete_named(&name, force.unwrap_or(false))
        }),
    )
}

/// `ip netns list`.
#[napi]
pub fn netns_list_named(env: &Env) -> napi::Result<PromiseRaw<'_, Vec<String>>> {
    spawn(env, "netns.list", blocking("netns.list", netns::list_named))
}

/// PIDs of the processes inside the namespace with this nsfs inode.
#[napi]
pub fn netns_processes(env: &Env, inode: f64) -> napi::Result<PromiseRaw<'_, Vec<u32>>> {
    spawn(
        env,
        "netns.processes",
        blocking("netns.processes", move || Ok(netns::processes_in(inode as u64))),
    )
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
    pub fn set_timeout(&self, millis: u32) -> napi::Result<()> {
        if millis == 0 {
            return Err(to_napi(Error::invalid(
                "timeout",
                "timeout must be at least 1 ms",
            )));
        }
        let mut guard = self.handle.write().map_err(|_| from_panic("netns.setTimeout"))?;
        match guard.as_mut() {
            Some(h) => {
                h.set_timeout(Duration::from_millis(u64::from(millis)));
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

    #[napi]
    pub fn is_closed(&self) -> bool {
        self.handle.read().map(|h| h.is_none()).unwrap_or(true)
    }

    #[napi(ts_return_type = "Promise<NativeLink>")]
    pub fn link_add<'env>(
        &self,
        env: &'env Env,
        spec: NativeLinkSpec,
        peer_ns: Option<&NativeNetns>,
    ) -> napi::Result<PromiseRaw<'env, NativeLink>> {
        let h = self.get("link.add");
        let peer = peer_ns
            .map(|p| p.get("link.add").map(|h| h.namespace().clone()))
            .transpose();
        spawn(env, "link.add", async move {
            let spec = link_spec(spec, peer?)?;
            Ok(h?.link_add(&spec).await?.into())
        })
    }

    #[napi(ts_return_type = "Promise<NativeLink>")]
    pub fn link_get<'env>(
        &self,
        env: &'env Env,
        link: Either<u32, String>,
    ) -> napi::Result<PromiseRaw<'env, NativeLink>> {
        let h = self.get("link.get");
        spawn(env, "link.get", async move {
            Ok(h?.link_get(&link_ref(link)).await?.into())
        })
    }

    /// Every link, streamed: `onPart(attempt, json)` gets JSON arrays of link records a few
    /// hundred at a time while the dump is still arriving, so JavaScript parses one part while
    /// the kernel produces the next (`JSON.parse` builds the objects much faster than setting
    /// their properties one by one from here). Resolves to the final attempt's number and how many
    /// parts it had (parts of earlier attempts — dumps the kernel said changed underway — are
    /// stale). Parts and the promise travel separately: wait for that many parts.
    #[napi(ts_return_type = "Promise<NativeListEnd>")]
    pub fn link_list_parts<'env>(
        &self,
        env: &'env Env,
        stats: bool,
        #[napi(ts_arg_type = "(attempt: number, json: string) => void")] on_part: Function<
            'env,
            FnArgs<(u32, String)>,
            (),
        >,
    ) -> napi::Result<PromiseRaw<'env, NativeListEnd>> {
        let h = self.get("link.list");
        let on_part: PartCallback = on_part
            .build_threadsafe_function::<(u32, Vec<LinkRecord>)>()
            .build_callback(|ctx| {
                let (attempt, links) = ctx.value;
                let json = serde_json::to_string(&links)
                    .map_err(|e| napi::Error::from_reason(format!("tenus: link.list: {e}")))?;
                Ok(FnArgs::from((attempt, json)))
            })?;
        spawn(env, "link.list", async move {
            let mut end = NativeListEnd { attempt: 0, parts: 0 };
            h?.link_list_parts(stats, |attempt, links| {
                if attempt != end.attempt {
                    end = NativeListEnd { attempt, parts: 0 };
                }
                end.parts += 1;
                on_part.call((attempt, links), ThreadsafeFunctionCallMode::NonBlocking);
            })
            .await?;
            Ok(end)
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn link_set<'env>(
        &self,
        env: &'env Env,
        link: Either<u32, String>,
        change: NativeLinkChange,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.get("link.set");
        spawn(env, "link.set", async move {
            h?.link_set(&link_ref(link), &link_change(change)?).await
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn link_delete<'env>(
        &self,
        env: &'env Env,
        link: Either<u32, String>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.get("link.delete");
        spawn(
            env,
            "link.delete",
            async move { h?.link_del(&link_ref(link)).await },
        )
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn link_delete_group<'env>(&self, env: &'env Env, group: u32) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.get("link.deleteGroup");
        spawn(
            env,
            "link.deleteGroup",
            async move { h?.link_del_group(group).await },
        )
    }

    /// `ip tuntap add NAME mode tun|tap [user U] [group G] [multi_queue]`: made with ioctls on
    /// /dev/net/tun inside the namespace (the kernel refuses tun/tap over netlink); persistent.
    #[napi(ts_return_type = "Promise<NativeLink>")]
    pub fn tuntap_add<'env>(
        &self,
        env: &'env Env,
        spec: NativeTunTapSpec,
    ) -> napi::Result<PromiseRaw<'env, NativeLink>> {
        let h = self.get("tuntap.add");
        spawn(env, "tuntap.add", async move {
            let tap = match spec.mode.as_str() {
                "tun" => false,
                "tap" => true,
                other => return Err(Error::invalid("mode", format!("{other:?} is not tun or tap"))),
            };
            let spec = TunTapSpec {
                name: spec.name,
                tap,
                owner: spec.owner,
                group: spec.group,
                multi_queue: spec.multi_queue.unwrap_or(false),
            };
            Ok(h?.tuntap_add(&spec).await?.into())
        })
    }

    /// Deletes many links fast: tagged with an unused group, then deleted as a group.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn link_delete_many<'env>(
        &self,
        env: &'env Env,
        links: Vec<Either<u32, String>>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.get("link.deleteMany");
        spawn(env, "link.deleteMany", async move {
            let refs: Vec<_> = links.into_iter().map(link_ref).collect();
            h?.delete_links(&refs).await
        })
    }

    /// Moves a link into `target`'s namespace, optionally renaming it on the way.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn link_move<'env>(
        &self,
        env: &'env Env,
        link: Either<u32, String>,
        target: &NativeNetns,
        new_name: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.get("link.move");
        let target = target.get("link.move").map(|t| t.namespace().clone());
        spawn(env, "link.move", async move {
            h?.link_move(&link_ref(link), &target?, new_name.as_deref()).await
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn addr_add<'env>(
        &self,
        env: &'env Env,
        link: Either<u32, String>,
        cidr: String,
        replace: Option<bool>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.get("address.add");
        spawn(env, "address.add", async move {
            h?.addr_add(&link_ref(link), &cidr, replace.unwrap_or(false))
                .await
        })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn addr_delete<'env>(
        &self,
        env: &'env Env,
        link: Either<u32, String>,
        cidr: String,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.get("address.delete");
        spawn(env, "address.delete", async move {
            h?.addr_del(&link_ref(link), &cidr).await
        })
    }

    #[napi(ts_return_type = "Promise<NativeAddress[]>")]
    pub fn addr_list<'env>(
        &self,
        env: &'env Env,
        link: Option<Either<u32, String>>,
    ) -> napi::Result<PromiseRaw<'env, Vec<NativeAddress>>> {
        let h = self.get("address.list");
        spawn(env, "address.list", async move {
            let link = link.map(link_ref);
            Ok(h?
                .addr_list(link.as_ref())
                .await?
                .into_iter()
                .map(NativeAddress::from)
                .collect())
        })
    }

    /// `ip route add default via GATEWAY dev LINK`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn default_gateway<'env>(
        &self,
        env: &'env Env,
        link: Either<u32, String>,
        gateway: String,
        replace: Option<bool>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.get("route.gateway");
        spawn(env, "route.gateway", async move {
            h?.default_gateway(&link_ref(link), &gateway, replace.unwrap_or(false))
                .await
        })
    }

    /// `ip route del default via GATEWAY dev LINK`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn default_gateway_delete<'env>(
        &self,
        env: &'env Env,
        link: Either<u32, String>,
        gateway: String,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.get("route.delete");
        spawn(env, "route.delete", async move {
            h?.default_gateway_del(&link_ref(link), &gateway).await
        })
    }
}

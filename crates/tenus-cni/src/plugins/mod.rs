//! The plugin types this executable serves, chosen by the name it runs under
//! (`/opt/cni/bin/tenus-bridge` → tenus-bridge) or, run as `tenus-cni`, by the configuration's
//! `type`; and what every type shares: the MAC a runtime asks for, deleting the pod's link, and
//! the commands that only reach IPAM (GC, and STATUS for the types with nothing else to check).

pub mod bridge;
mod lower;
pub mod ptp;

use std::future::Future;

use crate::conf::NetConf;
use crate::env::{Command, Invocation};
use crate::error::{CniError, Result};
use crate::ipam::{self, Ipam};
use crate::net::{delete_if_present, is_gone, open_pod};
use crate::types::CniResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugin {
    Bridge,
    Macvlan,
    Ipvlan,
    Vlan,
    Ptp,
}

impl Plugin {
    pub const ALL: [Plugin; 5] = [
        Plugin::Bridge,
        Plugin::Macvlan,
        Plugin::Ipvlan,
        Plugin::Vlan,
        Plugin::Ptp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Plugin::Bridge => "tenus-bridge",
            Plugin::Macvlan => "tenus-macvlan",
            Plugin::Ipvlan => "tenus-ipvlan",
            Plugin::Vlan => "tenus-vlan",
            Plugin::Ptp => "tenus-ptp",
        }
    }

    pub fn from_name(name: &str) -> Option<Plugin> {
        Plugin::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The type to serve: the executable's name if it is one, else the configuration's `type`.
    pub fn choose(argv0: &str, conf_type: &str) -> Result<Plugin> {
        let exe = std::path::Path::new(argv0)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        Plugin::from_name(exe)
            .or_else(|| Plugin::from_name(conf_type))
            .ok_or_else(|| {
                CniError::config(format!("unknown plugin type {conf_type:?}")).with_details(format!(
                    "run as one of {} (or as tenus-cni with one of them as type)",
                    Plugin::ALL.map(Plugin::name).join(", ")
                ))
            })
    }

    /// Runs `cmd`; ADD's result.
    pub async fn run(self, cmd: Command, conf: &NetConf, inv: &Invocation) -> Result<Option<CniResult>> {
        match (self, cmd) {
            (_, Command::Version) => unreachable!("VERSION is answered before a plugin runs"),
            (_, Command::Gc) => gc(conf, inv).await.map(|()| None),
            (Plugin::Bridge, Command::Add) => bridge::add(conf, inv).await.map(Some),
            (Plugin::Bridge, Command::Del) => bridge::del(conf, inv).await.map(|()| None),
            (Plugin::Bridge, Command::Check) => bridge::check(conf, inv).await.map(|()| None),
            (Plugin::Bridge, Command::Status) => bridge::status(conf, inv).await.map(|()| None),
            (Plugin::Ptp, Command::Add) => ptp::add(conf, inv).await.map(Some),
            (Plugin::Ptp, Command::Del) => ptp::del(conf, inv).await.map(|()| None),
            (Plugin::Ptp, Command::Check) => ptp::check(conf, inv).await.map(|()| None),
            (Plugin::Ptp, Command::Status) => ptp::status(conf, inv).await.map(|()| None),
            (lower, Command::Add) => lower::add(lower, conf, inv).await.map(Some),
            (lower, Command::Del) => lower::del(lower, conf, inv).await.map(|()| None),
            (lower, Command::Check) => lower::check(lower, conf, inv).await.map(|()| None),
            (lower, Command::Status) => lower::status(lower, conf, inv).await.map(|()| None),
        }
    }
}

/// The MAC address asked for the pod's interface, checked: the first of `sources` that says
/// one (each plugin lists them in its precedence).
pub fn requested_mac(sources: &[Option<String>]) -> Result<Option<String>> {
    let Some(mac) = sources.iter().flatten().next() else {
        return Ok(None);
    };
    tenus_core::args::mac("mac", mac)
        .map_err(|e| CniError::config(format!("invalid MAC address {mac:?}")).with_details(e.to_string()))?;
    Ok(Some(mac.to_lowercase()))
}

/// The MAC from `CNI_ARGS` (`MAC=...`).
pub fn args_mac(inv: &Invocation) -> Result<Option<String>> {
    crate::args::get(&inv.args, "MAC")
}

/// Runs `work` (an ADD after IPAM ADD); when it fails, IPAM DEL releases the address.
pub async fn or_release<T>(ipam: Option<&Ipam<'_>>, work: impl Future<Output = Result<T>>) -> Result<T> {
    match work.await {
        Ok(v) => Ok(v),
        Err(e) => {
            ipam::release(ipam).await;
            Err(e)
        }
    }
}

/// DEL's common part: the pod's link goes (a missing namespace or link is fine), and IPAM DEL
/// runs whatever happens to the link — at the same time: deleting a link waits for the kernel
/// (an RCU grace period), IPAM for a process. The first error is reported. A `CNI_NETNS` that
/// is there but is no pod's namespace (not a namespace file, this process's own) is refused
/// before anything is released: the pod would keep an address IPAM hands to another.
///
/// No plugin type's DEL reads its own fields: a runtime calls DEL with the configuration an
/// ADD refused (an unsupported `ipMasq`, hairpin and promiscuous mode together, an MTU out of
/// range), and a DEL failing on it would keep the pod's teardown stuck and its address
/// reserved. The reference plugins check such fields in ADD only, too.
pub async fn delete_pod_link(conf: &NetConf, inv: &Invocation) -> Result<()> {
    let pod = match inv.netns.is_empty() {
        true => None,
        false => match open_pod(&inv.netns) {
            Ok(ns) => Some(ns),
            Err(e) if is_gone(&e) => None,
            Err(e) => return Err(e),
        },
    };
    let link = async {
        let Some(ns) = pod else { return Ok(()) };
        let h = tenus_core::Handle::open(ns)
            .await
            .map_err(|e| CniError::netlink("cannot open a netlink socket in the pod", e))?;
        delete_if_present(&h, &inv.ifname).await.map(drop)
    };
    let ipam = async {
        match Ipam::of(conf, inv) {
            Some(ipam) => ipam.del().await,
            None => Ok(()),
        }
    };
    let (link, ipam) = futures::join!(link, ipam);
    link.and(ipam)
}

/// GC: what the plugins make lives in the pod's namespace and goes with it; what outlives a
/// pod is its IPAM reservation, so GC reaches IPAM, with the attachments to keep under both
/// keys.
async fn gc(conf: &NetConf, inv: &Invocation) -> Result<()> {
    conf.valid_attachments()?;
    match Ipam::of(conf, inv) {
        Some(ipam) => ipam.gc().await,
        None => Ok(()),
    }
}

/// STATUS of IPAM, when there is one (a failure there means ADD cannot be served: 50).
pub async fn ipam_status(conf: &NetConf, inv: &Invocation) -> Result<()> {
    match Ipam::of(conf, inv) {
        Some(ipam) => ipam.status().await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_by_executable_name_then_type() {
        assert_eq!(
            Plugin::choose("/opt/cni/bin/tenus-ptp", "tenus-bridge").unwrap(),
            Plugin::Ptp
        );
        assert_eq!(
            Plugin::choose("/opt/cni/bin/tenus-cni", "tenus-vlan").unwrap(),
            Plugin::Vlan
        );
        assert_eq!(Plugin::choose("tenus-cni", "bridge").unwrap_err().code, 7);
    }

    #[test]
    fn macs_are_checked_and_the_first_source_wins() {
        let m = requested_mac(&[
            None,
            Some("02:AA:00:00:00:01".into()),
            Some("02:00:00:00:00:02".into()),
        ]);
        assert_eq!(m.unwrap().as_deref(), Some("02:aa:00:00:00:01"));
        assert_eq!(requested_mac(&[Some("zz".into())]).unwrap_err().code, 7);
        assert_eq!(requested_mac(&[None]).unwrap(), None);
    }
}

//! tenus-macvlan, tenus-ipvlan and tenus-vlan: a link on a lower link (`master`) of the host,
//! handed to the pod as `CNI_IFNAME` — the reference plugins' keys (`master`, `mode`, `mtu`,
//! `mac`, `vlanId`, `linkInContainer`) and results. One transaction makes it while IPAM runs
//! (on the host under a temporary name, then moved into the pod and renamed there, checked
//! first; or in the pod when the lower link is there); after the pod's sysctls, a second
//! configures it. A failure after it was made deletes it; after IPAM, IPAM DEL follows.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tenus_core::route::list::{dump_request, RouteFilter};
use tenus_core::route::record::read_route;
use tenus_core::{Handle, LinkRef};

use crate::conf::NetConf;
use crate::configure::{configure, settle};
use crate::env::Invocation;
use crate::error::{CniError, Result, NOT_AVAILABLE, UNSUPPORTED_FIELD};
use crate::ipam::Ipam;
use crate::net::{delete_if_present, find, open_pod, random_veth_name, Net};
use crate::sysctl::{self, link_key};
use crate::tx::{Tx, HOST, POD};
use crate::types::{CniResult, Interface};
use crate::validate;

use super::{args_mac, delete_pod_link, ipam_status, or_release, requested_mac, Plugin};

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Conf {
    #[serde(default)]
    master: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    mtu: u32,
    /// macvlan: the pod interface's MAC.
    #[serde(default)]
    mac: String,
    /// vlan: the VLAN id.
    #[serde(default)]
    vlan_id: u32,
    #[serde(default)]
    link_in_container: bool,
    /// macvlan: the broadcast queue length.
    #[serde(default)]
    bcqueuelen: u32,
}

/// What the kind of link needs besides `master`.
#[derive(Debug)]
struct Kind {
    /// The core's link kind.
    core: &'static str,
    /// Its options (mode, id), as `ns.batch` takes them.
    options: serde_json::Value,
    /// The mode the reference calls it, for CHECK.
    mode: Option<String>,
}

fn kind(p: Plugin, c: &Conf) -> Result<Kind> {
    Ok(match p {
        Plugin::Macvlan => {
            let mode = match c.mode.as_str() {
                "" | "bridge" => "bridge",
                m @ ("private" | "vepa" | "passthru") => m,
                m => return Err(CniError::config(format!("unknown macvlan mode: {m:?}"))),
            };
            if c.bcqueuelen != 0 {
                return Err(CniError::new(UNSUPPORTED_FIELD, "unsupported field bcqueuelen")
                    .with_details("the macvlan broadcast queue length is not implemented"));
            }
            Kind {
                core: "macvlan",
                options: json!({"mode": mode}),
                mode: Some(mode.into()),
            }
        }
        Plugin::Ipvlan => {
            let mode = match c.mode.as_str() {
                "" | "l2" => "l2",
                m @ ("l3" | "l3s") => m,
                m => return Err(CniError::config(format!("unknown ipvlan mode: {m:?}"))),
            };
            Kind {
                core: "ipvlan",
                options: json!({"mode": mode}),
                mode: Some(mode.into()),
            }
        }
        Plugin::Vlan => {
            if c.vlan_id > 4094 {
                return Err(CniError::config(format!(
                    "invalid VLAN ID {} (must be between 0 and 4095 inclusive)",
                    c.vlan_id
                )));
            }
            Kind {
                core: "vlan",
                options: json!({"id": c.vlan_id}),
                mode: None,
            }
        }
        Plugin::Bridge | Plugin::Ptp => unreachable!("not a lower-link plugin"),
    })
}

/// The handle the lower link lives in.
fn lower_ns<'a>(net: &'a Net, c: &Conf) -> &'a Handle {
    if c.link_in_container {
        net.pod()
    } else {
        net.host()
    }
}

/// The reference vlan plugin's words for a config without `master`.
const VLAN_NEEDS_MASTER: &str =
    "\"master\" field is required. It specifies the host interface name to create the VLAN for";

/// The link the default route goes out of (the master when the config names none).
async fn default_route_link(h: &Handle) -> Result<String> {
    for family in [
        tenus_core::route::spec::Family::Inet,
        tenus_core::route::spec::Family::Inet6,
    ] {
        let filter = RouteFilter {
            family: Some(family),
            table: Some(254),
            ..Default::default()
        };
        let msgs = h
            .dump("route.list", dump_request(&filter))
            .await
            .map_err(|e| CniError::netlink("could not list routes", e))?;
        let dev = msgs
            .iter()
            .filter_map(read_route)
            .find(|r| r.dst.is_none() || r.dst.is_some_and(|p| p.len == 0))
            .and_then(|r| r.dev.or_else(|| r.multipath.first().and_then(|l| l.dev.clone())));
        if let Some(dev) = dev {
            let l = h
                .link_get(&dev)
                .await
                .map_err(|e| CniError::netlink("could not look up the default route's link", e))?;
            return Ok(l.name);
        }
    }
    Err(CniError::config("no default route interface found"))
}

/// The config, with `master` found (default route, or the chained result's single interface
/// for ipvlan) and the MTU checked against it.
async fn resolve(p: Plugin, conf: &NetConf, net: &Net) -> Result<(Conf, Kind)> {
    let mut c: Conf = conf.plugin()?;
    let k = kind(p, &c)?;
    if c.master.is_empty() {
        if p == Plugin::Vlan {
            return Err(CniError::config(VLAN_NEEDS_MASTER));
        }
        let chained = conf.prev_result()?;
        c.master = match chained {
            Some(prev) if p == Plugin::Ipvlan => match prev.interfaces.as_slice() {
                [only] if !only.name.is_empty() => only.name.clone(),
                _ => {
                    return Err(CniError::config(
                        "chained master failure. PrevResult lacks a single named interface",
                    ))
                }
            },
            _ => default_route_link(lower_ns(net, &c)).await?,
        };
    }
    let Some(master) = find(lower_ns(net, &c), &c.master).await? else {
        return Err(CniError::config(format!(
            "failed to lookup master {:?}",
            c.master
        )));
    };
    if p != Plugin::Ipvlan {
        let limit = master.mtu.unwrap_or(0);
        if c.mtu > limit {
            return Err(CniError::config(format!(
                "invalid MTU {}, must be [0, master MTU({limit})]",
                c.mtu
            )));
        }
    }
    Ok((c, k))
}

pub async fn add(p: Plugin, conf: &NetConf, inv: &Invocation) -> Result<CniResult> {
    let pod = open_pod(&inv.netns)?;
    let net = Net::open(pod, &inv.netns).await?;
    let (c, k) = resolve(p, conf, &net).await?;
    let mac = if p == Plugin::Macvlan {
        requested_mac(&[
            conf.runtime_config_str("mac"),
            args_mac(inv)?,
            Some(c.mac.clone()).filter(|m| !m.is_empty()),
        ])?
    } else {
        None
    };
    // ipvlan chained after a plugin that gave addresses uses them, without IPAM.
    let chained_ips = match (p, conf.ipam_type.is_empty(), conf.prev_result()?) {
        (Plugin::Ipvlan, true, Some(prev)) if !prev.ips.is_empty() => Some(prev),
        _ => None,
    };
    let ipam = Ipam::of(conf, inv);
    if ipam.is_none() && chained_ips.is_none() && p != Plugin::Macvlan {
        return Err(CniError::config(format!(
            "{}: an IPAM plugin (ipam.type) is required",
            p.name()
        )));
    }
    let uses_ipam = chained_ips.is_none() && ipam.is_some();
    let (reserved, made) = futures::join!(
        async {
            match (&ipam, chained_ips) {
                (_, Some(prev)) => Ok(Some(prev)),
                (Some(i), None) => i.add().await.map(Some),
                (None, None) => Ok(None),
            }
        },
        make(&net, &c, &k, inv, mac.as_deref())
    );
    if let Err(e) = made {
        // When both failed, IPAM's failure is the one to report.
        let reserved = reserved?;
        if uses_ipam && reserved.is_some() {
            crate::ipam::release(ipam.as_ref()).await;
        }
        return Err(e);
    }
    let configured = match reserved {
        Ok(reserved) => {
            let released = if uses_ipam { ipam.as_ref() } else { None };
            or_release(released, attach(p, &net, conf, inv, reserved)).await
        }
        Err(e) => Err(e),
    };
    if configured.is_err() {
        if let Err(e) = delete_if_present(net.pod(), &inv.ifname).await {
            eprintln!("tenus-cni: removing {} after a failed ADD: {e}", inv.ifname);
        }
    }
    configured
}

/// Makes the link: on the host under a temporary name and moved into the pod as `CNI_IFNAME`,
/// or in the pod when the lower link is there.
async fn make(net: &Net, c: &Conf, k: &Kind, inv: &Invocation, mac: Option<&str>) -> Result<()> {
    let mut o = k.options.clone();
    o["parent"] = json!(c.master);
    if c.mtu != 0 {
        o["mtu"] = json!(c.mtu);
    }
    if let Some(m) = mac {
        o["mac"] = json!(m);
    }
    let mut tx = Tx::new();
    if c.link_in_container {
        o["name"] = json!(inv.ifname);
        tx.on(POD).link_add(k.core, o);
    } else {
        let tmp = random_veth_name();
        o["name"] = json!(tmp);
        tx.on(HOST).link_add(k.core, o).link_move(&tmp, POD, &inv.ifname);
    }
    net.run(tx)
        .await
        .map_err(|e| CniError::netlink(format!("failed to create {}", k.core), e))
}

/// Configures the link once it exists and IPAM has answered (or brings it up, layer 2 only).
async fn attach(
    p: Plugin,
    net: &Net,
    conf: &NetConf,
    inv: &Invocation,
    reserved: Option<CniResult>,
) -> Result<CniResult> {
    let link = find(net.pod(), &inv.ifname)
        .await?
        .ok_or_else(|| CniError::internal(format!("{} vanished from the pod", inv.ifname)))?;
    let mut result = CniResult {
        interfaces: vec![Interface {
            name: inv.ifname.clone(),
            mac: link.mac.clone().unwrap_or_default(),
            sandbox: inv.netns.clone(),
            ..Interface::default()
        }],
        ..CniResult::default()
    };
    let mut tx = Tx::new();
    match reserved {
        Some(r) => {
            result.ips = r.ips;
            result.routes = r.routes;
            for ip in &mut result.ips {
                ip.interface = Some(0);
            }
            let plan = configure(&mut tx, &inv.ifname, &result)?;
            let mut writes = Vec::new();
            if p != Plugin::Vlan {
                writes.push((link_key("ipv4", &inv.ifname, "arp_notify"), "1".to_string()));
                writes.push((link_key("ipv6", &inv.ifname, "ndisc_notify"), "1".to_string()));
            }
            writes.extend(plan.sysctls);
            if !writes.is_empty() {
                sysctl::best_effort_in(net.pod_ns(), writes).await;
            }
            net.run(tx)
                .await
                .map_err(|e| CniError::netlink(format!("failed to configure {}", inv.ifname), e))?;
            if plan.settle_v6 {
                settle(net.pod(), &inv.ifname, Duration::from_secs(5)).await?;
            }
        }
        None => {
            tx.on(POD).link_set(&inv.ifname, json!({"up": true}));
            net.run(tx)
                .await
                .map_err(|e| CniError::netlink(format!("failed to set {:?} UP", inv.ifname), e))?;
        }
    }
    result.dns = conf.dns.clone();
    Ok(result)
}

/// DEL reads none of the type's own fields: see `delete_pod_link`.
pub async fn del(_: Plugin, conf: &NetConf, inv: &Invocation) -> Result<()> {
    delete_pod_link(conf, inv).await
}

pub async fn check(p: Plugin, conf: &NetConf, inv: &Invocation) -> Result<()> {
    if let Some(ipam) = Ipam::of(conf, inv) {
        ipam.check().await?;
    }
    let prev = conf.required_prev_result()?;
    let pod = open_pod(&inv.netns)?;
    let net = Net::open(pod, &inv.netns).await?;
    let (c, k) = resolve(p, conf, &net).await?;
    let entry = validate::container_entry(&prev, &inv.ifname, &inv.netns)?;
    let link = validate::container_link(net.pod(), &entry, k.core).await?;
    let info = serde_json::to_value(&link.info).unwrap_or_default();
    if let Some(mode) = &k.mode {
        let now = info.get("mode").and_then(|m| m.as_str()).unwrap_or("");
        if now != mode {
            return Err(CniError::internal(format!(
                "container {} mode {now} does not match expected value: {mode}",
                k.core
            )));
        }
    }
    if p == Plugin::Vlan {
        let id = info.get("id").and_then(|i| i.as_u64()).unwrap_or(0);
        if id != u64::from(c.vlan_id) {
            return Err(CniError::internal(format!(
                "Error: Container interface {} vlan id {id} does not match expected value: {}",
                inv.ifname, c.vlan_id
            )));
        }
        if c.mtu != 0 && link.mtu != Some(c.mtu) {
            return Err(CniError::internal(format!(
                "Error: Tuning configured MTU of {} is {}, current value is {}",
                inv.ifname,
                c.mtu,
                link.mtu.unwrap_or(0)
            )));
        }
    }
    validate::expected_ips(net.pod(), &inv.ifname, &prev.ips).await?;
    validate::expected_routes(net.pod(), &prev.routes).await
}

/// STATUS: IPAM's, and the lower link must be there, or without `master` a default route's
/// (else no ADD can be served: 50).
pub async fn status(p: Plugin, conf: &NetConf, inv: &Invocation) -> Result<()> {
    let c: Conf = conf.plugin()?;
    kind(p, &c)?;
    ipam_status(conf, inv).await?;
    if c.link_in_container {
        return Ok(()); // found in each pod's namespace: nothing to check now
    }
    let own = tenus_core::netns::Namespace::current()
        .map_err(|e| CniError::netlink("cannot open the plugin's own netns", e))?;
    let h = Handle::open(own)
        .await
        .map_err(|e| CniError::netlink("cannot open a netlink socket", e))?;
    if c.master.is_empty() && p == Plugin::Ipvlan {
        return Ok(()); // it may come from each ADD's prevResult: nothing to check now
    }
    if c.master.is_empty() && p == Plugin::Vlan {
        return Err(CniError::config(VLAN_NEEDS_MASTER));
    }
    if c.master.is_empty() {
        // The link of the host's default route, as ADD finds it.
        return default_route_link(&h).await.map(drop).map_err(|e| {
            CniError::new(
                NOT_AVAILABLE,
                "no master given, and no default route interface found",
            )
            .with_details(e.msg)
        });
    }
    match h.link_get(&LinkRef::Name(c.master.clone())).await {
        Ok(_) => Ok(()),
        Err(e) => Err(
            CniError::new(NOT_AVAILABLE, format!("master {:?} is not available", c.master))
                .with_details(e.to_string()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_as_the_reference_spells_them() {
        let c = |mode: &str| Conf {
            mode: mode.into(),
            ..Conf::default()
        };
        assert_eq!(
            kind(Plugin::Macvlan, &c("")).unwrap().mode.as_deref(),
            Some("bridge")
        );
        assert_eq!(
            kind(Plugin::Macvlan, &c("passthru")).unwrap().options,
            json!({"mode": "passthru"})
        );
        assert_eq!(kind(Plugin::Macvlan, &c("source")).unwrap_err().code, 7);
        assert_eq!(kind(Plugin::Ipvlan, &c("")).unwrap().mode.as_deref(), Some("l2"));
        assert_eq!(kind(Plugin::Ipvlan, &c("l2x")).unwrap_err().code, 7);
        let v = Conf {
            vlan_id: 4095,
            ..Conf::default()
        };
        assert_eq!(kind(Plugin::Vlan, &v).unwrap_err().code, 7);
        let q = Conf {
            bcqueuelen: 100,
            ..Conf::default()
        };
        assert_eq!(kind(Plugin::Macvlan, &q).unwrap_err().code, 2);
    }
}

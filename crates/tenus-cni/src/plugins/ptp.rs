//! tenus-ptp: the reference `ptp` plugin — a veth pair with no bridge, each end routed to the
//! other. In the pod the address keeps its prefix, but its network route is replaced by a
//! host route to the gateway and a route to the network through it (all traffic goes through
//! the host); the host end gets the gateway address (/32, /128) and a host route to the pod's
//! address. With IPv4 only, one transaction makes the pair and configures both ends; IPv6
//! sysctls must be written in the pod between the pair and its addresses, so then a second
//! transaction configures it, and a failure there deletes the pair.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::conf::NetConf;
use crate::configure::{configure, settle};
use crate::env::Invocation;
use crate::error::{CniError, Result, UNSUPPORTED_FIELD};
use crate::ipam::Ipam;
use crate::net::{find, open_pod, random_veth_name, Net};
use crate::sysctl::{self, link_key};
use crate::tx::{Tx, HOST, POD};
use crate::types::{Cidr, CniResult, Interface};
use crate::validate;

use super::{delete_pod_link, ipam_status, or_release};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Conf {
    #[serde(default)]
    ip_masq: bool,
    #[serde(default)]
    mtu: u32,
}

impl Conf {
    fn read(conf: &NetConf) -> Result<Conf> {
        let c: Conf = conf.plugin()?;
        if c.ip_masq {
            return Err(
                CniError::new(UNSUPPORTED_FIELD, "unsupported field ipMasq").with_details(
                    "masquerading needs firewall rules, which tenus does not write; chain a firewall plugin",
                ),
            );
        }
        if c.mtu != 0 {
            tenus_core::args::mtu("mtu", c.mtu)
                .map_err(|e| CniError::config("invalid mtu").with_details(e.to_string()))?;
        }
        if conf.ipam_type.is_empty() {
            return Err(CniError::config(
                "tenus-ptp: an IPAM plugin (ipam.type) is required",
            ));
        }
        Ok(c)
    }
}

pub async fn add(conf: &NetConf, inv: &Invocation) -> Result<CniResult> {
    let c = Conf::read(conf)?;
    let pod = open_pod(&inv.netns)?;
    let ipam = Ipam::of(conf, inv);
    let (reserved, net) = futures::join!(
        async {
            match &ipam {
                Some(i) => i.add().await,
                None => Err(CniError::config(
                    "tenus-ptp: an IPAM plugin (ipam.type) is required",
                )),
            }
        },
        Net::open(pod, &inv.netns)
    );
    let reserved = reserved?;
    or_release(ipam.as_ref(), async {
        let net = net?;
        attach(&net, &c, conf, inv, reserved).await
    })
    .await
}

async fn attach(
    net: &Net,
    c: &Conf,
    conf: &NetConf,
    inv: &Invocation,
    reserved: CniResult,
) -> Result<CniResult> {
    for v4 in [true, false] {
        if reserved.ips.iter().any(|ip| ip.address.is_v4() == v4) {
            let key = if v4 {
                "net/ipv4/ip_forward"
            } else {
                "net/ipv6/conf/all/forwarding"
            };
            sysctl::set(key, "1").map_err(|e| {
                CniError::internal("Could not enable IP forwarding").with_details(e.to_string())
            })?;
        }
    }
    let mut result = reserved;
    let host_name = random_veth_name();
    result.interfaces = vec![
        Interface {
            name: host_name.clone(),
            ..Interface::default()
        },
        Interface {
            name: inv.ifname.clone(),
            sandbox: inv.netns.clone(),
            ..Interface::default()
        },
    ];
    for ip in &mut result.ips {
        ip.interface = Some(1);
    }

    // txqlen 0, as the reference's host ends have it (see bridge.rs).
    let mut veth = json!({"name": host_name, "peer": inv.ifname, "peerNetns": POD, "up": true, "txqlen": 0});
    if c.mtu != 0 {
        veth["mtu"] = json!(c.mtu);
    }
    let mut create = Tx::new();
    create.on(HOST).link_add("veth", veth);
    if c.mtu != 0 {
        create.on(POD).link_set(&inv.ifname, json!({"mtu": c.mtu}));
    }
    let mut config = Tx::new();
    let plan = configure(&mut config, &inv.ifname, &result)?;
    // The pod's routes naming an IPv6 source wait for DAD: the kernel refuses a tentative
    // source address ("Invalid source address"), as the reference settles the addresses first.
    let mut settled = Tx::new();
    for ip in &result.ips {
        let Some(gw) = ip.gateway else {
            return Err(CniError::internal(format!(
                "IPAM gave {} no gateway; ptp needs one",
                ip.address
            )));
        };
        let src = ip.address.addr.to_string();
        let pod = if ip.address.is_v4() {
            &mut config
        } else {
            &mut settled
        };
        pod.on(POD)
            .route_delete(&ip.address, json!({"dev": inv.ifname}))
            .route_add(
                &Cidr::host(gw),
                json!({"dev": inv.ifname, "scope": "link", "src": src, "protocol": "boot"}),
            )
            .route_add(
                &ip.address,
                json!({"dev": inv.ifname, "via": gw.to_string(), "scope": 0, "src": src, "protocol": "boot"}),
            );
        config.on(HOST).address(&host_name, &Cidr::host(gw)).route_add(
            &Cidr::host(ip.address.addr),
            json!({"dev": host_name, "scope": "host", "protocol": "boot"}),
        );
    }
    let configured = if plan.sysctls.is_empty() {
        // IPv4 only: nothing to write in the pod first, so one transaction does it all.
        create.append(config);
        net.run(create).await
    } else {
        net.run(create)
            .await
            .map_err(|e| CniError::netlink(format!("failed to make veth pair for {}", inv.ifname), e))?;
        sysctl::best_effort_in(net.pod_ns(), plan.sysctls.clone()).await;
        net.run(config).await
    };
    let finished = async {
        configured.map_err(|e| CniError::netlink(format!("failed to set up {}", inv.ifname), e))?;
        sysctl::set(&link_key("ipv6", &host_name, "accept_ra"), "0").ok();
        if plan.settle_v6 {
            settle(net.pod(), &inv.ifname, Duration::from_secs(5)).await?;
        }
        if !settled.is_empty() {
            net.run(settled)
                .await
                .map_err(|e| CniError::netlink(format!("failed to set up {}", inv.ifname), e))?;
        }
        let host = find(net.host(), &host_name).await?;
        let cont = find(net.pod(), &inv.ifname).await?;
        result.interfaces[0].mac = host.and_then(|l| l.mac).unwrap_or_default();
        result.interfaces[1].mac = cont.and_then(|l| l.mac).unwrap_or_default();
        if !conf.dns.is_empty() {
            result.dns = conf.dns.clone();
        }
        Ok(result)
    }
    .await;
    if finished.is_err() {
        let _ = crate::net::delete_if_present(net.host(), &host_name).await;
    }
    finished
}

/// DEL reads none of the type's own fields: see `delete_pod_link`.
pub async fn del(conf: &NetConf, inv: &Invocation) -> Result<()> {
    delete_pod_link(conf, inv).await
}

pub async fn check(conf: &NetConf, inv: &Invocation) -> Result<()> {
    Conf::read(conf)?;
    if let Some(ipam) = Ipam::of(conf, inv) {
        ipam.check().await?;
    }
    let prev = conf.required_prev_result()?;
    let pod = open_pod(&inv.netns)?;
    let net = Net::open(pod, &inv.netns).await?;
    let entry = validate::container_entry(&prev, &inv.ifname, &inv.netns)?;
    validate::container_link(net.pod(), &entry, "veth").await?;
    validate::expected_ips(net.pod(), &inv.ifname, &prev.ips).await?;
    validate::expected_routes(net.pod(), &prev.routes).await
}

pub async fn status(conf: &NetConf, inv: &Invocation) -> Result<()> {
    Conf::read(conf)?;
    ipam_status(conf, inv).await
}

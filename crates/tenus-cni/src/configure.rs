//! Applying an IPAM result to the pod's interface, as the reference plugins' `ipam.ConfigureIface`
//! does: its addresses, the link up, then the result's routes (a route without `gw` takes the
//! first gateway of its family from the IPs), written as transaction items; the IPv6 sysctls it
//! needs first; and, when IPv6 has a gateway, waiting for duplicate address detection to end.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use serde_json::{json, Value};
use tenus_core::message::{decode, encode, Flags};
use tenus_core::Handle;

use crate::error::{CniError, Result};
use crate::sysctl::link_key;
use crate::tx::{Tx, POD};
use crate::types::{CniResult, Route};

/// What applying a result needs besides its items.
#[derive(Debug, Default)]
pub struct Plan {
    /// Sysctls to write in the pod before the items run.
    pub sysctls: Vec<(String, String)>,
    /// An IPv6 gateway: wait for DAD before routes are trusted.
    pub settle_v6: bool,
}

/// The route options of a result's route, as the reference plugins install it (protocol
/// 'boot', scope 'global' unless the result says, metric, table).
pub fn route_options(r: &Route, dev: &str, gw: Option<IpAddr>) -> Value {
    let mut o = json!({
        "dev": dev,
        "protocol": "boot",
        "scope": r.scope.unwrap_or(0),
    });
    if let Some(gw) = gw {
        o["via"] = json!(gw.to_string());
    }
    if r.priority != 0 {
        o["metric"] = json!(r.priority);
    }
    if let Some(t) = r.table {
        o["table"] = json!(t);
    }
    o
}

/// Adds to `tx` (in the pod) what configures `ifname` from `result`.
pub fn configure(tx: &mut Tx, ifname: &str, result: &CniResult) -> Result<Plan> {
    if result.interfaces.is_empty() {
        return Err(CniError::internal("no interfaces to configure"));
    }
    let mut plan = Plan::default();
    let (mut v4gw, mut v6gw) = (None, None);
    tx.on(POD);
    for ip in &result.ips {
        let Some(i) = ip.interface else { continue };
        if result.interfaces.get(i).map(|x| x.name.as_str()) != Some(ifname) {
            return Err(CniError::internal(format!(
                "failed to add IP addr {} to {ifname:?}: invalid interface index",
                ip.address
            )));
        }
        if !ip.address.is_v4() && plan.sysctls.is_empty() {
            // IPv6 on, for lo and the link, and addresses kept when the link goes down.
            for link in ["lo", ifname] {
                plan.sysctls
                    .push((link_key("ipv6", link, "disable_ipv6"), "0".into()));
            }
            plan.sysctls
                .push((link_key("ipv6", ifname, "keep_addr_on_down"), "1".into()));
        }
        tx.address(ifname, &ip.address);
        match ip.gateway {
            Some(gw @ IpAddr::V4(_)) => {
                v4gw.get_or_insert(gw);
            }
            Some(gw @ IpAddr::V6(_)) => {
                v6gw.get_or_insert(gw);
            }
            None => {}
        }
    }
    tx.link_set(ifname, json!({"up": true}));
    plan.settle_v6 = v6gw.is_some();
    for r in &result.routes {
        let gw = r.gw.or(if r.dst.is_v4() { v4gw } else { v6gw });
        tx.route_add(&r.dst, route_options(r, ifname, gw));
    }
    Ok(plan)
}

/// Waits until no IPv6 address of `ifname` is tentative (DAD done), as `ip.SettleAddresses`
/// does: a failed DAD is an error; after `timeout` it is an error only if the link is up.
pub async fn settle(h: &Handle, ifname: &str, timeout: Duration) -> Result<()> {
    let link = tenus_core::LinkRef::Name(ifname.to_string());
    let index = h
        .link_index(&link)
        .await
        .map_err(|e| CniError::netlink(format!("failed to retrieve link {ifname}"), e))?;
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        let flags = v6_flags(h, index).await?;
        if let Some(addr) = flags.iter().find(|(_, f)| f.contains(AddressFlags::Dadfailed)) {
            return Err(CniError::internal(format!(
                "link {ifname} has address {} in DADFAILED state",
                addr.0
            )));
        }
        if !flags.iter().any(|(_, f)| f.contains(AddressFlags::Tentative)) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let up = h
                .link_get(&link)
                .await
                .map(|l| l.operstate == "UP")
                .unwrap_or(false);
            return if up {
                Err(CniError::internal(format!(
                    "link {ifname} still has tentative addresses after {timeout:?}"
                )))
            } else {
                Ok(())
            };
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The IPv6 addresses of link `index` with their flags.
async fn v6_flags(h: &Handle, index: u32) -> Result<Vec<(IpAddr, AddressFlags)>> {
    let mut req = AddressMessage::default();
    req.header.family = AddressFamily::Inet6;
    req.header.index = index;
    let msgs = h
        .dump(
            "address.list",
            encode(RouteNetlinkMessage::GetAddress(req), Flags::Dump),
        )
        .await
        .map_err(|e| CniError::netlink("could not list addresses", e))?;
    let mut out = Vec::new();
    for m in &msgs {
        let Ok(RouteNetlinkMessage::NewAddress(a)) = decode("address.list", m) else {
            continue;
        };
        if a.header.index != index {
            continue;
        }
        let mut flags = AddressFlags::from_bits_truncate(u32::from(a.header.flags.bits()));
        let mut addr = None;
        for attr in &a.attributes {
            match attr {
                AddressAttribute::Flags(f) => flags = *f,
                AddressAttribute::Address(ip) => addr = Some(*ip),
                _ => {}
            }
        }
        if let Some(ip) = addr {
            out.push((ip, flags));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Cidr, Interface, IpConfig};

    fn result() -> CniResult {
        CniResult {
            interfaces: vec![Interface {
                name: "eth0".into(),
                ..Default::default()
            }],
            ips: vec![
                IpConfig {
                    interface: Some(0),
                    address: Cidr::parse("10.1.0.5/16").unwrap(),
                    gateway: Some("10.1.0.1".parse().unwrap()),
                },
                IpConfig {
                    interface: Some(0),
                    address: Cidr::parse("fd00::5/64").unwrap(),
                    gateway: None,
                },
            ],
            routes: vec![
                Route::to(Cidr::parse("0.0.0.0/0").unwrap(), None),
                Route::to(
                    Cidr::parse("10.9.0.0/16").unwrap(),
                    Some("10.1.0.9".parse().unwrap()),
                ),
            ],
            dns: Default::default(),
        }
    }

    #[test]
    fn routes_take_the_ips_gateway_and_v6_needs_sysctls() {
        let mut tx = Tx::new();
        let plan = configure(&mut tx, "eth0", &result()).unwrap();
        assert!(!plan.settle_v6, "no IPv6 gateway, nothing to wait for");
        assert_eq!(plan.sysctls.len(), 3);
        let o = route_options(&result().routes[0], "eth0", Some("10.1.0.1".parse().unwrap()));
        assert_eq!(
            o,
            json!({"dev": "eth0", "protocol": "boot", "scope": 0, "via": "10.1.0.1"})
        );
    }

    #[test]
    fn ips_for_another_interface_are_refused() {
        let mut r = result();
        r.ips[0].interface = Some(3);
        assert!(configure(&mut Tx::new(), "eth0", &r).is_err());
        assert!(configure(&mut Tx::new(), "eth1", &result()).is_err());
    }
}

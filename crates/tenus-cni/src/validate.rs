//! CHECK against `prevResult`, as the reference plugins check: the container interface is
//! there, of its kind, with its MAC; every IP of the result is on it with a route to its
//! network; every route of the result is in the routing table.

use std::net::IpAddr;

use tenus_core::route::list::{dump_request, RouteFilter};
use tenus_core::route::record::read_route;
use tenus_core::route::spec::{Family, Route as CoreRoute};
use tenus_core::{Handle, LinkRecord, LinkRef};

use crate::error::{CniError, Result};
use crate::net::find;
use crate::types::{Cidr, CniResult, Interface, IpConfig, Route};

const RT_TABLE_MAIN: u32 = 254;

fn fail(msg: String) -> CniError {
    CniError::internal(msg)
}

/// The interface of `result` named `ifname` in sandbox `netns` (the pod's), which CHECK needs.
pub fn container_entry(result: &CniResult, ifname: &str, netns: &str) -> Result<Interface> {
    let found = result
        .interfaces
        .iter()
        .find(|i| i.name == ifname && i.sandbox == netns);
    match found {
        Some(i) => Ok(i.clone()),
        None => {
            let sandbox = result
                .interfaces
                .iter()
                .find(|i| i.name == ifname)
                .map(|i| i.sandbox.clone())
                .unwrap_or_default();
            Err(fail(format!(
                "Sandbox in prevResult {sandbox} doesn't match configured netns: {netns}"
            )))
        }
    }
}

/// The container's link as `intf` describes it: present, of `kind`, with its MAC.
pub async fn container_link(pod: &Handle, intf: &Interface, kind: &str) -> Result<LinkRecord> {
    if intf.name.is_empty() {
        return Err(fail("container interface name missing in prevResult".into()));
    }
    let Some(link) = find(pod, &intf.name).await? else {
        return Err(fail(format!(
            "container interface name in prevResult: {} not found",
            intf.name
        )));
    };
    if link.kind.as_deref() != Some(kind) {
        return Err(fail(format!(
            "container interface {} not of type {kind}",
            intf.name
        )));
    }
    same_mac(intf, &link)?;
    Ok(link)
}

/// The link's MAC is the one the result says (when it says one).
pub fn same_mac(intf: &Interface, link: &LinkRecord) -> Result<()> {
    if !intf.mac.is_empty() && link.mac.as_deref() != Some(intf.mac.as_str()) {
        return Err(fail(format!(
            "interface {} MAC {} doesn't match: {}",
            intf.name,
            intf.mac,
            link.mac.as_deref().unwrap_or("none")
        )));
    }
    Ok(())
}

/// Routes of a family in a table.
async fn routes(h: &Handle, family: Family, table: u32) -> Result<Vec<CoreRoute>> {
    let filter = RouteFilter {
        family: Some(family),
        table: Some(table),
        ..Default::default()
    };
    let msgs = h
        .dump("route.list", dump_request(&filter))
        .await
        .map_err(|e| CniError::netlink("could not list routes", e))?;
    Ok(msgs
        .iter()
        .filter_map(read_route)
        .filter(|r| r.table == table)
        .collect())
}

fn family(c: &Cidr) -> Family {
    if c.is_v4() {
        Family::Inet
    } else {
        Family::Inet6
    }
}

fn same_dst(r: &CoreRoute, dst: &Cidr) -> bool {
    match r.dst {
        None => dst.is_default(),
        Some(p) => p.len == dst.prefix && p.addr == dst.network().addr,
    }
}

/// Every IP of the result is on `ifname`, and a route goes to its network.
pub async fn expected_ips(pod: &Handle, ifname: &str, ips: &[IpConfig]) -> Result<()> {
    if ips.is_empty() {
        return Ok(());
    }
    let link = LinkRef::Name(ifname.to_string());
    let addrs = pod
        .addr_list(Some(&link))
        .await
        .map_err(|_| fail(format!("Cannot find container link {ifname}")))?;
    for ip in ips {
        let present = addrs.iter().any(|a| {
            a.address.parse::<IpAddr>().ok() == Some(ip.address.addr) && a.prefix_len == ip.address.prefix
        });
        if !present {
            return Err(fail(format!(
                "Failed to match addr {} on interface {ifname}",
                ip.address
            )));
        }
        let table = routes(pod, family(&ip.address), RT_TABLE_MAIN).await?;
        if !table.iter().any(|r| same_dst(r, &ip.address.network())) {
            return Err(fail(format!(
                "Failed to find Gateway {} for interface {ifname}",
                ip.gateway.map(|g| g.to_string()).unwrap_or_default()
            )));
        }
    }
    Ok(())
}

/// Every route of the result is in its table (main unless it says): same destination, and
/// the same gateway when it names one (a default route matches by destination alone).
pub async fn expected_routes(pod: &Handle, expected: &[Route]) -> Result<()> {
    for want in expected {
        let table = routes(pod, family(&want.dst), want.table.unwrap_or(RT_TABLE_MAIN)).await?;
        let found = table.iter().any(|r| {
            same_dst(r, &want.dst)
                && (want.dst.is_default()
                    || want.gw.is_none()
                    || r.gateway == want.gw
                    || r.multipath.iter().any(|l| l.gateway == want.gw))
        });
        if !found {
            return Err(fail(format!(
                "Expected Route {{Dst:{} GW:{}}} not found in routing table",
                want.dst,
                want.gw.map(|g| g.to_string()).unwrap_or_else(|| "<nil>".into())
            )));
        }
    }
    Ok(())
}

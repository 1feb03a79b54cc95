//! tenus-bridge: the reference `bridge` plugin's configuration and results. The bridge is
//! shared by every pod of the network: made, brought up and given its gateway addresses
//! idempotently (a concurrent ADD that made it first, EEXIST, is success) and never deleted.
//! Each pod gets a veth pair, its host end a port of the bridge, its other end born in the pod
//! as `CNI_IFNAME`. The pair is made while IPAM runs (IPAM is most of an ADD's time: a process
//! of its own); once IPAM has answered, the bridge is made sure of and a second transaction
//! puts the host end on it and configures the pod's end (the pod's sysctls are written before
//! it, ahead of its addresses, as the reference writes them). A failure anywhere after the pair
//! deletes it, and IPAM DEL releases the address; a failed IPAM makes nothing else stay.
//! VLANs (`vlan`, `vlanTrunk`): the bridge is made filtering VLANs, and the port's VLANs are set
//! once it has joined (the VLANs it joined with are removed first unless `preserveDefaultVlan`).

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tenus_core::bridge::BridgeVlanFilter;
use tenus_core::{Handle, LinkRecord, LinkRef};

use crate::conf::NetConf;
use crate::configure::{configure, settle};
use crate::env::Invocation;
use crate::error::{CniError, Result, UNSUPPORTED_FIELD};
use crate::ipam::Ipam;
use crate::net::{delete_if_present, find, open_pod, random_veth_name, Net};
use crate::sysctl::{self, link_key};
use crate::tx::{Tx, HOST, POD};
use crate::types::{Cidr, CniResult, Interface, Route};
use crate::validate;

use super::{args_mac, or_release, requested_mac};

fn default_bridge() -> String {
    "cni0".into()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Conf {
    #[serde(default = "default_bridge")]
    bridge: String,
    #[serde(default)]
    is_gateway: bool,
    #[serde(default)]
    is_default_gateway: bool,
    #[serde(default)]
    force_address: bool,
    #[serde(default)]
    ip_masq: bool,
    #[serde(default)]
    mtu: u32,
    #[serde(default)]
    hairpin_mode: bool,
    #[serde(default)]
    promisc_mode: bool,
    #[serde(default)]
    vlan: u16,
    #[serde(default)]
    vlan_trunk: Option<Vec<VlanTrunk>>,
    #[serde(default)]
    preserve_default_vlan: bool,
    #[serde(default)]
    macspoofchk: bool,
    #[serde(default, rename = "enabledad")]
    enable_dad: bool,
    #[serde(default)]
    disable_container_interface: bool,
    #[serde(default)]
    port_isolation: bool,
    /// `vlanTrunk` as a sorted list of VLAN IDs (`collectVlanTrunk`).
    #[serde(skip)]
    trunk: Vec<u16>,
}

/// One `vlanTrunk` entry: a range (`minID` and `maxID`) and/or a single `id`.
#[derive(Debug, Deserialize)]
struct VlanTrunk {
    #[serde(rename = "minID")]
    min_id: Option<i64>,
    #[serde(rename = "maxID")]
    max_id: Option<i64>,
    id: Option<i64>,
}

/// The reference's `collectVlanTrunk`: the IDs of every entry, each 1-4094, sorted, once each.
fn collect_trunk(trunk: &[VlanTrunk]) -> Result<Vec<u16>> {
    let valid = |v: i64, what: &str| {
        u16::try_from(v)
            .ok()
            .filter(|v| (1..=4094).contains(v))
            .ok_or_else(|| CniError::config(format!("incorrect trunk {what} parameter")))
    };
    let mut out = std::collections::BTreeSet::new();
    for t in trunk {
        match (t.min_id, t.max_id) {
            (Some(min), Some(max)) => {
                let (min, max) = (valid(min, "minID")?, valid(max, "maxID")?);
                if max < min {
                    return Err(CniError::config("minID is greater than maxID in trunk parameter"));
                }
                out.extend(min..=max);
            }
            (None, Some(_)) => {
                return Err(CniError::config(
                    "minID and maxID should be configured simultaneously, minID is missing",
                ))
            }
            (Some(_), None) => {
                return Err(CniError::config(
                    "minID and maxID should be configured simultaneously, maxID is missing",
                ))
            }
            (None, None) => {}
        }
        if let Some(id) = t.id {
            out.insert(valid(id, "id")?);
        }
    }
    Ok(out.into_iter().collect())
}

impl Conf {
    /// The bridge filters VLANs (made with `vlan_filtering 1`) when any is asked for.
    fn vlan_filtering(&self) -> bool {
        self.vlan != 0 || self.vlan_trunk.is_some()
    }

    fn read(conf: &NetConf) -> Result<Conf> {
        let mut c: Conf = conf.plugin()?;
        tenus_core::args::ifname("bridge", &c.bridge).map_err(|e| {
            CniError::config(format!("invalid bridge name {:?}", c.bridge)).with_details(e.to_string())
        })?;
        if c.vlan > 4094 {
            return Err(CniError::config(format!(
                "invalid VLAN ID {} (must be between 0 and 4094)",
                c.vlan
            )));
        }
        for (on, key, why) in [
            (
                c.ip_masq,
                "ipMasq",
                "masquerading needs firewall rules, which tenus does not write; chain a firewall plugin",
            ),
            (
                c.macspoofchk,
                "macspoofchk",
                "MAC spoof checking needs nftables rules, which tenus does not write",
            ),
        ] {
            if on {
                return Err(
                    CniError::new(UNSUPPORTED_FIELD, format!("unsupported field {key}")).with_details(why),
                );
            }
        }
        if let Some(trunk) = &c.vlan_trunk {
            c.trunk = collect_trunk(trunk)?;
        }
        if c.is_default_gateway {
            c.is_gateway = true;
        }
        if c.hairpin_mode && c.promisc_mode {
            return Err(CniError::config(
                "cannot set hairpin mode and promiscuous mode at the same time",
            ));
        }
        if c.mtu != 0 {
            tenus_core::args::mtu("mtu", c.mtu)
                .map_err(|e| CniError::config("invalid mtu").with_details(e.to_string()))?;
        }
        Ok(c)
    }
}

fn iface(l: &LinkRecord, sandbox: &str) -> Interface {
    Interface {
        name: l.name.clone(),
        mac: l.mac.clone().unwrap_or_default(),
        sandbox: sandbox.to_string(),
        ..Interface::default()
    }
}

pub async fn add(conf: &NetConf, inv: &Invocation) -> Result<CniResult> {
    let c = Conf::read(conf)?;
    let mac = requested_mac(&[
        conf.runtime_config_str("mac"),
        conf.args_cni_str("mac"),
        args_mac(inv)?,
    ])?;
    let ipam = Ipam::of(conf, inv);
    if ipam.is_some() && c.disable_container_interface {
        return Err(CniError::config(
            "cannot use IPAM when DisableContainerInterface flag is set",
        ));
    }
    let pod = open_pod(&inv.netns)?;
    // IPAM runs in its own process while the sockets open and the pair is made.
    let (reserved, made) = futures::join!(
        async {
            match &ipam {
                Some(i) => i.add().await.map(Some),
                None => Ok(None),
            }
        },
        async {
            let net = Net::open(pod, &inv.netns).await?;
            let host_name = make_veth(&net, &c, inv, mac.as_deref()).await?;
            Ok::<_, CniError>((net, host_name))
        }
    );
    let (net, host_name) = match made {
        Ok(made) => made,
        // When both failed, IPAM's failure is the one to report.
        Err(e) => match reserved {
            Err(ipam_error) => return Err(ipam_error),
            Ok(_) => {
                crate::ipam::release(ipam.as_ref()).await;
                return Err(e);
            }
        },
    };
    let attached = match reserved {
        Ok(reserved) => or_release(ipam.as_ref(), attach(&net, &c, conf, inv, &host_name, reserved)).await,
        Err(e) => Err(e),
    };
    if attached.is_err() {
        // The pair goes, and with it everything done to either end.
        if let Err(e) = delete_if_present(net.host(), &host_name).await {
            eprintln!("tenus-cni: removing {host_name} after a failed ADD: {e}");
        }
    }
    attached
}

/// Everything ADD does once IPAM has answered and the pair `host_name` exists.
async fn attach(
    net: &Net,
    c: &Conf,
    conf: &NetConf,
    inv: &Invocation,
    host_name: &str,
    reserved: Option<CniResult>,
) -> Result<CniResult> {
    let br = ensure_bridge(net.host(), c).await?;
    let mut result = CniResult::default();
    let gateways = match &reserved {
        Some(r) => {
            result.ips = r.ips.clone();
            result.routes = r.routes.clone();
            result.dns = r.dns.clone();
            gateways(&mut result, c)?
        }
        None => Vec::new(),
    };
    sysctl::set(&link_key("ipv6", host_name, "accept_ra"), "0").ok();
    let cont = find(net.pod(), &inv.ifname)
        .await?
        .ok_or_else(|| CniError::internal(format!("{} vanished from the pod", inv.ifname)))?;
    result.interfaces = vec![
        iface(&br, ""),
        Interface {
            name: host_name.to_string(),
            ..Interface::default()
        },
        iface(&cont, &inv.netns),
    ];
    for ip in &mut result.ips {
        ip.interface = Some(2);
    }

    // One transaction: the host end joins the bridge with its port settings, the pod's end is
    // configured (addresses, up, routes) or, without IPAM, brought up.
    let mut tx = Tx::new();
    tx.on(HOST).link_set(host_name, json!({"master": c.bridge}));
    let mut port = json!({});
    if c.hairpin_mode {
        port["hairpin"] = json!(true);
    }
    if c.port_isolation {
        port["isolated"] = json!(true);
    }
    if port.as_object().is_some_and(|o| !o.is_empty()) {
        tx.port(host_name, port);
    }
    let mut settle_v6 = false;
    if reserved.is_some() {
        let plan = configure(&mut tx, &inv.ifname, &result)?;
        settle_v6 = plan.settle_v6;
        let mut writes = if c.enable_dad {
            vec![
                (link_key("ipv6", &inv.ifname, "enhanced_dad"), "1".to_string()),
                (link_key("ipv6", &inv.ifname, "accept_dad"), "1".to_string()),
            ]
        } else {
            vec![(link_key("ipv6", &inv.ifname, "accept_dad"), "0".to_string())]
        };
        writes.push((link_key("ipv4", &inv.ifname, "arp_notify"), "1".to_string()));
        writes.extend(plan.sysctls);
        sysctl::best_effort_in(net.pod_ns(), writes).await;
    } else if !c.disable_container_interface {
        tx.on(POD).link_set(&inv.ifname, json!({"up": true}));
    }
    net.run(tx)
        .await
        .map_err(|e| CniError::netlink(format!("failed to configure {}", inv.ifname), e))?;
    set_port_vlans(net.host(), host_name, c, c.vlan, &c.trunk).await?;
    if settle_v6 {
        settle(net.pod(), &inv.ifname, Duration::from_secs(5)).await?;
    }
    // With a VLAN, the gateway addresses go on the bridge's interface in that VLAN.
    let gw_link = if c.vlan != 0 && !gateways.is_empty() {
        let l = ensure_vlan_interface(net.host(), c, &br).await?;
        result.interfaces.push(iface(&l, ""));
        l
    } else {
        br.clone()
    };
    for gw in &gateways {
        ensure_address(net.host(), &gw_link, gw, c.force_address).await?;
    }
    for v4 in [true, false] {
        if gateways.iter().any(|g| g.is_v4() == v4) {
            let key = if v4 {
                "net/ipv4/ip_forward"
            } else {
                "net/ipv6/conf/all/forwarding"
            };
            sysctl::set(key, "1")
                .map_err(|e| CniError::internal("failed to enable forwarding").with_details(e.to_string()))?;
        }
    }

    let host = if c.disable_container_interface {
        find(net.host(), host_name).await?
    } else {
        Some(port_up(net.host(), host_name).await?)
    };
    let host = host.ok_or_else(|| CniError::internal(format!("{host_name} vanished")))?;
    result.interfaces[1].mac = host.mac.unwrap_or_default();
    // The bridge's MAC may have changed as the port joined or the address was set.
    let br = find(net.host(), &c.bridge)
        .await?
        .ok_or_else(|| CniError::internal(format!("bridge {} vanished", c.bridge)))?;
    result.interfaces[0].mac = br.mac.unwrap_or_default();
    if !conf.dns.is_empty() {
        result.dns = conf.dns.clone();
    }
    Ok(result)
}

/// The bridge, made if it is not there (by us or by a concurrent ADD), up, promiscuous when
/// asked, not taking router advertisements.
async fn ensure_bridge(h: &Handle, c: &Conf) -> Result<LinkRecord> {
    let hosts = std::slice::from_ref(h);
    if find(h, &c.bridge).await?.is_none() {
        let mut o = json!({"name": c.bridge});
        if c.mtu != 0 {
            o["mtu"] = json!(c.mtu);
        }
        if c.vlan_filtering() {
            o["vlanFiltering"] = json!(true);
        }
        let mut tx = Tx::new();
        tx.link_add("bridge", o);
        match tx.run(hosts).await {
            Err(e) if e.errno() != Some(libc::EEXIST) => {
                return Err(CniError::netlink(
                    format!("failed to create bridge {:?}", c.bridge),
                    e,
                ))
            }
            _ => {}
        }
    }
    let br = find(h, &c.bridge)
        .await?
        .ok_or_else(|| CniError::internal(format!("could not lookup {:?}", c.bridge)))?;
    if br.kind.as_deref() != Some("bridge") {
        return Err(CniError::internal(format!(
            "{:?} already exists but is not a bridge",
            c.bridge
        )));
    }
    let mut change = json!({});
    if c.promisc_mode && !br.flags.contains(&"PROMISC") {
        change["promisc"] = json!(true);
    }
    sysctl::set(&link_key("ipv6", &c.bridge, "accept_ra"), "0").ok();
    if !br.up {
        change["up"] = json!(true);
    }
    if change.as_object().is_some_and(|o| !o.is_empty()) {
        let mut tx = Tx::new();
        tx.link_set(&c.bridge, change);
        tx.run(hosts)
            .await
            .map_err(|e| CniError::netlink(format!("failed to set up bridge {:?}", c.bridge), e))?;
    }
    Ok(br)
}

/// The reference's VLAN setup of a bridge port (`setupVeth`): the VLANs the port got on joining
/// removed (unless `preserveDefaultVlan`), `vlan` its untagged PVID, the trunk's VLANs tagged,
/// and VLAN 1 the untagged PVID when only a trunk is given.
async fn set_port_vlans(h: &Handle, port: &str, c: &Conf, vlan: u16, trunk: &[u16]) -> Result<()> {
    if vlan == 0 && trunk.is_empty() {
        return Ok(());
    }
    let failed = |e| CniError::netlink(format!("failed to setup vlan tag on interface {port:?}"), e);
    let mut tx = Tx::new();
    if !c.preserve_default_vlan {
        let filter = BridgeVlanFilter {
            link: Some(LinkRef::Name(port.to_string())),
            vid: None,
        };
        let joined = h.bridge_vlan_list(&filter).await.map_err(failed)?;
        for v in joined {
            tx.port_vlan(port, false, v.vid, false);
        }
    }
    if vlan != 0 {
        tx.port_vlan(port, true, vlan, true);
    }
    for &v in trunk {
        tx.port_vlan(port, true, v, false);
    }
    if vlan == 0 {
        tx.port_vlan(port, true, 1, true);
    }
    tx.run(std::slice::from_ref(h)).await.map_err(failed)
}

/// `ensureVlanInterface`: the bridge's own interface in VLAN `vlan`, `BRIDGE.VLAN`, one end of
/// a veth pair in the host namespace whose other end is a port of the bridge in that VLAN (as
/// the reference makes it: the bridge's MTU on both ends, both up). Made by the first ADD of
/// the VLAN that needs a gateway, kept (like the bridge) for every later one.
async fn ensure_vlan_interface(h: &Handle, c: &Conf, br: &LinkRecord) -> Result<LinkRecord> {
    let name = format!("{}.{}", c.bridge, c.vlan);
    let hosts = std::slice::from_ref(h);
    let failed = |e| CniError::netlink(format!("failed to create vlan gateway {name:?}"), e);
    for _ in 0..10 {
        if let Some(l) = find(h, &name).await? {
            return Ok(l);
        }
        // As the reference's pair: BRIDGE.VLAN the link made, the port its peer (so the port
        // has the lower index) with the queue length the Go peer is left with, zero.
        let port = random_veth_name();
        let mut o = json!({"name": name, "peer": port});
        let mut p = json!({"txqlen": 0, "master": c.bridge, "up": true});
        if let Some(mtu) = br.mtu {
            o["mtu"] = json!(mtu);
            p["mtu"] = json!(mtu);
        }
        let mut tx = Tx::new();
        tx.link_add("veth", o).link_set(&port, p);
        match tx.run(hosts).await {
            Ok(()) => {}
            // Our random name was taken, or a concurrent ADD made the interface: look again.
            Err(e) if e.errno() == Some(libc::EEXIST) => continue,
            Err(e) => return Err(failed(e)),
        }
        let configured = async {
            set_port_vlans(h, &port, c, c.vlan, &[]).await?;
            let mut tx = Tx::new();
            tx.link_set(&name, json!({"up": true}));
            tx.run(hosts).await.map_err(failed)
        };
        if let Err(e) = configured.await {
            if let Err(d) = delete_if_present(h, &port).await {
                eprintln!("tenus-cni: removing {port} after a failed ADD: {d}");
            }
            return Err(e);
        }
    }
    find(h, &name)
        .await?
        .ok_or_else(|| CniError::internal(format!("failed to create vlan gateway {name:?}")))
}

/// The gateways to put on the bridge, and the result completed as the reference completes it:
/// an IP without a gateway gets its network's first address when the bridge is a gateway, and
/// a default route through it is added per family when `isDefaultGateway` asks and IPAM gave
/// none.
fn gateways(result: &mut CniResult, c: &Conf) -> Result<Vec<Cidr>> {
    let mut out = Vec::new();
    let mut default_found = [false, false];
    for ip in &mut result.ips {
        if ip.gateway.is_none() && c.is_gateway {
            ip.gateway = Some(ip.address.first_host());
        }
        let fam = usize::from(!ip.address.is_v4());
        if c.is_default_gateway && !default_found[fam] {
            default_found[fam] = result
                .routes
                .iter()
                .any(|r| r.gw.is_some() && r.dst.is_default() && r.dst.is_v4() == ip.address.is_v4());
            if !default_found[fam] {
                let any = if ip.address.is_v4() { "0.0.0.0/0" } else { "::/0" };
                let dst = Cidr::parse(any).unwrap_or(ip.address);
                result.routes.push(Route::to(dst, ip.gateway));
                default_found[fam] = true;
            }
        }
        if c.is_gateway {
            if let Some(gw) = ip.gateway {
                out.push(Cidr {
                    addr: gw,
                    prefix: ip.address.prefix,
                });
            }
        }
    }
    Ok(out)
}

/// Makes the pair: its host end (a random free name) up, the pod end named `CNI_IFNAME` with
/// the MAC and MTU asked (it joins the bridge later: the bridge is made only once IPAM has
/// answered). An existing `CNI_IFNAME` in the pod fails the ADD.
async fn make_veth(net: &Net, c: &Conf, inv: &Invocation, mac: Option<&str>) -> Result<String> {
    for _ in 0..10 {
        let host_name = random_veth_name();
        // txqlen 0: the reference's host ends have it (the Go peer's queue length left at zero).
        let mut o = json!({"name": host_name, "peer": inv.ifname, "peerNetns": POD, "up": true, "txqlen": 0});
        if c.mtu != 0 {
            o["mtu"] = json!(c.mtu);
        }
        if let Some(m) = mac {
            o["peerMac"] = json!(m);
        }
        let mut tx = Tx::new();
        tx.on(HOST).link_add("veth", o);
        if c.mtu != 0 {
            tx.on(POD).link_set(&inv.ifname, json!({"mtu": c.mtu}));
        }
        match net.run(tx).await {
            Ok(()) => return Ok(host_name),
            Err(e) if e.errno() == Some(libc::EEXIST) => {
                if find(net.host(), &host_name).await?.is_some() {
                    continue; // our random name was taken: another one
                }
                return Err(CniError::netlink(
                    format!("container veth name provided ({}) already exists", inv.ifname),
                    e,
                ));
            }
            Err(e) => return Err(CniError::netlink("failed to make veth pair", e)),
        }
    }
    Err(CniError::internal("failed to find a unique veth name"))
}

/// `ensureAddr`: the gateway address on the bridge. Present: nothing to do; another IPv4
/// address (or an overlapping IPv6 one) is replaced with `forceAddress`, an error otherwise.
/// Then the bridge's MAC is set to itself, so that it no longer follows its ports.
async fn ensure_address(h: &Handle, br: &LinkRecord, gw: &Cidr, force: bool) -> Result<()> {
    let link = LinkRef::Index(br.index);
    let addrs = h
        .addr_list(Some(&link))
        .await
        .map_err(|e| CniError::netlink("could not get list of IP addresses", e))?;
    for a in &addrs {
        let Some(have) = Cidr::parse(&a.cidr) else {
            continue;
        };
        if have.is_v4() != gw.is_v4() {
            continue;
        }
        if have == *gw {
            return Ok(());
        }
        if gw.is_v4() || have.contains(&gw.addr) || gw.contains(&have.addr) {
            if !force {
                return Err(CniError::internal(format!(
                    "{:?} already has an IP address different from {gw}",
                    br.name
                )));
            }
            h.addr_del(&link, &a.cidr).await.map_err(|e| {
                CniError::netlink(format!("could not remove IP address from {:?}", br.name), e)
            })?;
        }
    }
    match h.addr_add(&link, &gw.to_string(), false).await {
        Err(e) if e.errno() != Some(libc::EEXIST) => {
            return Err(CniError::netlink(
                format!("could not add IP address {gw} to {:?}", br.name),
                e,
            ))
        }
        _ => {}
    }
    if let Some(mac) = &br.mac {
        h.link_set(
            &link,
            &tenus_core::LinkChange {
                mac: tenus_core::args::mac("mac", mac).ok(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| CniError::netlink("could not set bridge's mac", e))?;
    }
    Ok(())
}

/// Waits for the host end of the pair to be operationally up as a bridge port (the reference
/// waits up to 2.5 s too).
async fn port_up(h: &Handle, name: &str) -> Result<LinkRecord> {
    let mut waited = Duration::ZERO;
    let mut pause = Duration::from_micros(200);
    loop {
        let l = find(h, name)
            .await?
            .ok_or_else(|| CniError::internal(format!("{name} vanished")))?;
        if l.operstate == "UP" {
            return Ok(l);
        }
        if waited >= Duration::from_millis(2550) {
            return Err(CniError::internal(format!(
                "bridge port in error state: {}",
                l.operstate
            )));
        }
        tokio::time::sleep(pause).await;
        waited += pause;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// DEL reads none of the type's own fields: see `delete_pod_link`.
pub async fn del(conf: &NetConf, inv: &Invocation) -> Result<()> {
    super::delete_pod_link(conf, inv).await
}

pub async fn check(conf: &NetConf, inv: &Invocation) -> Result<()> {
    let c = Conf::read(conf)?;
    if let Some(ipam) = Ipam::of(conf, inv) {
        ipam.check().await?;
    }
    let prev = conf.required_prev_result()?;
    let pod = open_pod(&inv.netns)?;
    let net = Net::open(pod, &inv.netns).await?;
    let br_entry = prev
        .interfaces
        .iter()
        .find(|i| i.name == c.bridge)
        .cloned()
        .unwrap_or_default();
    let cont_entry = validate::container_entry(&prev, &inv.ifname, &inv.netns)?;

    // The bridge: there, a bridge, its MAC, promiscuous exactly when the config says.
    let Some(br) = find(net.host(), &c.bridge).await? else {
        return Err(CniError::internal(format!(
            "CNI created bridge {} in host namespace was not found",
            c.bridge
        )));
    };
    if br.kind.as_deref() != Some("bridge") {
        return Err(CniError::internal(format!(
            "Interface {} does not have link type of bridge",
            c.bridge
        )));
    }
    if !br_entry.name.is_empty() {
        validate::same_mac(&br_entry, &br)?;
    }
    let promisc = br.flags.contains(&"PROMISC");
    if promisc != c.promisc_mode {
        return Err(CniError::internal(format!(
            "Bridge interface {} configured Promisc Mode {} doesn't match current state: {promisc}",
            c.bridge, c.promisc_mode
        )));
    }

    // The pod's end, and the host end: a veth of the result whose peer it is, on the bridge.
    let cont = validate::container_link(net.pod(), &cont_entry, "veth").await?;
    let mut host_found = false;
    for entry in prev
        .interfaces
        .iter()
        .filter(|i| i.name != c.bridge && i.name != cont_entry.name)
    {
        let Some(l) = find(net.host(), &entry.name).await? else {
            return Err(CniError::internal(format!(
                "Interface name {} not found",
                entry.name
            )));
        };
        if l.kind.as_deref() != Some("veth") {
            continue;
        }
        // IFLA_LINK is left out when it equals the link's own index.
        let peers = cont.parent.unwrap_or(cont.index) == l.index && l.parent.unwrap_or(l.index) == cont.index;
        if peers && l.master == Some(br.index) {
            validate::same_mac(entry, &l)?;
            host_found = true;
            break;
        }
    }
    if !host_found {
        return Err(CniError::internal(format!(
            "CNI veth created for bridge {} was not found",
            c.bridge
        )));
    }
    validate::expected_ips(net.pod(), &inv.ifname, &prev.ips).await?;
    validate::expected_routes(net.pod(), &prev.routes).await
}

pub async fn status(conf: &NetConf, inv: &Invocation) -> Result<()> {
    Conf::read(conf)?;
    super::ipam_status(conf, inv).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::IpConfig;

    fn conf(v: serde_json::Value) -> Result<Conf> {
        let mut doc = json!({"cniVersion": "1.1.0", "name": "n", "type": "tenus-bridge"});
        doc.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        Conf::read(&NetConf::parse(serde_json::to_vec(&doc).unwrap()).unwrap())
    }

    #[test]
    fn keys_and_refusals() {
        let c = conf(json!({"isDefaultGateway": true, "mtu": 1400})).unwrap();
        assert!(c.is_gateway);
        assert_eq!(c.bridge, "cni0");
        assert_eq!(
            conf(json!({"hairpinMode": true, "promiscMode": true}))
                .unwrap_err()
                .code,
            7
        );
        assert_eq!(conf(json!({"ipMasq": true})).unwrap_err().code, 2);
        assert_eq!(conf(json!({"vlan": 5000})).unwrap_err().code, 7);
        assert_eq!(conf(json!({"mtu": "1500"})).unwrap_err().code, 7);
        assert_eq!(conf(json!({"bridge": "name-far-too-long"})).unwrap_err().code, 7);
    }

    #[test]
    fn vlan_trunks_are_collected_as_the_reference_collects_them() {
        let c = conf(json!({"vlanTrunk": [{"minID": 200, "maxID": 202}, {"id": 300}, {"id": 201}]})).unwrap();
        assert_eq!(c.trunk, vec![200, 201, 202, 300]);
        assert!(c.vlan_filtering());
        // An empty trunk still asks for VLAN filtering, with no VLAN to add.
        let c = conf(json!({"vlanTrunk": []})).unwrap();
        assert!(c.vlan_filtering() && c.trunk.is_empty());
        assert!(!conf(json!({})).unwrap().vlan_filtering());
        for bad in [
            json!([{"minID": 20}]),
            json!([{"maxID": 20}]),
            json!([{"minID": 30, "maxID": 20}]),
            json!([{"minID": 0, "maxID": 20}]),
            json!([{"id": 4095}]),
        ] {
            assert_eq!(conf(json!({"vlanTrunk": bad})).unwrap_err().code, 7, "{bad}");
        }
    }

    #[test]
    fn gateways_complete_the_result_as_the_reference_does() {
        let c = conf(json!({"isDefaultGateway": true})).unwrap();
        let mut r = CniResult {
            ips: vec![IpConfig {
                interface: None,
                address: Cidr::parse("10.22.0.7/16").unwrap(),
                gateway: None,
            }],
            ..Default::default()
        };
        let gws = gateways(&mut r, &c).unwrap();
        assert_eq!(r.ips[0].gateway, Some("10.22.0.1".parse().unwrap()));
        assert_eq!(gws, vec![Cidr::parse("10.22.0.1/16").unwrap()]);
        assert_eq!(
            r.routes,
            vec![Route::to(
                Cidr::parse("0.0.0.0/0").unwrap(),
                Some("10.22.0.1".parse().unwrap())
            )]
        );
        // A default route from IPAM is kept, not doubled.
        let mut r2 = r.clone();
        r2.routes = vec![Route::to(
            Cidr::parse("0.0.0.0/0").unwrap(),
            Some("10.22.0.254".parse().unwrap()),
        )];
        gateways(&mut r2, &c).unwrap();
        assert_eq!(r2.routes.len(), 1);
    }
}

//! Plain JavaScript objects for what the kernel reports.

use napi_derive::napi;
use tenus_core::link::LinkStats;
use tenus_core::{AddressRecord, LinkRecord};

#[napi(object)]
pub struct NativeLinkStats {
    pub rx_bytes: f64,
    pub tx_bytes: f64,
    pub rx_packets: f64,
    pub tx_packets: f64,
    pub rx_errors: f64,
    pub tx_errors: f64,
    pub rx_dropped: f64,
    pub tx_dropped: f64,
}

#[napi(object)]
pub struct NativeLink {
    pub index: u32,
    pub name: String,
    pub kind: Option<String>,
    pub flags: Vec<String>,
    pub up: bool,
    pub operstate: String,
    pub mtu: Option<u32>,
    pub min_mtu: Option<u32>,
    pub max_mtu: Option<u32>,
    pub mac: Option<String>,
    pub broadcast: Option<String>,
    pub master: Option<u32>,
    pub parent: Option<u32>,
    pub link_netnsid: Option<i32>,
    pub group: u32,
    pub alias: Option<String>,
    pub txqlen: Option<u32>,
    pub port_kind: Option<String>,
    pub stats: Option<NativeLinkStats>,
    pub mode: Option<String>,
    pub vlan_id: Option<u32>,
    pub vlan_protocol: Option<String>,
    pub vni: Option<u32>,
    pub vxlan_port: Option<u32>,
    pub vxlan_local: Option<String>,
    pub vxlan_remote: Option<String>,
    pub vrf_table: Option<u32>,
    pub bond_miimon: Option<u32>,
    pub tunnel_local: Option<String>,
    pub tunnel_remote: Option<String>,
    pub tunnel_key: Option<u32>,
    pub ttl: Option<u32>,
}

fn stats(s: LinkStats) -> NativeLinkStats {
    // Counters are exact up to 2^53 bytes (8 PiB), which is plenty for a JS number.
    NativeLinkStats {
        rx_bytes: s.rx_bytes as f64,
        tx_bytes: s.tx_bytes as f64,
        rx_packets: s.rx_packets as f64,
        tx_packets: s.tx_packets as f64,
        rx_errors: s.rx_errors as f64,
        tx_errors: s.tx_errors as f64,
        rx_dropped: s.rx_dropped as f64,
        tx_dropped: s.tx_dropped as f64,
    }
}

impl From<LinkRecord> for NativeLink {
    fn from(r: LinkRecord) -> Self {
        NativeLink {
            index: r.index,
            name: r.name,
            kind: r.kind,
            flags: r.flags.into_iter().map(String::from).collect(),
            up: r.up,
            operstate: r.operstate,
            mtu: r.mtu,
            min_mtu: r.min_mtu,
            max_mtu: r.max_mtu,
            mac: r.mac,
            broadcast: r.broadcast,
            master: r.master,
            parent: r.parent,
            link_netnsid: r.link_netnsid,
            group: r.group,
            alias: r.alias,
            txqlen: r.txqlen,
            port_kind: r.port_kind,
            stats: r.stats.map(stats),
            mode: r.mode,
            vlan_id: r.vlan_id.map(u32::from),
            vlan_protocol: r.vlan_protocol,
            vni: r.vni,
            vxlan_port: r.vxlan_port.map(u32::from),
            vxlan_local: r.vxlan_local,
            vxlan_remote: r.vxlan_remote,
            vrf_table: r.vrf_table,
            bond_miimon: r.bond_miimon,
            tunnel_local: r.tunnel_local,
            tunnel_remote: r.tunnel_remote,
            tunnel_key: r.tunnel_key,
            ttl: r.ttl,
        }
    }
}

#[napi(object)]
pub struct NativeAddress {
    pub index: u32,
    pub family: String,
    pub address: String,
    pub prefix_len: u32,
    pub cidr: String,
    pub scope: String,
    pub label: Option<String>,
}

impl From<AddressRecord> for NativeAddress {
    fn from(a: AddressRecord) -> Self {
        NativeAddress {
            index: a.index,
            family: a.family,
            address: a.address,
            prefix_len: u32::from(a.prefix_len),
            cidr: a.cidr,
            scope: a.scope,
            label: a.label,
        }
    }
}

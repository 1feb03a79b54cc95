//! tenus-core's neighbour, FDB, bridge VLAN, bridge settings, address-option and statistics
//! requests against the bytes iproute2 6.1 sends for the same command (`ip neigh`, `bridge
//! fdb`, `bridge vlan`, `ip link set ... type bridge`, `ip addr add ... OPTIONS`, `ip stats`).
//!
//! The fixtures are `tests/fixtures/iproute2/{neigh,fdb,vlan,addr,stats}/<case>.hex`,
//! captured by `capture.py` (README.md there; cases.json gives each case's command and the
//! ifindexes of its setup). Each request is built the way JavaScript asks for it: batch items
//! parsed from JSON (`[code, link, ...]`, links by those ifindexes), or the request a read
//! sends. Then, after zeroing seq and pid, it must equal the fixture byte for byte, except
//! for the differences a case lists, each of which must be there:
//!
//! * `Ack`: tenus asks for an ACK on reads (every request of its transport ends in one);
//!   `ip neigh get` and `ip stats show` do not.
//! * `KindNul`: netlink-packet-route ends IFLA_INFO_KIND with a NUL, ip does not (the kernel
//!   reads both the same). The messages are then compared decoded.
//! * `AddrOrder`: rtnetlink's address builder puts IFA_ADDRESS before IFA_LOCAL and the options
//!   after both; ip sends IFA_LOCAL first, its options between. The attributes are then
//!   compared as a set, the headers byte for byte.
//! * `AddrBroadcast`: for IPv4 tenus also sends IFA_BROADCAST (as `ip addr add ... brd +`).

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use serde_json::{json, Value};
use tenus_core::batch::{Items, Names, ReadContext, View, OP_CODES};
use tenus_core::link::stats::encode_stats_get;
use tenus_core::neigh::spec::NeighbourKeyOptions;
use tenus_core::neigh::NeighbourKey;
use tenus_core::{LinkRef, Namespace};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/iproute2");
const NLM_F_ACK: u16 = 0x4;
const RTM_NEWADDR: u16 = 20;
const IFA_BROADCAST: u16 = 4;
/// The setups' ifindexes (cases.json): p0 the bridge, vx0 its VXLAN port, v0 a veth port.
const P0: u32 = 2;
const VX0: u32 = 3;
const V0: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Diff {
    Ack,
    KindNul,
    AddrOrder,
    AddrBroadcast,
}

fn fixture(case: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}/{case}.hex");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let bytes: Vec<u8> = (0..text.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(u32_at(&bytes, 0) as usize, bytes.len(), "{path}: nlmsg_len");
    bytes
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().unwrap())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn zero_seq_pid(mut m: Vec<u8>) -> Vec<u8> {
    m[8..16].fill(0);
    m
}

fn decoded(m: &[u8]) -> RouteNetlinkMessage {
    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(m)
        .unwrap()
        .payload
    {
        NetlinkPayload::InnerMessage(inner) => inner,
        other => panic!("not a route message: {other:?}"),
    }
}

/// Top-level attributes after a family header of `header` bytes: (type, value).
fn attrs(m: &[u8], header: usize) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 16 + header;
    while at + 4 <= m.len() {
        let len = u16_at(m, at) as usize;
        out.push((u16_at(m, at + 2), m[at + 4..at + len].to_vec()));
        at += (len + 3) & !3;
    }
    out
}

/// Compares tenus' request with the fixture, allowing exactly the listed differences.
fn check(case: &str, ours: &[u8], diffs: &[Diff]) {
    let ip = zero_seq_pid(fixture(case));
    let mut ours = zero_seq_pid(ours.to_vec());
    let show = |ours: &[u8]| format!("{case}\n  ip:    {}\n  tenus: {}", hex(&ip), hex(ours));
    if diffs.contains(&Diff::Ack) {
        assert_eq!(
            u16_at(&ip, 6) & NLM_F_ACK,
            0,
            "listed Ack, but ip asks for one: {}",
            show(&ours)
        );
        assert_ne!(u16_at(&ours, 6) & NLM_F_ACK, 0, "{}", show(&ours));
        let flags = u16_at(&ours, 6) & !NLM_F_ACK;
        ours[6..8].copy_from_slice(&flags.to_ne_bytes());
    }
    if diffs.contains(&Diff::KindNul) {
        assert_ne!(ours, ip, "listed KindNul, but the bytes match: {}", show(&ours));
        assert_eq!(decoded(&ours), decoded(&ip), "{}", show(&ours));
        return;
    }
    if diffs.contains(&Diff::AddrOrder) {
        assert_eq!(u16_at(&ip, 4), RTM_NEWADDR);
        assert_eq!(ours[4..8], ip[4..8], "type and flags: {}", show(&ours));
        assert_eq!(ours[16..24], ip[16..24], "ifaddrmsg: {}", show(&ours));
        let mut mine = attrs(&ours, 8);
        let theirs = attrs(&ip, 8);
        assert_ne!(
            mine,
            theirs,
            "listed AddrOrder, but the order matches: {}",
            show(&ours)
        );
        if diffs.contains(&Diff::AddrBroadcast) {
            let before = mine.len();
            mine.retain(|(t, _)| *t != IFA_BROADCAST);
            assert_eq!(mine.len() + 1, before, "listed AddrBroadcast: {}", show(&ours));
        }
        let (mut mine, mut theirs) = (mine, theirs);
        mine.sort();
        theirs.sort();
        assert_eq!(mine, theirs, "{}", show(&ours));
        return;
    }
    assert_eq!(ours, ip, "{}", show(&ours));
}

fn code(op: &str) -> u8 {
    OP_CODES.iter().find(|(n, _)| *n == op).unwrap().1
}

/// The request of one batch item as JavaScript sends it, `[code, ...arguments]`.
fn item(op: &str, arguments: Value) -> Vec<u8> {
    let mut doc = vec![json!(code(op))];
    doc.extend(arguments.as_array().unwrap().iter().cloned());
    let mut cx = ReadContext::new(vec![Namespace::current().unwrap()]);
    let mut items = Items::parse(&json!([doc]).to_string(), &mut cx).unwrap().items;
    let item = items.pop().unwrap().unwrap();
    let names = Names::default();
    item.op
        .encode(&View {
            names: &names,
            target: 0,
        })
        .unwrap()
}

// --- ip neigh ---------------------------------------------------------------------------

#[test]
fn neigh_add_v4() {
    let ours = item(
        "neighbour.add",
        json!([P0, "10.0.0.7", {"mac": "02:00:00:00:00:07", "state": "permanent"}]),
    );
    check("neigh/add_v4", &ours, &[]);
}

#[test]
fn neigh_add_default_state_is_permanent() {
    let ours = item(
        "neighbour.add",
        json!([P0, "10.0.0.7", {"mac": "02:00:00:00:00:07"}]),
    );
    check("neigh/add_default_state", &ours, &[]);
}

#[test]
fn neigh_add_v6_router() {
    let o = json!({"mac": "02:00:00:00:00:07", "state": "reachable", "router": true});
    check(
        "neigh/add_v6_router",
        &item("neighbour.add", json!([P0, "fd00::7", o])),
        &[],
    );
}

#[test]
fn neigh_add_noarp() {
    check(
        "neigh/add_noarp",
        &item(
            "neighbour.add",
            json!([P0, "10.0.0.10", {"mac": "02:00:00:00:00:0a", "state": "noarp"}]),
        ),
        &[],
    );
}

#[test]
fn neigh_add_extern_learn() {
    let o = json!({"mac": "02:00:00:00:00:0b", "state": "reachable", "externLearn": true});
    check(
        "neigh/add_extern_learn",
        &item("neighbour.add", json!([P0, "10.0.0.11", o])),
        &[],
    );
}

#[test]
fn neigh_add_proxy() {
    check(
        "neigh/add_proxy",
        &item("neighbour.add", json!([P0, "10.0.0.9", {"proxy": true}])),
        &[],
    );
}

#[test]
fn neigh_replace_stale() {
    let o = json!({"mac": "02:00:00:00:00:08", "state": "stale"});
    check(
        "neigh/replace_stale",
        &item("neighbour.replace", json!([P0, "10.0.0.7", o])),
        &[],
    );
}

#[test]
fn neigh_del() {
    check(
        "neigh/del",
        &item("neighbour.delete", json!([P0, "10.0.0.7"])),
        &[],
    );
    check(
        "neigh/del_proxy",
        &item("neighbour.delete", json!([P0, "10.0.0.9", {"proxy": true}])),
        &[],
    );
}

#[test]
fn neigh_get() {
    let key = NeighbourKey::parse(LinkRef::Index(P0), "10.0.0.7", NeighbourKeyOptions::default()).unwrap();
    check("neigh/get", &key.encode_get(P0), &[Diff::Ack]);
}

// --- bridge fdb -------------------------------------------------------------------------

#[test]
fn fdb_append_vxlan_default_destination() {
    let ours = item(
        "fdb.append",
        json!([VX0, "00:00:00:00:00:00", {"dst": "10.0.0.2", "self": true}]),
    );
    check("fdb/append_vxlan", &ours, &[]);
}

#[test]
fn fdb_add_vxlan_remote() {
    let o = json!({"dst": "10.0.0.4", "vni": 43, "port": 4790, "via": V0, "self": true});
    check(
        "fdb/add_vxlan_remote",
        &item("fdb.add", json!([VX0, "02:00:00:00:00:aa", o])),
        &[],
    );
}

#[test]
fn fdb_add_vxlan_src_vni() {
    let o = json!({"dst": "fd00::4", "srcVni": 42, "self": true});
    check(
        "fdb/add_vxlan_src_vni",
        &item("fdb.add", json!([VX0, "02:00:00:00:00:ab", o])),
        &[],
    );
}

#[test]
fn fdb_add_vxlan_every_option_in_bridges_order() {
    let o =
        json!({"dst": "10.0.0.5", "vlan": 7, "port": 4790, "vni": 43, "srcVni": 44, "via": V0, "self": true});
    check(
        "fdb/add_vxlan_all",
        &item("fdb.add", json!([VX0, "02:00:00:00:00:ac", o])),
        &[],
    );
}

#[test]
fn fdb_add_master_static() {
    let o = json!({"master": true, "state": "static"});
    check(
        "fdb/add_master_static",
        &item("fdb.add", json!([V0, "02:00:00:00:00:bb", o])),
        &[],
    );
    let o = json!({"master": true, "state": "static", "vlan": 10});
    check(
        "fdb/add_master_vlan",
        &item("fdb.add", json!([V0, "02:00:00:00:00:bb", o])),
        &[],
    );
}

#[test]
fn fdb_add_self_permanent_and_the_default() {
    let o = json!({"self": true, "state": "permanent"});
    check(
        "fdb/add_self_permanent",
        &item("fdb.add", json!([V0, "02:00:00:00:00:dd", o])),
        &[],
    );
    check(
        "fdb/add_default",
        &item("fdb.add", json!([V0, "02:00:00:00:00:ee", {}])),
        &[],
    );
}

#[test]
fn fdb_add_sticky() {
    let o = json!({"master": true, "sticky": true});
    check(
        "fdb/add_sticky",
        &item("fdb.add", json!([V0, "02:00:00:00:00:ef", o])),
        &[],
    );
}

#[test]
fn fdb_replace_dynamic() {
    let o = json!({"master": true, "state": "dynamic"});
    check(
        "fdb/replace_dynamic",
        &item("fdb.replace", json!([V0, "02:00:00:00:00:cc", o])),
        &[],
    );
}

#[test]
fn fdb_del() {
    let o = json!({"master": true, "vlan": 10});
    check(
        "fdb/del_vlan",
        &item("fdb.delete", json!([V0, "02:00:00:00:00:bb", o])),
        &[],
    );
    let o = json!({"dst": "10.0.0.2", "self": true});
    check(
        "fdb/del_vxlan_dst",
        &item("fdb.delete", json!([VX0, "00:00:00:00:00:00", o])),
        &[],
    );
}

// --- bridge vlan, ip link set type bridge -----------------------------------------------

#[test]
fn vlan_add() {
    check(
        "vlan/add_range",
        &item("bridge.vlan.add", json!([V0, [10, 20]])),
        &[],
    );
    let o = json!({"pvid": true, "untagged": true});
    check(
        "vlan/add_pvid_untagged",
        &item("bridge.vlan.add", json!([V0, 5, o])),
        &[],
    );
    check(
        "vlan/add_self",
        &item("bridge.vlan.add", json!([P0, 30, {"self": true}])),
        &[],
    );
    check(
        "vlan/add_master",
        &item("bridge.vlan.add", json!([V0, 31, {"master": true}])),
        &[],
    );
}

#[test]
fn vlan_del_range() {
    check(
        "vlan/del_range",
        &item("bridge.vlan.delete", json!([V0, [10, 20]])),
        &[],
    );
}

#[test]
fn bridge_settings() {
    let o = json!({"vlanFiltering": true, "vlanDefaultPvid": 5, "vlanProtocol": "802.1ad"});
    check(
        "vlan/bridge_set",
        &item("bridge.set", json!([P0, o])),
        &[Diff::KindNul],
    );
}

// --- ip addr add with options, ip stats ---------------------------------------------------

#[test]
fn address_options() {
    let o = json!({"validLifetime": 100, "preferredLifetime": 50, "nodad": true, "noprefixroute": true, "metric": 7});
    check(
        "addr/add_v6_options",
        &item("address.add", json!([P0, "fd00::1/64", o])),
        &[Diff::AddrOrder],
    );
    // ip drops home and mngtmpaddr for IPv4 with a warning; tenus refuses them (see the
    // core's unit tests), so the request is the label alone.
    check(
        "addr/add_v4_label",
        &item("address.add", json!([P0, "10.0.0.1/24", {"label": "p0:1"}])),
        &[Diff::AddrOrder, Diff::AddrBroadcast],
    );
    check(
        "addr/add_v6_autojoin",
        &item("address.add", json!([P0, "ff05::114/128", {"autojoin": true}])),
        &[Diff::AddrOrder],
    );
}

#[test]
fn link_stats64() {
    check("stats/link64", &encode_stats_get(P0), &[Diff::Ack]);
}

/// Every fixture in these subdirectories has a test above.
#[test]
fn every_fixture_is_tested() {
    let source = include_str!("iproute2_objects.rs");
    for dir in ["neigh", "fdb", "vlan", "addr", "stats"] {
        let path = format!("{FIXTURES}/{dir}");
        for entry in std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{path}: {e}")) {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let case = format!("{dir}/{}", name.trim_end_matches(".hex"));
            assert!(source.contains(&format!("\"{case}\"")), "{case} has no test");
        }
    }
}

/// A listed difference that is not there fails, and so does a difference not listed.
#[test]
fn differences_are_strict() {
    let ours = item(
        "neighbour.add",
        json!([P0, "10.0.0.7", {"mac": "02:00:00:00:00:07"}]),
    );
    assert!(std::panic::catch_unwind(|| check("neigh/add_v4", &ours, &[Diff::Ack])).is_err());
    let other = item(
        "neighbour.add",
        json!([P0, "10.0.0.8", {"mac": "02:00:00:00:00:07"}]),
    );
    assert!(std::panic::catch_unwind(|| check("neigh/add_v4", &other, &[])).is_err());
    let key = NeighbourKey::parse(LinkRef::Index(P0), "10.0.0.7", NeighbourKeyOptions::default()).unwrap();
    assert!(std::panic::catch_unwind(|| check("neigh/get", &key.encode_get(P0), &[])).is_err());
}

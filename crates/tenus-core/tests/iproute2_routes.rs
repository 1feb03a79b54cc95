//! tenus-core's route, rule and nexthop requests against the bytes iproute2 6.1 sends for the
//! same command (`tests/fixtures/iproute2/<case>.hex`, captured with capture.py; cases.json
//! gives each command, README.md how they were made).
//!
//! Each case below gives the options a JavaScript caller would pass for the command; the
//! request tenus builds from them must equal ip's byte for byte once the sequence number and
//! port id are zeroed. The only difference allowed is listed per case and undone before the
//! comparison (so it must be there):
//!
//! * `route get`: tenus asks for an ACK (NLM_F_ACK), ip does not. tenus' transport knows a
//!   request is over when its ACK arrives; without it, it would wait for the timeout.
//!
//! Options name ip's defaults where tenus' differ: ip marks routes 'boot' and rules and
//! nexthops 'unspec' (tenus: 'tenus', 116, unless told).
//!
//! Nothing here touches the kernel.

use std::net::IpAddr;

use serde_json::{json, Value};
use tenus_core::args;
use tenus_core::link::LinkRef;
use tenus_core::nexthop::encode::{encode_nexthop, Verb as NexthopVerb};
use tenus_core::nexthop::Nexthop;
use tenus_core::route::encode::{encode_route, Verb};
use tenus_core::route::get::encode_get;
use tenus_core::route::list::{dump_request, RouteFilter};
use tenus_core::route::spec::{Family, Route};
use tenus_core::rule::encode::encode_rule;
use tenus_core::rule::Rule;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/iproute2");
const NLM_F_ACK: u16 = 0x4;

fn fixture(case: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}/{case}.hex");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text = text.trim();
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(
        u32::from_ne_bytes(bytes[0..4].try_into().unwrap()) as usize,
        bytes.len(),
        "{path}: nlmsg_len is not the file's length"
    );
    bytes
}

/// The links of the capture's setup: p0 is ifindex 2, p1 is 3.
fn index(l: &LinkRef) -> tenus_core::Result<u32> {
    Ok(match l {
        LinkRef::Index(i) => *i,
        LinkRef::Name(n) if n == "p0" => 2,
        LinkRef::Name(n) if n == "p1" => 3,
        LinkRef::Name(n) => panic!("no link {n} in the capture"),
    })
}

fn zero_seq(mut m: Vec<u8>) -> Vec<u8> {
    m[8..16].fill(0);
    m
}

fn hex(b: &[u8]) -> String {
    b.chunks(4)
        .map(|c| c.iter().map(|x| format!("{x:02x}")).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

fn same(case: &str, tenus: Vec<u8>) {
    let ip = zero_seq(fixture(case));
    let tenus = zero_seq(tenus);
    assert!(
        ip == tenus,
        "{case}: tenus' request differs from ip's\n  ip:    {}\n  tenus: {}",
        hex(&ip),
        hex(&tenus)
    );
}

fn route(case: &str, verb: Verb, options: Value) -> Vec<u8> {
    let o = args::options("route", options).unwrap_or_else(|e| panic!("{case}: {e}"));
    let r = Route::parse(o, verb.purpose()).unwrap_or_else(|e| panic!("{case}: {e}"));
    encode_route(&r, verb, index).unwrap()
}

fn rule(case: &str, delete: bool, options: Value) -> Vec<u8> {
    let o = args::options("rule", options).unwrap_or_else(|e| panic!("{case}: {e}"));
    let r = Rule::parse(o, !delete).unwrap_or_else(|e| panic!("{case}: {e}"));
    encode_rule(&r, delete)
}

fn nexthop(case: &str, verb: NexthopVerb, options: Value) -> Vec<u8> {
    let o = args::options("nexthop", options).unwrap_or_else(|e| panic!("{case}: {e}"));
    let n = Nexthop::parse(o).unwrap_or_else(|e| panic!("{case}: {e}"));
    encode_nexthop(&n, verb, index).unwrap()
}

/// The options a JavaScript caller would pass for each captured command, and tenus' request
/// for them (None: no such case).
fn tenus_request(case: &str) -> Option<Vec<u8>> {
    let boot = "boot";
    let unspec = 0;
    let route_case = |verb: Verb, options: Value| Some(route(case, verb, options));
    let rule_case = |delete: bool, options: Value| Some(rule(case, delete, options));
    let nh_case = |verb: NexthopVerb, options: Value| Some(nexthop(case, verb, options));
    match case {
        "route_add_v4" => route_case(
            Verb::Add,
            json!({ "dst": "10.9.0.0/16", "via": "10.0.0.1", "dev": "p0", "table": 100, "metric": 50, "protocol": "static" }),
        ),
        "route_add_v4_main" => route_case(
            Verb::Add,
            json!({ "dst": "10.9.0.0/16", "via": "10.0.0.1", "protocol": boot }),
        ),
        "route_add_v6" => route_case(
            Verb::Add,
            json!({ "dst": "fd09::/64", "via": "fd00::1", "dev": "p0", "metric": 50, "protocol": boot }),
        ),
        "route_add_default_v4" => route_case(
            Verb::Add,
            json!({ "dst": "default", "via": "10.0.0.1", "dev": "p0", "protocol": boot }),
        ),
        "route_add_default_v6" => route_case(
            Verb::Add,
            json!({ "dst": "default", "family": "inet6", "via": "fd00::1", "dev": "p0", "protocol": boot }),
        ),
        "route_add_dev_src" => route_case(
            Verb::Add,
            json!({ "dst": "10.10.0.0/24", "dev": "p0", "scope": "link", "src": "10.0.0.254", "protocol": boot }),
        ),
        "route_add_host" => route_case(
            Verb::Add,
            json!({ "dst": "10.10.1.1", "dev": "p0", "protocol": boot }),
        ),
        "route_add_blackhole" => route_case(
            Verb::Add,
            json!({ "dst": "10.11.0.0/24", "type": "blackhole", "protocol": boot }),
        ),
        "route_add_unreachable_v6" => route_case(
            Verb::Add,
            json!({ "dst": "fd0b::/64", "type": "unreachable", "protocol": boot }),
        ),
        "route_add_prohibit" => route_case(
            Verb::Add,
            json!({ "dst": "10.11.1.0/24", "type": "prohibit", "table": 100, "protocol": boot }),
        ),
        "route_add_throw" => route_case(
            Verb::Add,
            json!({ "dst": "10.12.0.0/24", "type": "throw", "table": 100, "protocol": boot }),
        ),
        "route_add_local" => route_case(
            Verb::Add,
            json!({ "dst": "10.13.0.1", "type": "local", "dev": "p0", "table": "local", "protocol": boot }),
        ),
        "route_add_broadcast" => route_case(
            Verb::Add,
            json!({ "dst": "10.0.0.127", "type": "broadcast", "dev": "p0", "table": "local",
            "protocol": "kernel", "scope": "link", "src": "10.0.0.254" }),
        ),
        "route_add_table_big" => route_case(
            Verb::Add,
            json!({ "dst": "10.9.0.0/16", "via": "10.0.0.1", "table": 1000, "protocol": boot }),
        ),
        "route_add_metrics" => route_case(
            Verb::Add,
            json!({ "dst": "10.14.0.0/24", "via": "10.0.0.1", "protocol": boot, "metrics": {
            "mtu": 1400, "advmss": 1360, "window": 65535, "initcwnd": 10, "initrwnd": 20, "hoplimit": 32, "lock": ["mtu"] } }),
        ),
        "route_add_multipath_v4" => route_case(
            Verb::Add,
            json!({ "dst": "10.15.0.0/24", "protocol": boot, "multipath": [
            { "via": "10.0.0.1", "dev": "p0", "weight": 2 }, { "via": "10.0.1.1", "dev": "p1" }] }),
        ),
        "route_add_multipath_v6" => route_case(
            Verb::Add,
            json!({ "dst": "fd15::/64", "protocol": boot, "multipath": [
            { "via": "fd00::1", "dev": "p0" }, { "via": "fd01::1", "dev": "p1", "weight": 3 }] }),
        ),
        "route_add_via_inet6" => route_case(
            Verb::Add,
            json!({ "dst": "10.16.0.0/24", "via": "fd00::1", "dev": "p0", "protocol": boot }),
        ),
        "route_add_onlink" => route_case(
            Verb::Add,
            json!({ "dst": "10.17.0.0/24", "via": "192.168.50.1", "dev": "p0", "onlink": true, "protocol": boot }),
        ),
        "route_add_nhid" => route_case(
            Verb::Add,
            json!({ "dst": "10.18.0.0/24", "nexthop": 10, "protocol": boot }),
        ),
        "route_add_from_v6" => route_case(
            Verb::Add,
            json!({ "dst": "fd19::/64", "from": "fd00::/64", "via": "fd00::1", "dev": "p0", "protocol": boot }),
        ),
        "route_add_tos" => route_case(
            Verb::Add,
            json!({ "dst": "10.20.0.0/24", "tos": 16, "via": "10.0.0.1", "protocol": boot }),
        ),
        "route_replace" => route_case(
            Verb::Replace,
            json!({ "dst": "10.9.0.0/16", "via": "10.0.0.2", "dev": "p0", "protocol": boot }),
        ),
        "route_append" => route_case(
            Verb::Append,
            json!({ "dst": "10.9.0.0/16", "via": "10.0.1.1", "dev": "p1", "protocol": boot }),
        ),
        "route_prepend" => route_case(
            Verb::Prepend,
            json!({ "dst": "10.9.0.0/16", "via": "10.0.1.1", "dev": "p1", "protocol": boot }),
        ),
        "route_change" => route_case(
            Verb::Change,
            json!({ "dst": "10.9.0.0/16", "via": "10.0.0.3", "dev": "p0", "protocol": boot }),
        ),
        "route_del" => route_case(
            Verb::Delete,
            json!({ "dst": "10.9.0.0/16", "via": "10.0.0.1", "dev": "p0", "table": 100, "metric": 50 }),
        ),
        "route_del_v6" => route_case(Verb::Delete, json!({ "dst": "fd09::/64", "dev": "p0" })),
        "route_get" => Some(lookup(
            case,
            "10.9.1.1",
            json!({ "from": "10.0.0.254", "mark": 16, "uid": 1000 }),
        )),
        "route_get_iif" => Some(lookup(
            case,
            "10.9.1.1",
            json!({ "from": "10.0.1.7", "iif": "p1", "tos": 16 }),
        )),
        "route_get_fibmatch" => Some(lookup(case, "10.9.1.1", json!({ "oif": "p0", "fibmatch": true }))),
        "route_get_fibmatch_v6" => Some(lookup(case, "fd09::1", json!({ "oif": "p0", "fibmatch": true }))),
        "route_show_filtered" => Some(dump_request(&RouteFilter {
            family: Some(Family::Inet),
            table: Some(100),
            protocol: Some(4),
            kind: None,
            oif: Some(2),
        })),
        "rule_add_v4" => rule_case(
            false,
            json!({ "from": "10.0.41.0/24", "fwmark": 16, "fwmask": 255, "table": 100, "priority": 1000, "protocol": unspec }),
        ),
        "rule_add_v6" => rule_case(
            false,
            json!({ "from": "fd00::/64", "table": 100, "priority": 1000, "protocol": unspec }),
        ),
        "rule_add_selectors" => rule_case(
            false,
            json!({ "not": true, "to": "10.1.0.0/16", "iif": "p0", "oif": "p1", "tos": 16,
            "uidrange": { "start": 100, "end": 200 }, "sport": { "start": 1000, "end": 2000 }, "dport": 80, "ipproto": "tcp",
            "protocol": "static", "table": 100, "priority": 2000 }),
        ),
        "rule_add_suppress" => rule_case(
            false,
            json!({ "table": "main", "suppressPrefixlength": 0, "priority": 100, "protocol": unspec }),
        ),
        "rule_add_goto" => rule_case(
            false,
            json!({ "goto": 3000, "priority": 2500, "protocol": unspec }),
        ),
        "rule_add_prohibit" => rule_case(
            false,
            json!({ "action": "prohibit", "from": "10.2.0.0/16", "priority": 3001, "protocol": unspec }),
        ),
        "rule_add_unreachable_v6" => rule_case(
            false,
            json!({ "action": "unreachable", "to": "fd02::/64", "priority": 3002, "protocol": unspec }),
        ),
        "rule_add_blackhole" => rule_case(
            false,
            json!({ "action": "blackhole", "iif": "p1", "priority": 3003, "protocol": unspec }),
        ),
        "rule_add_nop" => rule_case(
            false,
            json!({ "action": "nop", "priority": 3004, "protocol": unspec }),
        ),
        "rule_del" => rule_case(
            true,
            json!({ "from": "10.0.41.0/24", "table": 100, "priority": 1000 }),
        ),
        "nh_add_v4" => nh_case(
            NexthopVerb::Add,
            json!({ "id": 10, "via": "10.0.0.1", "dev": "p0", "protocol": unspec }),
        ),
        "nh_add_v6" => nh_case(
            NexthopVerb::Add,
            json!({ "id": 11, "via": "fd00::1", "dev": "p0", "protocol": unspec }),
        ),
        "nh_add_dev" => nh_case(
            NexthopVerb::Add,
            json!({ "id": 12, "dev": "p0", "protocol": unspec }),
        ),
        "nh_add_blackhole" => nh_case(
            NexthopVerb::Add,
            json!({ "id": 13, "blackhole": true, "protocol": unspec }),
        ),
        "nh_add_onlink" => nh_case(
            NexthopVerb::Add,
            json!({ "id": 14, "via": "192.168.50.1", "dev": "p0", "onlink": true, "protocol": unspec }),
        ),
        "nh_add_fdb" => nh_case(
            NexthopVerb::Add,
            json!({ "id": 15, "via": "10.0.0.5", "fdb": true, "protocol": unspec }),
        ),
        "nh_add_proto" => nh_case(
            NexthopVerb::Add,
            json!({ "id": 16, "via": "10.0.0.1", "dev": "p0", "protocol": "static" }),
        ),
        "nh_add_group" => nh_case(
            NexthopVerb::Add,
            json!({ "id": 100, "group": [{ "id": 10 }, { "id": 12, "weight": 3 }], "protocol": unspec }),
        ),
        "nh_add_group_res" => nh_case(
            NexthopVerb::Add,
            json!({ "id": 101, "group": [{ "id": 10 }, { "id": 12 }], "groupType": "resilient",
            "resilient": { "buckets": 32, "idleTimer": 60, "unbalancedTimer": 120 }, "protocol": unspec }),
        ),
        "nh_replace" => nh_case(
            NexthopVerb::Replace,
            json!({ "id": 10, "via": "10.0.0.2", "dev": "p0", "protocol": unspec }),
        ),
        "nh_del" => nh_case(
            NexthopVerb::Delete,
            json!({ "id": 10, "via": "10.0.0.1", "dev": "p0" }),
        ),
        _ => None,
    }
}

/// `ip route get`: the one listed difference (NLM_F_ACK) checked present, then undone.
fn lookup(case: &str, dst: &str, options: Value) -> Vec<u8> {
    let o = args::options("options", options).unwrap();
    let dst: IpAddr = dst.parse().unwrap();
    let mut tenus = encode_get(dst, &o, &|_, l| index(l)).unwrap();
    let flags = u16::from_ne_bytes([tenus[6], tenus[7]]);
    assert_ne!(flags & NLM_F_ACK, 0, "{case}: the listed difference went away");
    tenus[6..8].copy_from_slice(&(flags & !NLM_F_ACK).to_ne_bytes());
    tenus
}

/// The captured routing cases (route_*, rule_*, nh_*).
fn captured() -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".hex").map(str::to_string))
        .filter(|n| n.starts_with("route_") || n.starts_with("rule_") || n.starts_with("nh_"))
        .collect();
    cases.sort();
    cases
}

#[test]
fn every_routing_request_matches_iproute2() {
    let cases = captured();
    assert_eq!(cases.len(), 54, "routing fixtures on disk");
    let index = std::fs::read_to_string(format!("{FIXTURES}/cases.json")).unwrap();
    for case in &cases {
        assert!(
            index.contains(&format!("\"{case}\": {{")),
            "cases.json has no entry for {case}"
        );
        let request = tenus_request(case).unwrap_or_else(|| panic!("{case}: captured but not tested"));
        same(case, request);
    }
}

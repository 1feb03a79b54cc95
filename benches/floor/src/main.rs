//! The benchmark's floor: the same requests as the other tools, built by hand and sent
//! pipelined on one raw NETLINK_ROUTE socket (`netlink-sys`), 128 messages per `sendmsg`, the
//! ACKs read after each `sendmsg`. No tenus code in between. Run inside the namespace to
//! measure (the harness uses `nsenter --net=...`); prints one JSON line.
//!
//! ```text
//! tenus-bench-floor veth 1000              create v{i}a/v{i}b
//! tenus-bench-floor macvlan 1000           create mv{i} on par0, mode bridge
//! tenus-bench-floor addr 1000              add 10.1.x.y/32 to adr0
//! tenus-bench-floor neigh 10000            add permanent neighbours 10.2.x.y (02:00:00:xx:xx:xx) on ngh0
//! tenus-bench-floor fdb 10000              add VXLAN FDB entries 02:00:00:xx:xx:xx dst 10.3.x.y on fdb0
//! tenus-bench-floor dump 0                 dump every link into structs
//! tenus-bench-floor get 1000               read get0 by name into a struct, one request at a time
//! tenus-bench-floor steps 10000 1000       create v{i}a/v{i}b in steps, each step timed
//! tenus-bench-floor delete-group 1000 LIST tag the listed pairs with a group, delete the group
//! tenus-bench-floor delete-each 100 LIST   delete the listed pairs one by one (pipelined)
//! tenus-bench-floor routes 100000          add route(i) via 10.0.0.2 dev rt0 table 100
//! tenus-bench-floor route-dump 0           dump table 100 into structs
//! tenus-bench-floor route-replace 10000    replace route(i) with one via 10.0.0.3
//! ```
//! route(i) is the i-th /24 from 11.0.0.0 up (11.0.0.0/24, 11.0.1.0/24, ...).
//! LIST is a comma-separated list of pair numbers i (link v{i}a).
//!
//! `veth-reqack`, `macvlan-reqack`, `addr-reqack`: the same requests one at a time, each sent
//! alone and its ACK awaited before the next — the floor for an awaited call. `-reqecho`
//! instead: the same with NLM_F_ECHO, the kernel sending back what it made before the ACK —
//! the floor for an awaited call that reads back its result. `-relayecho`: that, each request
//! sent by a second thread while this one polls for the answer (relay.rs): the shape of
//! tenus' awaited call with nothing of tenus in it.

use std::hint::black_box;
use std::time::Instant;

use tenus_bench_floor::messages::*;
use tenus_bench_floor::socket::{fail, Nl};

/// A route as a struct: what a program would keep from a dump.
#[derive(Debug, Default)]
#[allow(dead_code)] // read through black_box only
struct Route {
    dst: [u8; 4],
    dst_len: u8,
    table: u32,
    protocol: u8,
    scope: u8,
    kind: u8,
    gateway: Option<[u8; 4]>,
    oif: u32,
    priority: u32,
}

fn parse_route(msg: &[u8]) -> Option<Route> {
    if msg.len() < 28 || u16::from_ne_bytes([msg[4], msg[5]]) != RTM_NEWROUTE {
        return None;
    }
    let h = &msg[16..28];
    let mut r = Route {
        dst_len: h[1],
        table: u32::from(h[4]),
        protocol: h[5],
        scope: h[6],
        kind: h[7],
        ..Default::default()
    };
    attrs(&msg[28..], |kind, v| match kind {
        RTA_DST if v.len() == 4 => r.dst = v.try_into().unwrap(),
        RTA_GATEWAY if v.len() == 4 => r.gateway = Some(v.try_into().unwrap()),
        RTA_OIF => r.oif = u32_of(v),
        RTA_PRIORITY => r.priority = u32_of(v),
        RTA_TABLE => r.table = u32_of(v),
        _ => {}
    });
    Some(r)
}

/// A link as a struct: what a program would keep from a dump.
#[derive(Debug, Default)]
#[allow(dead_code)] // read through black_box only
struct Link {
    index: u32,
    flags: u32,
    name: String,
    kind: Option<String>,
    mtu: u32,
    mac: Option<[u8; 6]>,
    master: u32,
    parent: u32,
    group: u32,
    operstate: u8,
    txqlen: u32,
}

fn attrs(mut buf: &[u8], mut each: impl FnMut(u16, &[u8])) {
    while buf.len() >= 4 {
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let kind = u16::from_ne_bytes([buf[2], buf[3]]) & 0x3fff;
        if len < 4 || len > buf.len() {
            return;
        }
        each(kind, &buf[4..len]);
        buf = &buf[((len + 3) & !3).min(buf.len())..];
    }
}

fn u32_of(v: &[u8]) -> u32 {
    v.get(0..4)
        .map(|b| u32::from_ne_bytes(b.try_into().unwrap()))
        .unwrap_or(0)
}

fn str_of(v: &[u8]) -> String {
    String::from_utf8_lossy(v.split(|b| *b == 0).next().unwrap_or_default()).into_owned()
}

fn parse_link(msg: &[u8]) -> Option<Link> {
    if msg.len() < 32 || u16::from_ne_bytes([msg[4], msg[5]]) != RTM_NEWLINK {
        return None;
    }
    let mut l = Link {
        index: u32_of(&msg[20..24]),
        flags: u32_of(&msg[24..28]),
        ..Default::default()
    };
    attrs(&msg[32..], |kind, v| match kind {
        IFLA_IFNAME => l.name = str_of(v),
        IFLA_MTU => l.mtu = u32_of(v),
        IFLA_ADDRESS if v.len() == 6 => l.mac = Some(v.try_into().unwrap()),
        IFLA_MASTER => l.master = u32_of(v),
        IFLA_LINK => l.parent = u32_of(v),
        IFLA_GROUP => l.group = u32_of(v),
        IFLA_TXQLEN => l.txqlen = u32_of(v),
        IFLA_OPERSTATE if !v.is_empty() => l.operstate = v[0],
        IFLA_LINKINFO => attrs(v, |k, v| {
            if k == IFLA_INFO_KIND {
                l.kind = Some(str_of(v));
            }
        }),
        _ => {}
    });
    Some(l)
}

fn pick(list: Option<&String>) -> Vec<usize> {
    list.map(|s| {
        s.split(',')
            .filter(|x| !x.is_empty())
            .map(|x| x.parse().unwrap())
            .collect()
    })
    .unwrap_or_else(|| fail("delete needs the list of pairs"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        fail("usage: tenus-bench-floor WORKLOAD N [ARG]");
    }
    let full = args[1].as_str();
    // One request at a time (`-reqack`), also asking for an echo (`-reqecho`), that sent by a
    // second thread (`-relayecho`), or pipelined.
    let (workload, echo, relay) = if let Some(w) = full.strip_suffix("-relayecho") {
        (w, true, true)
    } else if let Some(w) = full.strip_suffix("-reqecho") {
        (w, true, false)
    } else {
        (full.strip_suffix("-reqack").unwrap_or(full), false, false)
    };
    let n: usize = args[2].parse().unwrap_or_else(|_| fail("N must be a number"));
    let mut nl = Nl::open();
    if workload != full {
        nl.per_send = 1;
    }
    nl.echo = echo;
    if relay {
        nl.relay();
    }
    let mut extra = String::new();
    let cpu_start = cpu_seconds();
    let seconds = match workload {
        "veth" => {
            let t = Instant::now();
            let msgs = (0..n)
                .map(|i| veth(&format!("v{i}a"), &format!("v{i}b")))
                .collect();
            nl.pipelined(msgs);
            t.elapsed().as_secs_f64()
        }
        "macvlan" => {
            let parent = nl.index_of("par0");
            let t = Instant::now();
            let msgs = (0..n).map(|i| macvlan(&format!("mv{i}"), parent)).collect();
            nl.pipelined(msgs);
            t.elapsed().as_secs_f64()
        }
        "addr" => {
            let index = nl.index_of("adr0");
            let t = Instant::now();
            let msgs = (0..n).map(|i| addr_add(index, address(i))).collect();
            nl.pipelined(msgs);
            t.elapsed().as_secs_f64()
        }
        "neigh" => {
            let index = nl.index_of("ngh0");
            let t = Instant::now();
            let msgs = (0..n).map(|i| neigh_add(index, i)).collect();
            nl.pipelined(msgs);
            t.elapsed().as_secs_f64()
        }
        "fdb" => {
            let index = nl.index_of("fdb0");
            let t = Instant::now();
            let msgs = (0..n).map(|i| fdb_add(index, i)).collect();
            nl.pipelined(msgs);
            t.elapsed().as_secs_f64()
        }
        "dump" => {
            let t = Instant::now();
            let mut links = Vec::new();
            let req = Msg::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP)
                .ifinfo(0)
                .finish();
            nl.dump(req, |m| links.extend(parse_link(m)));
            let s = t.elapsed().as_secs_f64();
            extra = format!(",\"count\":{}", links.len());
            black_box(links);
            s
        }
        "get" => {
            // RTM_GETLINK by IFLA_IFNAME without NLM_F_ACK: the kernel answers with the link
            // alone, read into the struct a dump's links go into; the next request after it.
            let t = Instant::now();
            for _ in 0..n {
                let mut req = by_name(RTM_GETLINK, NLM_F_REQUEST, "get0").finish();
                nl.stamp(&mut req);
                let link = nl.answer(req, parse_link);
                black_box(link.unwrap_or_else(|| fail("no link get0")));
            }
            t.elapsed().as_secs_f64()
        }
        "steps" => {
            let step: usize = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(1000);
            let mut steps = Vec::new();
            let t0 = Instant::now();
            let mut start = 0;
            while start < n {
                let end = (start + step).min(n);
                let t = Instant::now();
                let msgs = (start..end)
                    .map(|i| veth(&format!("v{i}a"), &format!("v{i}b")))
                    .collect();
                nl.pipelined(msgs);
                steps.push(format!("{}", t.elapsed().as_secs_f64()));
                start = end;
            }
            extra = format!(",\"steps\":[{}],\"step\":{step}", steps.join(","));
            t0.elapsed().as_secs_f64()
        }
        "delete-group" => {
            let list = pick(args.get(3));
            let t = Instant::now();
            let group = TAG_GROUP.to_ne_bytes();
            let tags = list
                .iter()
                .map(|i| {
                    by_name(RTM_NEWLINK, PLAIN, &format!("v{i}a"))
                        .attr(IFLA_GROUP, &group)
                        .finish()
                })
                .collect();
            nl.pipelined(tags);
            nl.pipelined(vec![Msg::new(RTM_DELLINK, PLAIN)
                .ifinfo(0)
                .attr(IFLA_GROUP, &group)
                .finish()]);
            t.elapsed().as_secs_f64()
        }
        "delete-each" => {
            let list = pick(args.get(3));
            let t = Instant::now();
            let msgs = list
                .iter()
                .map(|i| by_name(RTM_DELLINK, PLAIN, &format!("v{i}a")).finish())
                .collect();
            nl.pipelined(msgs);
            t.elapsed().as_secs_f64()
        }
        "routes" | "route-replace" => {
            let oif = nl.index_of("rt0");
            let (flags, gw) = if workload == "routes" {
                (CREATE, [10, 0, 0, 2])
            } else {
                (REPLACE, [10, 0, 0, 3])
            };
            let t = Instant::now();
            let msgs = (0..n).map(|i| route(flags, i, gw, oif)).collect();
            nl.pipelined(msgs);
            t.elapsed().as_secs_f64()
        }
        "route-dump" => {
            let t = Instant::now();
            let mut routes = Vec::new();
            let mut req = Msg::new(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
            rtmsg(&mut req.buf, 0, 0, 0, 0);
            let req = req
                .attr(RTA_TABLE, &u32::from(ROUTE_TABLE).to_ne_bytes())
                .finish();
            nl.dump(req, |m| routes.extend(parse_route(m)));
            let s = t.elapsed().as_secs_f64();
            extra = format!(",\"count\":{}", routes.len());
            black_box(routes);
            s
        }
        other => fail(&format!("unknown workload {other}")),
    };
    // CPU time (user + system, every thread) from before the workload's setup to its end:
    // the setup is a request or two, so this is the workload's CPU time to within a fraction of
    // a millisecond. The kernel does a route's work inside sendmsg, so it counts here.
    let cpu = cpu_seconds() - cpu_start;
    println!("{{\"tool\":\"floor\",\"workload\":\"{full}\",\"n\":{n},\"seconds\":{seconds},\"cpuSeconds\":{cpu}{extra}}}");
}

/// User + system CPU time of the process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    s(u.ru_utime) + s(u.ru_stime)
}

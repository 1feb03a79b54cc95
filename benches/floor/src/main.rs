//! The benchmark's floor: the same requests as the other tools, built by hand and sent
//! pipelined on one raw NETLINK_ROUTE socket (`netlink-sys`), 128 messages per `sendmsg`, the
//! ACKs read after each `sendmsg`. No tenus code in between. Run inside the namespace to
//! measure (the harness uses `nsenter --net=...`); prints one JSON line.
//!
//! ```text
//! tenus-bench-floor veth 1000              create v{i}a/v{i}b
//! tenus-bench-floor macvlan 1000           create mv{i} on par0, mode bridge
//! tenus-bench-floor addr 1000              add 10.1.x.y/32 to adr0
//! tenus-bench-floor dump 0                 dump every link into structs
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
//! alone and its ACK awaited before the next — the floor for an awaited call.

use std::hint::black_box;
use std::process::exit;
use std::time::Instant;

use netlink_sys::{protocols::NETLINK_ROUTE, Socket};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_DUMP: u16 = 0x300;
const CREATE: u16 = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
const PLAIN: u16 = NLM_F_REQUEST | NLM_F_ACK;
const NLM_F_REPLACE: u16 = 0x100;
const REPLACE: u16 = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINK: u16 = 5;
const IFLA_MASTER: u16 = 10;
const IFLA_TXQLEN: u16 = 13;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
const IFLA_GROUP: u16 = 27;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFLA_MACVLAN_MODE: u16 = 1;
const MACVLAN_MODE_BRIDGE: u32 = 4;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const NLA_F_NESTED: u16 = 0x8000;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_TABLE: u16 = 15;
/// The routes' table.
const ROUTE_TABLE: u8 = 100;
const RTPROT_STATIC: u8 = 4;
const RTN_UNICAST: u8 = 1;

/// Messages per `sendmsg`.
const PER_SEND: usize = 128;
/// An unused group in a fresh namespace, for the group delete.
const TAG_GROUP: u32 = 0x7fff_fff0;

/// One netlink message under construction.
struct Msg {
    buf: Vec<u8>,
}

impl Msg {
    fn new(kind: u16, flags: u16) -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&[0; 8]); // seq, pid
        Msg { buf }
    }

    /// struct ifinfomsg: family, pad, type, index, flags, change.
    fn ifinfo(mut self, index: u32) -> Self {
        ifinfo(&mut self.buf, index);
        self
    }

    /// struct ifaddrmsg: family, prefixlen, flags, scope, index.
    fn ifaddr(mut self, family: u8, prefix: u8, index: u32) -> Self {
        self.buf.extend_from_slice(&[family, prefix, 0, 0]);
        self.buf.extend_from_slice(&index.to_ne_bytes());
        self
    }

    fn attr(mut self, kind: u16, value: &[u8]) -> Self {
        attr(&mut self.buf, kind, value);
        self
    }

    fn nest(mut self, kind: u16, fill: impl FnOnce(&mut Vec<u8>)) -> Self {
        nest(&mut self.buf, kind, fill);
        self
    }

    fn finish(mut self) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

fn ifinfo(buf: &mut Vec<u8>, index: u32) {
    buf.extend_from_slice(&[0, 0, 0, 0]);
    buf.extend_from_slice(&index.to_ne_bytes());
    buf.extend_from_slice(&[0; 8]);
}

fn pad(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

fn attr(buf: &mut Vec<u8>, kind: u16, value: &[u8]) {
    buf.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(value);
    pad(buf);
}

fn nest(buf: &mut Vec<u8>, kind: u16, fill: impl FnOnce(&mut Vec<u8>)) {
    let start = buf.len();
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
    fill(buf);
    let len = (buf.len() - start) as u16;
    buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    pad(buf);
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn veth(a: &str, b: &str) -> Vec<u8> {
    Msg::new(RTM_NEWLINK, CREATE)
        .ifinfo(0)
        .attr(IFLA_IFNAME, &cstr(a))
        .nest(IFLA_LINKINFO, |buf| {
            attr(buf, IFLA_INFO_KIND, b"veth\0");
            nest(buf, IFLA_INFO_DATA, |buf| {
                nest(buf, VETH_INFO_PEER, |buf| {
                    ifinfo(buf, 0);
                    attr(buf, IFLA_IFNAME, &cstr(b));
                });
            });
        })
        .finish()
}

fn macvlan(name: &str, parent: u32) -> Vec<u8> {
    Msg::new(RTM_NEWLINK, CREATE)
        .ifinfo(0)
        .attr(IFLA_LINK, &parent.to_ne_bytes())
        .attr(IFLA_IFNAME, &cstr(name))
        .nest(IFLA_LINKINFO, |buf| {
            attr(buf, IFLA_INFO_KIND, b"macvlan\0");
            nest(buf, IFLA_INFO_DATA, |buf| {
                attr(buf, IFLA_MACVLAN_MODE, &MACVLAN_MODE_BRIDGE.to_ne_bytes());
            });
        })
        .finish()
}

/// 10.1.0.1, 10.1.0.2, ... (the same addresses every tool adds).
fn address(i: usize) -> [u8; 4] {
    let v = 0x0a01_0000u32 + i as u32 + 1;
    v.to_be_bytes()
}

fn addr_add(index: u32, ip: [u8; 4]) -> Vec<u8> {
    Msg::new(RTM_NEWADDR, CREATE)
        .ifaddr(libc::AF_INET as u8, 32, index)
        .attr(IFA_LOCAL, &ip)
        .attr(IFA_ADDRESS, &ip)
        .finish()
}

/// struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
fn rtmsg(buf: &mut Vec<u8>, dst_len: u8, table: u8, protocol: u8, kind: u8) {
    buf.extend_from_slice(&[libc::AF_INET as u8, dst_len, 0, 0, table, protocol, 0, kind]);
    buf.extend_from_slice(&0u32.to_ne_bytes());
}

/// The i-th /24 from 11.0.0.0 up (the same prefixes every tool installs).
fn route_dst(i: usize) -> [u8; 4] {
    (0x0b00_0000u32 + ((i as u32) << 8)).to_be_bytes()
}

/// `ip route add|replace DST/24 via GW dev INDEX table 100 proto static`.
fn route(flags: u16, i: usize, gw: [u8; 4], oif: u32) -> Vec<u8> {
    let mut m = Msg::new(RTM_NEWROUTE, flags);
    rtmsg(&mut m.buf, 24, ROUTE_TABLE, RTPROT_STATIC, RTN_UNICAST);
    m.attr(RTA_DST, &route_dst(i))
        .attr(RTA_GATEWAY, &gw)
        .attr(RTA_OIF, &oif.to_ne_bytes())
        .finish()
}

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

fn by_name(kind: u16, flags: u16, name: &str) -> Msg {
    Msg::new(kind, flags).ifinfo(0).attr(IFLA_IFNAME, &cstr(name))
}

struct Nl {
    sock: Socket,
    seq: u32,
    /// Requests per sendmsg (1: request, then wait for its ACK).
    per_send: usize,
    out: Vec<u8>,
    inbuf: Vec<u8>,
}

fn fail(what: &str) -> ! {
    eprintln!("tenus-bench-floor: {what}");
    exit(1)
}

impl Nl {
    fn open() -> Self {
        let mut sock = Socket::new(NETLINK_ROUTE).unwrap_or_else(|e| fail(&format!("socket: {e}")));
        sock.bind_auto().unwrap_or_else(|e| fail(&format!("bind: {e}")));
        // The same socket options tenus uses: small ACKs, extended ACKs, dump filters applied
        // by the kernel (the route dump asks for one table).
        sock.set_cap_ack(true)
            .unwrap_or_else(|e| fail(&format!("cap_ack: {e}")));
        sock.set_ext_ack(true)
            .unwrap_or_else(|e| fail(&format!("ext_ack: {e}")));
        sock.set_netlink_get_strict_chk(true)
            .unwrap_or_else(|e| fail(&format!("strict_chk: {e}")));
        Nl {
            sock,
            seq: 0,
            per_send: PER_SEND,
            out: Vec::with_capacity(64 * 1024),
            inbuf: vec![0; 64 * 1024],
        }
    }

    fn stamp(&mut self, msg: &mut [u8]) {
        self.seq += 1;
        msg[8..12].copy_from_slice(&self.seq.to_ne_bytes());
    }

    /// Sends `msgs`, `per_send` per sendmsg, reading each batch's ACKs after the send.
    fn pipelined(&mut self, mut msgs: Vec<Vec<u8>>) {
        let per_send = self.per_send;
        for chunk in msgs.chunks_mut(per_send) {
            self.out.clear();
            for m in chunk.iter_mut() {
                self.stamp(m);
                self.out.extend_from_slice(m);
            }
            let sent = self
                .sock
                .send(&self.out, 0)
                .unwrap_or_else(|e| fail(&format!("send: {e}")));
            if sent != self.out.len() {
                fail("short send");
            }
            self.read_acks(chunk.len());
        }
    }

    fn read_acks(&mut self, mut want: usize) {
        while want > 0 {
            let n = self.recv();
            messages(&self.inbuf[..n], |kind, msg| {
                if kind == NLMSG_ERROR {
                    let code = i32::from_ne_bytes(msg[16..20].try_into().unwrap());
                    if code != 0 {
                        fail(&format!(
                            "request failed: {}",
                            std::io::Error::from_raw_os_error(-code)
                        ));
                    }
                    want -= 1;
                }
                true
            });
        }
    }

    fn recv(&mut self) -> usize {
        let mut slice: &mut [u8] = &mut self.inbuf[..];
        self.sock
            .recv(&mut slice, 0)
            .unwrap_or_else(|e| fail(&format!("recv: {e}")))
    }

    /// Runs a dump, handing each data message (header included) to `each`.
    fn dump(&mut self, mut msg: Vec<u8>, mut each: impl FnMut(&[u8])) {
        self.stamp(&mut msg);
        self.sock
            .send(&msg, 0)
            .unwrap_or_else(|e| fail(&format!("send: {e}")));
        let mut done = false;
        while !done {
            let n = self.recv();
            messages(&self.inbuf[..n], |kind, msg| match kind {
                NLMSG_DONE => {
                    done = true;
                    false
                }
                NLMSG_ERROR => fail("dump failed"),
                _ => {
                    each(msg);
                    true
                }
            });
        }
    }

    fn index_of(&mut self, name: &str) -> u32 {
        let mut msg = by_name(RTM_GETLINK, PLAIN, name).finish();
        self.stamp(&mut msg);
        self.sock
            .send(&msg, 0)
            .unwrap_or_else(|e| fail(&format!("send: {e}")));
        let n = self.recv();
        let kind = u16::from_ne_bytes(self.inbuf[4..6].try_into().unwrap());
        if n < 24 || kind != RTM_NEWLINK {
            fail(&format!("no link {name}"));
        }
        let index = u32::from_ne_bytes(self.inbuf[20..24].try_into().unwrap());
        self.read_acks(1);
        index
    }
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

/// Hands each netlink message of a datagram (header included) to `each(type, message)`
/// until it returns false.
fn messages(buf: &[u8], mut each: impl FnMut(u16, &[u8]) -> bool) {
    let mut off = 0;
    while off + 16 <= buf.len() {
        let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
        let kind = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
        if len < 16 || off + len > buf.len() {
            fail("bad message length");
        }
        if !each(kind, &buf[off..off + len]) {
            return;
        }
        off += (len + 3) & !3;
    }
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
    let workload = full.strip_suffix("-reqack").unwrap_or(full);
    let n: usize = args[2].parse().unwrap_or_else(|_| fail("N must be a number"));
    let mut nl = Nl::open();
    if workload != full {
        nl.per_send = 1;
    }
    let mut extra = String::new();
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
    println!("{{\"tool\":\"floor\",\"workload\":\"{full}\",\"n\":{n},\"seconds\":{seconds}{extra}}}");
}

//! Decoder fuzzing on stable Rust, run by `cargo test` for a bounded time (issue 10).
//!
//! Targets, each fed mutated netlink bytes:
//! - `link_records`: `link::fast::read_link` (listings) and `message::decode` followed by
//!   `LinkRecord::from_message` / `AddressRecord::from_message` (single replies) on one message;
//! - `acks`: `transport::ack::header`, `parse_error` (extended ACK: message and offset) and
//!   `parse_done` on one message;
//! - `dump_stream`: the driver's walk over a datagram (`Connection` on one end of a socketpair,
//!   the fuzzer playing the kernel on the other): a dump request is sent, the mutated datagram
//!   comes back with the request's sequence number stamped into the messages it can find, then a
//!   proper NLMSG_DONE; whatever reply results is decoded as a listing would decode it.
//!
//! Each checks that nothing panics and that the bytes allocated (and not yet freed) while one
//! input is decoded stay below `ALLOC_FACTOR` times the input's size plus `ALLOC_SLACK` (a
//! counting `#[global_allocator]`, per thread, in this test binary only).
//!
//! Why a hand-rolled mutator and not `arbitrary`/`bolero`/`proptest`: on stable Rust none of them
//! has coverage feedback, so under `cargo test` they too are random generators; what finds bugs in
//! a decoder of length-prefixed TLVs is mutating real messages while keeping most length fields
//! consistent, so that inputs get past the first check. The mutator here does that (bit and byte
//! flips, interesting integers in header and attribute length/type fields, attribute duplication,
//! truncation, splicing, then usually fixing `nlmsg_len`), is seeded and deterministic, costs no
//! dependency, and reports a failing input as hex, ready to paste into a regression test.
//!
//! Seed corpus: iproute2's captured requests and replies (`tests/fixtures/iproute2`), messages
//! built with the core's encoders, hand-made ACK/DONE/error messages and, when run as root (as
//! `scripts/test-all` runs it), real kernel datagrams read from a raw route socket in an
//! anonymous namespace this test creates (link, address and route dumps of a namespace holding
//! links of the kinds this kernel has, and error replies with extended ACKs).
//!
//! Env: `TENUS_FUZZ_SECS` (seconds per target, default 2), `TENUS_FUZZ_SEED` (default fixed;
//! printed). A failure prints the seed, the target and each failing input in hex.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::RouteNetlinkMessage;
use serde_json::json;
use tenus_core::addr::AddressRecord;
use tenus_core::addr::{encode_addr_add, encode_addr_del};
use tenus_core::link::build::{encode_new_link, Resolved};
use tenus_core::link::fast::read_link;
use tenus_core::link::kind::ParseContext;
use tenus_core::message::{decode, encode, Flags};
use tenus_core::transport::ack::{self, header, parse_done, parse_error, NLMSG_HDRLEN};
use tenus_core::transport::{open_route_socket, Connection, Expect, Messages};
use tenus_core::{args, Handle, LinkRecord, LinkRef, LinkSpec, Namespace};

// ---------------------------------------------------------------------------------------------
// Counting allocator: bytes live on this thread, and their peak.

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn account(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

// SAFETY: every call is passed on to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        account(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`; returns its result and the most bytes it had allocated at once on this thread
/// (what it returns included).
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get);
    (out, (peak - base).max(0) as usize)
}

/// Allowed peak: this many bytes per input byte...
const ALLOC_FACTOR: usize = 16;
/// ...plus this many.
const ALLOC_SLACK: usize = 64 * 1024;
/// Longest input the mutator makes.
const MAX_INPUT: usize = 16 * 1024;

// ---------------------------------------------------------------------------------------------
// Randomness and mutation

struct Rng(u64);

impl Rng {
    /// splitmix64
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }
}

const U16S: [u16; 18] = [
    0, 1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 20, 255, 0x7fff, 0x8000, 0xfff0, 0xffff,
];
const U32S: [u32; 14] = [
    0,
    1,
    3,
    4,
    15,
    16,
    17,
    20,
    0xff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fff0,
    0xffff_ffff,
];

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_ne_bytes());
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
}

/// Where the attributes of a message start, by its type.
fn attrs_start(msg: &[u8]) -> usize {
    if msg.len() < NLMSG_HDRLEN {
        return msg.len();
    }
    match u16_at(msg, 4) {
        16..=19 => 32,          // RTM_*LINK: ifinfomsg
        20..=23 => 24,          // RTM_*ADDR: ifaddrmsg
        24..=27 => 28,          // RTM_*ROUTE: rtmsg
        ack::NLMSG_ERROR => 36, // error code + capped original header, then TLVs
        ack::NLMSG_DONE => 20,  // error code, then TLVs
        _ => NLMSG_HDRLEN,
    }
}

/// Offsets of attribute headers in `b[start..end]`, nested ones too (anything whose payload
/// reads as a consistent attribute chain), a few levels deep.
fn collect_nlas(b: &[u8], mut at: usize, end: usize, depth: usize, out: &mut Vec<usize>) {
    while at + 4 <= end {
        let len = u16_at(b, at) as usize;
        if len < 4 || at + len > end {
            return;
        }
        out.push(at);
        let (p, pend) = (at + 4, at + len);
        if depth < 4 && pend - p >= 4 {
            let sub = u16_at(b, p) as usize;
            if sub >= 4 && p + sub <= pend {
                collect_nlas(b, p, pend, depth + 1, out);
            }
        }
        at += (len + 3) & !3;
    }
}

fn nlas(b: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    collect_nlas(b, attrs_start(b), b.len(), 0, &mut out);
    out
}

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(11) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = [0, 0xff, 0x7f, 0x80, 1, rng.next() as u8][rng.below(6)];
            }
            2 if len >= 2 => {
                let i = rng.below(len - 1);
                let val = if rng.chance(1, 3) {
                    (len - i) as u16
                } else {
                    U16S[rng.below(U16S.len())]
                };
                put_u16(&mut v, i & !1, val);
            }
            3 if len >= 4 => {
                let i = rng.below(len - 3) & !3;
                let val = if rng.chance(1, 4) {
                    len as u32
                } else {
                    U32S[rng.below(U32S.len())]
                };
                put_u32(&mut v, i, val);
            }
            4 if len > 0 => v.truncate(rng.below(len)),
            5 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let zeros = rng.chance(1, 2);
                let bytes: Vec<u8> = (0..n).map(|_| if zeros { 0 } else { rng.next() as u8 }).collect();
                v.splice(at..at, bytes);
            }
            6 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(32));
                v.drain(at..at + n);
            }
            7 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let n = 1 + rng.below(other.len() - from);
                    let at = rng.below(len + 1);
                    v.splice(at..at, other[from..from + n].iter().copied());
                }
            }
            8 | 9 => {
                // An attribute's length or type.
                let offsets = nlas(&v);
                if let Some(&at) = offsets.get(rng.below(offsets.len())) {
                    if rng.chance(2, 3) {
                        let rest = (v.len() - at) as u16;
                        let val = match rng.below(4) {
                            0 => rest,
                            1 => rest.wrapping_add(1 + rng.below(8) as u16),
                            2 => u16_at(&v, at).wrapping_sub(1 + rng.below(4) as u16),
                            _ => U16S[rng.below(U16S.len())],
                        };
                        put_u16(&mut v, at, val);
                    } else {
                        let ty = u16_at(&v, at + 2);
                        let val = match rng.below(3) {
                            0 => ty ^ 0x8000,
                            1 => (rng.below(64)) as u16 | (ty & 0x8000),
                            _ => U16S[rng.below(U16S.len())],
                        };
                        put_u16(&mut v, at + 2, val);
                    }
                }
            }
            10 => {
                // Duplicate an attribute somewhere else in the chain.
                let offsets = nlas(&v);
                if let Some(&at) = offsets.get(rng.below(offsets.len())) {
                    let n = ((u16_at(&v, at) as usize + 3) & !3).min(v.len() - at);
                    let copy = v[at..at + n].to_vec();
                    let to = offsets[rng.below(offsets.len())];
                    v.splice(to..to, copy);
                }
            }
            _ => {}
        }
    }
    v.truncate(MAX_INPUT);
    // Mostly keep nlmsg_len true, so that decoders look past the header.
    if v.len() >= 4 && rng.chance(3, 4) {
        let n = v.len() as u32;
        put_u32(&mut v, 0, n);
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Seed corpus

fn from_hex(text: &str) -> Vec<u8> {
    let t = text.trim();
    (0..t.len() / 2)
        .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().fold(String::with_capacity(b.len() * 2), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn nlmsg(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(NLMSG_HDRLEN + payload.len() + 3);
    v.extend_from_slice(&((NLMSG_HDRLEN + payload.len()) as u32).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.extend_from_slice(payload);
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
    v
}

fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut v = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(value);
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
    v
}

fn fixture_corpus() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/iproute2");
    let mut out = Vec::new();
    for sub in [dir.to_string(), format!("{dir}/replies")] {
        let mut paths: Vec<_> = std::fs::read_dir(&sub)
            .unwrap_or_else(|e| panic!("{sub}: {e}"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "hex"))
            .collect();
        paths.sort();
        for p in paths {
            out.push(from_hex(&std::fs::read_to_string(&p).unwrap()));
        }
    }
    assert!(
        out.len() >= 20,
        "expected the iproute2 fixtures, found {}",
        out.len()
    );
    out
}

/// Specs are parsed here with no namespace but the process's own.
struct Here;

impl ParseContext for Here {
    fn peer(&mut self, _: &str, _: u32) -> tenus_core::Result<Namespace> {
        Namespace::current()
    }
}

/// A link spec as JavaScript gives it: a kind and a JSON object of options.
fn spec(kind: &str, options: serde_json::Value) -> LinkSpec {
    LinkSpec::from_json(kind, options, &mut Here).unwrap()
}

/// Messages built with the core's own encoders, and hand-made ACK / DONE / error messages.
fn encoder_corpus() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let kinds = vec![
        spec(
            "bridge",
            json!({"name": "br0", "stp": true, "vlanFiltering": true, "forwardDelay": 400,
                   "mtu": 9000, "group": 7, "txqlen": 500, "up": true, "mac": "02:00:00:00:00:09"}),
        ),
        spec(
            "veth",
            json!({"name": "v0", "peer": "p1", "peerMac": "02:00:00:00:00:0a"}),
        ),
        spec("macvtap", json!({"name": "mvt0", "parent": 2, "mode": "source"})),
        spec(
            "vxlan",
            json!({"name": "vx0", "vni": 0xffffff, "port": 4789, "local": "fd00::1",
                   "multicastGroup": "ff05::1", "parent": 2, "ttl": 255, "learning": false}),
        ),
        spec(
            "ip6gretap",
            json!({"name": "g0", "local": "fd00::1", "remote": "fd00::2", "ttl": 64,
                   "key": 0xdead_beefu32, "parent": 2}),
        ),
        spec("wireguard", json!({"name": "wg0"})),
    ];
    for s in &kinds {
        let mut r = Resolved::names(s);
        r.parent = Some(2);
        r.master = Some(3);
        out.push(encode_new_link(s, &r).unwrap());
    }
    for c in [
        "10.1.2.3/24",
        "10.1.2.3/32",
        "fd00::1/64",
        "fe80::1/10",
        "0.0.0.0/0",
    ] {
        let (a, p) = args::cidr("address", c).unwrap();
        out.push(encode_addr_add(2, a, p, false));
        out.push(encode_addr_del(2, a, p));
    }
    out.push(tenus_core::route::encode_gateway(
        2,
        "10.0.0.1".parse().unwrap(),
        false,
    ));
    out.push(tenus_core::route::encode_gateway(
        2,
        "fd00::1".parse().unwrap(),
        true,
    ));
    out.push(encode(
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
        Flags::Dump,
    ));
    out.push(encode(
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        Flags::Dump,
    ));
    out.push(encode(
        RouteNetlinkMessage::GetRoute(RouteMessage::default()),
        Flags::Dump,
    ));
    // ACKs and errors: capped, uncapped, with and without extended ACK TLVs.
    let request = nlmsg(16, 0x605, 7, &[0; 16]);
    let mut capped = (-95i32).to_ne_bytes().to_vec();
    capped.extend_from_slice(&request[..NLMSG_HDRLEN]);
    capped.extend(tlv(1, b"Unknown device type\0"));
    capped.extend(tlv(2, &36u32.to_ne_bytes()));
    out.push(nlmsg(
        ack::NLMSG_ERROR,
        ack::NLM_F_CAPPED | ack::NLM_F_ACK_TLVS,
        7,
        &capped,
    ));
    let mut full = (-17i32).to_ne_bytes().to_vec();
    full.extend_from_slice(&request);
    full.extend(tlv(1, b"exists\0"));
    out.push(nlmsg(ack::NLMSG_ERROR, ack::NLM_F_ACK_TLVS, 7, &full));
    let mut plain = 0i32.to_ne_bytes().to_vec();
    plain.extend_from_slice(&request[..NLMSG_HDRLEN]);
    out.push(nlmsg(ack::NLMSG_ERROR, ack::NLM_F_CAPPED, 7, &plain));
    out.push(nlmsg(ack::NLMSG_DONE, ack::NLM_F_MULTI, 7, &0i32.to_ne_bytes()));
    let mut done = (-16i32).to_ne_bytes().to_vec();
    done.extend(tlv(1, b"busy\0"));
    out.push(nlmsg(
        ack::NLMSG_DONE,
        ack::NLM_F_MULTI | ack::NLM_F_ACK_TLVS,
        7,
        &done,
    ));
    out.push(nlmsg(ack::NLMSG_NOOP, 0, 7, &[]));
    out.push(nlmsg(ack::NLMSG_OVERRUN, 0, 7, &[]));
    out
}

fn privileged() -> bool {
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("the kernel part of the seed corpus needs root, and CI=true forbids going without it");
    }
    eprintln!("fuzz_decoders: not root: no kernel replies in the seed corpus");
    false
}

/// Real datagrams from the kernel: a raw route socket opened in an anonymous namespace made
/// here (never this process's own), holding links of the kinds the kernel has and addresses.
/// Returns whole datagrams (dump parts, DONE, errors with extended ACKs).
fn kernel_datagrams() -> Vec<Vec<u8>> {
    if !privileged() {
        return Vec::new();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let ns = Namespace::create_anonymous().await.unwrap();
        let h = Handle::open(ns.clone()).await.unwrap();
        let add = |kind: &'static str, options: serde_json::Value| {
            let h = h.clone();
            async move { h.link_add(spec(kind, options)).await.map(drop) }
        };
        add("bridge", json!({"name": "br0"})).await.unwrap();
        add("veth", json!({"name": "v0", "peer": "v1"})).await.unwrap();
        // Kinds this kernel may lack: whatever it refuses is simply not in the dumps.
        let _ = add("macvlan", json!({"name": "mv0", "parent": "v0", "mode": "vepa"})).await;
        let _ = add("vxlan", json!({"name": "vx0", "vni": 42, "remote": "10.9.0.2"})).await;
        let _ = add("dummy", json!({"name": "d0"})).await;
        for c in ["10.0.0.1/24", "fd00::1/64"] {
            h.addr_add(&LinkRef::Name("br0".into()), c, false).await.unwrap();
        }
        let socket = ns.run_in(open_route_socket).await.unwrap().unwrap();
        socket.set_non_blocking(false).unwrap();
        let fd = socket.as_raw_fd();
        let mut out = Vec::new();
        let mut exchange = |request: Vec<u8>| {
            socket.send(&request, 0).unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
                assert!(n >= 0, "recv: {}", std::io::Error::last_os_error());
                let d = buf[..n as usize].to_vec();
                let last = header(&d).map(|h| h.kind == ack::NLMSG_DONE || h.kind == ack::NLMSG_ERROR);
                out.push(d);
                if last != Some(false) {
                    break;
                }
            }
        };
        let mut get = LinkMessage::default();
        exchange(encode(RouteNetlinkMessage::GetLink(get.clone()), Flags::Dump));
        exchange(encode(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            Flags::Dump,
        ));
        exchange(encode(
            RouteNetlinkMessage::GetRoute(RouteMessage::default()),
            Flags::Dump,
        ));
        // One link, then errors with extended ACKs: no such link, unknown kind.
        get.header.index = 1;
        exchange(encode(RouteNetlinkMessage::GetLink(get.clone()), Flags::Plain));
        get.header.index = 999;
        exchange(encode(RouteNetlinkMessage::GetLink(get), Flags::Plain));
        let mut bogus = from_hex(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/iproute2/dummy.hex"
            ))
            .unwrap(),
        );
        // "dummy" -> "dummz": a kind no kernel has.
        if let Some(i) = bogus.windows(5).position(|w| w == b"dummy") {
            bogus[i + 4] = b'z';
        }
        exchange(bogus);
        drop(h);
        out
    })
}

/// Splits datagrams into their messages (the same walk as the driver's).
fn messages_of(datagrams: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for d in datagrams {
        let mut buf = &d[..];
        while let Some(h) = header(buf) {
            out.push(buf[..h.len].to_vec());
            buf = &buf[ack::align4(h.len).min(buf.len())..];
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Targets

fn decode_link_records(input: &[u8]) -> usize {
    let mut n = 0;
    if let Some(r) = read_link(input) {
        n += r.name.len() + r.flags.len();
    }
    if let Ok(m) = decode("fuzz", input) {
        match m {
            RouteNetlinkMessage::NewLink(l)
            | RouteNetlinkMessage::GetLink(l)
            | RouteNetlinkMessage::DelLink(l) => {
                n += LinkRecord::from_message(&l).name.len();
            }
            RouteNetlinkMessage::NewAddress(a) | RouteNetlinkMessage::DelAddress(a) => {
                n += AddressRecord::from_message(&a).map_or(0, |r| r.cidr.len());
            }
            _ => {}
        }
    }
    n
}

fn decode_acks(input: &[u8]) -> usize {
    let Some(h) = header(input) else {
        return 0;
    };
    let msg = &input[..h.len];
    let e = parse_error(msg, &h);
    let d = parse_done(msg, &h);
    e.message.map_or(0, |m| m.len()) + d.message.map_or(0, |m| m.len()) + e.offset.unwrap_or(0) as usize
}

/// A `Connection` whose "kernel" is the other end of a socketpair, played by the fuzzer.
struct DumpPeer {
    rt: tokio::runtime::Runtime,
    conn: Connection,
    peer: tokio::net::UnixDatagram,
    request: Vec<u8>,
    /// Set while an exchange runs: still set afterwards, it did not finish (it panicked).
    busy: Cell<bool>,
    /// Where the request is read (allocated once, outside the measured exchanges).
    inbox: RefCell<Vec<u8>>,
}

impl DumpPeer {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (ours, theirs) = std::os::unix::net::UnixDatagram::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        theirs.set_nonblocking(true).unwrap();
        // SAFETY: the descriptor was just released by `ours` and is owned by the Socket from here on.
        let socket = unsafe { netlink_sys::Socket::from_raw_fd(ours.into_raw_fd()) };
        let (conn, peer) = {
            let _ctx = rt.enter();
            (
                Connection::spawn(socket, None).unwrap(),
                tokio::net::UnixDatagram::from_std(theirs).unwrap(),
            )
        };
        let request = encode(RouteNetlinkMessage::GetLink(LinkMessage::default()), Flags::Dump);
        DumpPeer {
            rt,
            conn,
            peer,
            request,
            busy: Cell::new(false),
            inbox: RefCell::new(vec![0u8; 64 * 1024]),
        }
    }

    /// Sends a dump request, answers it with `datagram` (messages it can find get the request's
    /// sequence number, unless `keep_seq`) and a proper NLMSG_DONE, and decodes what the
    /// driver made of it. Returns a checksum of the decoded records.
    fn exchange(&self, datagram: &[u8], keep_seq: bool, streamed: bool) -> usize {
        self.busy.set(true);
        let n = self.rt.block_on(async {
            let (parts_tx, mut parts_rx) = tokio::sync::mpsc::unbounded_channel::<Messages>();
            let reply = if streamed {
                self.conn
                    .submit_streamed(self.request.clone(), Duration::from_secs(2), parts_tx)
            } else {
                self.conn
                    .submit(self.request.clone(), Expect::Dump, Duration::from_secs(2))
            }
            .unwrap();
            let seq = {
                // Taken out of the cell (no allocation) so that no borrow is held across the await.
                let mut buf = std::mem::take(&mut *self.inbox.borrow_mut());
                let n = tokio::time::timeout(Duration::from_secs(5), self.peer.recv(&mut buf))
                    .await
                    .expect("the driver sent the request within 5 s")
                    .unwrap();
                let seq = header(&buf[..n]).expect("the driver sent a request").seq;
                *self.inbox.borrow_mut() = buf;
                seq
            };
            let mut d = datagram.to_vec();
            if !keep_seq {
                let mut at = 0;
                while let Some(h) = header(&d[at..]) {
                    put_u32(&mut d, at + 8, seq);
                    at += ack::align4(h.len);
                    if at >= d.len() {
                        break;
                    }
                }
            }
            if !d.is_empty() {
                self.peer.send(&d).await.unwrap();
            }
            self.peer
                .send(&nlmsg(
                    ack::NLMSG_DONE,
                    ack::NLM_F_MULTI,
                    seq,
                    &0i32.to_ne_bytes(),
                ))
                .await
                .unwrap();
            let result = tokio::time::timeout(Duration::from_secs(5), reply)
                .await
                .expect("the driver answered within 5 s")
                .expect("the driver is alive");
            let mut n = 0;
            let mut decode_all = |messages: &Messages| {
                for m in messages.iter() {
                    n += decode_link_records(m);
                }
            };
            while let Ok(part) = parts_rx.try_recv() {
                decode_all(&part);
            }
            if let Ok(r) = result {
                decode_all(&r.messages);
                n += r.interrupted as usize + r.warning.map_or(0, |w| w.len());
            }
            n
        });
        self.busy.set(false);
        n
    }
}

// ---------------------------------------------------------------------------------------------
// The loop

fn budget() -> Duration {
    let secs: f64 = std::env::var("TENUS_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(secs)
}

fn seed() -> u64 {
    std::env::var("TENUS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0007_e4e5_f022)
}

struct Finding {
    what: String,
    input: Vec<u8>,
}

thread_local! {
    /// Set while this thread runs fuzz inputs: its panics are recorded, not printed.
    static FUZZING: Cell<bool> = const { Cell::new(false) };
    /// Panic messages (with their location) seen while the current input ran, from any task on
    /// this thread: a panic inside the driver's task is caught by tokio, and only shows here.
    static PANICS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Installs (once) a panic hook that records the panics of fuzzing threads and leaves every
/// other panic to the default hook.
fn record_panics() {
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !FUZZING.with(Cell::get) {
                return default(info);
            }
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(non-string panic)".into());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            PANICS.with(|p| p.borrow_mut().push(format!("{msg}{at}")));
        }));
    });
}

/// Feeds the corpus, then mutations of it, to `target` until the time is up. Fails with every
/// distinct panic (by message) and allocation blow-up found, each with its input in hex.
/// `prepare` runs before each input, outside the allocation measurement.
fn fuzz(
    name: &str,
    corpus: &[Vec<u8>],
    mut prepare: impl FnMut(),
    mut target: impl FnMut(&mut Rng, &[u8]) -> usize,
) {
    assert!(!corpus.is_empty(), "{name}: empty seed corpus");
    let seed = seed()
        ^ name
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    let mut rng = Rng(seed);
    let deadline = Instant::now() + budget();
    let mut findings: Vec<Finding> = Vec::new();
    let mut runs = 0u64;
    // The largest peak seen, and the input size it came with.
    let mut worst = (0usize, 0usize);
    record_panics();
    FUZZING.with(|f| f.set(true));
    let mut i = 0usize;
    while findings.len() < 10 && (i < corpus.len() || Instant::now() < deadline) {
        let input = if i < corpus.len() {
            corpus[i].clone()
        } else {
            let base = &corpus[rng.below(corpus.len())];
            mutate(&mut rng, base, corpus)
        };
        i += 1;
        runs += 1;
        let mut case_rng = Rng(rng.next());
        prepare();
        PANICS.with(|p| p.borrow_mut().clear());
        let result = panic::catch_unwind(AssertUnwindSafe(|| peak_of(|| target(&mut case_rng, &input))));
        let panics = PANICS.with(|p| std::mem::take(&mut *p.borrow_mut()));
        match result {
            _ if !panics.is_empty() => {
                let what = format!("panic: {}", panics.join(" / then: "));
                if !findings.iter().any(|f| f.what == what) {
                    findings.push(Finding { what, input });
                }
            }
            Err(_) => findings.push(Finding {
                what: "panic without a message".into(),
                input,
            }),
            Ok((_, peak)) => {
                let allowed = ALLOC_FACTOR * input.len() + ALLOC_SLACK;
                if peak > worst.0 {
                    worst = (peak, input.len());
                }
                if peak > allowed {
                    let what = format!(
                        "allocated {peak} bytes at once for {} input bytes (allowed {allowed})",
                        input.len()
                    );
                    if !findings.iter().any(|f| f.what.starts_with("allocated")) {
                        findings.push(Finding { what, input });
                    }
                }
            }
        }
    }
    FUZZING.with(|f| f.set(false));
    eprintln!(
        "fuzz_decoders {name}: {runs} inputs ({} seeds) in {:?}, seed {:#x}; largest allocation peak {} bytes (for {} input bytes)",
        corpus.len(),
        budget(),
        seed,
        worst.0,
        worst.1
    );
    if !findings.is_empty() {
        let mut report = format!(
            "{name}: {} finding(s) (TENUS_FUZZ_SEED={}):\n",
            findings.len(),
            self::seed()
        );
        for f in &findings {
            let _ = writeln!(
                report,
                "  {}\n    input ({} bytes): {}",
                f.what,
                f.input.len(),
                hex(&f.input)
            );
        }
        panic!("{report}");
    }
}

/// (messages, kernel datagrams)
type Corpus = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// The seed corpus, built once per test binary.
fn corpus() -> Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let datagrams = kernel_datagrams();
            let mut messages = fixture_corpus();
            messages.extend(encoder_corpus());
            messages.extend(messages_of(&datagrams));
            (messages, datagrams)
        })
        .clone()
}

#[test]
fn link_and_address_records() {
    let (messages, _) = corpus();
    fuzz(
        "link_records",
        &messages,
        || {},
        |_, input| decode_link_records(input),
    );
}

#[test]
fn extended_acks() {
    let (messages, _) = corpus();
    fuzz("acks", &messages, || {}, |_, input| decode_acks(input));
}

#[test]
fn dump_stream_walk() {
    let (messages, datagrams) = corpus();
    // Datagrams: the kernel's, and runs of corpus messages back to back.
    let mut seeds = datagrams;
    let mut rng = Rng(seed());
    for _ in 0..32 {
        let mut d = Vec::new();
        for _ in 0..1 + rng.below(6) {
            d.extend_from_slice(&messages[rng.below(messages.len())]);
        }
        seeds.push(d);
    }
    let peer = RefCell::new(DumpPeer::new());
    fuzz(
        "dump_stream",
        &seeds,
        || {
            if peer.borrow().busy.get() {
                // The last exchange panicked: start over with a fresh driver.
                *peer.borrow_mut() = DumpPeer::new();
            }
        },
        |rng, input| {
            let keep_seq = rng.chance(1, 8);
            let streamed = rng.chance(1, 2);
            peer.borrow().exchange(input, keep_seq, streamed)
        },
    );
}

#[test]
fn the_allocation_check_sees_an_allocation() {
    // The bound would be meaningless if the counter missed allocations.
    let (_, peak) = peak_of(|| vec![0u8; 1 << 20]);
    assert!(peak >= 1 << 20, "peak {peak}");
    let (_, none) = peak_of(|| 1 + 1);
    assert_eq!(none, 0);
}

/// Inputs the fuzzer found, kept so that they run on every machine whatever its speed.
/// (hex, which targets)
const REGRESSIONS: [(&str, &str); 2] = [
    // NLMSG_ERROR whose error code is i32::MIN: `-code` overflows (ack.rs, parse_error).
    (
        "240000000200000159250a6ba2160000000000804c0000001000050659250a6b00000000",
        "acks dump",
    ),
    // NLMSG_DONE whose error code is i32::MIN: the same in parse_done; in the driver the panic
    // kills the socket's task, and every request on it then fails as closed.
    ("140000000300020000000000d963abc000000080", "acks dump"),
];

#[test]
fn regressions_found_by_the_fuzzer() {
    let mut failures = Vec::new();
    record_panics();
    for (input, targets) in REGRESSIONS {
        let bytes = from_hex(input);
        for target in targets.split(' ') {
            let peer = DumpPeer::new();
            FUZZING.with(|f| f.set(true));
            PANICS.with(|p| p.borrow_mut().clear());
            let _ = panic::catch_unwind(AssertUnwindSafe(|| match target {
                "acks" => decode_acks(&bytes),
                _ => peer.exchange(&bytes, false, false),
            }));
            FUZZING.with(|f| f.set(false));
            let panics = PANICS.with(|p| std::mem::take(&mut *p.borrow_mut()));
            if !panics.is_empty() {
                failures.push(format!("{target} {input}: {}", panics.join(" / then: ")));
            }
        }
    }
    assert!(failures.is_empty(), "panics:\n  {}", failures.join("\n  "));
}

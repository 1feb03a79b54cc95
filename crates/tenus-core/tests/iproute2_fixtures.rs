//! tenus-core's requests against the bytes iproute2 6.1 sends for the same command.
//!
//! `tests/fixtures/iproute2/<case>.hex` holds the exact RTM_NEWLINK / RTM_NEWADDR message `ip`
//! sent, captured with strace inside a throwaway `unshare --net` namespace (README.md there
//! explains; cases.json gives each case's command). Each test builds the same request with
//! `encode_new_link` (links) or `encode_addr_add` (addresses) and compares it with the
//! fixture after `normalise`, which only zeroes seq/pid and clears NLA_F_NESTED on nests.
//!
//! A case either matches byte for byte, or it lists the `Difference`s tenus makes on purpose.
//! Then the comparison is on the decoded attribute list instead: decode tenus' message, check
//! that re-encoding the list gives back every byte, undo each listed difference (each one
//! has to be there), re-encode, and compare *that* with the fixture byte for byte. So nothing
//! other than the listed differences can hide in the comparison, and a difference that goes
//! away (say a library upgrade) fails the test until the case is moved to a byte for byte
//! comparison.
//!
//! With netlink-packet-route 0.34 and rtnetlink 0.24 no case matches byte for byte:
//!
//! * every link case differs in `IFLA_INFO_KIND`'s trailing NUL (`InfoKindNul`);
//! * `ipvlan_l2`: ip also sends `IFLA_IPVLAN_FLAGS` = 0 (bridge), the kernel's value when it is
//!   absent (`KernelDefault`);
//! * `gre`, `gretap`, `ip6gre`, `ip6gretap`: ip sends a dozen more `IFLA_GRE_*` attributes, most
//!   with the value the kernel takes when they are absent (`KernelDefault`) or ones the kernel
//!   ignores for these kinds (`Inert`), and in another order (`DataOrder`). tenus sends
//!   `IFLA_GRE_ENCAP_LIMIT` = 4 for `ip6gre` and `ip6gretap` as ip does (it is not the kernel's
//!   default: the kernel zeroes the parameters and reads the attribute only if present);
//! * `geneve`: ip also sends `IFLA_GENEVE_LABEL` and `IFLA_GENEVE_TOS` = 0, the kernel's values
//!   when absent, and in another order;
//! * address cases: attribute order, and for IPv4 an extra `IFA_BROADCAST` (`AddrOrder`,
//!   `AddrBroadcast`).
//!
//! On a mismatch the failure message shows the messages as hex and as attribute trees.
//! Nothing here touches the kernel.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use serde_json::json;
use tenus_core::addr::encode_addr_add;
use tenus_core::link::build::{encode_new_link, Resolved};
use tenus_core::link::kind::ParseContext;
use tenus_core::{args, LinkSpec, Namespace};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/iproute2");

/// The ifindex `p0` had in every capture (lo is 1, p0 the only link added before the command).
const P0_INDEX: u32 = 2;

// Wire layout (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h).
const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
const IFADDRMSG_LEN: usize = 8;
const NLA_HDRLEN: usize = 4;
const NLA_F_NESTED: u16 = 0x8000;
const NLA_F_NET_BYTEORDER: u16 = 0x4000;
const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
const RTM_NEWLINK: u16 = 16;
const RTM_NEWADDR: u16 = 20;
/// NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE: what `ip ... add` sends.
const CREATE_FLAGS: u16 = 0x0605;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
// linux/if_link.h: ipvlan and GRE (gre, gretap, ip6gre, ip6gretap share IFLA_GRE_*).
const IFLA_IPVLAN_FLAGS: u16 = 2;
const IFLA_GRE_IFLAGS: u16 = 2;
const IFLA_GRE_OFLAGS: u16 = 3;
const IFLA_GRE_IKEY: u16 = 4;
const IFLA_GRE_OKEY: u16 = 5;
const IFLA_GRE_LOCAL: u16 = 6;
const IFLA_GRE_REMOTE: u16 = 7;
const IFLA_GRE_TTL: u16 = 8;
const IFLA_GRE_TOS: u16 = 9;
const IFLA_GRE_PMTUDISC: u16 = 10;
const IFLA_GRE_ENCAP_LIMIT: u16 = 11;
const IFLA_GRE_FLOWINFO: u16 = 12;
const IFLA_GRE_FLAGS: u16 = 13;
const IFLA_GRE_ENCAP_TYPE: u16 = 14;
const IFLA_GRE_ENCAP_FLAGS: u16 = 15;
const IFLA_GRE_ENCAP_SPORT: u16 = 16;
const IFLA_GRE_ENCAP_DPORT: u16 = 17;
const IFLA_GRE_FWMARK: u16 = 20;
const IFLA_GRE_ERSPAN_VER: u16 = 22;

// ---------------------------------------------------------------------------------------------
// Fixtures and hex

fn fixture(case: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}/{case}.hex");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let bytes = from_hex(text.trim()).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Sanity of the capture itself: one whole message, as the README says.
    assert_eq!(
        u32_at(&bytes, 0) as usize,
        bytes.len(),
        "{path}: nlmsg_len is not the file's length"
    );
    assert_eq!(u16_at(&bytes, 6), CREATE_FLAGS, "{path}: unexpected nlmsg_flags");
    bytes
}

fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", text.len()));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|e| format!("at {i}: {e}")))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes(b[off..off + 4].try_into().unwrap())
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

// ---------------------------------------------------------------------------------------------
// Attribute walking

/// One attribute's position: `at` is the nla header's offset, `len` is nla_len (header included,
/// padding excluded), `raw` the nla_type with its flag bits.
#[derive(Debug, Clone, Copy)]
struct Nla {
    at: usize,
    len: usize,
    raw: u16,
}

impl Nla {
    fn kind(&self) -> u16 {
        self.raw & NLA_TYPE_MASK
    }
    fn value<'a>(&self, b: &'a [u8]) -> &'a [u8] {
        &b[self.at + NLA_HDRLEN..self.at + self.len]
    }
    fn body(&self) -> (usize, usize) {
        (self.at + NLA_HDRLEN, self.at + self.len)
    }
}

/// The attributes in `b[start..end]`; panics on a malformed stream (a short or overlong nla_len),
/// which is itself an encoding bug worth failing on.
fn nlas(b: &[u8], start: usize, end: usize) -> Vec<Nla> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        assert!(
            at + NLA_HDRLEN <= end,
            "truncated attribute header at byte {at} (stream ends at {end})"
        );
        let len = u16_at(b, at) as usize;
        assert!(
            len >= NLA_HDRLEN && at + len <= end,
            "bad nla_len {len} at byte {at} (stream ends at {end})"
        );
        out.push(Nla {
            at,
            len,
            raw: u16_at(b, at + 2),
        });
        at += align4(len);
    }
    out
}

/// Where a message's attributes start: after nlmsghdr and the family header.
fn attrs_start(msg: &[u8]) -> usize {
    match u16_at(msg, 4) {
        RTM_NEWLINK => NLMSG_HDRLEN + IFINFOMSG_LEN,
        RTM_NEWADDR => NLMSG_HDRLEN + IFADDRMSG_LEN,
        other => panic!("unexpected nlmsg_type {other}"),
    }
}

fn nlmsg_end(msg: &[u8]) -> usize {
    let len = u32_at(msg, 0) as usize;
    assert_eq!(
        len,
        msg.len(),
        "nlmsg_len {len} but the buffer holds {} bytes",
        msg.len()
    );
    len
}

/// IFLA_INFO_KIND inside an IFLA_LINKINFO body, without any NUL.
fn info_kind(b: &[u8], start: usize, end: usize) -> Option<String> {
    nlas(b, start, end)
        .into_iter()
        .find(|a| a.kind() == IFLA_INFO_KIND)
        .map(|a| {
            String::from_utf8_lossy(a.value(b))
                .trim_end_matches('\0')
                .to_string()
        })
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/// What may legitimately differ between two requests for the same thing, applied to both sides,
/// and nothing else:
///
/// * `nlmsg_seq` (header bytes 8..12) is a per-socket counter: iproute2 seeds it with
///   `time(NULL)`, and tenus' transport stamps its own when sending (`encode` leaves 0). It
///   only pairs a reply with its request, so both sides get 0.
/// * `nlmsg_pid` (header bytes 12..16) is the sender's port id; requests to the kernel carry 0
///   and the kernel doesn't read it, but it is zeroed too so the capture's value can't matter.
/// * `NLA_F_NESTED` (0x8000 in nla_type) is cleared on the nests only: IFLA_LINKINFO,
///   IFLA_INFO_DATA inside it and, for veth, VETH_INFO_PEER inside that (then, recursively, in
///   the peer's own attributes). `ip` never sets it; netlink-packet-route 0.34 doesn't either
///   on these, so today this changes nothing, but a library is free to set it: the kernel
///   parses these nests with the `_deprecated` nla_parse variants, which accept both. A 0x8000
///   bit anywhere else, such as on a leaf attribute, is left alone and still shows up as a
///   difference.
///
/// Lengths, padding, attribute order and every value are compared as they are.
fn normalise(msg: &[u8]) -> Vec<u8> {
    let mut m = msg.to_vec();
    let end = nlmsg_end(&m);
    m[8..16].fill(0);
    if u16_at(&m, 4) == RTM_NEWLINK {
        clear_link_nests(&mut m, NLMSG_HDRLEN + IFINFOMSG_LEN, end);
    }
    m
}

fn clear_nested_flag(m: &mut [u8], a: Nla) {
    let raw = a.raw & !NLA_F_NESTED;
    m[a.at + 2..a.at + 4].copy_from_slice(&raw.to_ne_bytes());
}

/// Link attributes (top level, or a veth peer's): IFLA_LINKINFO is the only nest tenus sends.
fn clear_link_nests(m: &mut [u8], start: usize, end: usize) {
    for a in nlas(m, start, end) {
        if a.kind() == IFLA_LINKINFO {
            clear_nested_flag(m, a);
            let (s, e) = a.body();
            clear_linkinfo_nests(m, s, e);
        }
    }
}

fn clear_linkinfo_nests(m: &mut [u8], start: usize, end: usize) {
    let kind = info_kind(m, start, end);
    for a in nlas(m, start, end) {
        if a.kind() == IFLA_INFO_DATA {
            clear_nested_flag(m, a);
            // Of the kinds tenus creates, only veth nests again inside IFLA_INFO_DATA.
            if kind.as_deref() == Some("veth") {
                let (s, e) = a.body();
                for p in nlas(m, s, e) {
                    if p.kind() == VETH_INFO_PEER {
                        clear_nested_flag(m, p);
                        // The peer is a struct ifinfomsg followed by link attributes.
                        let (ps, pe) = p.body();
                        clear_link_nests(m, ps + IFINFOMSG_LEN, pe);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding and re-encoding: readable failures, and the attribute-level comparison

/// Which attribute space a list of attributes belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Space {
    Link,
    LinkInfo,
    Data(DataKind),
    Addr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataKind {
    Vlan,
    MacVlan,
    Veth,
    Vxlan,
    Bridge,
    IpVlan,
    Bond,
    Vrf,
    Gre,
    Unknown,
}

impl DataKind {
    fn of(kind: Option<&str>) -> Self {
        match kind {
            Some("vlan") => DataKind::Vlan,
            Some("macvlan" | "macvtap") => DataKind::MacVlan,
            Some("veth") => DataKind::Veth,
            Some("vxlan") => DataKind::Vxlan,
            Some("bridge") => DataKind::Bridge,
            Some("ipvlan") => DataKind::IpVlan,
            Some("bond") => DataKind::Bond,
            Some("vrf") => DataKind::Vrf,
            Some("gre" | "gretap" | "ip6gre" | "ip6gretap") => DataKind::Gre,
            _ => DataKind::Unknown,
        }
    }
}

fn attr_name(space: Space, kind: u16) -> String {
    let name = match (space, kind) {
        (Space::Link, 1) => "IFLA_ADDRESS",
        (Space::Link, 3) => "IFLA_IFNAME",
        (Space::Link, 4) => "IFLA_MTU",
        (Space::Link, 5) => "IFLA_LINK",
        (Space::Link, 10) => "IFLA_MASTER",
        (Space::Link, 13) => "IFLA_TXQLEN",
        (Space::Link, 18) => "IFLA_LINKINFO",
        (Space::Link, 27) => "IFLA_GROUP",
        (Space::Link, 28) => "IFLA_NET_NS_FD",
        (Space::LinkInfo, 1) => "IFLA_INFO_KIND",
        (Space::LinkInfo, 2) => "IFLA_INFO_DATA",
        (Space::Data(DataKind::Vlan), 1) => "IFLA_VLAN_ID",
        (Space::Data(DataKind::Vlan), 5) => "IFLA_VLAN_PROTOCOL",
        (Space::Data(DataKind::MacVlan), 1) => "IFLA_MACVLAN_MODE",
        (Space::Data(DataKind::Veth), 1) => "VETH_INFO_PEER",
        (Space::Data(DataKind::Vxlan), 1) => "IFLA_VXLAN_ID",
        (Space::Data(DataKind::Vxlan), 2) => "IFLA_VXLAN_GROUP",
        (Space::Data(DataKind::Vxlan), 3) => "IFLA_VXLAN_LINK",
        (Space::Data(DataKind::Vxlan), 4) => "IFLA_VXLAN_LOCAL",
        (Space::Data(DataKind::Vxlan), 5) => "IFLA_VXLAN_TTL",
        (Space::Data(DataKind::Vxlan), 7) => "IFLA_VXLAN_LEARNING",
        (Space::Data(DataKind::Vxlan), 15) => "IFLA_VXLAN_PORT",
        (Space::Data(DataKind::Vxlan), 16) => "IFLA_VXLAN_GROUP6",
        (Space::Data(DataKind::Vxlan), 17) => "IFLA_VXLAN_LOCAL6",
        (Space::Data(DataKind::Bridge), 1) => "IFLA_BR_FORWARD_DELAY",
        (Space::Data(DataKind::Bridge), 5) => "IFLA_BR_STP_STATE",
        (Space::Data(DataKind::Bridge), 7) => "IFLA_BR_VLAN_FILTERING",
        (Space::Data(DataKind::IpVlan), 1) => "IFLA_IPVLAN_MODE",
        (Space::Data(DataKind::IpVlan), 2) => "IFLA_IPVLAN_FLAGS",
        (Space::Data(DataKind::Bond), 1) => "IFLA_BOND_MODE",
        (Space::Data(DataKind::Bond), 3) => "IFLA_BOND_MIIMON",
        (Space::Data(DataKind::Vrf), 1) => "IFLA_VRF_TABLE",
        (Space::Data(DataKind::Gre), 1) => "IFLA_GRE_LINK",
        (Space::Data(DataKind::Gre), 2) => "IFLA_GRE_IFLAGS",
        (Space::Data(DataKind::Gre), 3) => "IFLA_GRE_OFLAGS",
        (Space::Data(DataKind::Gre), 4) => "IFLA_GRE_IKEY",
        (Space::Data(DataKind::Gre), 5) => "IFLA_GRE_OKEY",
        (Space::Data(DataKind::Gre), 6) => "IFLA_GRE_LOCAL",
        (Space::Data(DataKind::Gre), 7) => "IFLA_GRE_REMOTE",
        (Space::Data(DataKind::Gre), 8) => "IFLA_GRE_TTL",
        (Space::Data(DataKind::Gre), 9) => "IFLA_GRE_TOS",
        (Space::Data(DataKind::Gre), 10) => "IFLA_GRE_PMTUDISC",
        (Space::Data(DataKind::Gre), 11) => "IFLA_GRE_ENCAP_LIMIT",
        (Space::Data(DataKind::Gre), 12) => "IFLA_GRE_FLOWINFO",
        (Space::Data(DataKind::Gre), 13) => "IFLA_GRE_FLAGS",
        (Space::Data(DataKind::Gre), 14) => "IFLA_GRE_ENCAP_TYPE",
        (Space::Data(DataKind::Gre), 15) => "IFLA_GRE_ENCAP_FLAGS",
        (Space::Data(DataKind::Gre), 16) => "IFLA_GRE_ENCAP_SPORT",
        (Space::Data(DataKind::Gre), 17) => "IFLA_GRE_ENCAP_DPORT",
        (Space::Data(DataKind::Gre), 20) => "IFLA_GRE_FWMARK",
        (Space::Data(DataKind::Gre), 22) => "IFLA_GRE_ERSPAN_VER",
        (Space::Addr, 1) => "IFA_ADDRESS",
        (Space::Addr, 2) => "IFA_LOCAL",
        (Space::Addr, 3) => "IFA_LABEL",
        (Space::Addr, 4) => "IFA_BROADCAST",
        (Space::Addr, 6) => "IFA_CACHEINFO",
        (Space::Addr, 8) => "IFA_FLAGS",
        _ => return format!("type {kind}"),
    };
    name.to_string()
}

/// A decoded attribute. `flags` keeps NLA_F_NESTED / NLA_F_NET_BYTEORDER as sent; `len` is the
/// nla_len as sent (re-encoding recomputes it from the value).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Attr {
    name: String,
    kind: u16,
    flags: u16,
    len: usize,
    value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Bytes(Vec<u8>),
    Nest(Vec<Attr>),
    /// VETH_INFO_PEER: a struct ifinfomsg, then link attributes.
    Peer {
        ifinfomsg: Vec<u8>,
        attrs: Vec<Attr>,
    },
}

/// A decoded request: the nlmsghdr fields, the family header, the attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decoded {
    len: u32,
    msg_type: u16,
    flags: u16,
    seq: u32,
    pid: u32,
    family_header: Vec<u8>,
    attrs: Vec<Attr>,
}

fn decode(msg: &[u8]) -> Decoded {
    let end = nlmsg_end(msg);
    let start = attrs_start(msg);
    let space = if u16_at(msg, 4) == RTM_NEWLINK {
        Space::Link
    } else {
        Space::Addr
    };
    Decoded {
        len: u32_at(msg, 0),
        msg_type: u16_at(msg, 4),
        flags: u16_at(msg, 6),
        seq: u32_at(msg, 8),
        pid: u32_at(msg, 12),
        family_header: msg[NLMSG_HDRLEN..start].to_vec(),
        attrs: decode_attrs(msg, start, end, space),
    }
}

fn decode_attrs(b: &[u8], start: usize, end: usize, space: Space) -> Vec<Attr> {
    let data_kind = match space {
        Space::LinkInfo => DataKind::of(info_kind(b, start, end).as_deref()),
        _ => DataKind::Unknown,
    };
    nlas(b, start, end)
        .into_iter()
        .map(|a| {
            let (s, e) = a.body();
            let value = match (space, a.kind()) {
                (Space::Link, IFLA_LINKINFO) => Value::Nest(decode_attrs(b, s, e, Space::LinkInfo)),
                (Space::LinkInfo, IFLA_INFO_DATA) => {
                    Value::Nest(decode_attrs(b, s, e, Space::Data(data_kind)))
                }
                (Space::Data(DataKind::Veth), VETH_INFO_PEER) => Value::Peer {
                    ifinfomsg: b[s..s + IFINFOMSG_LEN].to_vec(),
                    attrs: decode_attrs(b, s + IFINFOMSG_LEN, e, Space::Link),
                },
                _ => Value::Bytes(a.value(b).to_vec()),
            };
            Attr {
                name: attr_name(space, a.kind()),
                kind: a.kind(),
                flags: a.raw & !NLA_TYPE_MASK,
                len: a.len,
                value,
            }
        })
        .collect()
}

/// The inverse of `decode` for a message whose padding is zero: lengths are recomputed, and a
/// nest's nla_len includes its last member's padding, as both iproute2 and netlink-packet-route
/// write it. `check` verifies the round trip on both sides before relying on it.
fn reencode(d: &Decoded) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(&d.msg_type.to_ne_bytes());
    out.extend_from_slice(&d.flags.to_ne_bytes());
    out.extend_from_slice(&d.seq.to_ne_bytes());
    out.extend_from_slice(&d.pid.to_ne_bytes());
    out.extend_from_slice(&d.family_header);
    encode_attrs(&mut out, &d.attrs);
    let len = out.len() as u32;
    out[0..4].copy_from_slice(&len.to_ne_bytes());
    out
}

fn encode_attrs(out: &mut Vec<u8>, attrs: &[Attr]) {
    for a in attrs {
        let at = out.len();
        out.extend_from_slice(&[0; NLA_HDRLEN]);
        match &a.value {
            Value::Bytes(v) => out.extend_from_slice(v),
            Value::Nest(inner) => encode_attrs(out, inner),
            Value::Peer { ifinfomsg, attrs } => {
                out.extend_from_slice(ifinfomsg);
                encode_attrs(out, attrs);
            }
        }
        let len = (out.len() - at) as u16;
        out[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        out[at + 2..at + 4].copy_from_slice(&(a.kind | a.flags).to_ne_bytes());
        out.resize(align4(out.len()), 0);
    }
}

/// `decode.py`-style text: header, family header, then one line per attribute, nests indented.
fn describe(msg: &[u8]) -> String {
    let d = decode(msg);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "nlmsghdr len={} type={} flags={:#06x} seq={} pid={}",
        d.len, d.msg_type, d.flags, d.seq, d.pid
    );
    let _ = writeln!(out, "{}", describe_family_header(d.msg_type, &d.family_header));
    describe_attrs(&mut out, &d.attrs, 0);
    out
}

fn describe_family_header(msg_type: u16, h: &[u8]) -> String {
    if msg_type == RTM_NEWLINK {
        format!(
            "ifinfomsg family={} type={} index={} flags={:#x} change={:#x}",
            h[0],
            u16_at(h, 2),
            u32_at(h, 4) as i32,
            u32_at(h, 8),
            u32_at(h, 12)
        )
    } else {
        format!(
            "ifaddrmsg family={} prefixlen={} flags={:#x} scope={} index={}",
            h[0],
            h[1],
            h[2],
            h[3],
            u32_at(h, 4)
        )
    }
}

/// Shows a value as text too when it looks like a string; the Debug form makes a trailing NUL
/// visible (`"vxlan\0"` against `"vxlan"`).
fn as_text(v: &[u8]) -> Option<String> {
    let text = v.strip_suffix(&[0]).unwrap_or(v);
    (text.len() >= 2 && text.iter().all(|c| c.is_ascii_graphic()))
        .then(|| format!("{:?}", String::from_utf8_lossy(v)))
}

fn describe_attrs(out: &mut String, attrs: &[Attr], depth: usize) {
    let pad = "  ".repeat(depth + 1);
    for a in attrs {
        let flags = match a.flags {
            0 => String::new(),
            f => format!(" |flags {f:#06x}"),
        };
        match &a.value {
            Value::Bytes(v) => {
                let text = as_text(v).map(|t| format!("  ({t})")).unwrap_or_default();
                let _ = writeln!(out, "{pad}len={:<3} {}{flags}: {}{text}", a.len, a.name, hex(v));
            }
            Value::Nest(inner) => {
                let _ = writeln!(out, "{pad}len={:<3} {}{flags}:", a.len, a.name);
                describe_attrs(out, inner, depth + 1);
            }
            Value::Peer { ifinfomsg, attrs } => {
                let _ = writeln!(out, "{pad}len={:<3} {}{flags}:", a.len, a.name);
                let _ = writeln!(out, "{pad}  {}", describe_family_header(RTM_NEWLINK, ifinfomsg));
                describe_attrs(out, attrs, depth + 1);
            }
        }
    }
}

/// Every message in full (hex and tree), then where the last two first differ.
fn report(case: &str, messages: &[(&str, &[u8])]) -> String {
    let mut out = format!("{case}: tenus' request does not match iproute2's\n");
    for (label, m) in messages {
        let _ = write!(
            out,
            "--- {label} ({} bytes)\n{}\n{}",
            m.len(),
            hex(m),
            describe(m)
        );
    }
    if let [.., (_, a), (_, b)] = messages {
        let first = a
            .iter()
            .zip(b.iter())
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        let _ = writeln!(out, "--- the last two first differ at byte {first}");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The comparison

/// A difference tenus makes on purpose (or inherits from its libraries), and which the kernel
/// treats as the same request. A case lists the ones its request has; `undo` takes each one out
/// of tenus' decoded request, failing if it isn't there.
#[derive(Debug, Clone, Copy)]
enum Difference {
    /// netlink-packet-route's `InfoKind` always writes IFLA_INFO_KIND with a trailing NUL
    /// (nla_len = 4 + strlen + 1); iproute2 writes `strlen(type)` bytes without one. The kernel
    /// copies the kind with `nla_strscpy` under an NLA_STRING policy, which reads both the same
    /// way, and it sends the kind NUL-terminated itself in its dumps. Through the padding this
    /// can also change IFLA_LINKINFO's and the message's length by 4 (`vlan`, `veth`).
    InfoKindNul,
    /// rtnetlink's `AddressMessageBuilder` sends IFA_ADDRESS then IFA_LOCAL; `ip` sends
    /// IFA_LOCAL then IFA_ADDRESS. The kernel reads both by type (`nlmsg_parse` into a table),
    /// so the order has no effect.
    AddrOrder,
    /// rtnetlink's `AddressMessageBuilder` adds IFA_BROADCAST (the subnet's broadcast address,
    /// here this value) to IPv4 addresses with a prefix shorter than /31, as
    /// `ip addr add CIDR brd + dev X` would. Plain `ip addr add` sends none, and then the kernel
    /// records no broadcast address. Unlike the others this one is visible afterwards
    /// (`ip addr show` prints `brd 10.0.0.255` for tenus' address); it is tenus' behaviour as
    /// built, so it is asserted with its value rather than normalised away.
    AddrBroadcast(Ipv4Addr),
    /// `ip` sends this IFLA_INFO_DATA attribute (type, value); tenus leaves it out, and the
    /// kernel uses this very value when the attribute is absent. Each use names the kernel code
    /// that says so. The undo adds it to tenus' IFLA_INFO_DATA (at the end: `DataOrder` places it).
    KernelDefault(u16, &'static [u8]),
    /// `ip` sends this IFLA_INFO_DATA attribute (type, value); tenus leaves it out, and the
    /// kernel never reads it for this kind, or only when another attribute (also left at its
    /// default) turns the feature on. Each use says which. Undone like `KernelDefault`.
    Inert(u16, &'static [u8]),
    /// The IFLA_INFO_DATA attribute types in the order `ip` sends them. The kernel parses these
    /// nests into a table indexed by type (`nla_parse_nested_deprecated`), so order has no
    /// effect. The undo requires tenus to send exactly these types, each once, in another order
    /// (missing or extra types are named: those are real differences), and reorders them.
    DataOrder(&'static [u16]),
}

/// tenus' IFLA_INFO_DATA attributes (the nest inside IFLA_LINKINFO), and their attribute space.
fn info_data(d: &mut Decoded) -> Result<(&mut Vec<Attr>, Space), String> {
    let linkinfo = d
        .attrs
        .iter_mut()
        .find(|a| a.kind == IFLA_LINKINFO)
        .ok_or("no IFLA_LINKINFO")?;
    let Value::Nest(info) = &mut linkinfo.value else {
        return Err("IFLA_LINKINFO is not a nest".into());
    };
    let kind = info
        .iter()
        .find(|a| a.kind == IFLA_INFO_KIND)
        .and_then(|a| match &a.value {
            Value::Bytes(v) => Some(String::from_utf8_lossy(v).trim_end_matches('\0').to_string()),
            _ => None,
        });
    let space = Space::Data(DataKind::of(kind.as_deref()));
    let data = info
        .iter_mut()
        .find(|a| a.kind == IFLA_INFO_DATA)
        .ok_or("tenus sent no IFLA_INFO_DATA")?;
    match &mut data.value {
        Value::Nest(attrs) => Ok((attrs, space)),
        _ => Err("IFLA_INFO_DATA is not a nest".into()),
    }
}

/// Adds an attribute `ip` sends and tenus omits (`KernelDefault`, `Inert`).
fn add_omitted(d: &mut Decoded, diff: Difference, kind: u16, value: &[u8]) -> Result<(), String> {
    let (data, space) = info_data(d).map_err(|e| format!("{diff:?}: {e}"))?;
    if let Some(a) = data.iter().find(|a| a.kind == kind) {
        return Err(format!(
            "{diff:?}: tenus now sends {} itself ({}); drop this difference",
            a.name,
            match &a.value {
                Value::Bytes(v) => hex(v),
                _ => "a nest".into(),
            }
        ));
    }
    data.push(Attr {
        name: attr_name(space, kind),
        kind,
        flags: 0,
        len: NLA_HDRLEN + value.len(),
        value: Value::Bytes(value.to_vec()),
    });
    Ok(())
}

fn undo(d: &mut Decoded, diff: Difference) -> Result<(), String> {
    match diff {
        Difference::InfoKindNul => {
            let linkinfo = d
                .attrs
                .iter_mut()
                .find(|a| a.kind == IFLA_LINKINFO)
                .ok_or("InfoKindNul: no IFLA_LINKINFO")?;
            let Value::Nest(info) = &mut linkinfo.value else {
                return Err("IFLA_LINKINFO is not a nest".into());
            };
            let kind = info
                .iter_mut()
                .find(|a| a.kind == IFLA_INFO_KIND)
                .ok_or("InfoKindNul: no IFLA_INFO_KIND")?;
            let Value::Bytes(v) = &mut kind.value else {
                return Err("IFLA_INFO_KIND is not a string".into());
            };
            match v.split_last() {
                Some((0, rest)) if !rest.is_empty() && !rest.contains(&0) => {
                    v.pop();
                    Ok(())
                }
                _ => Err(format!(
                    "InfoKindNul: tenus' IFLA_INFO_KIND {:?} no longer ends in one NUL; if it now matches \
                     iproute2, drop InfoKindNul from this case",
                    String::from_utf8_lossy(v)
                )),
            }
        }
        Difference::AddrOrder => {
            let pos = |k| d.attrs.iter().position(|a| a.kind == k);
            match (pos(IFA_ADDRESS), pos(IFA_LOCAL)) {
                (Some(address), Some(local)) if address < local => {
                    let local = d.attrs.remove(local);
                    d.attrs.insert(address, local);
                    Ok(())
                }
                other => Err(format!(
                    "AddrOrder: expected IFA_ADDRESS before IFA_LOCAL, found them at {other:?}; if the order \
                     now matches iproute2, drop AddrOrder from this case"
                )),
            }
        }
        Difference::KernelDefault(kind, value) | Difference::Inert(kind, value) => {
            add_omitted(d, diff, kind, value)
        }
        Difference::DataOrder(order) => {
            let (data, space) = info_data(d).map_err(|e| format!("DataOrder: {e}"))?;
            let ours: Vec<u16> = data.iter().map(|a| a.kind).collect();
            let name = |k: &u16| attr_name(space, *k);
            let missing: Vec<String> = order.iter().filter(|k| !ours.contains(k)).map(name).collect();
            let extra: Vec<String> = ours.iter().filter(|k| !order.contains(k)).map(name).collect();
            let mut sorted = ours.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if !missing.is_empty() || !extra.is_empty() || sorted.len() != ours.len() {
                return Err(format!(
                    "DataOrder: tenus' IFLA_INFO_DATA is not iproute2's in another order: iproute2 also \
                     sends {missing:?}, tenus also sends {extra:?} (types as sent: {ours:?})"
                ));
            }
            if ours == order {
                return Err("DataOrder: tenus already sends iproute2's order; drop DataOrder".into());
            }
            data.sort_by_key(|a| order.iter().position(|k| *k == a.kind));
            Ok(())
        }
        Difference::AddrBroadcast(expected) => {
            let i = d.attrs.iter().position(|a| a.kind == IFA_BROADCAST).ok_or(
                "AddrBroadcast: tenus sent no IFA_BROADCAST; if that is intended, drop AddrBroadcast",
            )?;
            match &d.attrs[i].value {
                Value::Bytes(v) if v[..] == expected.octets() => {
                    d.attrs.remove(i);
                    Ok(())
                }
                other => Err(format!(
                    "AddrBroadcast: IFA_BROADCAST is {other:?}, expected {expected}"
                )),
            }
        }
    }
}

/// Compares tenus' request with the fixture `case`: byte for byte when `differences` is empty,
/// otherwise attribute by attribute with exactly those differences taken out (module docs).
fn check(case: &str, ours: &[u8], differences: &[Difference]) {
    let theirs = normalise(&fixture(case));
    let ours = normalise(ours);
    if differences.is_empty() {
        assert!(
            ours == theirs,
            "{}",
            report(case, &[("tenus", &ours), ("iproute2", &theirs)])
        );
        return;
    }
    // The decoded lists must hold every byte of both messages, or comparing them could miss
    // something (a non-zero pad byte, a nest length that isn't its contents').
    for (who, m) in [("tenus", &ours), ("iproute2", &theirs)] {
        assert!(
            reencode(&decode(m)) == *m,
            "{}",
            report(case, &[(who, m), ("re-encoded", &reencode(&decode(m)))])
        );
    }
    let mut decoded = decode(&ours);
    for &diff in differences {
        if let Err(e) = undo(&mut decoded, diff) {
            panic!(
                "{case}: {e}\n{}",
                report(case, &[("tenus", &ours), ("iproute2", &theirs)])
            );
        }
    }
    let rebuilt = reencode(&decoded);
    let label = format!("tenus with {differences:?} undone");
    assert!(
        rebuilt == theirs,
        "{}",
        report(
            case,
            &[
                ("tenus as sent", &ours),
                (&label, &rebuilt),
                ("iproute2", &theirs)
            ]
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Link cases: the same request as each fixture's `ip link add` command (cases.json)

/// No namespace but the process's own (no case has a peer elsewhere).
struct Here;

impl ParseContext for Here {
    fn peer(&mut self, _: &str, _: u32) -> tenus_core::Result<Namespace> {
        Namespace::current()
    }
}

/// A link spec as JavaScript would give it: `kind` and a JSON object of options.
fn spec(kind: &str, options: serde_json::Value) -> LinkSpec {
    LinkSpec::from_json(kind, options, &mut Here).expect("the spec is valid")
}

/// Resolves names as they were in the capture's namespace: the parent `p0` is ifindex 2.
fn encode(spec: &LinkSpec) -> Vec<u8> {
    let mut resolved = Resolved::names(spec);
    resolved.parent = spec.kind.parent().map(|_| P0_INDEX);
    encode_new_link(spec, &resolved).expect("encodes")
}

fn addr(cidr: &str) -> Vec<u8> {
    let (a, prefix) = args::cidr("address", cidr).unwrap();
    encode_addr_add(P0_INDEX, a, prefix, false)
}

/// Every link case: the kind string's NUL is the only difference (see `InfoKindNul`).
const LINK: &[Difference] = &[Difference::InfoKindNul];

/// `ip link add d0 type dummy`
#[test]
fn dummy() {
    check("dummy", &encode(&spec("dummy", json!({"name": "d0"}))), LINK);
}

/// `ip link add d0 mtu 1400 up type dummy`: `up` is IFF_UP in the same request.
#[test]
fn dummy_mtu_up() {
    let spec = spec("dummy", json!({"name": "d0", "mtu": 1400, "up": true}));
    check("dummy_mtu_up", &encode(&spec), LINK);
}

/// `ip link add link p0 name p0.10 type vlan id 10`: no IFLA_VLAN_PROTOCOL for the default.
#[test]
fn vlan_8021q() {
    let spec = spec("vlan", json!({"name": "p0.10", "parent": "p0", "id": 10}));
    check("vlan_8021q", &encode(&spec), LINK);
}

/// `ip link add link p0 name p0.20 type vlan protocol 802.1ad id 20`
#[test]
fn vlan_8021ad() {
    let spec = spec(
        "vlan",
        json!({"name": "p0.20", "parent": "p0", "id": 20, "protocol": "802.1ad"}),
    );
    check("vlan_8021ad", &encode(&spec), LINK);
}

/// `ip link add br0 type bridge`: no IFLA_INFO_DATA when no bridge option is given.
#[test]
fn bridge() {
    check("bridge", &encode(&spec("bridge", json!({"name": "br0"}))), LINK);
}

/// `ip link add v0 type veth peer name v1`
#[test]
fn veth() {
    check(
        "veth",
        &encode(&spec("veth", json!({"name": "v0", "peer": "v1"}))),
        LINK,
    );
}

/// `ip link add link p0 name mv0 type macvlan mode bridge`
#[test]
fn macvlan_bridge() {
    let spec = spec(
        "macvlan",
        json!({"name": "mv0", "parent": "p0", "mode": "bridge"}),
    );
    check("macvlan_bridge", &encode(&spec), LINK);
}

/// `ip link add link p0 name mt0 type macvtap mode vepa`
#[test]
fn macvtap_vepa() {
    let spec = spec("macvtap", json!({"name": "mt0", "parent": "p0", "mode": "vepa"}));
    check("macvtap_vepa", &encode(&spec), LINK);
}

/// `ip link add vx0 type vxlan id 42 dstport 4789 local 10.0.0.1 remote 10.0.0.2 dev p0`:
/// the parent goes in IFLA_VXLAN_LINK, not IFLA_LINK, and learning is sent unasked.
#[test]
fn vxlan() {
    let spec = spec(
        "vxlan",
        json!({"name": "vx0", "vni": 42, "port": 4789, "local": "10.0.0.1", "remote": "10.0.0.2", "parent": "p0"}),
    );
    check("vxlan", &encode(&spec), LINK);
}

/// `ip link add d1 mtu 1400 group 7 type bridge`
#[test]
fn link_group_mtu() {
    let spec = spec("bridge", json!({"name": "d1", "mtu": 1400, "group": 7}));
    check("link_group_mtu", &encode(&spec), LINK);
}

// ---------------------------------------------------------------------------------------------
// Kinds added later: ipvlan, bond, vrf, the GRE family, wireguard

/// `ip link add link p0 name ipv0 type ipvlan mode l2`: ip sends IFLA_IPVLAN_FLAGS = 0 (bridge)
/// as well; tenus sends flags only when one is asked for. ipvlan_nl_changelink reads
/// IFLA_IPVLAN_FLAGS only if present, and a new port starts with flags 0 (ipvlan_port_create
/// zero-allocates it), so leaving it out gives the same bridge-mode link.
#[test]
fn ipvlan_l2() {
    let spec = spec("ipvlan", json!({"name": "ipv0", "parent": "p0", "mode": "l2"}));
    check(
        "ipvlan_l2",
        &encode(&spec),
        &[
            Difference::InfoKindNul,
            Difference::KernelDefault(IFLA_IPVLAN_FLAGS, &[0, 0]),
        ],
    );
}

/// `ip link add link p0 name ipv1 type ipvlan mode l3 private`: mode 1 (l3), flags 1 (private).
#[test]
fn ipvlan_l3_private() {
    let spec = spec(
        "ipvlan",
        json!({"name": "ipv1", "parent": "p0", "mode": "l3", "flag": "private"}),
    );
    check("ipvlan_l3_private", &encode(&spec), LINK);
}

/// `ip link add bond0 type bond mode active-backup miimon 100`: IFLA_BOND_MODE (u8) = 1, then
/// IFLA_BOND_MIIMON (u32) = 100.
#[test]
fn bond() {
    let spec = spec(
        "bond",
        json!({"name": "bond0", "mode": "active-backup", "miimon": 100}),
    );
    check("bond", &encode(&spec), LINK);
}

/// `ip link add vrf0 type vrf table 10`
#[test]
fn vrf() {
    check(
        "vrf",
        &encode(&spec("vrf", json!({"name": "vrf0", "table": 10}))),
        LINK,
    );
}

/// `ip link add wg0 type wireguard`: the kind alone, no IFLA_INFO_DATA.
#[test]
fn wireguard() {
    check(
        "wireguard",
        &encode(&spec("wireguard", json!({"name": "wg0"}))),
        LINK,
    );
}

fn gre_spec(kind: &str, name: &str, local: &str, remote: &str) -> LinkSpec {
    spec(
        kind,
        json!({"name": name, "local": local, "remote": remote, "ttl": 64, "key": 42}),
    )
}

/// gre and gretap (ip/link_gre.c): what ip sends beyond tenus, and its order. The values are
/// the ones `ipgre_netlink_parms` (net/ipv4/ip_gre.c) arrives at without the attribute: the
/// parameters start zeroed, `!data[IFLA_GRE_PMTUDISC] || nla_get_u8(...)` turns PMTU discovery
/// on, and `ipgre_netlink_encap_parms` leaves the encapsulation zeroed (type none).
const GRE: &[Difference] = &[
    Difference::InfoKindNul,
    Difference::KernelDefault(IFLA_GRE_PMTUDISC, &[1]),
    Difference::KernelDefault(IFLA_GRE_TOS, &[0]),
    Difference::KernelDefault(IFLA_GRE_FWMARK, &[0, 0, 0, 0]),
    Difference::KernelDefault(IFLA_GRE_ENCAP_TYPE, &[0, 0]),
    Difference::KernelDefault(IFLA_GRE_ENCAP_FLAGS, &[0, 0]),
    Difference::KernelDefault(IFLA_GRE_ENCAP_SPORT, &[0, 0]),
    Difference::KernelDefault(IFLA_GRE_ENCAP_DPORT, &[0, 0]),
    // ip: ikey, okey, iflags, oflags; tenus: iflags, oflags, ikey, okey.
    Difference::DataOrder(&[
        IFLA_GRE_IKEY,
        IFLA_GRE_OKEY,
        IFLA_GRE_IFLAGS,
        IFLA_GRE_OFLAGS,
        IFLA_GRE_LOCAL,
        IFLA_GRE_REMOTE,
        IFLA_GRE_PMTUDISC,
        IFLA_GRE_TOS,
        IFLA_GRE_TTL,
        IFLA_GRE_FWMARK,
        IFLA_GRE_ENCAP_TYPE,
        IFLA_GRE_ENCAP_FLAGS,
        IFLA_GRE_ENCAP_SPORT,
        IFLA_GRE_ENCAP_DPORT,
    ]),
];

/// ip6gre and ip6gretap (ip/link_gre6.c): the harmless part of what ip sends beyond tenus.
/// `ip6gre_netlink_parms` (net/ipv6/ip6_gre.c) `memset`s the parameters to 0 and reads each
/// attribute only if present, so the zero values below are the kernel's defaults.
/// IFLA_GRE_ERSPAN_VER is read only by `ip6erspan_set_version`, for ip6erspan links. The
/// IFLA_GRE_ENCAP_FLAGS bit (TUNNEL_ENCAP_FLAG_CSUM6, ip's default) is used only by a FOU/GUE
/// encapsulation, and IFLA_GRE_ENCAP_TYPE is none.
///
/// Not listed, because it is not harmless: IFLA_GRE_ENCAP_LIMIT = 4
/// (IPV6_DEFAULT_TNL_ENCAP_LIMIT). Without it the kernel's encap_limit is 0, so every packet
/// carries a Tunnel Encapsulation Limit option of 0 and must not be encapsulated again on its
/// way (RFC 2473), and `ip -d link` shows `encaplimit 0` where ip's own tunnel has 4.
const IP6GRE_HARMLESS: &[Difference] = &[
    Difference::InfoKindNul,
    Difference::KernelDefault(IFLA_GRE_FLOWINFO, &[0, 0, 0, 0]),
    Difference::KernelDefault(IFLA_GRE_FLAGS, &[0, 0, 0, 0]),
    Difference::KernelDefault(IFLA_GRE_FWMARK, &[0, 0, 0, 0]),
    Difference::Inert(IFLA_GRE_ERSPAN_VER, &[1]),
    Difference::KernelDefault(IFLA_GRE_ENCAP_TYPE, &[0, 0]),
    Difference::Inert(IFLA_GRE_ENCAP_FLAGS, &[2, 0]),
    Difference::KernelDefault(IFLA_GRE_ENCAP_SPORT, &[0, 0]),
    Difference::KernelDefault(IFLA_GRE_ENCAP_DPORT, &[0, 0]),
    Difference::DataOrder(&[
        IFLA_GRE_IKEY,
        IFLA_GRE_OKEY,
        IFLA_GRE_IFLAGS,
        IFLA_GRE_OFLAGS,
        IFLA_GRE_LOCAL,
        IFLA_GRE_REMOTE,
        IFLA_GRE_TTL,
        IFLA_GRE_ENCAP_LIMIT,
        IFLA_GRE_FLOWINFO,
        IFLA_GRE_FLAGS,
        IFLA_GRE_FWMARK,
        IFLA_GRE_ERSPAN_VER,
        IFLA_GRE_ENCAP_TYPE,
        IFLA_GRE_ENCAP_FLAGS,
        IFLA_GRE_ENCAP_SPORT,
        IFLA_GRE_ENCAP_DPORT,
    ]),
];

/// `ip link add gre0 type gre local 10.0.0.1 remote 10.0.0.2 ttl 64 key 42`: the key goes out
/// big-endian (00 00 00 2a) in IFLA_GRE_IKEY and IFLA_GRE_OKEY, with GRE_KEY (0x2000,
/// big-endian) in both flags, the addresses as 4 bytes, ttl as a u8. (On a kernel with ip_gre,
/// the name gre0 is taken by the fallback device; the capture kernel has no GRE.)
#[test]
fn gre() {
    check(
        "gre",
        &encode(&gre_spec("gre", "gre0", "10.0.0.1", "10.0.0.2")),
        GRE,
    );
}

/// `ip link add gt0 type gretap local 10.0.0.1 remote 10.0.0.2 ttl 64 key 42`
#[test]
fn gretap() {
    check(
        "gretap",
        &encode(&gre_spec("gretap", "gt0", "10.0.0.1", "10.0.0.2")),
        GRE,
    );
}

/// `ip link add g60 type ip6gre local fd00::1 remote fd00::2 ttl 64 key 42`.
///
/// Fails: tenus sends no IFLA_GRE_ENCAP_LIMIT, so the tunnel gets encapsulation limit 0 where
/// ip's gets 4 (see `IP6GRE_HARMLESS`). Once tenus sends it (u8 4, after IFLA_GRE_TTL), this passes.
#[test]
fn ip6gre() {
    check(
        "ip6gre",
        &encode(&gre_spec("ip6gre", "g60", "fd00::1", "fd00::2")),
        IP6GRE_HARMLESS,
    );
}

/// `ip link add g6t0 type ip6gretap local fd00::1 remote fd00::2 ttl 64 key 42`. Fails like `ip6gre`.
#[test]
fn ip6gretap() {
    check(
        "ip6gretap",
        &encode(&gre_spec("ip6gretap", "g6t0", "fd00::1", "fd00::2")),
        IP6GRE_HARMLESS,
    );
}

// ---------------------------------------------------------------------------------------------
// Address cases: `ip addr add CIDR dev p0` (p0 is ifindex 2)
//
// Both sides send the same nlmsghdr flags and ifaddrmsg (family, prefixlen, flags 0, scope 0 =
// universe, index 2), and neither sends IFA_FLAGS (`ip` only does for flags above 0xff). What
// differs is the attribute order and, for IPv4, IFA_BROADCAST (`AddrOrder`, `AddrBroadcast`).

const IFLA_GENEVE_ID: u16 = 1;
const IFLA_GENEVE_REMOTE: u16 = 2;
const IFLA_GENEVE_TTL: u16 = 3;
const IFLA_GENEVE_TOS: u16 = 4;
const IFLA_GENEVE_PORT: u16 = 5;
const IFLA_GENEVE_LABEL: u16 = 11;
const IFLA_GENEVE_DF: u16 = 13;

/// `ip link add gnv0 type geneve id 42 remote 10.0.0.2 ttl 64 dstport 6081 df set`: ip also
/// sends IFLA_GENEVE_LABEL = 0 and IFLA_GENEVE_TOS = 0, which geneve_nl2info reads only when
/// present into a config it zero-fills first (geneve_newlink: `struct geneve_config cfg = {}`),
/// so leaving them out gives the same link.
#[test]
fn geneve() {
    let spec = spec(
        "geneve",
        json!({"name": "gnv0", "id": 42, "remote": "10.0.0.2", "ttl": 64, "port": 6081, "df": "set"}),
    );
    check(
        "geneve",
        &encode(&spec),
        &[
            Difference::InfoKindNul,
            Difference::KernelDefault(IFLA_GENEVE_LABEL, &[0, 0, 0, 0]),
            Difference::KernelDefault(IFLA_GENEVE_TOS, &[0]),
            Difference::DataOrder(&[
                IFLA_GENEVE_DF,
                IFLA_GENEVE_ID,
                IFLA_GENEVE_REMOTE,
                IFLA_GENEVE_LABEL,
                IFLA_GENEVE_TTL,
                IFLA_GENEVE_TOS,
                IFLA_GENEVE_PORT,
            ]),
        ],
    );
}

/// `ip link add ifb0 type ifb`
#[test]
fn ifb() {
    check("ifb", &encode(&spec("ifb", json!({"name": "ifb0"}))), LINK);
}

/// `ip addr add 10.0.0.1/24 dev p0`
#[test]
fn addr_add_v4() {
    let ours = addr("10.0.0.1/24");
    let broadcast = Difference::AddrBroadcast(Ipv4Addr::new(10, 0, 0, 255));
    check("addr_add_v4", &ours, &[Difference::AddrOrder, broadcast]);
}

/// `ip addr add fd00::1/64 dev p0`: IPv6 has no broadcast, so only the order differs.
#[test]
fn addr_add_v6() {
    let ours = addr("fd00::1/64");
    check("addr_add_v6", &ours, &[Difference::AddrOrder]);
}

// ---------------------------------------------------------------------------------------------
// The fixture set and the comparison itself

const CASES: [&str; 23] = [
    "dummy",
    "dummy_mtu_up",
    "vlan_8021q",
    "vlan_8021ad",
    "bridge",
    "veth",
    "macvlan_bridge",
    "macvtap_vepa",
    "vxlan",
    "link_group_mtu",
    "addr_add_v4",
    "addr_add_v6",
    "ipvlan_l2",
    "ipvlan_l3_private",
    "bond",
    "vrf",
    "gre",
    "gretap",
    "ip6gre",
    "ip6gretap",
    "wireguard",
    "geneve",
    "ifb",
];

/// Every `<case>.hex` has a test above and an entry in cases.json, so a new capture can't go
/// untested.
#[test]
fn every_fixture_is_tested() {
    let mut on_disk: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".hex").map(str::to_string))
        // Routes, rules and nexthops: tests/iproute2_routes.rs checks them (and that each is tested).
        .filter(|n| !(n.starts_with("route_") || n.starts_with("rule_") || n.starts_with("nh_")))
        .collect();
    on_disk.sort();
    let mut tested: Vec<String> = CASES.iter().map(|c| c.to_string()).collect();
    tested.sort();
    assert_eq!(on_disk, tested);
    let index = std::fs::read_to_string(format!("{FIXTURES}/cases.json")).unwrap();
    for case in CASES {
        assert!(
            index.contains(&format!("\"{case}\": {{")),
            "cases.json has no entry for {case}"
        );
    }
}

/// `normalise` does no more than it says: seq, pid and the nest flags go, a flag on a leaf
/// stays.
#[test]
fn normalisation_touches_only_seq_pid_and_nest_flags() {
    let original = fixture("veth");
    let mut changed = original.clone();
    changed[8..16].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    let set_nested = |b: &mut Vec<u8>, a: Nla| {
        b[a.at + 2..a.at + 4].copy_from_slice(&(a.raw | NLA_F_NESTED).to_ne_bytes())
    };
    // IFLA_LINKINFO -> IFLA_INFO_DATA -> VETH_INFO_PEER
    let end = changed.len();
    let linkinfo = nlas(&changed, NLMSG_HDRLEN + IFINFOMSG_LEN, end)
        .into_iter()
        .find(|a| a.kind() == IFLA_LINKINFO)
        .unwrap();
    let (s, e) = linkinfo.body();
    let data = nlas(&changed, s, e)
        .into_iter()
        .find(|a| a.kind() == IFLA_INFO_DATA)
        .unwrap();
    let (s, e) = data.body();
    let peer = nlas(&changed, s, e)
        .into_iter()
        .find(|a| a.kind() == VETH_INFO_PEER)
        .unwrap();
    for nest in [linkinfo, data, peer] {
        set_nested(&mut changed, nest);
    }
    assert_ne!(changed, original);
    assert_eq!(normalise(&changed), normalise(&original));
    // The peer's IFLA_IFNAME is a leaf: a flag there is a real difference.
    let (s, e) = peer.body();
    let ifname = nlas(&changed, s + IFINFOMSG_LEN, e)[0];
    set_nested(&mut changed, ifname);
    assert_ne!(normalise(&changed), normalise(&original));
}

/// A difference that isn't listed fails, and so does a listed one that isn't there.
#[test]
fn unlisted_or_missing_differences_fail() {
    let ours = encode(&spec("bridge", json!({"name": "br0"})));
    let result = std::panic::catch_unwind(|| check("bridge", &ours, &[]));
    assert!(
        result.is_err(),
        "the kind's NUL must count as a difference when not listed"
    );
    let ours = addr("fd00::1/64");
    let broadcast = Difference::AddrBroadcast(Ipv4Addr::new(10, 0, 0, 255));
    let result =
        std::panic::catch_unwind(|| check("addr_add_v6", &ours, &[Difference::AddrOrder, broadcast]));
    assert!(
        result.is_err(),
        "a listed difference that tenus doesn't make must fail"
    );
    // A wrong value is reported, not undone: tenus' vlan id 11 against ip's 10.
    let ours = encode(&spec("vlan", json!({"name": "p0.10", "parent": "p0", "id": 11})));
    assert!(std::panic::catch_unwind(|| check("vlan_8021q", &ours, LINK)).is_err());
}

/// The differences added for the later kinds are as strict as the first ones: an attribute
/// tenus does send can't be passed off as omitted, an order that already matches can't be
/// listed, and leaving out the reordering (or an omitted default) fails.
#[test]
fn kernel_defaults_and_order_are_checked() {
    // tenus sends IFLA_VRF_TABLE itself: "omitted" is refused.
    let vrf = encode(&spec("vrf", json!({"name": "vrf0", "table": 10})));
    let listed = &[
        Difference::InfoKindNul,
        Difference::KernelDefault(1, &[10, 0, 0, 0]),
    ];
    assert!(std::panic::catch_unwind(|| check("vrf", &vrf, listed)).is_err());
    // bond: tenus already sends mode then miimon, as ip does.
    let bond = encode(&spec(
        "bond",
        json!({"name": "bond0", "mode": "active-backup", "miimon": 100}),
    ));
    let listed = &[Difference::InfoKindNul, Difference::DataOrder(&[1, 3])];
    assert!(std::panic::catch_unwind(|| check("bond", &bond, listed)).is_err());
    // gre without the reordering, or without one of the defaults.
    let gre = encode(&gre_spec("gre", "gre0", "10.0.0.1", "10.0.0.2"));
    let without_order = &GRE[..GRE.len() - 1];
    assert!(std::panic::catch_unwind(|| check("gre", &gre, without_order)).is_err());
    let without_tos: Vec<Difference> = GRE
        .iter()
        .copied()
        .filter(|d| !matches!(d, Difference::KernelDefault(IFLA_GRE_TOS, _)))
        .collect();
    assert!(std::panic::catch_unwind(|| check("gre", &gre, &without_tos)).is_err());
    // A wrong key fails even with every listed difference: tenus' key 43 against ip's 42.
    let wrong_key = encode(&spec(
        "gre",
        json!({"name": "gre0", "local": "10.0.0.1", "remote": "10.0.0.2", "ttl": 64, "key": 43}),
    ));
    assert!(std::panic::catch_unwind(|| check("gre", &wrong_key, GRE)).is_err());
}

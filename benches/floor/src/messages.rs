//! The floor's requests, built by hand: the same bytes the other tools send.

pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_GETROUTE: u16 = 26;
pub const RTM_NEWNEIGH: u16 = 28;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_DUMP: u16 = 0x300;
pub const CREATE: u16 = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
pub const PLAIN: u16 = NLM_F_REQUEST | NLM_F_ACK;
pub const NLM_F_REPLACE: u16 = 0x100;
pub const REPLACE: u16 = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;

pub const IFLA_ADDRESS: u16 = 1;
pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_MTU: u16 = 4;
pub const IFLA_LINK: u16 = 5;
pub const IFLA_MASTER: u16 = 10;
pub const IFLA_TXQLEN: u16 = 13;
pub const IFLA_OPERSTATE: u16 = 16;
pub const IFLA_LINKINFO: u16 = 18;
pub const IFLA_GROUP: u16 = 27;
pub const IFLA_INFO_KIND: u16 = 1;
pub const IFLA_INFO_DATA: u16 = 2;
pub const VETH_INFO_PEER: u16 = 1;
pub const IFLA_MACVLAN_MODE: u16 = 1;
pub const MACVLAN_MODE_BRIDGE: u32 = 4;
pub const IFA_ADDRESS: u16 = 1;
pub const IFA_LOCAL: u16 = 2;
pub const NDA_DST: u16 = 1;
pub const NDA_LLADDR: u16 = 2;
pub const NUD_NOARP: u16 = 0x40;
pub const NUD_PERMANENT: u16 = 0x80;
pub const NTF_SELF: u8 = 0x02;
pub const AF_BRIDGE: u8 = 7;
pub const NLA_F_NESTED: u16 = 0x8000;
pub const RTA_DST: u16 = 1;
pub const RTA_OIF: u16 = 4;
pub const RTA_GATEWAY: u16 = 5;
pub const RTA_PRIORITY: u16 = 6;
pub const RTA_TABLE: u16 = 15;
/// The routes' table.
pub const ROUTE_TABLE: u8 = 100;
pub const RTPROT_STATIC: u8 = 4;
pub const RTN_UNICAST: u8 = 1;

/// Messages per `sendmsg`.
pub const PER_SEND: usize = 128;
/// An unused group in a fresh namespace, for the group delete.
pub const TAG_GROUP: u32 = 0x7fff_fff0;

/// One netlink message under construction.
pub struct Msg {
    pub buf: Vec<u8>,
}

impl Msg {
    pub fn new(kind: u16, flags: u16) -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&[0; 8]); // seq, pid
        Msg { buf }
    }

    /// struct ifinfomsg: family, pad, type, index, flags, change.
    pub fn ifinfo(mut self, index: u32) -> Self {
        ifinfo(&mut self.buf, index);
        self
    }

    /// struct ndmsg: family, pad, ifindex, state, flags, type.
    pub fn ndmsg(mut self, family: u8, index: u32, state: u16, flags: u8) -> Self {
        self.buf.extend_from_slice(&[family, 0, 0, 0]);
        self.buf.extend_from_slice(&index.to_ne_bytes());
        self.buf.extend_from_slice(&state.to_ne_bytes());
        self.buf.extend_from_slice(&[flags, 0]);
        self
    }

    /// struct ifaddrmsg: family, prefixlen, flags, scope, index.
    pub fn ifaddr(mut self, family: u8, prefix: u8, index: u32) -> Self {
        self.buf.extend_from_slice(&[family, prefix, 0, 0]);
        self.buf.extend_from_slice(&index.to_ne_bytes());
        self
    }

    pub fn attr(mut self, kind: u16, value: &[u8]) -> Self {
        attr(&mut self.buf, kind, value);
        self
    }

    pub fn nest(mut self, kind: u16, fill: impl FnOnce(&mut Vec<u8>)) -> Self {
        nest(&mut self.buf, kind, fill);
        self
    }

    pub fn finish(mut self) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

pub fn ifinfo(buf: &mut Vec<u8>, index: u32) {
    buf.extend_from_slice(&[0, 0, 0, 0]);
    buf.extend_from_slice(&index.to_ne_bytes());
    buf.extend_from_slice(&[0; 8]);
}

pub fn pad(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

pub fn attr(buf: &mut Vec<u8>, kind: u16, value: &[u8]) {
    buf.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(value);
    pad(buf);
}

pub fn nest(buf: &mut Vec<u8>, kind: u16, fill: impl FnOnce(&mut Vec<u8>)) {
    let start = buf.len();
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
    fill(buf);
    let len = (buf.len() - start) as u16;
    buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    pad(buf);
}

pub fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

pub fn veth(a: &str, b: &str) -> Vec<u8> {
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

pub fn macvlan(name: &str, parent: u32) -> Vec<u8> {
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
pub fn address(i: usize) -> [u8; 4] {
    let v = 0x0a01_0000u32 + i as u32 + 1;
    v.to_be_bytes()
}

pub fn addr_add(index: u32, ip: [u8; 4]) -> Vec<u8> {
    Msg::new(RTM_NEWADDR, CREATE)
        .ifaddr(libc::AF_INET as u8, 32, index)
        .attr(IFA_LOCAL, &ip)
        .attr(IFA_ADDRESS, &ip)
        .finish()
}

/// struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
pub fn rtmsg(buf: &mut Vec<u8>, dst_len: u8, table: u8, protocol: u8, kind: u8) {
    buf.extend_from_slice(&[libc::AF_INET as u8, dst_len, 0, 0, table, protocol, 0, kind]);
    buf.extend_from_slice(&0u32.to_ne_bytes());
}

/// The i-th /24 from 11.0.0.0 up (the same prefixes every tool installs).
pub fn route_dst(i: usize) -> [u8; 4] {
    (0x0b00_0000u32 + ((i as u32) << 8)).to_be_bytes()
}

/// `ip route add|replace DST/24 via GW dev INDEX table 100 proto static`.
pub fn route(flags: u16, i: usize, gw: [u8; 4], oif: u32) -> Vec<u8> {
    let mut m = Msg::new(RTM_NEWROUTE, flags);
    rtmsg(&mut m.buf, 24, ROUTE_TABLE, RTPROT_STATIC, RTN_UNICAST);
    m.attr(RTA_DST, &route_dst(i))
        .attr(RTA_GATEWAY, &gw)
        .attr(RTA_OIF, &oif.to_ne_bytes())
        .finish()
}

/// Entry i's MAC, 02:00:00:xx:xx:xx, and its addresses 10.2.x.y (neighbour) and 10.3.x.y (VTEP).
pub fn entry_mac(i: usize) -> [u8; 6] {
    [2, 0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8]
}

pub fn ipv4(base: u32, i: usize) -> [u8; 4] {
    (base + i as u32 + 1).to_be_bytes()
}

/// `ip neigh add 10.2.x.y lladdr MAC dev INDEX nud permanent`
pub fn neigh_add(index: u32, i: usize) -> Vec<u8> {
    neigh(index, ipv4(0x0a02_0000, i), entry_mac(i))
}

/// `ip neigh add IP lladdr MAC dev INDEX nud permanent`
pub fn neigh(index: u32, ip: [u8; 4], mac: [u8; 6]) -> Vec<u8> {
    Msg::new(RTM_NEWNEIGH, CREATE)
        .ndmsg(libc::AF_INET as u8, index, NUD_PERMANENT, 0)
        .attr(NDA_DST, &ip)
        .attr(NDA_LLADDR, &mac)
        .finish()
}

/// `bridge fdb add MAC dev INDEX dst 10.3.x.y self`
pub fn fdb_add(index: u32, i: usize) -> Vec<u8> {
    fdb(index, entry_mac(i), ipv4(0x0a03_0000, i))
}

/// `bridge fdb add MAC dev INDEX dst DST self`
pub fn fdb(index: u32, mac: [u8; 6], dst: [u8; 4]) -> Vec<u8> {
    Msg::new(RTM_NEWNEIGH, CREATE)
        .ndmsg(AF_BRIDGE, index, NUD_NOARP | NUD_PERMANENT, NTF_SELF)
        .attr(NDA_LLADDR, &mac)
        .attr(NDA_DST, &dst)
        .finish()
}

pub fn by_name(kind: u16, flags: u16, name: &str) -> Msg {
    Msg::new(kind, flags).ifinfo(0).attr(IFLA_IFNAME, &cstr(name))
}

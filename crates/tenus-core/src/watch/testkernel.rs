//! A simulated kernel for the watcher's unit tests: links and addresses that change at random,
//! announced into a socket queue of bounded size that drops what does not fit and reports it
//! the way netlink does (once, until the queue has been read empty), and dumps that read the
//! objects a few at a time while changes go on, flagged interrupted when objects came or went
//! meanwhile. What no real kernel can be made to do on demand, deterministically.

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_core::Emitable;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::AddressFamily;
use rtnetlink::RouteMessageBuilder;

use super::objects::ObjectKind;
use super::socket::Received;
use crate::transport::ack::{NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP_INTR, NLM_F_MULTI};
use crate::transport::header;
use crate::transport::testpeer::message;

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_NEWROUTE: u16 = 24;
/// The port events caused by "other processes" carry.
pub const OTHER_PORT: u32 = 4242;

/// A small deterministic random source (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn with_port(mut msg: Vec<u8>, port: u32) -> Vec<u8> {
    msg[12..16].copy_from_slice(&port.to_ne_bytes());
    msg
}

pub fn link_message(kind: u16, flags: u16, seq: u32, port: u32, index: u32, mtu: u32) -> Vec<u8> {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m.attributes.push(LinkAttribute::IfName(format!("l{index}")));
    m.attributes.push(LinkAttribute::Mtu(mtu));
    let mut payload = vec![0; m.buffer_len()];
    m.emit(&mut payload);
    with_port(message(kind, flags, seq, &payload), port)
}

/// An AF_BRIDGE link message with the VLANs of link `index`, each (vid, flags) as the kernel
/// writes IFLA_BRIDGE_VLAN_INFO (ranges included).
pub fn bridge_vlan_message(
    kind: u16,
    flags: u16,
    seq: u32,
    port: u32,
    index: u32,
    vlans: &[(u16, netlink_packet_route::link::BridgeVlanInfoFlags)],
) -> Vec<u8> {
    use netlink_packet_route::link::{AfSpecBridge, BridgeVlanInfo};
    let mut m = LinkMessage::default();
    m.header.interface_family = AddressFamily::Bridge;
    m.header.index = index;
    m.attributes.push(LinkAttribute::IfName(format!("l{index}")));
    if !vlans.is_empty() {
        m.attributes.push(LinkAttribute::AfSpecBridge(
            vlans
                .iter()
                .map(|(vid, flags)| {
                    AfSpecBridge::VlanInfo(BridgeVlanInfo {
                        flags: *flags,
                        vid: *vid,
                    })
                })
                .collect(),
        ));
    }
    let mut payload = vec![0; m.buffer_len()];
    m.emit(&mut payload);
    with_port(message(kind, flags, seq, &payload), port)
}

pub fn address_message(kind: u16, flags: u16, seq: u32, port: u32, index: u32, last: u8) -> Vec<u8> {
    let ip = IpAddr::V4(Ipv4Addr::new(10, 0, index as u8, last));
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet;
    m.header.prefix_len = 24;
    m.header.index = index;
    m.attributes.push(AddressAttribute::Local(ip));
    m.attributes.push(AddressAttribute::Address(ip));
    let mut payload = vec![0; m.buffer_len()];
    m.emit(&mut payload);
    with_port(message(kind, flags, seq, &payload), port)
}

/// A route to 10.`index`.`third`.0/24 by link `index` (main table).
pub fn route_message(kind: u16, flags: u16, seq: u32, port: u32, index: u32, third: u8) -> Vec<u8> {
    let m = RouteMessageBuilder::<Ipv4Addr>::new()
        .destination_prefix(Ipv4Addr::new(10, index as u8, third, 0), 24)
        .output_interface(index)
        .build();
    let mut payload = vec![0; m.buffer_len()];
    m.emit(&mut payload);
    with_port(message(kind, flags, seq, &payload), port)
}

/// What the simulated kernel holds: links by index (their MTU) and addresses by
/// (index, last byte).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub links: BTreeMap<u32, u32>,
    pub addresses: BTreeMap<(u32, u8), ()>,
}

struct Dumping {
    seq: u32,
    kind: ObjectKind,
    /// The key after which the next part starts.
    cursor: Option<(u32, u8)>,
    /// Objects came or went since it began.
    changed: bool,
}

pub struct Kernel {
    pub state: State,
    /// Datagrams queued for the watcher's socket.
    queue: VecDeque<Vec<u8>>,
    capacity: usize,
    /// ENOBUFS waiting to be reported.
    error: bool,
    /// NETLINK_S_CONGESTED: set at the first drop, cleared when the queue is read empty.
    congested: bool,
    dump: Option<Dumping>,
    port: u32,
    pub dropped: u64,
}

impl Kernel {
    pub fn new(capacity: usize, port: u32) -> Kernel {
        Kernel {
            state: State::default(),
            queue: VecDeque::new(),
            capacity,
            error: false,
            congested: false,
            dump: None,
            port,
            dropped: 0,
        }
    }

    fn deliver(&mut self, msg: Vec<u8>) {
        if self.queue.len() >= self.capacity {
            self.dropped += 1;
            if !self.congested {
                self.congested = true;
                self.error = true;
            }
            return;
        }
        self.queue.push_back(msg);
    }

    /// recvmsg on the watcher's socket.
    pub fn receive(&mut self, buf: &mut [u8]) -> Received {
        let got = if self.error {
            self.error = false;
            Received::Overrun
        } else if let Some(d) = self.queue.pop_front() {
            buf[..d.len()].copy_from_slice(&d);
            Received::Datagram(d.len())
        } else {
            Received::Empty
        };
        if self.queue.is_empty() {
            self.congested = false;
        }
        got
    }

    /// sendmsg of a dump request on the watcher's socket.
    pub fn request(&mut self, msg: &[u8], kind: ObjectKind) {
        assert!(self.dump.is_none(), "a dump was asked for while one ran (EBUSY)");
        let seq = header::seq(msg);
        if self.queue.len() >= self.capacity {
            // The first part found the receive buffer full: the kernel says ENOBUFS, and the
            // dump goes on once the socket is read.
            let mut payload = (-libc::ENOBUFS).to_ne_bytes().to_vec();
            payload.extend_from_slice(&msg[..16]);
            let error = with_port(message(NLMSG_ERROR, 0, seq, &payload), self.port);
            self.deliver(error);
        }
        self.dump = Some(Dumping {
            seq,
            kind,
            cursor: None,
            changed: false,
        });
    }

    pub fn dumping(&self) -> bool {
        self.dump.is_some()
    }

    /// Puts the next part of the running dump (up to `n` objects, or the end) in the queue,
    /// when there is room: dumps are never dropped, they wait.
    pub fn dump_part(&mut self, n: usize) {
        let Some(d) = &mut self.dump else { return };
        if self.queue.len() >= self.capacity {
            return;
        }
        let flags = NLM_F_MULTI | if d.changed { NLM_F_DUMP_INTR } else { 0 };
        let (seq, port) = (d.seq, self.port);
        let after = |k: &(u32, u8)| d.cursor.is_none_or(|c| *k > c);
        let keys: Vec<(u32, u8)> = match d.kind {
            ObjectKind::Link => self
                .state
                .links
                .keys()
                .map(|i| (*i, 0))
                .filter(after)
                .take(n)
                .collect(),
            ObjectKind::Address => self
                .state
                .addresses
                .keys()
                .copied()
                .filter(after)
                .take(n)
                .collect(),
            _ => unreachable!("the simulated kernel has links and addresses"),
        };
        let mut datagram = Vec::new();
        for k in &keys {
            datagram.extend(match d.kind {
                ObjectKind::Link => link_message(RTM_NEWLINK, flags, seq, port, k.0, self.state.links[&k.0]),
                ObjectKind::Address => address_message(RTM_NEWADDR, flags, seq, port, k.0, k.1),
                _ => unreachable!(),
            });
        }
        if keys.is_empty() {
            datagram = with_port(message(NLMSG_DONE, flags, seq, &0i32.to_ne_bytes()), port);
            self.dump = None;
        } else {
            d.cursor = keys.last().copied();
        }
        self.queue.push_back(datagram);
    }

    fn objects_changed(&mut self) {
        if let Some(d) = &mut self.dump {
            d.changed = true;
        }
    }

    /// One random change, announced.
    pub fn change(&mut self, rng: &mut Rng) {
        let index = 1 + rng.below(6) as u32;
        let seq = rng.below(1000) as u32;
        match rng.below(4) {
            0 | 1 => {
                let mtu = 1000 + 100 * rng.below(4) as u32;
                let known = self.state.links.insert(index, mtu).is_some();
                if !known {
                    self.objects_changed();
                }
                self.deliver(link_message(RTM_NEWLINK, 0, seq, OTHER_PORT, index, mtu));
            }
            2 => {
                if self.state.links.contains_key(&index) {
                    let last = 1 + rng.below(3) as u8;
                    if self.state.addresses.remove(&(index, last)).is_some() {
                        self.deliver(address_message(RTM_DELADDR, 0, seq, OTHER_PORT, index, last));
                    } else {
                        self.state.addresses.insert((index, last), ());
                        self.deliver(address_message(RTM_NEWADDR, 0, seq, OTHER_PORT, index, last));
                    }
                    self.objects_changed();
                }
            }
            _ => {
                if let Some(mtu) = self.state.links.remove(&index) {
                    // As the kernel does: the link's addresses go first, each announced.
                    let gone: Vec<u8> = self
                        .state
                        .addresses
                        .keys()
                        .filter(|k| k.0 == index)
                        .map(|k| k.1)
                        .collect();
                    for last in gone {
                        self.state.addresses.remove(&(index, last));
                        self.deliver(address_message(RTM_DELADDR, 0, seq, OTHER_PORT, index, last));
                    }
                    self.deliver(link_message(RTM_DELLINK, 0, seq, OTHER_PORT, index, mtu));
                    self.objects_changed();
                }
            }
        }
    }

    pub fn queue_is_empty(&self) -> bool {
        self.queue.is_empty() && !self.error
    }
}

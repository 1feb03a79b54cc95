//! What an FDB request names: `bridge fdb add|append|replace|del MAC dev LINK [self] [master]
//! [vlan VID] [dst IP] [vni VNI] [port PORT] [src_vni VNI] [via LINK] [permanent|static|
//! dynamic] [sticky] [router] [extern_learn]`, checked once into typed values, and the
//! messages built from it (attributes in `bridge`'s order).

use std::net::IpAddr;

use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use serde::de::SeqAccess;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::args;
use crate::batch::wire::{next, ReadContext, WireLink};
use crate::batch::{Parsed, View};
use crate::error::{Error, Result};
use crate::link::LinkRef;
use crate::message::{encode, Flags};

use super::{FdbRecord, FdbState};

/// `bridge fdb` options; the MAC and the link are arguments of their own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct FdbOptions {
    /// In the table of the bridge the link is a port of (NTF_MASTER).
    pub master: Option<bool>,
    /// In the link's own table (NTF_SELF): a VXLAN device's remotes. The default when neither
    /// `master` nor `self` is given, as with `bridge fdb`.
    #[serde(rename = "self")]
    #[cfg_attr(feature = "napi", napi(js_name = "self"))]
    pub own: Option<bool>,
    pub vlan: Option<u32>,
    /// A VXLAN entry's remote VTEP (IPv4 or IPv6).
    pub dst: Option<String>,
    /// A VXLAN entry's VNI, if not the device's.
    pub vni: Option<u32>,
    /// A VXLAN entry's UDP port, if not the device's.
    pub port: Option<u32>,
    /// A VXLAN entry's source VNI (collect-metadata devices).
    pub src_vni: Option<u32>,
    /// The link a VXLAN entry's packets leave by.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub via: Option<LinkRef>,
    /// 'permanent' (the default: a local entry), 'static' or 'dynamic' (ages out).
    pub state: Option<FdbState>,
    /// The entry does not move to another port when the MAC shows up there.
    pub sticky: Option<bool>,
    /// NTF_ROUTER on a VXLAN entry (the remote is a router: ARP/ND suppression).
    pub router: Option<bool>,
    /// NTF_EXT_LEARNED: learnt by a control plane (the bridge will not age it out).
    pub extern_learn: Option<bool>,
}

/// A checked FDB entry (or, for `del`, the key of the entries to delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdbEntry {
    pub link: LinkRef,
    pub mac: [u8; 6],
    pub master: bool,
    pub own: bool,
    pub vlan: Option<u16>,
    pub dst: Option<IpAddr>,
    pub vni: Option<u32>,
    pub port: Option<u16>,
    pub src_vni: Option<u32>,
    pub via: Option<LinkRef>,
    pub state: FdbState,
    pub sticky: bool,
    pub router: bool,
    pub extern_learn: bool,
}

/// A dumped NDA_DST as text (an IPv4 or IPv6 address).
pub(crate) fn dst_text(d: &NeighbourAddress) -> Option<String> {
    let ip = match d {
        NeighbourAddress::Inet(a) => IpAddr::V4(*a),
        NeighbourAddress::Inet6(a) => IpAddr::V6(*a),
        NeighbourAddress::Other(b) => match b.len() {
            4 => IpAddr::from(<[u8; 4]>::try_from(b.as_slice()).ok()?),
            16 => IpAddr::from(<[u8; 16]>::try_from(b.as_slice()).ok()?),
            _ => return None,
        },
        _ => return None,
    };
    Some(ip.to_string())
}

impl FdbEntry {
    pub fn parse(link: LinkRef, mac: &str, o: FdbOptions) -> Result<Self> {
        if let Some(via) = &o.via {
            via.validate("via")?;
        }
        let state = o.state.unwrap_or(FdbState::Permanent);
        if state == FdbState::Stale {
            return Err(Error::invalid(
                "state",
                "stale is a state the bridge reports, not one an entry can be given (permanent, static or dynamic)",
            ));
        }
        let master = o.master.unwrap_or(false);
        Ok(FdbEntry {
            link,
            mac: args::lladdr("mac", mac)?,
            master,
            own: o.own.unwrap_or(!master),
            vlan: o
                .vlan
                .map(|v| args::BRIDGE_VID.check("vlan", v).map(|v| v as u16))
                .transpose()?,
            dst: o.dst.as_deref().map(|d| args::ip("dst", d)).transpose()?,
            vni: o.vni.map(|v| args::vni("vni", v)).transpose()?,
            port: o.port.map(|p| args::port("port", p)).transpose()?,
            src_vni: o.src_vni.map(|v| args::vni("srcVni", v)).transpose()?,
            via: o.via,
            state,
            sticky: o.sticky.unwrap_or(false),
            router: o.router.unwrap_or(false),
            extern_learn: o.extern_learn.unwrap_or(false),
        })
    }

    /// Reads `[link, mac, options]` after an item's code.
    pub(crate) fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let mac: String = next(seq, "mac")?;
        let options: Option<&RawValue> = seq.next_element()?;
        Ok((|| {
            FdbEntry::parse(
                cx.link(link)?,
                &mac,
                args::options_raw_or_default("options", options)?,
            )
        })())
    }

    pub fn label(&self) -> String {
        let mut s = format!("{} dev {}", args::format_mac(&self.mac), self.link);
        if let Some(v) = self.vlan {
            s.push_str(&format!(" vlan {v}"));
        }
        if let Some(d) = self.dst {
            s.push_str(&format!(" dst {d}"));
        }
        if let Some(v) = self.vni {
            s.push_str(&format!(" vni {v}"));
        }
        // As `bridge fdb` says it: `self` is the default, said only beside `master`.
        match (self.own, self.master) {
            (true, true) => s.push_str(" self master"),
            (false, true) => s.push_str(" master"),
            _ => {}
        }
        s
    }

    /// The entry in one table only: the bridge's (`master`) or the device's own.
    pub(crate) fn half(&self, master: bool) -> FdbEntry {
        FdbEntry {
            master,
            own: !master,
            ..self.clone()
        }
    }

    /// Whether it names both tables (the kernel applies the bridge's half first, then the
    /// device's own, and stops at the first that fails).
    pub(crate) fn both(&self) -> bool {
        self.own && self.master
    }

    /// Whether its MAC is a multicast or the all-zero one (a VXLAN entry with a list of
    /// remotes, the only kind an append adds a remote to).
    pub(crate) fn takes_remotes(&self) -> bool {
        self.mac[0] & 1 == 1 || self.mac == [0; 6]
    }

    /// `bridge fdb append` to a device's own table naming a VXLAN remote (`dst`) for a unicast
    /// MAC is refused: the kernel appends remotes to multicast and all-zero MACs only, and for
    /// a unicast MAC that has an entry it answers success having added nothing (it rewrites the
    /// entry's state and flags); without an entry it adds one, as `fdb()` does.
    pub(crate) fn check_append(self) -> Result<Self> {
        if self.own && self.dst.is_some() && !self.takes_remotes() {
            return Err(Error::invalid(
                "mac",
                format!(
                    "{} is a unicast MAC: a VXLAN device appends remotes only to multicast and all-zero MACs (for a unicast MAC the kernel adds nothing to an entry that is there); use fdb() to add the entry or replaceFdb() to change its remote",
                    args::format_mac(&self.mac)
                ),
            ));
        }
        Ok(self)
    }

    /// The links it names: its own and `via`.
    pub fn links(&self) -> Vec<&LinkRef> {
        std::iter::once(&self.link).chain(self.via.as_ref()).collect()
    }

    fn side(&self) -> NeighbourFlags {
        let mut f = NeighbourFlags::empty();
        if self.master {
            f |= NeighbourFlags::Controller;
        }
        if self.own {
            f |= NeighbourFlags::Own;
        }
        f
    }

    /// Its NTF_ flags: its tables, `sticky`, `router`, `extern_learn`.
    pub(crate) fn flags(&self) -> NeighbourFlags {
        let mut f = self.side();
        if self.sticky {
            f |= NeighbourFlags::Sticky;
        }
        if self.router {
            f |= NeighbourFlags::Router;
        }
        if self.extern_learn {
            f |= NeighbourFlags::ExtLearned;
        }
        f
    }

    /// The entry as a neighbour message (for RTM_NEWNEIGH and RTM_DELNEIGH alike).
    fn message(&self, names: &View) -> Result<NeighbourMessage> {
        let mut m = NeighbourMessage::default();
        m.header.family = AddressFamily::Bridge;
        m.header.ifindex = names.index_of(&self.link)?;
        m.header.state = self.state.bits().into();
        m.header.flags = self.flags();
        let a = &mut m.attributes;
        a.push(NeighbourAttribute::LinkLayerAddress(self.mac.to_vec()));
        if let Some(d) = self.dst {
            a.push(NeighbourAttribute::Destination(NeighbourAddress::from(d)));
        }
        if let Some(v) = self.vlan {
            a.push(NeighbourAttribute::Vlan(v));
        }
        if let Some(p) = self.port {
            a.push(NeighbourAttribute::Port(p));
        }
        if let Some(v) = self.vni {
            a.push(NeighbourAttribute::Vni(v));
        }
        if let Some(v) = self.src_vni {
            a.push(NeighbourAttribute::SourceVni(v));
        }
        if let Some(via) = &self.via {
            a.push(NeighbourAttribute::IfIndex(names.index_of(via)?));
        }
        Ok(m)
    }

    /// `bridge fdb add|append|replace` (`flags`: Create, Append or Replace).
    pub fn encode(&self, names: &View, flags: Flags) -> Result<Vec<u8>> {
        Ok(encode(
            RouteNetlinkMessage::NewNeighbour(self.message(names)?),
            flags,
        ))
    }

    /// `bridge fdb del`.
    pub fn encode_del(&self, names: &View) -> Result<Vec<u8>> {
        Ok(encode(
            RouteNetlinkMessage::DelNeighbour(self.message(names)?),
            Flags::Plain,
        ))
    }

    /// `bridge fdb get MAC dev LINK [vlan VID] [vni VNI] self|master` (Linux 5.0 and later):
    /// the entry, or for a VXLAN entry its first remote.
    pub fn encode_get(&self, names: &View) -> Result<Vec<u8>> {
        let mut m = NeighbourMessage::default();
        m.header.family = AddressFamily::Bridge;
        m.header.ifindex = names.index_of(&self.link)?;
        m.header.flags = self.side();
        m.attributes
            .push(NeighbourAttribute::LinkLayerAddress(self.mac.to_vec()));
        if let Some(v) = self.vlan {
            m.attributes.push(NeighbourAttribute::Vlan(v));
        }
        if let Some(v) = self.vni {
            m.attributes.push(NeighbourAttribute::Vni(v));
        }
        Ok(encode(RouteNetlinkMessage::GetNeighbour(m), Flags::Plain))
    }

    /// Whether a listed entry is one this key selects, as a deletion does: same MAC and table,
    /// the same VLAN where the key names one (without, every VLAN's entry), and without a dst
    /// every remote; with one, the remote with that dst, port and VNI, the device's own port
    /// and VNI where the key names none (a listing leaves those out, so a port or VNI given
    /// also matches a remote listed without: it may be the device's own).
    pub(crate) fn selects(&self, r: &FdbRecord) -> bool {
        let remote = |given: Option<u32>, listed: Option<u32>| match given {
            None => listed.is_none(),
            Some(_) => listed.is_none() || listed == given,
        };
        self.same_entry(r)
            && (self.vlan.is_none() || self.vlan == r.vlan)
            && match self.dst {
                None => true,
                Some(d) => {
                    Some(d.to_string()) == r.dst
                        && remote(self.port.map(u32::from), r.port.map(u32::from))
                        && remote(self.vni, r.vni)
                }
            }
    }

    /// Same MAC, same table (a bridge's or the device's own).
    pub(crate) fn same_entry(&self, r: &FdbRecord) -> bool {
        r.mac == args::format_mac(&self.mac) && r.master.is_some() == self.master
    }

    /// Whether a listed entry is the very remote this entry would append, as the kernel tells
    /// remotes apart: dst, port, VNI and `via` link. A listing leaves out a port or VNI that is
    /// the device's own (`own`: its port and VNI, read when this entry names either); absent on
    /// both sides, they are the device's.
    pub(crate) fn is(&self, r: &FdbRecord, own: Option<(u32, u32)>, names: &View) -> bool {
        let same = |mine: Option<u32>, listed: Option<u32>, own: Option<u32>| match (mine, listed) {
            (Some(m), None) => own == Some(m),
            (mine, listed) => mine == listed,
        };
        let via = self.via.as_ref().and_then(|l| names.index_of(l).ok());
        self.same_entry(r)
            && self.dst.map(|d| d.to_string()) == r.dst
            && self.vlan == r.vlan
            && same(self.vni, r.vni, own.map(|o| o.1))
            && same(self.port.map(u32::from), r.port.map(u32::from), own.map(|o| o.0))
            && via == r.via
    }
}

/// The request that puts back an entry as the kernel listed it (RTM_NEWNEIGH with `flags`):
/// its table, state, flags a caller can set, MAC, VLAN and VXLAN remote.
pub(crate) fn encode_restore(was: &NeighbourMessage, flags: Flags) -> Vec<u8> {
    encode(RouteNetlinkMessage::NewNeighbour(as_listed(was)), flags)
}

/// The request that deletes exactly the entry (a VXLAN entry: the one remote) the kernel listed.
pub(crate) fn encode_remove(was: &NeighbourMessage) -> Vec<u8> {
    encode(RouteNetlinkMessage::DelNeighbour(as_listed(was)), Flags::Plain)
}

/// An entry as the kernel listed it, as a request names it (`encode_restore`).
fn as_listed(was: &NeighbourMessage) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header = was.header.clone();
    let master = was
        .attributes
        .iter()
        .any(|a| matches!(a, NeighbourAttribute::Controller(_)));
    m.header.flags &=
        NeighbourFlags::Own | NeighbourFlags::Router | NeighbourFlags::ExtLearned | NeighbourFlags::Sticky;
    if master {
        // A bridge lists its entries with NDA_MASTER, not NTF_MASTER.
        m.header.flags |= NeighbourFlags::Controller;
    } else {
        m.header.flags |= NeighbourFlags::Own;
    }
    m.attributes = was
        .attributes
        .iter()
        .filter(|a| {
            matches!(
                a,
                NeighbourAttribute::LinkLayerAddress(_)
                    | NeighbourAttribute::Destination(_)
                    | NeighbourAttribute::Vlan(_)
                    | NeighbourAttribute::Port(_)
                    | NeighbourAttribute::Vni(_)
                    | NeighbourAttribute::SourceVni(_)
                    | NeighbourAttribute::IfIndex(_)
            )
        })
        .cloned()
        .collect();
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(o: serde_json::Value) -> Result<FdbEntry> {
        FdbEntry::parse(
            LinkRef::Name("vx0".into()),
            "02:00:00:00:00:01",
            args::options("options", o)?,
        )
    }

    #[test]
    fn refusals_name_the_argument() {
        for (o, arg) in [
            (serde_json::json!({"vlan": 0}), "vlan"),
            (serde_json::json!({"vlan": 4095}), "vlan"),
            (serde_json::json!({"vni": 1 << 24}), "vni"),
            (serde_json::json!({"srcVni": 1 << 24}), "srcVni"),
            (serde_json::json!({"port": 0}), "port"),
            (serde_json::json!({"port": 65536}), "port"),
            (serde_json::json!({"dst": "10.0.0"}), "dst"),
            (serde_json::json!({"state": "stale"}), "state"),
            (serde_json::json!({"state": "reachable"}), "state"),
            (serde_json::json!({"via": "a/b"}), "via"),
            (serde_json::json!({"bogus": 1}), "bogus"),
        ] {
            assert_eq!(parse(o.clone()).unwrap_err().arg(), Some(arg), "{o}");
        }
        let e = FdbEntry::parse(LinkRef::Index(3), "02:00:00:00:00", FdbOptions::default()).unwrap_err();
        assert_eq!(e.arg(), Some("mac"));
    }

    #[test]
    fn appends_of_a_remote_to_a_unicast_mac_are_refused_naming_mac() {
        let append = |mac: &str, o: serde_json::Value| {
            FdbEntry::parse(LinkRef::Index(3), mac, args::options("options", o).unwrap())
                .unwrap()
                .check_append()
        };
        let e = append("02:00:00:00:00:aa", serde_json::json!({"dst": "10.0.0.6"})).unwrap_err();
        assert_eq!(e.arg(), Some("mac"));
        let e = append(
            "02:00:00:00:00:aa",
            serde_json::json!({"dst": "10.0.0.6", "master": true, "self": true}),
        );
        assert_eq!(e.unwrap_err().arg(), Some("mac"));
        for (mac, o) in [
            ("00:00:00:00:00:00", serde_json::json!({"dst": "10.0.0.6"})),
            ("01:00:5e:00:00:01", serde_json::json!({"dst": "10.0.0.6"})),
            ("33:33:00:00:00:01", serde_json::json!({"dst": "fd00::1"})),
            // A bridge's table (add-or-update), and a device's own without a remote.
            ("02:00:00:00:00:aa", serde_json::json!({"master": true})),
            ("02:00:00:00:00:aa", serde_json::json!({})),
        ] {
            assert!(append(mac, o.clone()).is_ok(), "{mac} {o}");
        }
    }

    #[test]
    fn labels_say_the_vni_and_the_tables() {
        let label = |o: serde_json::Value| parse(o).unwrap().label();
        assert_eq!(label(serde_json::json!({})), "02:00:00:00:00:01 dev vx0");
        assert_eq!(
            label(serde_json::json!({"dst": "10.0.0.5", "vni": 43, "vlan": 5})),
            "02:00:00:00:00:01 dev vx0 vlan 5 dst 10.0.0.5 vni 43"
        );
        assert_eq!(
            label(serde_json::json!({"master": true})),
            "02:00:00:00:00:01 dev vx0 master"
        );
        assert_eq!(
            label(serde_json::json!({"master": true, "self": true})),
            "02:00:00:00:00:01 dev vx0 self master"
        );
    }

    #[test]
    fn self_is_the_default_table() {
        let e = parse(serde_json::json!({})).unwrap();
        assert!(e.own && !e.master);
        let e = parse(serde_json::json!({"master": true})).unwrap();
        assert!(!e.own && e.master);
        let e = parse(serde_json::json!({"master": true, "self": true})).unwrap();
        assert!(e.own && e.master);
        // The VXLAN default destination and multicast MACs are entries too.
        assert!(FdbEntry::parse(LinkRef::Index(3), "00:00:00:00:00:00", FdbOptions::default()).is_ok());
        assert!(FdbEntry::parse(LinkRef::Index(3), "01:00:5e:00:00:01", FdbOptions::default()).is_ok());
    }
}

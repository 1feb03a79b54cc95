//! JavaScript option bags and their conversion into the core's request types.

use napi::bindgen_prelude::Either;
use napi_derive::napi;
use serde::{Deserialize, Deserializer};
use tenus_core::link::bond::BondSpec;
use tenus_core::link::bridge::BridgeSpec;
use tenus_core::link::gre::{GreKind, GreSpec};
use tenus_core::link::ipvlan::IpVlanSpec;
use tenus_core::link::macvlan::{MacVlanSpec, Mode};
use tenus_core::link::veth::VethSpec;
use tenus_core::link::vlan::VlanSpec;
use tenus_core::link::vrf::VrfSpec;
use tenus_core::link::vxlan::VxlanSpec;
use tenus_core::{Error, KindSpec, LinkChange, LinkRef, LinkSpec, Namespace};

/// Batches arrive as JSON: a link there is a number (index) or a string (name).
pub enum JsonLinkRef {
    Index(u32),
    Name(String),
}

// By hand rather than `#[serde(untagged)]`, which buffers every value before trying each
// variant: a batch of thousands of items pays for that.
impl<'de> Deserialize<'de> for JsonLinkRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = JsonLinkRef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an interface index or name")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<JsonLinkRef, E> {
                u32::try_from(v)
                    .map(JsonLinkRef::Index)
                    .map_err(|_| E::custom(format!("{v} is not an interface index")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<JsonLinkRef, E> {
                Ok(JsonLinkRef::Name(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl From<JsonLinkRef> for Either<u32, String> {
    fn from(r: JsonLinkRef) -> Self {
        match r {
            JsonLinkRef::Index(i) => Either::A(i),
            JsonLinkRef::Name(n) => Either::B(n),
        }
    }
}

fn de_link_ref<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Either<u32, String>>, D::Error> {
    Ok(Option::<JsonLinkRef>::deserialize(d)?.map(Into::into))
}

pub fn link_ref(r: Either<u32, String>) -> LinkRef {
    match r {
        Either::A(i) => LinkRef::Index(i),
        Either::B(n) => LinkRef::Name(n),
    }
}

/// Everything a link creation can carry; which fields apply depends on `kind`.
#[napi(object)]
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NativeLinkSpec {
    /// bridge | veth | macvlan | macvtap | vlan | vxlan | dummy | ipvlan | bond | vrf | gre |
    /// gretap | ip6gre | ip6gretap | wireguard
    pub kind: String,
    pub name: Option<String>,
    pub mtu: Option<u32>,
    pub mac: Option<String>,
    pub txqlen: Option<u32>,
    pub group: Option<u32>,
    #[serde(deserialize_with = "de_link_ref")]
    pub master: Option<Either<u32, String>>,
    pub up: Option<bool>,
    /// veth: the peer's name.
    pub peer: Option<String>,
    pub peer_mac: Option<String>,
    /// macvlan, macvtap, vlan, vxlan: the lower link.
    #[serde(deserialize_with = "de_link_ref")]
    pub parent: Option<Either<u32, String>>,
    /// macvlan/macvtap: private | vepa | bridge | passthru | source
    pub mode: Option<String>,
    /// vlan id 1..4094
    pub vlan_id: Option<u32>,
    /// vlan: 802.1Q | 802.1ad
    pub protocol: Option<String>,
    pub vni: Option<u32>,
    pub port: Option<u32>,
    pub local: Option<String>,
    pub remote: Option<String>,
    pub multicast_group: Option<String>,
    pub ttl: Option<u32>,
    pub learning: Option<bool>,
    pub stp: Option<bool>,
    pub vlan_filtering: Option<bool>,
    /// ipvlan: bridge | private | vepa
    pub ipvlan_flag: Option<String>,
    /// bond: link monitoring interval (ms).
    pub miimon: Option<u32>,
    /// vrf: routing table.
    pub table: Option<u32>,
    /// gre, gretap, ip6gre, ip6gretap: input and output key.
    pub key: Option<u32>,
}

fn required<T>(value: Option<T>, arg: &str, kind: &str) -> Result<T, Error> {
    value.ok_or_else(|| Error::invalid(arg, format!("a {kind} link needs {arg}")))
}

pub fn link_spec(js: NativeLinkSpec, peer_ns: Option<Namespace>) -> Result<LinkSpec, Error> {
    let kind = js.kind.as_str();
    let parent = js.parent.clone().map(link_ref);
    let macvlan = |js: &NativeLinkSpec| -> Result<MacVlanSpec, Error> {
        Ok(MacVlanSpec {
            parent: required(parent.clone(), "parent", kind)?,
            mode: js
                .mode
                .as_deref()
                .map(Mode::parse)
                .transpose()?
                .unwrap_or_default(),
        })
    };
    let kind_spec = match kind {
        "bridge" => KindSpec::Bridge(BridgeSpec {
            stp: js.stp,
            vlan_filtering: js.vlan_filtering,
            forward_delay: None,
        }),
        "dummy" => KindSpec::Dummy,
        "veth" => KindSpec::Veth(VethSpec {
            peer: js.peer.clone(),
            peer_ns,
            peer_mac: js.peer_mac.clone(),
        }),
        "macvlan" => KindSpec::MacVlan(macvlan(&js)?),
        "macvtap" => KindSpec::MacVtap(macvlan(&js)?),
        "vlan" => KindSpec::Vlan(VlanSpec {
            parent: required(parent.clone(), "parent", kind)?,
            id: required(js.vlan_id, "id", kind)?,
            protocol: js.protocol.clone(),
        }),
        "vxlan" => KindSpec::Vxlan(VxlanSpec {
            vni: required(js.vni, "vni", kind)?,
            port: js.port,
            local: js.local.clone(),
            remote: js.remote.clone(),
            group: js.multicast_group.clone(),
            parent,
            ttl: js.ttl,
            learning: js.learning,
        }),
        "ipvlan" => KindSpec::IpVlan(IpVlanSpec {
            parent: required(parent.clone(), "parent", kind)?,
            mode: js.mode.clone(),
            flag: js.ipvlan_flag.clone(),
        }),
        "bond" => KindSpec::Bond(BondSpec { mode: js.mode.clone(), miimon: js.miimon }),
        "vrf" => KindSpec::Vrf(VrfSpec { table: required(js.table, "table", kind)? }),
        "gre" | "gretap" | "ip6gre" | "ip6gretap" => KindSpec::Gre(GreSpec {
            kind: match kind {
                "gre" => GreKind::Gre,
                "gretap" => GreKind::GreTap,
                "ip6gre" => GreKind::Ip6Gre,
                _ => GreKind::Ip6GreTap,
            },
            local: js.local.clone(),
            remote: required(js.remote.clone(), "remote", kind)?,
            ttl: js.ttl,
            key: js.key,
            parent,
        }),
        "wireguard" => KindSpec::Wireguard,
        other => {
            return Err(Error::invalid(
                "kind",
                format!(
                    "unknown link kind {other:?} (expected bridge, veth, macvlan, macvtap, vlan, vxlan, dummy, \
                     ipvlan, bond, vrf, gre, gretap, ip6gre, ip6gretap or wireguard; tun/tap have their own call)"
                ),
            ))
        }
    };
    let mut spec = LinkSpec::new(kind_spec);
    spec.common.name = js.name;
    spec.common.mtu = js.mtu;
    spec.common.mac = js.mac;
    spec.common.txqlen = js.txqlen;
    spec.common.group = js.group;
    spec.common.master = js.master.map(link_ref);
    spec.common.up = js.up.unwrap_or(false);
    Ok(spec)
}

/// `ip link set` options; absent fields are left alone.
#[napi(object)]
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NativeLinkChange {
    pub up: Option<bool>,
    pub mtu: Option<u32>,
    pub mac: Option<String>,
    pub name: Option<String>,
    pub alias: Option<String>,
    pub txqlen: Option<u32>,
    pub group: Option<u32>,
    #[serde(deserialize_with = "de_link_ref")]
    pub master: Option<Either<u32, String>>,
    /// Detach from the current master.
    pub nomaster: Option<bool>,
    pub promisc: Option<bool>,
}

pub fn link_change(js: NativeLinkChange) -> Result<LinkChange, Error> {
    if js.master.is_some() && js.nomaster == Some(true) {
        return Err(Error::invalid("master", "master and nomaster are exclusive"));
    }
    let master = match (js.master, js.nomaster) {
        (Some(m), _) => Some(Some(link_ref(m))),
        (None, Some(true)) => Some(None),
        _ => None,
    };
    Ok(LinkChange {
        up: js.up,
        mtu: js.mtu,
        mac: js.mac,
        name: js.name,
        alias: js.alias,
        txqlen: js.txqlen,
        group: js.group,
        master,
        promisc: js.promisc,
    })
}

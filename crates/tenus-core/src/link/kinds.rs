//! The table of link kinds: one line per kind, `field = "name": Variant => Type, Options, Info`
//! (the name is the kind's `Kind::NAME`, which a test checks, spelled out here for napi-rs,
//! which would write `ip6gre` as `ip6Gre`).
//! Every dispatch on the kind (parsing options, building requests, decoding records) and the
//! kind tables in `index.d.ts` are generated from it.

use netlink_packet_route::link::{InfoData, InfoKind};
use serde::{Serialize, Serializer};

use crate::args;
use crate::error::{Error, Result};
use crate::netns::Namespace;

use super::build::Resolved;
use super::kind::{Kind, ParseContext};
use super::spec::{LinkRef, LinkSpec};
use super::{bond, bridge, dummy, gre, ipvlan, kind, macvlan, veth, vlan, vrf, vxlan, wireguard};

macro_rules! kinds {
    ($($field:ident = $name:literal: $variant:ident => $ty:path, $options:path, $info:path;)*) => {
        /// A link to create: the kind and its checked, typed options.
        #[derive(Debug, Clone)]
        pub enum KindSpec {
            $($variant($ty),)*
        }

        /// A link's kind details as the kernel reports them (`LinkRecord::info`), written to
        /// JSON with the kind as `kind`.
        #[derive(Debug, Clone, PartialEq)]
        pub enum KindInfo {
            $($variant($info),)*
        }

        /// Every kind's options, by kind name: `index.d.ts` derives the `LinkSpec` union from it.
        #[cfg(feature = "napi")]
        #[napi_derive::napi(object, object_to_js = false, object_from_js = false)]
        pub struct LinkKindTable {
            $(#[napi(js_name = $name)] pub $field: Option<$options>,)*
        }

        /// Every kind's record details, by kind name: `index.d.ts` derives `LinkInfo` from it.
        #[cfg(feature = "napi")]
        #[napi_derive::napi(object, object_to_js = false, object_from_js = false)]
        pub struct LinkInfoTable {
            $(#[napi(js_name = $name)] pub $field: Option<$info>,)*
        }

        /// The kind names tenus can create.
        pub const KIND_NAMES: &[&str] = &[$($name,)*];

        #[cfg(test)]
        #[test]
        fn the_table_spells_each_kind_as_the_kind_does() {
            $(assert_eq!($name, <$ty as Kind>::NAME);)*
        }

        impl KindSpec {
            /// Reads a kind's options (a JSON object without the common options).
            pub fn parse(kind: &str, options: serde_json::Value, ctx: &mut dyn ParseContext) -> Result<Self> {
                $(
                    if kind == <$ty as Kind>::NAME {
                        let options = args::options::<$options>(kind, options)?;
                        return <$ty as Kind>::parse(options, ctx).map(KindSpec::$variant);
                    }
                )*
                Err(Error::invalid(
                    "kind",
                    format!("unknown link kind {kind:?} (expected one of {})", KIND_NAMES.join(", ")),
                ))
            }

            pub fn name(&self) -> &'static str {
                match self { $(KindSpec::$variant(_) => <$ty as Kind>::NAME,)* }
            }

            pub fn prefix(&self) -> &'static str {
                match self { $(KindSpec::$variant(_) => <$ty as Kind>::PREFIX,)* }
            }

            pub fn parent(&self) -> Option<&LinkRef> {
                match self { $(KindSpec::$variant(k) => k.parent(),)* }
            }

            pub fn parent_in_data(&self) -> bool {
                match self { $(KindSpec::$variant(k) => k.parent_in_data(),)* }
            }

            pub fn mtu_range(&self) -> std::ops::RangeInclusive<u32> {
                match self { $(KindSpec::$variant(k) => k.mtu_range(),)* }
            }

            pub fn peer(&self) -> Option<Option<&str>> {
                match self { $(KindSpec::$variant(k) => k.peer(),)* }
            }

            pub fn namespaces(&self) -> Vec<Namespace> {
                match self { $(KindSpec::$variant(k) => k.namespaces(),)* }
            }

            pub fn info(&self, r: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
                match self { $(KindSpec::$variant(k) => k.info(r),)* }
            }
        }

        impl KindInfo {
            /// Decodes the details of a link of kind `kind` (None for kinds tenus does not know).
            pub fn decode(kind: &str, data: Option<&InfoData>) -> Option<KindInfo> {
                $(
                    if kind == <$ty as Kind>::NAME {
                        return <$ty as Kind>::decode(data).map(KindInfo::$variant);
                    }
                )*
                None
            }

            pub fn name(&self) -> &'static str {
                match self { $(KindInfo::$variant(_) => <$ty as Kind>::NAME,)* }
            }
        }

        impl Serialize for KindInfo {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                match self { $(KindInfo::$variant(i) => Tagged { kind: self.name(), info: i }.serialize(s),)* }
            }
        }

        /// The least options a link of `kind` can be made with (see `Kind::probe`).
        pub fn probe(kind: &str) -> Option<serde_json::Value> {
            $(
                if kind == <$ty as Kind>::NAME {
                    return Some(<$ty as Kind>::probe());
                }
            )*
            None
        }

        /// Whether links of kind `kind` may change namespace (unknown kinds: the kernel decides).
        pub fn movable(kind: &str) -> bool {
            $(
                if kind == <$ty as Kind>::NAME {
                    return <$ty as Kind>::movable();
                }
            )*
            true
        }
    };
}

#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    kind: &'static str,
    #[serde(flatten)]
    info: &'a T,
}

kinds! {
    bridge = "bridge": Bridge => bridge::Bridge, bridge::BridgeOptions, bridge::BridgeInfo;
    veth = "veth": Veth => veth::Veth, veth::VethOptions, veth::VethInfo;
    macvlan = "macvlan": Macvlan => macvlan::Macvlan, macvlan::MacvlanOptions, macvlan::MacvlanInfo;
    macvtap = "macvtap": Macvtap => macvlan::Macvtap, macvlan::MacvlanOptions, macvlan::MacvlanInfo;
    vlan = "vlan": Vlan => vlan::Vlan, vlan::VlanOptions, vlan::VlanInfo;
    vxlan = "vxlan": Vxlan => vxlan::Vxlan, vxlan::VxlanOptions, vxlan::VxlanInfo;
    dummy = "dummy": Dummy => dummy::Dummy, kind::NoOptions, kind::NoOptions;
    ipvlan = "ipvlan": Ipvlan => ipvlan::Ipvlan, ipvlan::IpvlanOptions, ipvlan::IpvlanInfo;
    bond = "bond": Bond => bond::Bond, bond::BondOptions, bond::BondInfo;
    vrf = "vrf": Vrf => vrf::Vrf, vrf::VrfOptions, vrf::VrfInfo;
    gre = "gre": Gre => gre::Gre, gre::GreOptions, gre::GreInfo;
    gretap = "gretap": GreTap => gre::GreTap, gre::GreOptions, gre::GreInfo;
    ip6gre = "ip6gre": Ip6Gre => gre::Ip6Gre, gre::GreOptions, gre::GreInfo;
    ip6gretap = "ip6gretap": Ip6GreTap => gre::Ip6GreTap, gre::GreOptions, gre::GreInfo;
    wireguard = "wireguard": Wireguard => wireguard::Wireguard, kind::NoOptions, kind::NoOptions;
}

/// Whether the running kernel can create links of `kind`: tried in a throwaway namespace (a
/// missing module answers EOPNOTSUPP "Unknown device type").
pub async fn kernel_supports(kind: &str) -> Result<bool> {
    let Some(options) = probe(kind) else {
        return Err(Error::invalid(
            "kind",
            format!(
                "unknown link kind {kind:?} (expected one of {})",
                KIND_NAMES.join(", ")
            ),
        ));
    };
    let h = crate::handle::Handle::open(Namespace::create_anonymous().await?).await?;
    let mut cx = Probe(h.namespace().clone());
    if options.get("parent").is_some() {
        let bridge = LinkSpec::from_json("bridge", serde_json::json!({"name": "probe0"}), &mut cx)?;
        h.link_add(bridge).await?;
    }
    let spec = LinkSpec::from_json(kind, options, &mut cx)?;
    match h.link_add(spec).await {
        Ok(_) => Ok(true),
        Err(e) if e.errno() == Some(libc::EOPNOTSUPP) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Parses a probe's options: its namespace is the only one.
struct Probe(Namespace);

impl ParseContext for Probe {
    fn peer(&mut self, _: &str, _: u32) -> Result<Namespace> {
        Ok(self.0.clone())
    }
}

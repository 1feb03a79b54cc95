//! The table of link kinds. Each kind is one file in this folder implementing `Kind`
//! (`../kind.rs`), and one line here: `mod file { field = "name": Variant => Type, Options, Info; }`
//! declares the file and registers the kinds in it (the name is the kind's `Kind::NAME`, which
//! a test checks, spelled out for napi-rs, which would write `ip6gre` as `ip6Gre`). Every
//! dispatch on the kind (parsing options, building requests, decoding records) and the kind
//! tables in `index.d.ts` are generated from it. Kinds made another way (tun/tap) are listed
//! under `read only`: their records are decoded, nothing else.

use netlink_packet_route::link::{InfoData, InfoKind};
use serde::{Serialize, Serializer};

use crate::args;
use crate::batch::{Before, Read};
use crate::error::{Error, Result};
use crate::netns::Namespace;

use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};
use crate::link::spec::{LinkRef, LinkSpec};

macro_rules! kinds {
    (
        $(mod $module:ident { $($field:ident = $name:literal: $variant:ident => $ty:ident, $options:ident, $info:ident;)* })*
        read only { $($rfield:ident = $rname:literal: $rvariant:ident => $rinfo:path, $rdecode:path;)* }
    ) => {
        $(pub mod $module;)*
        kinds!(@table [$($rfield = $rname: $rvariant => $rinfo, $rdecode;)*] $($($module $field = $name: $variant => $ty, $options, $info;)*)*);
    };
    (
        @table [$($rfield:ident = $rname:literal: $rvariant:ident => $rinfo:path, $rdecode:path;)*]
        $($module:ident $field:ident = $name:literal: $variant:ident => $ty:ident, $options:ident, $info:ident;)*
    ) => {
        /// A link to create: the kind and its checked, typed options.
        #[derive(Debug, Clone)]
        pub enum KindSpec {
            $($variant($module::$ty),)*
        }

        /// A link's kind details as the kernel reports them (`LinkRecord::info`), written to
        /// JSON with the kind as `kind`.
        #[derive(Debug, Clone, PartialEq)]
        pub enum KindInfo {
            $($variant($module::$info),)*
            $($rvariant($rinfo),)*
        }

        /// Every kind's options, by kind name: `index.d.ts` derives the `LinkSpec` union from it.
        #[cfg(feature = "napi")]
        #[napi_derive::napi(object, object_to_js = false, object_from_js = false)]
        pub struct LinkKindTable {
            $(#[napi(js_name = $name)] pub $field: Option<$module::$options>,)*
        }

        /// Every kind's record details, by kind name: `index.d.ts` derives `LinkInfo` from it.
        #[cfg(feature = "napi")]
        #[napi_derive::napi(object, object_to_js = false, object_from_js = false)]
        pub struct LinkInfoTable {
            $(#[napi(js_name = $name)] pub $field: Option<$module::$info>,)*
            $(#[napi(js_name = $rname)] pub $rfield: Option<$rinfo>,)*
        }

        /// The kind names tenus can create.
        pub const KIND_NAMES: &[&str] = &[$($name,)*];

        #[cfg(test)]
        #[test]
        fn the_table_spells_each_kind_as_the_kind_does() {
            $(assert_eq!($name, <$module::$ty as Kind>::NAME);)*
        }

        impl KindSpec {
            /// Reads a kind's options (a JSON object without the common options).
            pub fn parse(kind: &str, options: serde_json::Value, ctx: &mut dyn ParseContext) -> Result<Self> {
                $(
                    if kind == <$module::$ty as Kind>::NAME {
                        let options = args::options::<$module::$options>(kind, options)?;
                        return <$module::$ty as Kind>::parse(options, ctx).map(KindSpec::$variant);
                    }
                )*
                Err(Error::invalid(
                    "kind",
                    format!("unknown link kind {kind:?} (expected one of {})", KIND_NAMES.join(", ")),
                ))
            }

            pub fn name(&self) -> &'static str {
                match self { $(KindSpec::$variant(_) => <$module::$ty as Kind>::NAME,)* }
            }

            pub fn prefix(&self) -> &'static str {
                match self { $(KindSpec::$variant(_) => <$module::$ty as Kind>::PREFIX,)* }
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

            pub fn creation_mtu_is_set_by_user(&self) -> bool {
                match self { $(KindSpec::$variant(k) => k.creation_mtu_is_set_by_user(),)* }
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

            pub fn reads_before_create(&self, r: &Resolved) -> Vec<Read> {
                match self { $(KindSpec::$variant(k) => k.reads_before_create(r),)* }
            }

            pub fn restore_after_delete(&self, before: &Before) -> Vec<Vec<u8>> {
                match self { $(KindSpec::$variant(k) => k.restore_after_delete(before),)* }
            }
        }

        impl KindInfo {
            /// Decodes the details of a link of kind `kind` (None for kinds tenus does not know).
            pub fn decode(kind: &str, data: Option<&InfoData>) -> Option<KindInfo> {
                $(
                    if kind == <$module::$ty as Kind>::NAME {
                        return <$module::$ty as Kind>::decode(data).map(KindInfo::$variant);
                    }
                )*
                $(
                    if kind == $rname {
                        return $rdecode(data).map(KindInfo::$rvariant);
                    }
                )*
                None
            }

            pub fn name(&self) -> &'static str {
                match self {
                    $(KindInfo::$variant(_) => <$module::$ty as Kind>::NAME,)*
                    $(KindInfo::$rvariant(_) => $rname,)*
                }
            }
        }

        impl Serialize for KindInfo {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                match self {
                    $(KindInfo::$variant(i) => Tagged { kind: self.name(), info: i }.serialize(s),)*
                    $(KindInfo::$rvariant(i) => Tagged { kind: self.name(), info: i }.serialize(s),)*
                }
            }
        }

        /// The least options a link of `kind` can be made with (see `Kind::probe`).
        pub fn probe(kind: &str) -> Option<serde_json::Value> {
            $(
                if kind == <$module::$ty as Kind>::NAME {
                    return Some(<$module::$ty as Kind>::probe());
                }
            )*
            None
        }

        /// Whether links of kind `kind` may change namespace (unknown kinds: the kernel decides).
        pub fn movable(kind: &str) -> bool {
            $(
                if kind == <$module::$ty as Kind>::NAME {
                    return <$module::$ty as Kind>::movable();
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
    mod bridge { bridge = "bridge": Bridge => Bridge, BridgeOptions, BridgeInfo; }
    mod veth { veth = "veth": Veth => Veth, VethOptions, VethInfo; }
    mod macvlan {
        macvlan = "macvlan": Macvlan => Macvlan, MacvlanOptions, MacvlanInfo;
        macvtap = "macvtap": Macvtap => Macvtap, MacvlanOptions, MacvlanInfo;
    }
    mod vlan { vlan = "vlan": Vlan => Vlan, VlanOptions, VlanInfo; }
    mod vxlan { vxlan = "vxlan": Vxlan => Vxlan, VxlanOptions, VxlanInfo; }
    mod dummy { dummy = "dummy": Dummy => Dummy, NoOptions, NoOptions; }
    mod ipvlan { ipvlan = "ipvlan": Ipvlan => Ipvlan, IpvlanOptions, IpvlanInfo; }
    mod bond { bond = "bond": Bond => Bond, BondOptions, BondInfo; }
    mod vrf { vrf = "vrf": Vrf => Vrf, VrfOptions, VrfInfo; }
    mod gre {
        gre = "gre": Gre => Gre, GreOptions, GreInfo;
        gretap = "gretap": GreTap => GreTap, GreOptions, GreInfo;
        ip6gre = "ip6gre": Ip6Gre => Ip6Gre, GreOptions, GreInfo;
        ip6gretap = "ip6gretap": Ip6GreTap => Ip6GreTap, GreOptions, GreInfo;
    }
    mod wireguard { wireguard = "wireguard": Wireguard => Wireguard, NoOptions, NoOptions; }
    mod geneve { geneve = "geneve": Geneve => Geneve, GeneveOptions, GeneveInfo; }
    mod ifb { ifb = "ifb": Ifb => Ifb, NoOptions, NoOptions; }
    mod netkit { netkit = "netkit": Netkit => Netkit, NetkitOptions, NetkitInfo; }
    // Kinds tenus reads but makes another way than RTM_NEWLINK (tun/tap: `Handle::tuntap_add`).
    read only {
        tun = "tun": Tun => crate::link::tuntap::TunInfo, crate::link::tuntap::TunInfo::decode;
    }
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

//! What a caller asks for when creating a link: the attributes every kind shares and the kind
//! with its own options, read and checked once into typed values before any message exists.

use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::args;
use crate::error::{Error, Result};
use crate::netns::Namespace;

use super::kind::ParseContext;
use super::kinds::KindSpec;

/// A link named by index or by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LinkRef {
    Index(u32),
    Name(String),
}

impl LinkRef {
    pub fn validate(&self, arg: &str) -> Result<()> {
        match self {
            LinkRef::Index(i) => args::INDEX.check(arg, *i).map(drop),
            LinkRef::Name(name) => args::ifname(arg, name),
        }
    }

    /// `value` checked as the argument `arg`, or an error saying the kind needs it.
    pub fn required(value: Option<LinkRef>, arg: &str, kind: &str) -> Result<LinkRef> {
        let link = args::required(value, arg, kind)?;
        link.validate(arg)?;
        Ok(link)
    }

    pub fn describe(&self) -> String {
        match self {
            LinkRef::Index(i) => format!("#{i}"),
            LinkRef::Name(n) => n.clone(),
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            LinkRef::Name(n) => Some(n),
            LinkRef::Index(_) => None,
        }
    }
}

impl fmt::Display for LinkRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkRef::Index(i) => write!(f, "#{i}"),
            LinkRef::Name(n) => f.write_str(n),
        }
    }
}

// JSON names a link by its index (a number) or its name (a string). By hand rather than
// `#[serde(untagged)]`, which buffers every value before trying each variant: batches of
// thousands of items pay for that. Only the type is checked here; whoever takes a `LinkRef`
// checks its value with `validate` and names the argument (a bad name in an item fails that
// item, not the whole document).
impl<'de> Deserialize<'de> for LinkRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = LinkRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an interface index or name")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<LinkRef, E> {
                u32::try_from(v)
                    .map(LinkRef::Index)
                    .map_err(|_| E::custom(format!("invalid value: {v} is not an interface index")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<LinkRef, E> {
                Err(E::custom(format!("invalid value: {v} is not an interface index")))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<LinkRef, E> {
                Err(E::custom(format!("invalid value: {v} is not an interface index")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<LinkRef, E> {
                Ok(LinkRef::Name(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Attributes any kind accepts at creation (`ip link add NAME mtu .. address .. group .. master ..`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct CommonOptions {
    /// The link's name; generated (kind prefix + 8 hex digits) when omitted.
    pub name: Option<String>,
    pub mtu: Option<u32>,
    /// Unicast MAC address, 'aa:bb:cc:dd:ee:ff'.
    pub mac: Option<String>,
    pub txqlen: Option<u32>,
    /// Link group (see `Netns.deleteGroup`).
    pub group: Option<u32>,
    /// Bridge, bond or VRF to attach to.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub master: Option<LinkRef>,
    /// Bring the link up as it is created.
    pub up: Option<bool>,
}

/// The common attributes, checked.
#[derive(Debug, Clone, Default)]
pub struct CommonSpec {
    pub name: Option<String>,
    pub mtu: Option<u32>,
    pub mac: Option<[u8; 6]>,
    pub txqlen: Option<u32>,
    pub group: Option<u32>,
    pub master: Option<LinkRef>,
    pub up: bool,
}

/// The option names every kind shares (taken out of an option bag before the kind reads it).
const COMMON: [&str; 7] = ["name", "mtu", "mac", "txqlen", "group", "master", "up"];

#[derive(Debug, Clone)]
pub struct LinkSpec {
    pub common: CommonSpec,
    pub kind: KindSpec,
}

impl LinkSpec {
    /// Reads `ip link add` options: one JSON object with the common options and the kind's.
    pub fn from_json(kind: &str, options: serde_json::Value, ctx: &mut dyn ParseContext) -> Result<Self> {
        let serde_json::Value::Object(mut all) = options else {
            return Err(Error::invalid_type("options", "link options must be an object"));
        };
        let mut common = serde_json::Map::new();
        for key in COMMON {
            if let Some((key, v)) = all.remove_entry(key) {
                common.insert(key, v);
            }
        }
        let common: CommonOptions = args::options("options", serde_json::Value::Object(common))?;
        // An unknown option is told among all the call takes, not the kind's alone (the
        // peer's namespace is `peerIn` in the API: the engine gets its number).
        let kind = KindSpec::parse(kind, serde_json::Value::Object(all), ctx)
            .map_err(|e| args::unknown_among(e, &COMMON, &[("peerNetns", "peerIn")]))?;
        let mut spec = LinkSpec {
            common: CommonSpec::default(),
            kind,
        };
        spec.common = spec.check_common(common)?;
        Ok(spec)
    }

    fn check_common(&self, c: CommonOptions) -> Result<CommonSpec> {
        if let Some(name) = &c.name {
            args::ifname("name", name)?;
            // Both ends of a pair born in one namespace need names of their own: the kernel
            // would answer a bare EEXIST.
            let peer = self.kind.peer().flatten();
            if peer == Some(name.as_str()) && self.kind.namespaces().is_empty() {
                return Err(Error::invalid(
                    "peer",
                    format!("{name:?} is the name of the link itself: the two ends of a pair in one namespace need two names"),
                ));
            }
        }
        if let Some(master) = &c.master {
            master.validate("master")?;
        }
        Ok(CommonSpec {
            name: c.name,
            mtu: c
                .mtu
                .map(|m| args::mtu_in("mtu", m, self.kind.mtu_range()))
                .transpose()?,
            mac: c.mac.as_deref().map(|m| args::mac("mac", m)).transpose()?,
            txqlen: c.txqlen,
            group: c.group,
            master: c.master,
            up: c.up.unwrap_or(false),
        })
    }

    /// Namespaces the request refers to by fd; they must stay open until it is sent.
    pub fn referenced_namespaces(&self) -> Vec<Namespace> {
        self.kind.namespaces()
    }
}

/// `<prefix><8 random hex digits>`, at most 15 bytes.
pub fn generate_name(prefix: &str) -> String {
    let mut bytes = [0u8; 4];
    let got = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if got != bytes.len() as isize {
        // getrandom cannot fail for 4 bytes after boot; keep names distinct regardless.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        bytes = t.to_ne_bytes();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut name = format!("{prefix}{hex}");
    name.truncate(args::IFNAME_MAX_BYTES);
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::kind::tests::NoContext;
    use serde_json::json;

    fn arg_of(kind: &str, v: serde_json::Value) -> String {
        let e = LinkSpec::from_json(kind, v, &mut NoContext).unwrap_err();
        e.arg().unwrap_or("<none>").to_string()
    }

    #[test]
    fn generated_names_are_valid_and_distinct() {
        let a = generate_name("veth");
        let b = generate_name("veth");
        assert!(args::ifname("name", &a).is_ok());
        assert_eq!(a.len(), 12);
        assert_ne!(a, b);
        assert_eq!(generate_name("abcdefghijkl").len(), 15);
    }

    #[test]
    fn every_refusal_names_its_argument() {
        assert_eq!(arg_of("bridge", json!({"name": "way-too-long-name"})), "name");
        assert_eq!(arg_of("bridge", json!({"mtu": 10})), "mtu");
        assert_eq!(arg_of("bridge", json!({"mtu": 65536})), "mtu");
        assert_eq!(arg_of("bridge", json!({"mtu": 1500.5})), "mtu");
        assert_eq!(arg_of("bridge", json!({"mtu": "1500"})), "mtu");
        assert_eq!(arg_of("bridge", json!({"mtu": 4294968796u64})), "mtu");
        assert_eq!(arg_of("bridge", json!({"mac": "zz"})), "mac");
        assert_eq!(arg_of("bridge", json!({"master": 0})), "master");
        assert_eq!(arg_of("bridge", json!({"master": true})), "master");
        assert_eq!(arg_of("bridge", json!({"stp": 1})), "stp");
        assert_eq!(arg_of("bridge", json!({"mtuu": 1})), "mtuu");
        assert_eq!(arg_of("vxlan", json!({"vni": null})), "vni");
        assert_eq!(arg_of("vlan", json!({"parent": "eth0", "id": 1.5})), "id");
        assert_eq!(arg_of("vlan", json!({"parent": "eth0", "id": 4095})), "id");
        assert_eq!(
            arg_of("macvlan", json!({"parent": "eth0", "mode": "bogus"})),
            "mode"
        );
        assert_eq!(arg_of("nope", json!({})), "kind");
    }

    #[test]
    fn type_and_value_problems_are_told_apart() {
        use crate::error::Problem;
        let problem = |v: serde_json::Value| match LinkSpec::from_json("bridge", v, &mut NoContext) {
            Err(Error::InvalidArgument { problem, .. }) => problem,
            other => panic!("{other:?}"),
        };
        assert_eq!(problem(json!({"mtu": "9000"})), Problem::Type);
        assert_eq!(problem(json!({"mtu": 1500.5})), Problem::Value);
        assert_eq!(problem(json!({"mtu": -1})), Problem::Value);
        assert_eq!(problem(json!({"mtu": 70000})), Problem::Value);
    }

    #[test]
    fn per_kind_mtu_bounds() {
        assert_eq!(arg_of("veth", json!({"mtu": 65536})), "mtu");
        assert!(LinkSpec::from_json("veth", json!({"mtu": 65535}), &mut NoContext).is_ok());
        assert_eq!(arg_of("gre", json!({"remote": "10.0.0.2", "mtu": 65535})), "mtu");
    }
}

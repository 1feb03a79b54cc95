//! The names iproute2 gives route types, scopes, protocols and tables, and their numbers:
//! options take either (`table: 'main'` or `table: 254`), records say the name where there is
//! one (as `ip -j` does).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A closed set of names with their numbers (`js_enum!` plus the code of each).
pub trait Coded: Copy + 'static {
    /// What the number is, for error messages ("route type").
    const WHAT: &'static str;
    fn all() -> &'static [Self];
    fn name(self) -> &'static str;
    fn code(self) -> u32;

    fn from_code(code: u32) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.code() == code)
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.name() == name)
    }
}

macro_rules! coded {
    ($name:ident, $what:literal { $($variant:ident = $text:literal = $code:literal),* $(,)? }) => {
        crate::js_enum!($name { $($variant = $text),* });

        impl Coded for $name {
            const WHAT: &'static str = $what;
            fn all() -> &'static [Self] {
                Self::ALL
            }
            fn name(self) -> &'static str {
                self.as_str()
            }
            fn code(self) -> u32 {
                match self {
                    $($name::$variant => $code),*
                }
            }
        }
    };
}

coded!(RouteType, "route type" {
    Unicast = "unicast" = 1,
    Local = "local" = 2,
    Broadcast = "broadcast" = 3,
    Anycast = "anycast" = 4,
    Multicast = "multicast" = 5,
    Blackhole = "blackhole" = 6,
    Unreachable = "unreachable" = 7,
    Prohibit = "prohibit" = 8,
    Throw = "throw" = 9,
});

impl RouteType {
    /// Types whose packets go nowhere: they have no gateway or link.
    pub fn is_reject(self) -> bool {
        matches!(
            self,
            RouteType::Blackhole | RouteType::Unreachable | RouteType::Prohibit | RouteType::Throw
        )
    }

    /// Types iproute2 puts in table local when no table is given (`iproute_modify`).
    pub fn is_local_table(self) -> bool {
        matches!(self, RouteType::Local | RouteType::Broadcast | RouteType::Anycast)
    }
}

coded!(RouteScope, "scope" {
    Global = "global" = 0,
    Site = "site" = 200,
    Link = "link" = 253,
    Host = "host" = 254,
    Nowhere = "nowhere" = 255,
});

coded!(RouteProtocol, "protocol" {
    // What `ip route get` answers for IPv4, and rules added without one, carry.
    Unspec = "unspec" = 0,
    Redirect = "redirect" = 1,
    Kernel = "kernel" = 2,
    Boot = "boot" = 3,
    Static = "static" = 4,
    Gated = "gated" = 8,
    Ra = "ra" = 9,
    Mrt = "mrt" = 10,
    Zebra = "zebra" = 11,
    Bird = "bird" = 12,
    Dnrouted = "dnrouted" = 13,
    Xorp = "xorp" = 14,
    Ntk = "ntk" = 15,
    Dhcp = "dhcp" = 16,
    Keepalived = "keepalived" = 18,
    Babel = "babel" = 42,
    Openr = "openr" = 99,
    Tenus = "tenus" = 116,
    Bgp = "bgp" = 186,
    Isis = "isis" = 187,
    Ospf = "ospf" = 188,
    Rip = "rip" = 189,
    Eigrp = "eigrp" = 192,
});

/// The protocol number tenus gives the routes, rules and nexthops it adds unless told
/// otherwise (116, ASCII 't'; no routing daemon uses it), so that a caller can list and
/// prune what it made (`ns.routes({ protocol: 'tenus' })`).
pub const TENUS_PROTOCOL: u8 = 116;

coded!(RouteTableName, "routing table" {
    Default = "default" = 253,
    Main = "main" = 254,
    Local = "local" = 255,
});

// IPv6 router preference (RFC 4191, ICMPV6_ROUTER_PREF_*): the kernel ranks routes of one
// prefix and metric by it.
coded!(RoutePref, "router preference" {
    Low = "low" = 3,
    Medium = "medium" = 0,
    High = "high" = 1,
});

pub const RT_TABLE_MAIN: u32 = 254;
pub const RT_TABLE_LOCAL: u32 = 255;

/// A value given by name or by number. Its TypeScript type is written by hand on each field
/// (`number | RouteScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameOr<N> {
    Number(u32),
    Name(N),
}

impl<N: Coded> NameOr<N> {
    pub fn code(self) -> u32 {
        match self {
            NameOr::Number(n) => n,
            NameOr::Name(n) => n.code(),
        }
    }

    /// The name when the number has one (records say names, as `ip -j` does).
    pub fn of(code: u32) -> Self {
        N::from_code(code).map_or(NameOr::Number(code), NameOr::Name)
    }
}

impl<'de, N: Coded> Deserialize<'de> for NameOr<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<N>(PhantomData<N>);
        impl<N: Coded> Visitor<'_> for V<N> {
            type Value = NameOr<N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                let names: Vec<&str> = N::all().iter().map(|n| n.name()).collect();
                write!(f, "a {} number or one of {}", N::WHAT, names.join(", "))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                u32::try_from(v)
                    .map(NameOr::Number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Err(E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                N::from_name(v)
                    .map(NameOr::Name)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<N: Coded> Serialize for NameOr<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            NameOr::Number(n) => s.serialize_u32(*n),
            NameOr::Name(n) => s.serialize_str(n.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        let t: NameOr<RouteTableName> = serde_json::from_str("\"main\"").unwrap();
        assert_eq!(t.code(), 254);
        let t: NameOr<RouteTableName> = serde_json::from_str("100").unwrap();
        assert_eq!(t.code(), 100);
        let e = serde_json::from_str::<NameOr<RouteScope>>("\"galaxy\"").unwrap_err();
        assert!(
            e.to_string().contains("one of global, site, link, host, nowhere"),
            "{e}"
        );
        assert!(serde_json::from_str::<NameOr<RouteScope>>("-1").is_err());
        assert!(serde_json::from_str::<NameOr<RouteScope>>("1.5").is_err());
        assert_eq!(
            serde_json::to_string(&NameOr::<RouteProtocol>::of(116)).unwrap(),
            "\"tenus\""
        );
        assert_eq!(
            serde_json::to_string(&NameOr::<RouteProtocol>::of(77)).unwrap(),
            "77"
        );
        assert_eq!(RouteType::from_code(9), Some(RouteType::Throw));
    }
}

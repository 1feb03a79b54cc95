//! What `ip addr add|replace` takes besides the address: `valid_lft`, `preferred_lft`,
//! `metric`, `label`, `broadcast`, `scope`, and the flags `noprefixroute`, `nodad`,
//! `optimistic`, `home`, `mngtmpaddr`, `autojoin`; checked once, and sent as ip sends them
//! (IFA_CACHEINFO, IFA_RT_PRIORITY, IFA_LABEL, IFA_BROADCAST, the header's scope, IFA_FLAGS).
//! Also the flag names records report.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_route::address::{AddressAttribute, AddressFlags, CacheInfo};
use serde::Deserialize;

use crate::args;
use crate::error::{Error, Result};
use crate::route::names::{Coded, NameOr, RouteScope};
use crate::route::spec::SCOPE;

/// The kernel's "forever" (INFINITY_LIFE_TIME).
pub const FOREVER: u32 = u32::MAX;
/// IFNAMSIZ - 1: an IPv4 address's label is an interface-like name (`eth0:1`).
const LABEL_MAX_BYTES: usize = 15;

/// `ip addr add|replace` options; absent ones are as `ip` leaves them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct AddressOptions {
    /// Seconds until the address goes (`valid_lft`); forever when absent.
    pub valid_lifetime: Option<u32>,
    /// Seconds until it is deprecated (`preferred_lft`), at most `validLifetime`; when absent,
    /// the valid lifetime (`ip` would refuse a valid lifetime alone as shorter than forever).
    pub preferred_lifetime: Option<u32>,
    /// The metric of the prefix route the kernel adds for it.
    pub metric: Option<u32>,
    /// IPv4 only: a label (`eth0:1`), at most 15 bytes.
    pub label: Option<String>,
    /// No prefix route for it.
    pub noprefixroute: Option<bool>,
    /// IPv6 only: no duplicate address detection.
    pub nodad: Option<bool>,
    /// IPv6 only: usable while duplicate address detection runs (RFC 4429).
    pub optimistic: Option<bool>,
    /// IPv6 only: a Mobile IPv6 home address.
    pub home: Option<bool>,
    /// IPv6 only: make temporary (privacy) addresses from this prefix.
    pub mngtmpaddr: Option<bool>,
    /// A multicast address: join the group with it.
    pub autojoin: Option<bool>,
    /// The other end of a point-to-point address (`ip addr add LOCAL peer PEER/LEN`): the
    /// address given is the local one, and the prefix length is the peer's, given on either
    /// (`address('10.0.0.1/24', { peer: '10.0.0.2' })` or `address('10.0.0.1', { peer:
    /// '10.0.0.2/24' })`). Records carry it as `peer`; deleting such an address needs it too
    /// (`deleteAddress(cidr, { peer })`).
    pub peer: Option<String>,
    /// IPv4 only: the broadcast address (`ip addr add ... broadcast ADDR`). Left out, tenus
    /// gives a prefix up to /30 the one whose host bits are all ones, as `brd +` does.
    pub broadcast: Option<String>,
    /// `ip addr add ... scope host|link|site|global|N`. IPv4: left out, 'host' for 127.0.0.0/8
    /// and 'global' otherwise, as `ip` chooses. IPv6: the kernel gives an address the scope of
    /// its prefix ('link' for fe80::/10, 'host' for ::1, ...); given, it must be that one (so a
    /// record's `scope` may be passed back).
    #[cfg_attr(feature = "napi", napi(ts_type = "number | RouteScope"))]
    pub scope: Option<NameOr<RouteScope>>,
}

/// Checked options, as the request carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressExtras {
    /// (preferred, valid) seconds.
    pub lifetimes: Option<(u32, u32)>,
    pub metric: Option<u32>,
    pub label: Option<String>,
    pub flags: AddressFlags,
    /// IFA_ADDRESS when it is not the local address (a point-to-point peer).
    pub peer: Option<IpAddr>,
    /// The prefix length the peer was given with (`PEER/LEN`), as `ip` takes it.
    pub peer_prefix: Option<u8>,
    /// IFA_BROADCAST in place of the one the request would carry.
    pub broadcast: Option<Ipv4Addr>,
    /// The header's scope (RT_SCOPE_*), when given.
    pub scope: Option<u8>,
}

impl Default for AddressExtras {
    fn default() -> Self {
        AddressExtras {
            lifetimes: None,
            metric: None,
            label: None,
            flags: AddressFlags::empty(),
            peer: None,
            peer_prefix: None,
            broadcast: None,
            scope: None,
        }
    }
}

impl AddressExtras {
    pub fn parse(o: AddressOptions, address: IpAddr) -> Result<Self> {
        let v6 = address.is_ipv6();
        let mut flags = AddressFlags::empty();
        for (arg, given, flag, v6_only) in [
            (
                "noprefixroute",
                o.noprefixroute,
                AddressFlags::Noprefixroute,
                false,
            ),
            ("nodad", o.nodad, AddressFlags::Nodad, true),
            ("optimistic", o.optimistic, AddressFlags::Optimistic, true),
            ("home", o.home, AddressFlags::Homeaddress, true),
            ("mngtmpaddr", o.mngtmpaddr, AddressFlags::Managetempaddr, true),
            ("autojoin", o.autojoin, AddressFlags::Mcautojoin, false),
        ] {
            if given != Some(true) {
                continue;
            }
            if v6_only && !v6 {
                return Err(Error::invalid(arg, format!("{arg} is for IPv6 addresses only")));
            }
            flags |= flag;
        }
        if flags.contains(AddressFlags::Mcautojoin) && !address.is_multicast() {
            return Err(Error::invalid(
                "autojoin",
                format!("{address} is not a multicast address"),
            ));
        }
        let lifetimes = match (o.preferred_lifetime, o.valid_lifetime) {
            (None, None) => None,
            (preferred, valid) => {
                let valid = args::LIFETIME.check("validLifetime", valid.unwrap_or(FOREVER))?;
                let preferred = preferred.unwrap_or(valid);
                if preferred > valid {
                    return Err(Error::invalid(
                        "preferredLifetime",
                        format!("{preferred} s is longer than the valid lifetime ({valid} s)"),
                    ));
                }
                Some((preferred, valid))
            }
        };
        if let Some(label) = &o.label {
            if v6 {
                return Err(Error::invalid("label", "IPv6 addresses have no label"));
            }
            args::text("label", label, LABEL_MAX_BYTES)?;
        }
        let (peer, peer_prefix) = match o.peer.as_deref() {
            None => (None, None),
            Some(p) if p.contains('/') => {
                let (ip, len) = args::cidr("peer", p)?;
                (Some(ip), Some(len))
            }
            Some(p) => (Some(args::ip("peer", p)?), None),
        };
        if let Some(p) = peer {
            if p.is_ipv4() != address.is_ipv4() {
                return Err(Error::invalid(
                    "peer",
                    format!("{p} is not of the family of {address}"),
                ));
            }
            if address.is_multicast() {
                return Err(Error::invalid("peer", "a multicast address has no peer"));
            }
        }
        let broadcast = match o.broadcast.as_deref() {
            None => None,
            Some(_) if v6 => {
                return Err(Error::invalid(
                    "broadcast",
                    "IPv6 addresses have no broadcast address",
                ))
            }
            Some(text) => match args::ip("broadcast", text)? {
                IpAddr::V4(b) => Some(b),
                IpAddr::V6(b) => {
                    return Err(Error::invalid(
                        "broadcast",
                        format!("{b} is not an IPv4 address, as {address} is"),
                    ))
                }
            },
        };
        let scope = match o.scope {
            None => None,
            Some(s) => {
                let scope = SCOPE.check("scope", s.code())? as u8;
                if let IpAddr::V6(a) = address {
                    let kernel = v6_scope(&a);
                    if u32::from(scope) != kernel.code() {
                        return Err(Error::invalid(
                            "scope",
                            format!(
                                "the kernel gives {a} the scope of its prefix, '{}'",
                                kernel.name()
                            ),
                        ));
                    }
                }
                Some(scope)
            }
        };
        Ok(AddressExtras {
            lifetimes,
            metric: o.metric,
            label: o.label,
            flags,
            peer,
            peer_prefix,
            broadcast,
            scope,
        })
    }

    /// The scope a request for `address` carries: the one given, else `ip`'s choice ('host'
    /// for an IPv4 loopback address; the kernel sets an IPv6 address's own).
    pub fn scope_for(&self, address: IpAddr) -> u8 {
        match (self.scope, address) {
            (Some(s), _) => s,
            (None, IpAddr::V4(a)) if a.is_loopback() => RouteScope::Host.code() as u8,
            (None, _) => RouteScope::Global.code() as u8,
        }
    }

    /// The prefix length of an address given as `cidr` (parsed: `prefix`) with these options:
    /// the peer's when it was given one (`ip addr add LOCAL peer PEER/LEN`), which the address
    /// may then not contradict.
    pub fn prefix_of(&self, cidr: &str, prefix: u8) -> Result<u8> {
        match self.peer_prefix {
            Some(len) if cidr.contains('/') && len != prefix => Err(Error::invalid(
                "peer",
                format!(
                    "the prefix length is given twice, /{prefix} on {cidr} and /{len} on the peer: give it once (ip takes the peer's)"
                ),
            )),
            Some(len) => Ok(len),
            None => Ok(prefix),
        }
    }

    /// The attributes, in the order `ip` sends them after the address.
    pub fn attributes(&self) -> Vec<AddressAttribute> {
        let mut out = Vec::new();
        if let Some(label) = &self.label {
            out.push(AddressAttribute::Label(label.clone()));
        }
        if let Some(m) = self.metric {
            out.push(AddressAttribute::RoutePriority(m));
        }
        if !self.flags.is_empty() {
            out.push(AddressAttribute::Flags(self.flags));
        }
        if let Some((preferred, valid)) = self.lifetimes {
            let mut c = CacheInfo::default();
            c.ifa_preferred = preferred;
            c.ifa_valid = valid;
            out.push(AddressAttribute::CacheInfo(c));
        }
        out
    }
}

/// The scope the kernel gives an IPv6 address (`ipv6_addr_scope`): that of its prefix, or of a
/// multicast address's scope field.
fn v6_scope(a: &Ipv6Addr) -> RouteScope {
    let first = a.segments()[0];
    let mc_scope = (first & 0xff00 == 0xff00).then_some(first & 0x000f);
    if a.is_loopback() || mc_scope == Some(1) {
        RouteScope::Host
    } else if first & 0xffc0 == 0xfe80 || mc_scope == Some(2) {
        RouteScope::Link
    } else if first & 0xffc0 == 0xfec0 || mc_scope == Some(5) {
        RouteScope::Site
    } else {
        RouteScope::Global
    }
}

/// The names of IFA_F_* flags as `ip addr` prints them (0x01 is "secondary" for IPv4,
/// "temporary" for IPv6).
pub fn flag_names(flags: AddressFlags, v6: bool) -> Vec<&'static str> {
    [
        (
            AddressFlags::Secondary,
            if v6 { "temporary" } else { "secondary" },
        ),
        (AddressFlags::Nodad, "nodad"),
        (AddressFlags::Optimistic, "optimistic"),
        (AddressFlags::Dadfailed, "dadfailed"),
        (AddressFlags::Homeaddress, "home"),
        (AddressFlags::Deprecated, "deprecated"),
        (AddressFlags::Tentative, "tentative"),
        (AddressFlags::Permanent, "permanent"),
        (AddressFlags::Managetempaddr, "mngtmpaddr"),
        (AddressFlags::Noprefixroute, "noprefixroute"),
        (AddressFlags::Mcautojoin, "autojoin"),
        (AddressFlags::StablePrivacy, "stable-privacy"),
    ]
    .into_iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, name)| name)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(o: serde_json::Value, address: &str) -> Result<AddressExtras> {
        AddressExtras::parse(args::options("options", o)?, address.parse().unwrap())
    }

    #[test]
    fn refusals_name_the_argument() {
        for (o, address, arg) in [
            (
                serde_json::json!({"validLifetime": 0}),
                "fd00::1",
                "validLifetime",
            ),
            (
                serde_json::json!({"validLifetime": 10, "preferredLifetime": 20}),
                "fd00::1",
                "preferredLifetime",
            ),
            (serde_json::json!({"label": "p0:1"}), "fd00::1", "label"),
            (
                serde_json::json!({"label": "a234567890123456"}),
                "10.0.0.1",
                "label",
            ),
            (serde_json::json!({"nodad": true}), "10.0.0.1", "nodad"),
            (serde_json::json!({"home": true}), "10.0.0.1", "home"),
            (serde_json::json!({"mngtmpaddr": true}), "10.0.0.1", "mngtmpaddr"),
            (serde_json::json!({"autojoin": true}), "fd00::1", "autojoin"),
            (serde_json::json!({"metric": -1}), "fd00::1", "metric"),
            (serde_json::json!({"scope": "link"}), "fd00::1", "scope"),
        ] {
            assert_eq!(parse(o.clone(), address).unwrap_err().arg(), Some(arg), "{o}");
        }
    }

    #[test]
    fn lifetimes_default_to_forever_and_preferred_to_valid() {
        let e = parse(serde_json::json!({"preferredLifetime": 0}), "fd00::1").unwrap();
        assert_eq!(e.lifetimes, Some((0, FOREVER)));
        let e = parse(serde_json::json!({"validLifetime": 100}), "fd00::1").unwrap();
        assert_eq!(e.lifetimes, Some((100, 100)));
        assert_eq!(parse(serde_json::json!({}), "fd00::1").unwrap().lifetimes, None);
    }
}

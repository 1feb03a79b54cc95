//! Argument checks that run before any message is built, so that bad input never reaches the
//! kernel and the error names the argument at fault.

use std::net::IpAddr;

use crate::error::{Error, Result};

/// IFNAMSIZ is 16 including the terminating NUL.
pub const IFNAME_MAX_BYTES: usize = 15;
pub const MTU_MIN: u32 = 68;
pub const MTU_MAX: u32 = 65536;

/// An interface name as the kernel's `dev_valid_name()` accepts it; '%' is refused too because
/// the kernel would expand it as a template ("eth%d") and the link would not have the name asked.
pub fn ifname(arg: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(arg, "interface name must not be empty"));
    }
    if name.len() > IFNAME_MAX_BYTES {
        return Err(Error::invalid(
            arg,
            format!(
                "interface name {name:?} is {} bytes long; the limit is {IFNAME_MAX_BYTES} (IFNAMSIZ - 1)",
                name.len()
            ),
        ));
    }
    if name == "." || name == ".." {
        return Err(Error::invalid(
            arg,
            format!("interface name {name:?} is reserved"),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| matches!(c, '/' | ':' | '%') || c.is_whitespace() || c.is_control())
    {
        return Err(Error::invalid(
            arg,
            format!("interface name {name:?} contains {bad:?}; '/', ':', '%', whitespace and control characters are not allowed"),
        ));
    }
    Ok(())
}

pub fn mtu(arg: &str, value: u32) -> Result<u32> {
    if !(MTU_MIN..=MTU_MAX).contains(&value) {
        return Err(Error::invalid(
            arg,
            format!("MTU {value} is out of range {MTU_MIN}..={MTU_MAX}"),
        ));
    }
    Ok(value)
}

/// A unicast Ethernet address written as six hex octets separated by ':' or '-'.
pub fn mac(arg: &str, text: &str) -> Result<[u8; 6]> {
    let bad = || {
        Error::invalid(
            arg,
            format!("{text:?} is not a MAC address (expected six hex octets like 02:42:ac:11:00:02)"),
        )
    };
    let parts: Vec<&str> = text.split([':', '-']).collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut out = [0u8; 6];
    for (slot, part) in out.iter_mut().zip(&parts) {
        if part.len() != 2 {
            return Err(bad());
        }
        *slot = u8::from_str_radix(part, 16).map_err(|_| bad())?;
    }
    if out[0] & 1 == 1 {
        return Err(Error::invalid(
            arg,
            format!("{text} is a multicast address; a link address must be unicast"),
        ));
    }
    if out == [0; 6] {
        return Err(Error::invalid(
            arg,
            "the all-zero MAC address is not a valid link address",
        ));
    }
    Ok(out)
}

/// A link-layer address as `ip` shows it: tunnels over IPv4/IPv6 (gre, ipip, ip6gre, ...) have
/// an IP address there; everything else is hex octets.
pub fn format_lladdr(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).unwrap_or_default()).to_string(),
        16 => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).unwrap_or_default()).to_string(),
        _ => format_mac(bytes),
    }
}

/// `aa:bb:cc:...`, written into one string (listings format thousands of these).
pub fn format_mac(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

pub fn ip(arg: &str, text: &str) -> Result<IpAddr> {
    text.parse::<IpAddr>()
        .map_err(|_| Error::invalid(arg, format!("{text:?} is not an IPv4 or IPv6 address")))
}

/// `ADDRESS/PREFIX`; without a prefix the address is a host address (/32 or /128), as with `ip`.
pub fn cidr(arg: &str, text: &str) -> Result<(IpAddr, u8)> {
    let (addr_text, prefix_text) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let addr = addr_text.parse::<IpAddr>().map_err(|_| {
        Error::invalid(
            arg,
            format!("{text:?} is not a CIDR address (like 10.0.0.1/24 or fd00::1/64)"),
        )
    })?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix_text {
        None => max,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max && !p.starts_with('+') => n,
            _ => {
                return Err(Error::invalid(
                    arg,
                    format!("prefix length {p:?} in {text:?} must be a number 0..={max}"),
                ))
            }
        },
    };
    Ok((addr, prefix))
}

pub fn vlan_id(arg: &str, id: u32) -> Result<u16> {
    if !(1..=4094).contains(&id) {
        return Err(Error::invalid(
            arg,
            format!("VLAN id {id} is out of range 1..=4094"),
        ));
    }
    Ok(id as u16)
}

pub fn vni(arg: &str, vni: u32) -> Result<u32> {
    if vni >= 1 << 24 {
        return Err(Error::invalid(arg, format!("VNI {vni} does not fit in 24 bits")));
    }
    Ok(vni)
}

pub fn port(arg: &str, port: u32) -> Result<u16> {
    if port == 0 || port > 65535 {
        return Err(Error::invalid(
            arg,
            format!("UDP port {port} is out of range 1..=65535"),
        ));
    }
    Ok(port as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg_of(e: Error) -> String {
        match e {
            Error::InvalidArgument { arg, .. } => arg,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn names_follow_the_kernels_rules() {
        assert!(ifname("name", "br0").is_ok());
        assert!(ifname("name", "a23456789012345").is_ok());
        assert_eq!(arg_of(ifname("name", "a234567890123456").unwrap_err()), "name");
        for bad in ["", ".", "..", "a/b", "a:b", "a b", "a\tb", "eth%d", "a\u{7}"] {
            assert!(ifname("name", bad).is_err(), "{bad:?} should be refused");
        }
        // 15 bytes is the limit in bytes, not characters.
        assert!(ifname("name", "ééééééééx").is_err());
    }

    #[test]
    fn mtu_bounds() {
        assert!(mtu("mtu", 67).is_err());
        assert_eq!(mtu("mtu", 68).unwrap(), 68);
        assert_eq!(mtu("mtu", 9000).unwrap(), 9000);
        assert!(mtu("mtu", 65537).is_err());
    }

    #[test]
    fn macs() {
        assert_eq!(
            mac("mac", "02:42:AC:11:00:02").unwrap(),
            [2, 0x42, 0xac, 0x11, 0, 2]
        );
        assert_eq!(
            mac("mac", "02-42-ac-11-00-02").unwrap(),
            [2, 0x42, 0xac, 0x11, 0, 2]
        );
        for bad in [
            "",
            "02:42:ac:11:00",
            "02:42:ac:11:00:02:03",
            "0g:42:ac:11:00:02",
            "2:42:ac:11:00:02",
        ] {
            assert!(mac("mac", bad).is_err(), "{bad:?}");
        }
        assert!(mac("mac", "01:00:5e:00:00:01").is_err(), "multicast");
        assert!(mac("mac", "00:00:00:00:00:00").is_err(), "zero");
        assert_eq!(format_mac(&[2, 0x42, 0xac, 0x11, 0, 2]), "02:42:ac:11:00:02");
    }

    #[test]
    fn cidrs() {
        assert_eq!(
            cidr("a", "10.0.0.1/24").unwrap(),
            ("10.0.0.1".parse().unwrap(), 24)
        );
        assert_eq!(cidr("a", "10.0.0.1").unwrap().1, 32);
        assert_eq!(cidr("a", "fd00::1/64").unwrap(), ("fd00::1".parse().unwrap(), 64));
        assert_eq!(cidr("a", "fd00::1").unwrap().1, 128);
        for bad in [
            "10.0.0.1/33",
            "fd00::1/129",
            "10.0.0/24",
            "10.0.0.1/",
            "10.0.0.1/x",
            "x",
            "10.0.0.1/+8",
        ] {
            assert!(cidr("a", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn vlan_ids_and_vnis() {
        assert!(vlan_id("id", 0).is_err());
        assert_eq!(vlan_id("id", 1).unwrap(), 1);
        assert_eq!(vlan_id("id", 4094).unwrap(), 4094);
        assert!(vlan_id("id", 4095).is_err());
        assert!(vni("vni", 1 << 24).is_err());
        assert_eq!(vni("vni", (1 << 24) - 1).unwrap(), (1 << 24) - 1);
        assert!(port("port", 0).is_err());
        assert!(port("port", 65536).is_err());
    }
}

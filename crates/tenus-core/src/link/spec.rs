//! What a caller asks for when creating a link: the attributes every kind shares, and the
//! kind with its own options. Validation happens here, before any message exists.

use crate::error::{Error, Result};
use crate::netns::Namespace;
use crate::validate;

use super::{bond, bridge, dummy, gre, ipvlan, macvlan, veth, vlan, vrf, vxlan};

/// A link named by index or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRef {
    Index(u32),
    Name(String),
}

impl LinkRef {
    pub fn validate(&self, arg: &str) -> Result<()> {
        match self {
            LinkRef::Index(0) => Err(Error::invalid(arg, "interface index 0 does not name a link")),
            LinkRef::Index(_) => Ok(()),
            LinkRef::Name(name) => validate::ifname(arg, name),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            LinkRef::Index(i) => format!("#{i}"),
            LinkRef::Name(n) => n.clone(),
        }
    }
}

/// Attributes any kind accepts at creation (`ip link add NAME mtu .. address .. group .. master ..`).
#[derive(Debug, Clone, Default)]
pub struct CommonSpec {
    pub name: Option<String>,
    pub mtu: Option<u32>,
    pub mac: Option<String>,
    pub txqlen: Option<u32>,
    pub group: Option<u32>,
    pub master: Option<LinkRef>,
    pub up: bool,
}

#[derive(Debug, Clone)]
pub enum KindSpec {
    Bridge(bridge::BridgeSpec),
    Dummy,
    Veth(veth::VethSpec),
    MacVlan(macvlan::MacVlanSpec),
    MacVtap(macvlan::MacVlanSpec),
    Vlan(vlan::VlanSpec),
    Vxlan(vxlan::VxlanSpec),
    IpVlan(ipvlan::IpVlanSpec),
    Bond(bond::BondSpec),
    Vrf(vrf::VrfSpec),
    Gre(gre::GreSpec),
    Wireguard,
}

impl KindSpec {
    pub fn kind_name(&self) -> &'static str {
        match self {
            KindSpec::Bridge(_) => "bridge",
            KindSpec::Dummy => dummy::KIND,
            KindSpec::Veth(_) => "veth",
            KindSpec::MacVlan(_) => "macvlan",
            KindSpec::MacVtap(_) => "macvtap",
            KindSpec::Vlan(_) => "vlan",
            KindSpec::Vxlan(_) => "vxlan",
            KindSpec::IpVlan(_) => "ipvlan",
            KindSpec::Bond(_) => "bond",
            KindSpec::Vrf(_) => "vrf",
            KindSpec::Gre(g) => g.kind.name(),
            KindSpec::Wireguard => "wireguard",
        }
    }

    /// Prefix of generated names, in the spirit of tenus' `MakeNetInterfaceName`.
    pub fn name_prefix(&self) -> &'static str {
        match self {
            KindSpec::Bridge(_) => "br",
            KindSpec::Dummy => "dummy",
            KindSpec::Veth(_) => "veth",
            KindSpec::MacVlan(_) => "mvl",
            KindSpec::MacVtap(_) => "mvt",
            KindSpec::Vlan(_) => "vlan",
            KindSpec::Vxlan(_) => "vx",
            KindSpec::IpVlan(_) => "ipvl",
            KindSpec::Bond(_) => "bond",
            KindSpec::Vrf(_) => "vrf",
            KindSpec::Gre(_) => "gre",
            KindSpec::Wireguard => "wg",
        }
    }

    /// The link this one sits on (IFLA_LINK), if the kind has one.
    pub fn parent(&self) -> Option<&LinkRef> {
        match self {
            KindSpec::MacVlan(s) | KindSpec::MacVtap(s) => Some(&s.parent),
            KindSpec::Vlan(s) => Some(&s.parent),
            KindSpec::Vxlan(s) => s.parent.as_ref(),
            KindSpec::IpVlan(s) => Some(&s.parent),
            KindSpec::Gre(s) => s.parent.as_ref(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LinkSpec {
    pub common: CommonSpec,
    pub kind: KindSpec,
}

impl LinkSpec {
    pub fn new(kind: KindSpec) -> Self {
        LinkSpec {
            common: CommonSpec::default(),
            kind,
        }
    }

    /// Checks every argument; returns the parsed MAC so it is parsed once.
    pub fn validate(&self) -> Result<Option<[u8; 6]>> {
        let c = &self.common;
        if let Some(name) = &c.name {
            validate::ifname("name", name)?;
        }
        if let Some(mtu) = c.mtu {
            validate::mtu("mtu", mtu)?;
        }
        if let Some(master) = &c.master {
            master.validate("master")?;
        }
        let mac = c.mac.as_deref().map(|m| validate::mac("mac", m)).transpose()?;
        match &self.kind {
            KindSpec::Bridge(_) | KindSpec::Dummy | KindSpec::Wireguard => {}
            KindSpec::IpVlan(s) => s.validate()?,
            KindSpec::Bond(s) => s.validate()?,
            KindSpec::Vrf(s) => s.validate()?,
            KindSpec::Gre(s) => s.validate()?,
            KindSpec::Veth(s) => s.validate()?,
            KindSpec::MacVlan(s) | KindSpec::MacVtap(s) => s.parent.validate("parent")?,
            KindSpec::Vlan(s) => s.validate()?,
            KindSpec::Vxlan(s) => s.validate()?,
        }
        Ok(mac)
    }

    /// Namespaces the request refers to by fd; they must stay open until it is sent.
    pub fn referenced_namespaces(&self) -> Vec<Namespace> {
        match &self.kind {
            KindSpec::Veth(v) => v.peer_ns.iter().cloned().collect(),
            _ => Vec::new(),
        }
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
    name.truncate(validate::IFNAME_MAX_BYTES);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_valid_and_distinct() {
        let a = generate_name("veth");
        let b = generate_name("veth");
        assert!(validate::ifname("name", &a).is_ok());
        assert_eq!(a.len(), 12);
        assert_ne!(a, b);
        assert_eq!(generate_name("abcdefghijkl").len(), 15);
    }

    #[test]
    fn validation_names_the_argument() {
        let mut spec = LinkSpec::new(KindSpec::Bridge(Default::default()));
        spec.common.name = Some("way-too-long-name".into());
        assert!(matches!(spec.validate(), Err(Error::InvalidArgument { arg, .. }) if arg == "name"));
        spec.common.name = Some("br0".into());
        spec.common.mtu = Some(10);
        assert!(matches!(spec.validate(), Err(Error::InvalidArgument { arg, .. }) if arg == "mtu"));
        spec.common.mtu = Some(9000);
        spec.common.mac = Some("zz".into());
        assert!(matches!(spec.validate(), Err(Error::InvalidArgument { arg, .. }) if arg == "mac"));
        spec.common.mac = None;
        spec.common.master = Some(LinkRef::Index(0));
        assert!(matches!(spec.validate(), Err(Error::InvalidArgument { arg, .. }) if arg == "master"));
    }
}

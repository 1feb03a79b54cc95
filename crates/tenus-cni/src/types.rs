//! The CNI result type (SPEC.md section 5): interfaces, IPs, routes, DNS. Read from any served
//! version (an IPAM plugin's answer, a `prevResult`), written in the configuration's version:
//! 1.x as is; 0.3.x and 0.4.0 with each IP's `version` and without the interface fields they
//! lack (`mtu`, `socketPath`, `pciID`), `dns` always present — as libcni converts them.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};

use crate::error::{CniError, Result, DECODING_FAILURE};
use crate::version;

/// An address with its prefix length, as `10.1.0.5/16` (the host bits are kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Cidr> {
        let (a, p) = text.split_once('/')?;
        let addr: IpAddr = a.parse().ok()?;
        let prefix: u8 = p.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max && !p.starts_with('+')).then_some(Cidr { addr, prefix })
    }

    pub fn is_v4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// The network: host bits cleared.
    pub fn network(&self) -> Cidr {
        let addr = match self.addr {
            IpAddr::V4(a) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.prefix))
                };
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(self.prefix))
                };
                IpAddr::V6((u128::from(a) & mask).into())
            }
        };
        Cidr {
            addr,
            prefix: self.prefix,
        }
    }

    /// The address alone, as a host prefix (/32, /128).
    pub fn host(addr: IpAddr) -> Cidr {
        Cidr {
            addr,
            prefix: if addr.is_ipv4() { 32 } else { 128 },
        }
    }

    /// The first address after the network's (the bridge plugin's gateway when IPAM names none).
    pub fn first_host(&self) -> IpAddr {
        match self.network().addr {
            IpAddr::V4(a) => IpAddr::V4((u32::from(a).wrapping_add(1)).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a).wrapping_add(1)).into()),
        }
    }

    pub fn is_default(&self) -> bool {
        self.prefix == 0 && self.addr.is_unspecified()
    }

    pub fn contains(&self, addr: &IpAddr) -> bool {
        addr.is_ipv4() == self.is_v4()
            && Cidr {
                addr: *addr,
                prefix: self.prefix,
            }
            .network()
                == self.network()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Cidr::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid CIDR address {s:?}")))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interface {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mtu: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sandbox: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub socket_path: String,
    #[serde(default, rename = "pciID", skip_serializing_if = "String::is_empty")]
    pub pci_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<usize>,
    pub address: Cidr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub dst: Cidr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gw: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mtu: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub advmss: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<u8>,
}

impl Route {
    pub fn to(dst: Cidr, gw: Option<IpAddr>) -> Route {
        Route {
            dst,
            gw,
            mtu: 0,
            advmss: 0,
            priority: 0,
            table: None,
            scope: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dns {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domain: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

impl Dns {
    pub fn is_empty(&self) -> bool {
        *self == Dns::default()
    }
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// A result of any served version, read into one shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CniResult {
    pub interfaces: Vec<Interface>,
    pub ips: Vec<IpConfig>,
    pub routes: Vec<Route>,
    pub dns: Dns,
}

impl CniResult {
    /// Reads a result document (its own `cniVersion` says how; 0.1.0/0.2.0 results are not
    /// served and refused).
    pub fn from_value(v: &Value) -> Result<CniResult> {
        let bad = |e: String| CniError::new(DECODING_FAILURE, "failed to decode result").with_details(e);
        let obj = v
            .as_object()
            .ok_or_else(|| bad("a result must be an object".into()))?;
        let ver = obj.get("cniVersion").and_then(Value::as_str).unwrap_or("");
        if !ver.is_empty() {
            // Said of the result, not of the configuration.
            version::check(ver).map_err(|e| {
                let details = e.details.replacen("config is", "result is", 1);
                e.with_details(details)
            })?;
        }
        let field = |name: &str| obj.get(name).cloned().filter(|v| !v.is_null());
        let take = |name: &str| -> Result<Value> { Ok(field(name).unwrap_or(Value::Array(Vec::new()))) };
        Ok(CniResult {
            interfaces: serde_json::from_value(take("interfaces")?)
                .map_err(|e| bad(format!("interfaces: {e}")))?,
            ips: serde_json::from_value(take("ips")?).map_err(|e| bad(format!("ips: {e}")))?,
            routes: serde_json::from_value(take("routes")?).map_err(|e| bad(format!("routes: {e}")))?,
            dns: match field("dns") {
                Some(d) => serde_json::from_value(d).map_err(|e| bad(format!("dns: {e}")))?,
                None => Dns::default(),
            },
        })
    }

    /// The result as version `ver` writes it.
    pub fn to_value(&self, ver: &str) -> Value {
        let mut out = Map::new();
        out.insert("cniVersion".into(), json!(ver));
        let legacy = version::is_legacy(ver);
        if !self.interfaces.is_empty() {
            let list: Vec<Value> = self
                .interfaces
                .iter()
                .map(|i| {
                    if legacy {
                        let short = Interface {
                            name: i.name.clone(),
                            mac: i.mac.clone(),
                            sandbox: i.sandbox.clone(),
                            ..Interface::default()
                        };
                        json!(short)
                    } else {
                        json!(i)
                    }
                })
                .collect();
            out.insert("interfaces".into(), Value::Array(list));
        }
        if !self.ips.is_empty() {
            let list: Vec<Value> = self
                .ips
                .iter()
                .map(|ip| {
                    let mut v = json!(ip);
                    if legacy {
                        let family = if ip.address.is_v4() { "4" } else { "6" };
                        v["version"] = json!(family);
                    }
                    v
                })
                .collect();
            out.insert("ips".into(), Value::Array(list));
        }
        if !self.routes.is_empty() {
            out.insert("routes".into(), json!(self.routes));
        }
        if legacy || !self.dns.is_empty() {
            out.insert("dns".into(), json!(self.dns));
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CniResult {
        CniResult::from_value(&json!({
            "cniVersion": "1.1.0",
            "interfaces": [{"name": "cni0", "mac": "02:00:00:00:00:01", "mtu": 1500},
                           {"name": "eth0", "mac": "02:00:00:00:00:02", "sandbox": "/run/netns/a"}],
            "ips": [{"interface": 1, "address": "10.1.0.5/16", "gateway": "10.1.0.1"},
                    {"interface": 1, "address": "fd00::5/64"}],
            "routes": [{"dst": "0.0.0.0/0", "gw": "10.1.0.1", "priority": 5, "table": 100, "scope": 0}],
            "dns": {"nameservers": ["10.1.0.1"]}
        }))
        .unwrap()
    }

    #[test]
    fn round_trips_in_1x() {
        let r = sample();
        assert_eq!(CniResult::from_value(&r.to_value("1.1.0")).unwrap(), r);
        assert_eq!(r.to_value("1.0.0")["interfaces"][0]["mtu"], json!(1500));
    }

    #[test]
    fn converts_down_as_libcni_does() {
        let v = sample().to_value("0.4.0");
        assert_eq!(v["cniVersion"], "0.4.0");
        assert_eq!(v["ips"][0]["version"], "4");
        assert_eq!(v["ips"][1]["version"], "6");
        assert!(v["interfaces"][0].get("mtu").is_none());
        assert_eq!(v["routes"][0]["table"], 100);
        let empty = CniResult::default().to_value("0.3.1");
        assert_eq!(empty, json!({"cniVersion": "0.3.1", "dns": {}}));
        assert_eq!(
            CniResult::default().to_value("1.1.0"),
            json!({"cniVersion": "1.1.0"})
        );
        // And back up: the 0.4.0 document reads as the same result, less what 0.4.0 lacks.
        let back = CniResult::from_value(&v).unwrap();
        assert_eq!(back.ips, sample().ips);
        assert_eq!(back.interfaces[0].mtu, 0);
    }

    #[test]
    fn ipam_results_read_without_interfaces() {
        let r = CniResult::from_value(&json!({
            "cniVersion": "0.3.1",
            "ips": [{"version": "4", "address": "10.1.0.5/16", "gateway": "10.1.0.1"}],
            "dns": {}
        }))
        .unwrap();
        assert_eq!(r.ips[0].interface, None);
        assert!(r.interfaces.is_empty());
        let e = CniResult::from_value(&json!({"cniVersion": "0.2.0", "ip4": {}})).unwrap_err();
        assert!(e.details.starts_with("result is \"0.2.0\""), "{}", e.details);
        assert!(CniResult::from_value(&json!({"ips": [{"address": "nope"}]})).is_err());
    }

    #[test]
    fn cidr_arithmetic() {
        let c = Cidr::parse("10.1.2.3/16").unwrap();
        assert_eq!(c.network().to_string(), "10.1.0.0/16");
        assert_eq!(c.first_host().to_string(), "10.1.0.1");
        assert!(c.contains(&"10.1.200.1".parse().unwrap()));
        assert!(!c.contains(&"10.2.0.1".parse().unwrap()));
        let v6 = Cidr::parse("fd00::5/64").unwrap();
        assert_eq!(v6.first_host().to_string(), "fd00::1");
        assert!(Cidr::parse("0.0.0.0/0").unwrap().is_default());
        assert!(Cidr::parse("10.0.0.1/33").is_none());
        assert!(Cidr::parse("10.0.0.1").is_none());
    }
}

//! What a neighbour request names: `ip neigh add|replace ADDRESS dev LINK [lladdr MAC]
//! [nud STATE] [router] [proxy] [extern_learn]` and, for `del` and `get`, the entry's key
//! (address, link, proxy or not). Checked once, into typed values; the messages are built here.

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
use crate::batch::{Parsed, UndoRequest, View};
use crate::error::{Error, Result};
use crate::link::LinkRef;
use crate::message::{encode, Flags};

use super::NeighbourState;

/// `ip neigh add|replace` options; the address and the link are arguments of their own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NeighbourOptions {
    /// The link-layer address (`lladdr`): needed by the states permanent (the default), noarp,
    /// reachable, stale, delay and probe, also to replace an entry (a replace may create it, and
    /// the kernel would leave an empty entry behind when it refuses one without); not by
    /// incomplete, failed and none, nor by proxy entries (which take none).
    pub mac: Option<String>,
    /// `nud STATE`; 'permanent' when absent, as with `ip`.
    pub state: Option<NeighbourState>,
    /// NTF_ROUTER: the neighbour is an IPv6 router.
    pub router: Option<bool>,
    /// A proxy entry (`ip neigh add proxy ADDRESS dev LINK`): this host answers ARP/NDP for it.
    pub proxy: Option<bool>,
    /// NTF_EXT_LEARNED: mark it as learnt by a control plane (the kernel will not age it out).
    pub extern_learn: Option<bool>,
}

/// `ip neigh del|get` options: which entry, besides its address and link.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NeighbourKeyOptions {
    /// The proxy entry for the address rather than the neighbour.
    pub proxy: Option<bool>,
}

/// Which entry: the address on a link, a neighbour or a proxy entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighbourKey {
    pub link: LinkRef,
    pub address: IpAddr,
    pub proxy: bool,
}

/// A checked `ip neigh add|replace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    pub key: NeighbourKey,
    pub mac: Option<[u8; 6]>,
    pub state: NeighbourState,
    pub router: bool,
    pub extern_learn: bool,
}

fn family(address: IpAddr) -> AddressFamily {
    if address.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    }
}

impl NeighbourKey {
    pub fn parse(link: LinkRef, address: &str, options: NeighbourKeyOptions) -> Result<Self> {
        Ok(NeighbourKey {
            link,
            address: args::ip("address", address)?,
            proxy: options.proxy.unwrap_or(false),
        })
    }

    pub fn label(&self) -> String {
        let proxy = if self.proxy { "proxy " } else { "" };
        format!("{proxy}{} dev {}", self.address, self.link)
    }

    /// The message header and NDA_DST, as `ip neigh` builds them.
    fn message(&self, index: u32, state: NeighbourState) -> NeighbourMessage {
        let mut m = NeighbourMessage::default();
        m.header.family = family(self.address);
        m.header.ifindex = index;
        m.header.state = state.bits().into();
        if self.proxy {
            m.header.flags |= NeighbourFlags::Proxy;
        }
        m.attributes
            .push(NeighbourAttribute::Destination(NeighbourAddress::from(
                self.address,
            )));
        m
    }

    /// `ip neigh del`; like `ip`, with state permanent in the header (the kernel ignores it).
    pub fn encode_del(&self, index: u32) -> Vec<u8> {
        let m = self.message(index, NeighbourState::Permanent);
        encode(RouteNetlinkMessage::DelNeighbour(m), Flags::Plain)
    }

    /// An IPv4 neighbour on `lo` (every namespace's index 1), which the kernel files under
    /// 0.0.0.0 (see `delete_unspecified`): an addition there overwrites the one entry the link
    /// has instead of failing with EEXIST, so its undo must put that entry back.
    pub(crate) fn on_loopback(&self) -> bool {
        let lo = match &self.link {
            LinkRef::Index(i) => *i == 1,
            LinkRef::Name(n) => n == "lo",
        };
        lo && self.address.is_ipv4() && !self.proxy
    }

    /// The key the kernel files the entry under: 0.0.0.0 on `lo`, else this one.
    pub(crate) fn filed(&self) -> NeighbourKey {
        let mut key = self.clone();
        if self.on_loopback() {
            key.address = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        }
        key
    }

    /// The undo of an IPv4 entry whose delete found none (ENOENT): the kernel keeps the IPv4
    /// neighbours of loopback and point-to-point links under 0.0.0.0 (ARP has no use for the
    /// address there), so `ip neigh del ADDRESS dev lo` cannot find the one just added. An
    /// addition that succeeded made that entry (one there already would have failed it).
    pub(crate) fn delete_unspecified(&self, names: &View, error: &Error) -> Option<UndoRequest> {
        if error.errno() != Some(libc::ENOENT) || !self.address.is_ipv4() || self.proxy {
            return None;
        }
        let mut key = self.clone();
        key.address = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        Some((names.target, key.encode_del(self.index(names).ok()?)))
    }

    /// `ip neigh get` (RTM_GETNEIGH for one entry; Linux 5.0 and later).
    pub fn encode_get(&self, index: u32) -> Vec<u8> {
        let m = self.message(index, NeighbourState::NoState);
        encode(RouteNetlinkMessage::GetNeighbour(m), Flags::Plain)
    }

    /// Reads `[link, address, options?]` after an item's code.
    pub(crate) fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let address: String = next(seq, "address")?;
        let options: Option<&RawValue> = seq.next_element()?;
        Ok((|| {
            NeighbourKey::parse(
                cx.link(link)?,
                &address,
                args::options_raw_or_default("options", options)?,
            )
        })())
    }

    pub(crate) fn index(&self, names: &View) -> Result<u32> {
        names.index_of(&self.link)
    }
}

impl Neighbour {
    /// Checks `ip neigh add|replace` arguments. A state that needs a link-layer address must
    /// have one, for a replace too: whether the entry exists is not known before sending, and
    /// the kernel refuses to make one without it only after it made an empty entry, which stays.
    pub fn parse(link: LinkRef, address: &str, o: NeighbourOptions) -> Result<Self> {
        let proxy = o.proxy.unwrap_or(false);
        let key = NeighbourKey::parse(link, address, NeighbourKeyOptions { proxy: o.proxy })?;
        let mac = o.mac.as_deref().map(|m| args::lladdr("mac", m)).transpose()?;
        let state = o.state.unwrap_or(NeighbourState::Permanent);
        if proxy {
            if mac.is_some() {
                return Err(Error::invalid("mac", "a proxy entry has no link-layer address"));
            }
            if o.state.is_some_and(|s| s != NeighbourState::Permanent) {
                return Err(Error::invalid(
                    "state",
                    "a proxy entry has no state (leave it out)",
                ));
            }
        } else if mac.is_none() && state.needs_lladdr() {
            return Err(Error::invalid_type(
                "mac",
                format!("a {state} neighbour needs its link-layer address (mac), also when replacing one"),
            ));
        }
        if key.address.is_multicast() || key.address.is_unspecified() {
            return Err(Error::invalid(
                "address",
                format!("{} is not a unicast address", key.address),
            ));
        }
        Ok(Neighbour {
            key,
            mac,
            state,
            router: o.router.unwrap_or(false),
            extern_learn: o.extern_learn.unwrap_or(false),
        })
    }

    /// `ip neigh add|replace` for the link with `index`.
    pub fn encode(&self, index: u32, replace: bool) -> Vec<u8> {
        let mut m = self.key.message(index, self.state);
        if self.router {
            m.header.flags |= NeighbourFlags::Router;
        }
        if self.extern_learn {
            m.header.flags |= NeighbourFlags::ExtLearned;
        }
        if let Some(mac) = self.mac {
            m.attributes
                .push(NeighbourAttribute::LinkLayerAddress(mac.to_vec()));
        }
        let flags = if replace { Flags::Replace } else { Flags::Create };
        encode(RouteNetlinkMessage::NewNeighbour(m), flags)
    }

    /// Reads `[link, address, options]` after an item's code.
    pub(crate) fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let address: String = next(seq, "address")?;
        let options: &RawValue = next(seq, "options")?;
        Ok((|| {
            Neighbour::parse(cx.link(link)?, &address, args::options_raw("options", options)?)
        })())
    }
}

/// The request that puts back an entry as the kernel reported it (RTM_NEWNEIGH, create or
/// replace): its address, link-layer address and state, and the flags a caller can set.
/// What the kernel keeps on its own (timers, probes, cache times) is not sent.
pub(crate) fn encode_restore(was: &NeighbourMessage) -> Vec<u8> {
    let mut m = NeighbourMessage::default();
    m.header = was.header.clone();
    m.header.flags &= NeighbourFlags::Router | NeighbourFlags::Proxy | NeighbourFlags::ExtLearned;
    m.attributes = was
        .attributes
        .iter()
        .filter(|a| {
            matches!(
                a,
                NeighbourAttribute::Destination(_) | NeighbourAttribute::LinkLayerAddress(_)
            )
        })
        .cloned()
        .collect();
    encode(RouteNetlinkMessage::NewNeighbour(m), Flags::Replace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(json: serde_json::Value) -> NeighbourOptions {
        args::options("options", json).unwrap()
    }

    fn arg_of(e: Error) -> String {
        e.arg().expect("an argument error").to_string()
    }

    #[test]
    fn refusals_name_the_argument() {
        let link = || LinkRef::Name("br0".into());
        let bad = |address: &str, o: serde_json::Value| {
            arg_of(Neighbour::parse(link(), address, opts(o)).unwrap_err())
        };
        assert_eq!(
            bad("10.0.0.300", serde_json::json!({"mac": "02:00:00:00:00:01"})),
            "address"
        );
        assert_eq!(
            bad("10.0.0.7", serde_json::json!({"mac": "02:00:00:00:00"})),
            "mac"
        );
        assert_eq!(bad("10.0.0.7", serde_json::json!({})), "mac");
        assert_eq!(bad("10.0.0.7", serde_json::json!({"state": "stale"})), "mac");
        assert_eq!(
            bad("224.0.0.1", serde_json::json!({"mac": "01:00:5e:00:00:01"})),
            "address"
        );
        assert_eq!(
            bad(
                "10.0.0.7",
                serde_json::json!({"proxy": true, "mac": "02:00:00:00:00:01"})
            ),
            "mac"
        );
        assert_eq!(
            bad("10.0.0.7", serde_json::json!({"proxy": true, "state": "stale"})),
            "state"
        );
        let e =
            args::options::<NeighbourOptions>("options", serde_json::json!({"state": "bogus"})).unwrap_err();
        assert_eq!(arg_of(e), "state");
        // Every state the kernel keeps a link-layer address for needs one (noarp too);
        // the transient ones and a proxy do not.
        for state in ["noarp", "permanent", "reachable", "stale", "delay", "probe"] {
            assert_eq!(
                bad("10.0.0.7", serde_json::json!({ "state": state })),
                "mac",
                "{state}"
            );
        }
        for o in [
            serde_json::json!({"state": "incomplete"}),
            serde_json::json!({"state": "none"}),
            serde_json::json!({"proxy": true}),
        ] {
            assert!(Neighbour::parse(link(), "10.0.0.7", opts(o)).is_ok());
        }
    }
}

//! netkit (Linux ≥ 6.7): `ip link add NAME type netkit [mode l2|l3] [policy pass|drop]
//! [peer policy pass|drop] [peer name PEER [netns NS]]` — a pair like veth whose traffic BPF
//! programs steer. The primary end is the one made here; the peer may be born elsewhere.

use netlink_packet_route::link::{InfoData, InfoKind, InfoNetkit, NetkitMode as NlMode, NetkitPolicy as NlPolicy};
use serde::{Deserialize, Serialize};

use crate::args;
use crate::error::Result;
use crate::link::build::Resolved;
use crate::link::kind::{Kind, ParseContext};
use crate::netns::Namespace;

use super::veth::peer_message;

crate::js_enum!(NetkitMode { L2 = "l2", L3 = "l3" });
crate::js_enum!(NetkitPolicy { Pass = "pass", Drop = "drop" });

impl NetkitMode {
    fn to_netlink(self) -> NlMode {
        match self {
            NetkitMode::L2 => NlMode::L2,
            NetkitMode::L3 => NlMode::L3,
        }
    }
}

impl NetkitPolicy {
    fn to_netlink(self) -> NlPolicy {
        match self {
            NetkitPolicy::Pass => NlPolicy::Pass,
            NetkitPolicy::Drop => NlPolicy::Drop,
        }
    }
}

/// `ip link add NAME type netkit ...` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NetkitOptions {
    /// 'l3' (the kernel's default: IP packets) or 'l2' (Ethernet frames).
    pub mode: Option<NetkitMode>,
    /// What the primary does with traffic no BPF program decided on (default 'pass').
    pub policy: Option<NetkitPolicy>,
    /// The same, for the peer.
    pub peer_policy: Option<NetkitPolicy>,
    /// The peer's name; generated when omitted.
    pub peer: Option<String>,
    /// Where the peer is born (the batch's n-th namespace; the TypeScript API fills this in
    /// from `{ in: netns }`).
    pub peer_netns: Option<u32>,
}

/// What a netkit link reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NetkitInfo {
    pub mode: Option<NetkitMode>,
    pub policy: Option<NetkitPolicy>,
    pub peer_policy: Option<NetkitPolicy>,
    /// True on the end that was created (the one BPF programs attach to as primary).
    pub primary: bool,
}

#[derive(Debug, Clone)]
pub struct Netkit {
    mode: Option<NetkitMode>,
    policy: Option<NetkitPolicy>,
    peer_policy: Option<NetkitPolicy>,
    peer: Option<String>,
    peer_ns: Option<Namespace>,
}

impl Kind for Netkit {
    const NAME: &'static str = "netkit";
    const PREFIX: &'static str = "nk";
    type Options = NetkitOptions;
    type Info = NetkitInfo;

    fn parse(o: NetkitOptions, ctx: &mut dyn ParseContext) -> Result<Self> {
        if let Some(peer) = &o.peer {
            args::ifname("peer", peer)?;
        }
        Ok(Netkit {
            mode: o.mode,
            policy: o.policy,
            peer_policy: o.peer_policy,
            peer: o.peer,
            peer_ns: o.peer_netns.map(|p| ctx.peer("peerNetns", p)).transpose()?,
        })
    }

    fn peer(&self) -> Option<Option<&str>> {
        Some(self.peer.as_deref())
    }

    fn namespaces(&self) -> Vec<Namespace> {
        self.peer_ns.iter().cloned().collect()
    }

    fn info(&self, r: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        let mut data = vec![InfoNetkit::Peer(peer_message(r, None, self.peer_ns.as_ref()))];
        if let Some(m) = self.mode {
            data.push(InfoNetkit::Mode(m.to_netlink()));
        }
        if let Some(p) = self.policy {
            data.push(InfoNetkit::Policy(p.to_netlink()));
        }
        if let Some(p) = self.peer_policy {
            data.push(InfoNetkit::PeerPolicy(p.to_netlink()));
        }
        Ok((InfoKind::Netkit, Some(InfoData::Netkit(data))))
    }

    fn decode(data: Option<&InfoData>) -> Option<NetkitInfo> {
        let Some(InfoData::Netkit(items)) = data else { return None };
        let mode = |m: &NlMode| NetkitMode::ALL.iter().copied().find(|x| x.to_netlink() == *m);
        let policy = |p: &NlPolicy| NetkitPolicy::ALL.iter().copied().find(|x| x.to_netlink() == *p);
        let mut info = NetkitInfo::default();
        for item in items {
            match item {
                InfoNetkit::Mode(m) => info.mode = mode(m),
                InfoNetkit::Policy(p) => info.policy = policy(p),
                InfoNetkit::PeerPolicy(p) => info.peer_policy = policy(p),
                InfoNetkit::Primary(p) => info.primary = *p,
                _ => {}
            }
        }
        Some(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::build::{new_link_message, Resolved};
    use crate::link::kind::tests::NoContext;
    use crate::link::LinkSpec;
    use netlink_packet_core::{Emitable, Parseable};
    use netlink_packet_route::link::{LinkAttribute, LinkInfo, LinkMessage};

    /// Neither kernel of this project's CI has netkit and iproute2 6.1 cannot encode its
    /// options, so the request is checked here: it must parse back (as the kernel would read
    /// it) into the attributes asked for, the peer's name in IFLA_NETKIT_PEER_INFO.
    #[test]
    fn the_request_reads_back_as_asked() {
        let spec = LinkSpec::from_json(
            "netkit",
            serde_json::json!({"name": "nk0", "mode": "l2", "policy": "drop", "peerPolicy": "pass", "peer": "nk1"}),
            &mut NoContext,
        )
        .unwrap();
        let msg = new_link_message(&spec, &Resolved::names(&spec)).unwrap();
        let mut buf = vec![0; msg.buffer_len()];
        msg.emit(&mut buf);
        let back = LinkMessage::parse(buf.as_slice()).unwrap();
        let infos = back
            .attributes
            .iter()
            .find_map(|a| match a {
                LinkAttribute::LinkInfo(i) => Some(i.clone()),
                _ => None,
            })
            .unwrap();
        let data = infos
            .iter()
            .find_map(|i| match i {
                LinkInfo::Data(InfoData::Netkit(d)) => Some(d.clone()),
                _ => None,
            })
            .unwrap();
        assert!(data.contains(&InfoNetkit::Mode(NlMode::L2)));
        assert!(data.contains(&InfoNetkit::Policy(NlPolicy::Drop)));
        assert!(data.contains(&InfoNetkit::PeerPolicy(NlPolicy::Pass)));
        let peer = data
            .iter()
            .find_map(|d| match d {
                InfoNetkit::Peer(p) => Some(p),
                _ => None,
            })
            .unwrap();
        assert!(peer.attributes.contains(&LinkAttribute::IfName("nk1".into())));
    }
}

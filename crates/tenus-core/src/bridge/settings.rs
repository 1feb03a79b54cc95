//! Changing a bridge's own settings after it was made: `ip link set BR type bridge
//! [stp_state 0|1] [vlan_filtering 0|1] [vlan_default_pvid ID] [vlan_protocol 802.1Q|802.1ad]
//! [forward_delay CS]`, one RTM_NEWLINK with IFLA_LINKINFO, the same options a bridge is
//! created with (`link/bridge.rs`). A batch item: `[code, link, options]`.
//!
//! Undo: the bridge is read just before (RTM_GETLINK) and the settings the item changed are
//! set back. The kernel moves ports' PVIDs along with a new default PVID (those still on the
//! old default); setting the old default back moves them back the same way.

use netlink_packet_route::link::{LinkAttribute, LinkInfo};
use netlink_packet_route::RouteNetlinkMessage;
use serde::de::SeqAccess;

use crate::args;
use crate::batch::wire::{next, ReadContext, WireLink};
use crate::batch::{Before, Parsed, Reads, Step, Undo, UndoRequest, View};
use crate::error::{Error, Result};
use crate::link::fast::read_link;
use crate::link::get::{encode_link_get, selector};
use crate::link::kind::{Kind, ParseContext};
use crate::link::kinds::bridge::{Bridge, BridgeInfo, BridgeOptions};
use crate::link::{KindInfo, LinkRef};
use crate::message::{encode, Flags};
use crate::netns::Namespace;

/// `ip link set BR type bridge ...` as a batch item.
#[derive(Debug)]
pub struct SetBridge {
    pub link: LinkRef,
    /// The settings as given: which ones change, for the undo (boxed, as `bridge`: a batch's
    /// items are as large as their largest kind).
    pub options: Box<BridgeOptions>,
    pub bridge: Box<Bridge>,
}

/// Bridge options name no namespace.
struct NoPeers;

impl ParseContext for NoPeers {
    fn peer(&mut self, arg: &str, _: u32) -> Result<Namespace> {
        Err(Error::invalid(arg, "a bridge has no peer"))
    }
}

/// RTM_NEWLINK for an existing bridge with `bridge`'s settings.
fn encode_settings(link: &LinkRef, bridge: &Bridge) -> Result<Vec<u8>> {
    let (kind, data) = bridge.settings();
    let mut info = vec![LinkInfo::Kind(kind)];
    info.extend(data.map(LinkInfo::Data));
    let mut m = selector(link);
    m.attributes.push(LinkAttribute::LinkInfo(info));
    Ok(encode(RouteNetlinkMessage::NewLink(m), Flags::Plain))
}

impl SetBridge {
    pub fn parse(link: LinkRef, options: BridgeOptions) -> Result<Self> {
        let bridge = Box::new(Bridge::parse(options.clone(), &mut NoPeers)?);
        Ok(SetBridge {
            link,
            options: Box::new(options),
            bridge,
        })
    }

    /// The settings this change touches, as they were.
    fn revert(&self, was: &BridgeInfo) -> BridgeOptions {
        let o = &self.options;
        BridgeOptions {
            stp: o.stp.map(|_| was.stp),
            vlan_filtering: o.vlan_filtering.map(|_| was.vlan_filtering),
            vlan_default_pvid: o.vlan_default_pvid.and(was.vlan_default_pvid),
            vlan_protocol: o.vlan_protocol.and(was.vlan_protocol),
            forward_delay: o.forward_delay.and(was.forward_delay),
        }
    }
}

impl Step for SetBridge {
    const OP: &'static str = "bridge.set";

    fn touches(&self) -> Vec<&LinkRef> {
        vec![&self.link]
    }

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let options: serde_json::Value = next(seq, "options")?;
        Ok((|| {
            SetBridge::parse(cx.link(link)?, args::options("options", options)?)
        })())
    }
    fn label(&self) -> Option<String> {
        Some(self.link.describe())
    }
    fn undo(&self) -> Undo {
        Undo::Restore
    }
    fn reads(&self, _: &View) -> Result<Reads> {
        Ok(Reads::one(encode_link_get(&self.link)))
    }
    fn encode(&self, _: &View) -> Result<Vec<u8>> {
        encode_settings(&self.link, &self.bridge)
    }
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let Some(was) = before.first().and_then(|m| m.iter().find_map(read_link)) else {
            return Ok(Vec::new());
        };
        let Some(KindInfo::Bridge(info)) = &was.info else {
            return Ok(Vec::new());
        };
        let back = Bridge::parse(self.revert(info), &mut NoPeers)?;
        Ok(vec![(
            names.target,
            encode_settings(&LinkRef::Index(was.index), &back)?,
        )])
    }
}

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

/// What a setting was, where the change asks for another value.
fn changed<T: PartialEq>(asked: Option<T>, was: Option<T>) -> Option<T> {
    match (asked, was) {
        (Some(a), Some(w)) if a != w => Some(w),
        _ => None,
    }
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

    /// The settings this change touches, as they were: those it sets to what they were already
    /// are left out (a kernel without VLAN filtering refuses `vlan_filtering 0` as much as 1).
    fn revert(&self, was: &BridgeInfo) -> BridgeOptions {
        let o = &self.options;
        BridgeOptions {
            stp: changed(o.stp, Some(was.stp)),
            vlan_filtering: changed(o.vlan_filtering, Some(was.vlan_filtering)),
            vlan_default_pvid: changed(o.vlan_default_pvid, was.vlan_default_pvid),
            vlan_protocol: changed(o.vlan_protocol, was.vlan_protocol),
            forward_delay: changed(o.forward_delay, was.forward_delay),
        }
    }

    /// The settings asked, in the order the kernel applies them (`br_changelink`: forward
    /// delay, STP, then VLAN filtering, then the VLAN protocol and default PVID), stopping at
    /// the first it refuses: those after it are not applied.
    fn asked(&self) -> Vec<&'static str> {
        let o = &self.options;
        [
            (o.forward_delay.is_some(), "forwardDelay"),
            (o.stp.is_some(), "stp"),
            (o.vlan_filtering.is_some(), "vlanFiltering"),
            (o.vlan_protocol.is_some(), "vlanProtocol"),
            (o.vlan_default_pvid.is_some(), "vlanDefaultPvid"),
        ]
        .into_iter()
        .filter_map(|(given, name)| given.then_some(name))
        .collect()
    }

    /// Whether `error` is the kernel refusing VLAN filtering (EOPNOTSUPP: built without
    /// CONFIG_BRIDGE_VLAN_FILTERING, it takes no IFLA_BR_VLAN_FILTERING, not even 0): the
    /// settings it applies before (forward delay, STP) took effect, none after.
    fn filtering_refused(&self, error: &Error) -> bool {
        self.options.vlan_filtering.is_some() && error.errno() == Some(libc::EOPNOTSUPP)
    }

    fn undo_from(&self, names: &View, before: &Before, back: BridgeOptions) -> Result<Vec<UndoRequest>> {
        let Some(was) = before.first().and_then(|m| m.iter().find_map(read_link)) else {
            return Ok(Vec::new());
        };
        if back.stp.is_none()
            && back.vlan_filtering.is_none()
            && back.vlan_default_pvid.is_none()
            && back.vlan_protocol.is_none()
            && back.forward_delay.is_none()
        {
            return Ok(Vec::new());
        }
        let back = Bridge::parse(back, &mut NoPeers)?;
        Ok(vec![(
            names.target,
            encode_settings(&LinkRef::Index(was.index), &back)?,
        )])
    }

    /// What the bridge had of the settings this change touches (None: not a bridge, or not read).
    fn was(before: &Before) -> Option<BridgeInfo> {
        let was = before.first().and_then(|m| m.iter().find_map(read_link))?;
        match was.info {
            Some(KindInfo::Bridge(info)) => Some(info),
            _ => None,
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
        let Some(was) = Self::was(before) else {
            return Ok(Vec::new());
        };
        self.undo_from(names, before, self.revert(&was))
    }

    // The kernel applies the settings in turn and may refuse a later one (VLAN filtering, on a
    // kernel without it) after the earlier took effect (STP): they are put back.
    fn restores_when_failed(&self) -> bool {
        true
    }

    fn fails_whole(&self) -> bool {
        self.asked().len() <= 1
    }

    /// Refused VLAN filtering: only what the kernel applies before it is put back (the undo
    /// would be refused VLAN filtering too).
    fn encode_undo_failed(&self, names: &View, before: &Before, error: &Error) -> Result<Vec<UndoRequest>> {
        let Some(was) = Self::was(before) else {
            return Ok(Vec::new());
        };
        let mut back = self.revert(&was);
        if self.filtering_refused(error) {
            back.vlan_filtering = None;
            back.vlan_protocol = None;
            back.vlan_default_pvid = None;
        }
        self.undo_from(names, before, back)
    }

    /// Names the setting the kernel refused where its answer says nothing: VLAN filtering when
    /// it is EOPNOTSUPP, otherwise the settings asked.
    fn explain(&self, error: Error) -> Error {
        let asked = self.asked();
        let filtering = self.filtering_refused(&error);
        error.with_extack(|kernel| match kernel {
            Some(_) => None,
            None if filtering => {
                let applied: Vec<&str> = asked.iter().copied().take_while(|s| *s != "vlanFiltering").collect();
                let mut text = "the kernel refused vlanFiltering: built without bridge VLAN filtering \
                    (CONFIG_BRIDGE_VLAN_FILTERING), it takes no vlan_filtering, not even 0"
                    .to_string();
                if !applied.is_empty() {
                    text += &format!(
                        "; {}, which it applies before it, took effect (a chain or a rollback batch puts it back)",
                        applied.join(" and ")
                    );
                }
                Some(text)
            }
            None => Some(format!("the kernel refused one of the settings asked: {}", asked.join(", "))),
        })
    }
}

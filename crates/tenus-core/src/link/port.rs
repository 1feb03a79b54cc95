//! A bridge port's own settings: `ip link set DEV type bridge_slave [hairpin on|off]
//! [isolated on|off]`, one RTM_NEWLINK carrying IFLA_LINKINFO { INFO_SLAVE_KIND "bridge",
//! INFO_SLAVE_DATA { IFLA_BRPORT_* } }, as iproute2 sends it. A batch item:
//! `[code, link, options]` (the CNI bridge plugin's `hairpinMode` and `portIsolation`).
//!
//! Not in the TypeScript API yet (the CNI bridge plugin is its user); its wire code is in the
//! table like every step's.
//!
//! Undo: the port is read just before (its IFLA_LINKINFO carries the port settings) and the
//! settings the item changed are set back.

use netlink_packet_route::link::{
    InfoBridgePort, InfoPortData, InfoPortKind, LinkAttribute, LinkExtentMask, LinkInfo,
};
use netlink_packet_route::RouteNetlinkMessage;
use serde::de::SeqAccess;
use serde::Deserialize;

use crate::args;
use crate::batch::wire::{next, ReadContext, WireLink};
use crate::batch::{Before, Parsed, Reads, Step, Undo, UndoRequest, View};
use crate::error::Result;
use crate::handle::Handle;
use crate::message::{decode, encode, Flags};

use super::get::selector;
use super::LinkRef;

/// Settings of a link as a port of its bridge; absent fields are left alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BridgePortOptions {
    /// Frames may leave by the port they came in on (`hairpin`, IFLA_BRPORT_MODE).
    pub hairpin: Option<bool>,
    /// Isolated ports reach only non-isolated ports (IFLA_BRPORT_ISOLATED).
    pub isolated: Option<bool>,
}

impl BridgePortOptions {
    fn nlas(&self) -> Vec<InfoBridgePort> {
        let mut out = Vec::new();
        if let Some(h) = self.hairpin {
            out.push(InfoBridgePort::HairpinMode(h));
        }
        if let Some(i) = self.isolated {
            out.push(InfoBridgePort::Isolated(i));
        }
        out
    }

    /// The settings this change touches, as `was` has them.
    fn revert(&self, was: &BridgePortOptions) -> BridgePortOptions {
        BridgePortOptions {
            hairpin: self.hairpin.and(was.hairpin),
            isolated: self.isolated.and(was.isolated),
        }
    }
}

/// RTM_NEWLINK that sets `options` on the port `link`.
fn encode_port(link: &LinkRef, options: &BridgePortOptions) -> Vec<u8> {
    let mut m = selector(link);
    m.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::PortKind(InfoPortKind::Bridge),
        LinkInfo::PortData(InfoPortData::BridgePort(options.nlas())),
    ]));
    encode(RouteNetlinkMessage::NewLink(m), Flags::Plain)
}

/// RTM_GETLINK of one link (the reply carries its port settings when it is a bridge port).
fn encode_get(link: &LinkRef) -> Vec<u8> {
    let mut m = selector(link);
    m.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    encode(RouteNetlinkMessage::GetLink(m), Flags::Plain)
}

/// The index and bridge port settings an RTM_NEWLINK reply reports (None: not a bridge port).
pub fn read_port(msg: &[u8]) -> Option<(u32, BridgePortOptions)> {
    let Ok(RouteNetlinkMessage::NewLink(m)) = decode("link.port", msg) else {
        return None;
    };
    let mut found = None;
    for attr in &m.attributes {
        let LinkAttribute::LinkInfo(infos) = attr else {
            continue;
        };
        for info in infos {
            if let LinkInfo::PortData(InfoPortData::BridgePort(nlas)) = info {
                let mut o = BridgePortOptions::default();
                for nla in nlas {
                    match nla {
                        InfoBridgePort::HairpinMode(h) => o.hairpin = Some(*h),
                        InfoBridgePort::Isolated(i) => o.isolated = Some(*i),
                        _ => {}
                    }
                }
                found = Some((m.header.index, o));
            }
        }
    }
    found
}

/// `ip link set DEV type bridge_slave ...` as a batch item.
#[derive(Debug)]
pub struct SetPort {
    pub link: LinkRef,
    pub options: BridgePortOptions,
}

impl Step for SetPort {
    const OP: &'static str = "link.port";

    fn touches(&self) -> Vec<&LinkRef> {
        vec![&self.link]
    }

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        let link: WireLink = next(seq, "link")?;
        let options: serde_json::Value = next(seq, "options")?;
        Ok((|| {
            Ok(SetPort {
                link: cx.link(link)?,
                options: args::options("options", options)?,
            })
        })())
    }

    fn label(&self) -> Option<String> {
        Some(self.link.describe())
    }

    fn undo(&self) -> Undo {
        Undo::Restore
    }

    fn reads(&self, _: &View) -> Result<Reads> {
        Ok(Reads::one(encode_get(&self.link)))
    }

    fn encode(&self, _: &View) -> Result<Vec<u8>> {
        Ok(encode_port(&self.link, &self.options))
    }

    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let Some((index, was)) = before.first().and_then(|m| m.iter().find_map(read_port)) else {
            return Ok(Vec::new());
        };
        let back = self.options.revert(&was);
        if back.nlas().is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![(names.target, encode_port(&LinkRef::Index(index), &back))])
    }
}

impl Handle {
    /// A bridge port's settings (None when the link is not a bridge port).
    pub async fn bridge_port(&self, link: &LinkRef) -> Result<Option<BridgePortOptions>> {
        link.validate("link")?;
        let reply = self
            .ack("link.port", Some(&link.describe()), encode_get(link))
            .await?;
        let port = reply.messages.iter().find_map(read_port).map(|(_, o)| o);
        Ok(port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_only_what_changes_and_read_back() {
        let set = BridgePortOptions {
            hairpin: Some(true),
            isolated: None,
        };
        let bytes = encode_port(&LinkRef::Index(7), &set);
        assert_eq!(read_port(&bytes), Some((7, set)));
        let was = BridgePortOptions {
            hairpin: Some(false),
            isolated: Some(true),
        };
        assert_eq!(
            set.revert(&was),
            BridgePortOptions {
                hairpin: Some(false),
                isolated: None
            }
        );
    }
}

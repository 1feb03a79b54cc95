//! IPvlan: `ip link add link PARENT name NAME type ipvlan mode l2|l3|l3s [bridge|private|vepa]`.
//!
//! The mode and the flag are the parent's (its ipvlan "port"), shared by every ipvlan on it:
//! creating one in another mode switches the others to it (and, in l3/l3s, sets NOARP on
//! them), and creating one with a flag sets the flag for all (`ipvlan_link_new`). Deleting it
//! leaves them so. So in rollback mode a creation reads the ipvlans already on the parent
//! (`reads_before_create`), and its undo, once the new link is deleted, gives them their mode
//! and flag back with a change of one of them, as `ip link set SIBLING type ipvlan mode MODE
//! FLAG` does (`restore_after_delete`; the kernel applies it to the whole port).

use netlink_packet_route::link::{
    InfoData, InfoIpVlan, InfoKind, IpVlanFlags, IpVlanMode, LinkAttribute, LinkExtentMask, LinkInfo,
    LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;
use serde::{Deserialize, Serialize};

use crate::batch::{Before, Read};
use crate::error::Result;
use crate::message::{encode, Flags};

use crate::link::build::Resolved;
use crate::link::fast::read_link;
use crate::link::get::selector;
use crate::link::kind::{Kind, ParseContext};
use crate::link::kinds::KindInfo;
use crate::link::spec::LinkRef;
use crate::link::LinkRecord;

crate::js_enum!(IpvlanMode { L2 = "l2", L3 = "l3", L3s = "l3s" });
crate::js_enum!(IpvlanFlag { Bridge = "bridge", Private = "private", Vepa = "vepa" });

impl IpvlanMode {
    fn to_netlink(self) -> IpVlanMode {
        match self {
            IpvlanMode::L2 => IpVlanMode::L2,
            IpvlanMode::L3 => IpVlanMode::L3,
            IpvlanMode::L3s => IpVlanMode::L3S,
        }
    }
}

impl IpvlanFlag {
    fn to_netlink(self) -> IpVlanFlags {
        match self {
            IpvlanFlag::Bridge => IpVlanFlags::empty(),
            IpvlanFlag::Private => IpVlanFlags::Private,
            IpvlanFlag::Vepa => IpVlanFlags::Vepa,
        }
    }
}

/// `ip link add link PARENT name NAME type ipvlan mode MODE [FLAG]` options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct IpvlanOptions {
    /// The lower link.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub parent: Option<LinkRef>,
    /// Default 'l2'.
    pub mode: Option<IpvlanMode>,
    /// Default 'bridge'.
    pub flag: Option<IpvlanFlag>,
}

/// What an ipvlan reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct IpvlanInfo {
    pub mode: Option<IpvlanMode>,
    pub flag: Option<IpvlanFlag>,
}

#[derive(Debug, Clone)]
pub struct Ipvlan {
    parent: LinkRef,
    mode: IpvlanMode,
    flag: Option<IpvlanFlag>,
}

impl Kind for Ipvlan {
    const NAME: &'static str = "ipvlan";
    const PREFIX: &'static str = "ipvl";
    type Options = IpvlanOptions;
    type Info = IpvlanInfo;

    fn probe() -> serde_json::Value {
        serde_json::json!({"parent": "probe0"})
    }

    fn parse(o: IpvlanOptions, _: &mut dyn ParseContext) -> Result<Self> {
        Ok(Ipvlan {
            parent: LinkRef::required(o.parent, "parent", Self::NAME)?,
            mode: o.mode.unwrap_or(IpvlanMode::L2),
            flag: o.flag,
        })
    }

    fn parent(&self) -> Option<&LinkRef> {
        Some(&self.parent)
    }

    fn info(&self, _: &Resolved) -> Result<(InfoKind, Option<InfoData>)> {
        let mut data = vec![InfoIpVlan::Mode(self.mode.to_netlink())];
        if let Some(f) = self.flag {
            data.push(InfoIpVlan::Flags(f.to_netlink()));
        }
        Ok((InfoKind::IpVlan, Some(InfoData::IpVlan(data))))
    }

    /// The parent (for its index at undo time, when names may have changed), and the ipvlans
    /// there are (a dump the kernel filters by kind).
    fn reads_before_create(&self, resolved: &Resolved) -> Vec<Read> {
        let Some(parent) = resolved.parent else {
            return Vec::new();
        };
        let skip_stats = || LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]);
        let mut get = selector(&LinkRef::Index(parent));
        get.attributes.push(skip_stats());
        let mut dump = LinkMessage::default();
        dump.attributes.push(skip_stats());
        dump.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::IpVlan)]));
        vec![
            Read {
                message: encode(RouteNetlinkMessage::GetLink(get), Flags::Plain),
                dump: false,
            },
            Read::dump(encode(RouteNetlinkMessage::GetLink(dump), Flags::Dump)),
        ]
    }

    fn restore_after_delete(&self, before: &Before) -> Vec<Vec<u8>> {
        let (Some(parent), Some(links)) = (before.first(), before.get(1)) else {
            return Vec::new();
        };
        let Some(parent) = parent.iter().find_map(read_link) else {
            return Vec::new();
        };
        let siblings: Vec<LinkRecord> = links.iter().filter_map(read_link).collect();
        self.restore(parent.index, &siblings).into_iter().collect()
    }

    fn decode(data: Option<&InfoData>) -> Option<IpvlanInfo> {
        let Some(InfoData::IpVlan(items)) = data else {
            return None;
        };
        let mut info = IpvlanInfo::default();
        for item in items {
            match item {
                InfoIpVlan::Mode(m) => {
                    info.mode = IpvlanMode::ALL.iter().copied().find(|x| x.to_netlink() == *m)
                }
                InfoIpVlan::Flags(f) => {
                    info.flag = IpvlanFlag::ALL.iter().copied().find(|x| x.to_netlink() == *f)
                }
                _ => {}
            }
        }
        Some(info)
    }
}

impl Ipvlan {
    /// The change that gives the ipvlans on `parent` (among `links`, read before this one was
    /// created) back the mode and flag this one's creation switched them from: sent to the one
    /// with the lowest index (the oldest: the others may be links the same rollback deleted).
    /// None when there were none (the port went with the last one), or nothing changed.
    fn restore(&self, parent: u32, links: &[LinkRecord]) -> Option<Vec<u8>> {
        let sibling = links
            .iter()
            .filter(|l| l.kind.as_deref() == Some(Self::NAME) && l.parent == Some(parent))
            .min_by_key(|l| l.index)?;
        let Some(KindInfo::Ipvlan(IpvlanInfo {
            mode: Some(mode),
            flag,
        })) = &sibling.info
        else {
            return None;
        };
        let flag_changed = self.flag.is_some_and(|f| Some(f) != *flag);
        if *mode == self.mode && !flag_changed {
            return None;
        }
        let mut data = vec![InfoIpVlan::Mode(mode.to_netlink())];
        if let Some(f) = flag {
            data.push(InfoIpVlan::Flags(f.to_netlink()));
        }
        // RTM_NEWLINK without NLM_F_CREATE on a link that exists: its kind's changelink.
        let mut msg = LinkMessage::default();
        msg.header.index = sibling.index;
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::IpVlan),
            LinkInfo::Data(InfoData::IpVlan(data)),
        ]));
        Some(encode(RouteNetlinkMessage::NewLink(msg), Flags::Plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{NetlinkMessage, NetlinkPayload};

    fn ipvlan(index: u32, parent: u32, mode: IpvlanMode, flag: Option<IpvlanFlag>) -> LinkRecord {
        LinkRecord {
            index,
            name: format!("ipv{index}"),
            kind: Some("ipvlan".into()),
            parent: Some(parent),
            info: Some(KindInfo::Ipvlan(IpvlanInfo {
                mode: Some(mode),
                flag,
            })),
            ..Default::default()
        }
    }

    fn new(mode: IpvlanMode, flag: Option<IpvlanFlag>) -> Ipvlan {
        Ipvlan {
            parent: LinkRef::Name("low0".into()),
            mode,
            flag,
        }
    }

    /// The link a change is for and the IPVLAN data it carries.
    fn target(bytes: &[u8]) -> (u32, Vec<InfoIpVlan>) {
        let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes).unwrap();
        let NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)) = msg.payload else {
            panic!("not a NewLink");
        };
        let data = m
            .attributes
            .iter()
            .find_map(|a| match a {
                LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|i| match i {
                    LinkInfo::Data(InfoData::IpVlan(d)) => Some(d.clone()),
                    _ => None,
                }),
                _ => None,
            })
            .unwrap();
        (m.header.index, data)
    }

    #[test]
    fn a_creation_that_switched_the_mode_puts_the_siblings_back_through_the_oldest() {
        let links = [
            ipvlan(9, 3, IpvlanMode::L2, None),
            ipvlan(5, 3, IpvlanMode::L2, None),
            ipvlan(4, 7, IpvlanMode::L3, None), // another parent's
        ];
        let bytes = new(IpvlanMode::L3, None).restore(3, &links).unwrap();
        assert_eq!(target(&bytes), (5, vec![InfoIpVlan::Mode(IpVlanMode::L2)]));
        // A flag the new one set is taken back too.
        let links = [ipvlan(5, 3, IpvlanMode::L2, Some(IpvlanFlag::Bridge))];
        let bytes = new(IpvlanMode::L2, Some(IpvlanFlag::Private))
            .restore(3, &links)
            .unwrap();
        assert_eq!(
            target(&bytes),
            (
                5,
                vec![
                    InfoIpVlan::Mode(IpVlanMode::L2),
                    InfoIpVlan::Flags(IpVlanFlags::empty())
                ]
            )
        );
    }

    #[test]
    fn nothing_to_put_back_without_siblings_or_change() {
        assert!(new(IpvlanMode::L3, None).restore(3, &[]).is_none());
        let links = [ipvlan(5, 3, IpvlanMode::L3, Some(IpvlanFlag::Vepa))];
        assert!(new(IpvlanMode::L3, None).restore(3, &links).is_none());
        assert!(new(IpvlanMode::L3, Some(IpvlanFlag::Vepa))
            .restore(3, &links)
            .is_none());
        assert!(new(IpvlanMode::L2, None).restore(4, &links).is_none());
    }
}

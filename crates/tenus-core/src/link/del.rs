//! Deleting links: one by index or name, every link of a group in one RTM_DELLINK, or any set
//! of links fast (tagged with an unused group, then deleted as that group).

use std::collections::{BTreeMap, HashSet};

use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use serde::de::SeqAccess;

use crate::args;
use crate::batch::wire::{next, ReadContext};
use crate::batch::{Effect, Parsed, Step, Undo, View};
use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::message::{encode, Flags};

use super::get::selector;
use super::set::{encode_link_set, LinkChange};
use super::LinkRef;

/// `ip link del DEV`.
pub(crate) fn encode_link_del(link: &LinkRef) -> Vec<u8> {
    encode(RouteNetlinkMessage::DelLink(selector(link)), Flags::Plain)
}

/// `ip link del group N`.
pub(crate) fn encode_group_del(group: u32) -> Result<Vec<u8>> {
    if group == 0 {
        return Err(Error::invalid(
            "group",
            "group 0 is the default group of every link; refusing to delete it",
        ));
    }
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::Group(group));
    Ok(encode(RouteNetlinkMessage::DelLink(msg), Flags::Plain))
}

/// `ip link del DEV` as a batch item: `[code, link]`. Deleting one end of a veth pair deletes both.
#[derive(Debug)]
pub struct DelLink {
    pub link: LinkRef,
}

impl Step for DelLink {
    const OP: &'static str = "link.delete";

    fn touches(&self) -> Vec<&LinkRef> {
        vec![&self.link]
    }

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        let link = match cx.read_link(seq)? {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        Ok(link.validate("link").map(|()| DelLink { link }))
    }

    fn label(&self) -> Option<String> {
        Some(self.link.describe())
    }

    fn undo(&self) -> Undo {
        Undo::Irreversible
    }

    fn encode(&self, _: &View) -> Result<Vec<u8>> {
        Ok(encode_link_del(&self.link))
    }

    fn effect(&self) -> Effect<'_> {
        Effect::Removes(&self.link)
    }
}

/// `ip link del group N` as a batch item: `[code, group]`.
#[derive(Debug)]
pub struct DelGroup {
    pub group: u32,
}

impl Step for DelGroup {
    const OP: &'static str = "link.deleteGroup";

    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, _: &mut ReadContext) -> Parsed<Self, A::Error> {
        let group: serde_json::Value = next(seq, "group")?;
        Ok(args::options::<u32>("group", group).and_then(|group| {
            encode_group_del(group)?;
            Ok(DelGroup { group })
        }))
    }

    fn label(&self) -> Option<String> {
        Some(format!("group {}", self.group))
    }

    fn undo(&self) -> Undo {
        Undo::Irreversible
    }

    fn encode(&self, _: &View) -> Result<Vec<u8>> {
        encode_group_del(self.group)
    }
}

/// Unused group ids are picked from here up, away from the small numbers people use by hand.
const TAG_GROUP_FLOOR: u32 = 0x7000_0000;

impl Handle {
    /// `ip link del DEV`. Deleting one end of a veth pair deletes both.
    pub async fn link_del(&self, link: &LinkRef) -> Result<()> {
        link.validate("link")?;
        self.ack("link.delete", Some(&link.describe()), encode_link_del(link))
            .await
            .map(drop)
    }

    /// `ip link del group N`: every link in the group, in one kernel operation.
    pub async fn link_del_group(&self, group: u32) -> Result<()> {
        let bytes = encode_group_del(group)?;
        self.ack("link.deleteGroup", None, bytes).await.map(drop)
    }

    /// Deletes many links fast: tags them with a group no other link carries, checks that
    /// still holds, and deletes the group in one request (one RCU grace period for all, where
    /// one-by-one deletion waits for one per link; bridges still cost one each). Veth peers go
    /// with their pair. A link named twice counts once; an unknown link fails the call before
    /// anything is changed, and a failure while tagging puts the groups back.
    pub async fn delete_links(&self, links: &[LinkRef]) -> Result<()> {
        if links.is_empty() {
            return Ok(());
        }
        for (i, l) in links.iter().enumerate() {
            l.validate(&format!("links[{i}]"))?;
        }
        for attempt in 0..3 {
            let all = self.link_list_with(false).await?;
            let mut targets: BTreeMap<u32, u32> = BTreeMap::new(); // index -> original group
            for l in links {
                let found = all.iter().find(|r| match l {
                    LinkRef::Index(i) => r.index == *i,
                    LinkRef::Name(n) => &r.name == n,
                });
                let Some(rec) = found else {
                    return Err(Error::kernel_errno(
                        libc::ENODEV,
                        "link.deleteMany",
                        &l.describe(),
                    ));
                };
                targets.insert(rec.index, rec.group);
            }
            let used: HashSet<u32> = all.iter().map(|l| l.group).collect();
            let group = pick_group(&used, attempt);
            let msgs = targets.keys().map(|index| tag(*index, group)).collect();
            let results = self.send_all(msgs).await;
            if let Some((i, Err(e))) = targets.keys().zip(&results).find(|(_, r)| r.is_err()) {
                let e = e.clone().context("link.deleteMany", Some(&format!("#{i}")));
                self.untag(&targets).await;
                return Err(e);
            }
            let carriers = self
                .link_list_with(false)
                .await?
                .iter()
                .filter(|l| l.group == group)
                .count();
            if carriers == targets.len() {
                let Err(e) = self.link_del_group(group).await else {
                    return Ok(());
                };
                // The kernel checks every link of the group before it deletes any: none went.
                // They get their groups back, and the error names the link it refused: one
                // without a kind has no driver ops to delete it (lo, a physical NIC).
                self.untag(&targets).await;
                let refused = (e.errno() == Some(libc::EOPNOTSUPP))
                    .then(|| {
                        all.iter()
                            .find(|r| targets.contains_key(&r.index) && r.kind.is_none())
                    })
                    .flatten()
                    .map(|r| r.name.as_str());
                return Err(e.context("link.deleteMany", refused));
            }
            // Someone else used the group meanwhile: put ours back and try another.
            self.untag(&targets).await;
        }
        Err(Error::Protocol {
            op: "link.deleteMany".into(),
            detail: "could not find an unused link group".into(),
        })
    }

    /// Gives tagged links their groups back (best effort: the caller is already failing).
    async fn untag(&self, targets: &BTreeMap<u32, u32>) {
        let msgs = targets.iter().map(|(index, group)| tag(*index, *group)).collect();
        let _ = self.send_all(msgs).await;
    }
}

/// `ip link set INDEX group GROUP`.
fn tag(index: u32, group: u32) -> Vec<u8> {
    let change = LinkChange {
        group: Some(group),
        ..Default::default()
    };
    encode_link_set(&LinkRef::Index(index), &change, None, None)
}

fn pick_group(used: &HashSet<u32>, attempt: u32) -> u32 {
    let mut seed = [0u8; 4];
    unsafe { libc::getrandom(seed.as_mut_ptr().cast(), 4, 0) };
    let mut g = TAG_GROUP_FLOOR | (u32::from_ne_bytes(seed) >> 4).wrapping_add(attempt);
    while used.contains(&g) || g == 0 {
        g = g.wrapping_add(1) | TAG_GROUP_FLOOR;
    }
    g
}

//! Changing links: `ip link set DEV [up|down] [mtu] [address] [name] [alias] [txqueuelen]
//! [group] [master|nomaster] [netns]`, all in one RTM_SETLINK.

use netlink_packet_core::DefaultNla;
use netlink_packet_route::link::{LinkAttribute, LinkFlags};

const IFLA_IFALIAS: u16 = 20;
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::message::{encode, Flags};
use crate::netns::Namespace;
use crate::validate;

use super::get::selector;
use super::LinkRef;

#[derive(Debug, Clone, Default)]
pub struct LinkChange {
    pub up: Option<bool>,
    pub mtu: Option<u32>,
    pub mac: Option<String>,
    pub name: Option<String>,
    /// Empty string clears the alias.
    pub alias: Option<String>,
    pub txqlen: Option<u32>,
    pub group: Option<u32>,
    /// `Some(None)` detaches from the current master (`nomaster`).
    pub master: Option<Option<LinkRef>>,
    pub promisc: Option<bool>,
}

impl LinkChange {
    pub fn is_empty(&self) -> bool {
        self.up.is_none()
            && self.mtu.is_none()
            && self.mac.is_none()
            && self.name.is_none()
            && self.alias.is_none()
            && self.txqlen.is_none()
            && self.group.is_none()
            && self.master.is_none()
            && self.promisc.is_none()
    }

    pub fn validate(&self) -> Result<()> {
        if let Some(mtu) = self.mtu {
            validate::mtu("mtu", mtu)?;
        }
        if let Some(mac) = &self.mac {
            validate::mac("mac", mac)?;
        }
        if let Some(name) = &self.name {
            validate::ifname("name", name)?;
        }
        if let Some(alias) = &self.alias {
            if alias.len() > 255 {
                return Err(Error::invalid(
                    "alias",
                    "alias is longer than 255 bytes (IFALIASZ - 1)",
                ));
            }
        }
        if let Some(Some(master)) = &self.master {
            master.validate("master")?;
        }
        Ok(())
    }
}

/// Encodes `ip link set` for `link` (`index` must be known when renaming a link named by name;
/// `master` is the resolved master index, 0 for nomaster).
pub(crate) fn encode_link_set(
    link: &LinkRef,
    change: &LinkChange,
    index: Option<u32>,
    master: Option<u32>,
) -> Result<Vec<u8>> {
    let mut msg = selector(link);
    if change.name.is_some() {
        if let (LinkRef::Name(_), Some(index)) = (link, index) {
            // With a name selector the request already holds IFLA_IFNAME; a rename needs the index.
            msg.attributes.clear();
            msg.header.index = index;
        }
    }
    if let Some(up) = change.up {
        msg.header.change_mask |= LinkFlags::Up;
        if up {
            msg.header.flags |= LinkFlags::Up;
        }
    }
    if let Some(p) = change.promisc {
        msg.header.change_mask |= LinkFlags::Promisc;
        if p {
            msg.header.flags |= LinkFlags::Promisc;
        }
    }
    let attrs = &mut msg.attributes;
    if let Some(mtu) = change.mtu {
        attrs.push(LinkAttribute::Mtu(mtu));
    }
    if let Some(mac) = &change.mac {
        attrs.push(LinkAttribute::Address(validate::mac("mac", mac)?.to_vec()));
    }
    if let Some(name) = &change.name {
        attrs.push(LinkAttribute::IfName(name.clone()));
    }
    if let Some(alias) = &change.alias {
        // Sent without a trailing NUL, as iproute2 does: the kernel counts the attribute's
        // whole length against IFALIASZ, so a NUL would refuse a 255-byte alias.
        attrs.push(LinkAttribute::Other(DefaultNla::new(
            IFLA_IFALIAS,
            alias.as_bytes().to_vec(),
        )));
    }
    if let Some(q) = change.txqlen {
        attrs.push(LinkAttribute::TxQueueLen(q));
    }
    if let Some(g) = change.group {
        attrs.push(LinkAttribute::Group(g));
    }
    if let Some(m) = master {
        attrs.push(LinkAttribute::Controller(m));
    }
    Ok(encode(RouteNetlinkMessage::SetLink(msg), Flags::Plain))
}

/// Whether `error` answered a rename the way Linux before 6.2 refuses one on a link that is up.
pub(crate) fn is_refused_rename(change: &LinkChange, error: &Error) -> bool {
    change.name.is_some() && error.errno() == Some(libc::EBUSY)
}

impl Handle {
    pub async fn link_set(&self, link: &LinkRef, change: &LinkChange) -> Result<()> {
        link.validate("link")?;
        change.validate()?;
        if change.is_empty() {
            return Ok(());
        }
        let label = link.describe();
        let master = match &change.master {
            Some(Some(m)) => Some(
                self.link_index(m)
                    .await
                    .map_err(|e| e.context("link.set", Some(&label)))?,
            ),
            Some(None) => Some(0),
            None => None,
        };
        let index = match (link, &change.name) {
            (LinkRef::Name(_), Some(_)) => Some(self.link_index(link).await?),
            _ => None,
        };
        let msg = encode_link_set(link, change, index, master)?;
        match self.ack("link.set", Some(&label), msg).await {
            Err(e) if is_refused_rename(change, &e) => {
                let index = match index {
                    Some(i) => i,
                    None => self.link_index(link).await?,
                };
                self.rename_while_down(index, change, master, &label, e).await
            }
            result => result.map(drop),
        }
    }

    /// Linux before 6.2 refuses to rename a link that is up (EBUSY). Then the change is made
    /// the way `ip` users do it by hand: down, change (the kernel renames before it applies
    /// flags, so the same request brings it up again), and up again if the change failed.
    /// `refused` (see `is_refused_rename`) is returned as is when the link was not up.
    pub(crate) async fn rename_while_down(
        &self,
        index: u32,
        change: &LinkChange,
        master: Option<u32>,
        label: &str,
        refused: Error,
    ) -> Result<()> {
        let target = LinkRef::Index(index);
        if !self.link_get(&target).await?.up {
            return Err(refused);
        }
        let flag = |up: bool| LinkChange {
            up: Some(up),
            ..Default::default()
        };
        let down = encode_link_set(&target, &flag(false), None, None)?;
        self.ack("link.set", Some(label), down).await?;
        let again = LinkChange {
            up: Some(change.up.unwrap_or(true)),
            ..change.clone()
        };
        let msg = encode_link_set(&target, &again, None, master)?;
        match self.ack("link.set", Some(label), msg).await {
            Ok(_) => Ok(()),
            Err(e) => {
                // Best effort: the caller gets the change's error, not this one's.
                let up = encode_link_set(&target, &flag(true), None, None)?;
                let _ = self.ack("link.set", Some(label), up).await;
                Err(e)
            }
        }
    }

    /// `ip link set DEV netns NS [name NEW]`: moves the link; returns its index in the target.
    pub async fn link_move(&self, link: &LinkRef, target: &Namespace, new_name: Option<&str>) -> Result<()> {
        link.validate("link")?;
        if let Some(n) = new_name {
            validate::ifname("name", n)?;
        }
        let label = link.describe();
        let mut msg = selector(link);
        if let Some(n) = new_name {
            if let LinkRef::Name(_) = link {
                msg.header.index = self.link_index(link).await?;
                msg.attributes.clear();
            }
            msg.attributes.push(LinkAttribute::IfName(n.to_string()));
        }
        msg.attributes.push(LinkAttribute::NetNsFd(target.raw_fd()));
        self.ack(
            "link.move",
            Some(&label),
            encode(RouteNetlinkMessage::SetLink(msg), Flags::Plain),
        )
        .await
        .map(drop)
    }
}

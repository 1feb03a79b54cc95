//! `ip link add ...`: one RTM_NEWLINK, with parent and master resolved to indexes.

use serde::de::SeqAccess;

use crate::batch::wire::{next, ReadContext};
use crate::batch::{Before, Effect, Parsed, Read, Reads, Step, Undo, UndoRequest, View};
use crate::error::{Error, Result};
use crate::handle::Handle;

use super::build::{encode_new_link, Resolved};
use super::fast::read_link;
use super::set::{
    drags_bridge_v6, read_ipv6_addresses, read_master, readd_ipv6, restore_bridge_mtu, IPV6_MIN_MTU,
};
use super::spec::{LinkRef, LinkSpec};
use super::LinkRecord;

/// A link to create: its spec and the names decided for it (generated where not given).
#[derive(Debug)]
pub struct AddLink {
    pub spec: LinkSpec,
    pub names: Resolved,
    /// For pairs made in a batch: the namespace the peer is born in (the batch's n-th), so
    /// that items after it can name the peer there.
    pub peer_target: Option<usize>,
}

impl AddLink {
    pub fn new(spec: LinkSpec) -> Self {
        AddLink {
            names: Resolved::names(&spec),
            spec,
            peer_target: None,
        }
    }

    fn resolved(&self, names: &View) -> Result<Resolved> {
        // Looked up before the link exists, it would be "no link named" it.
        if self.spec.common.master.as_ref() == Some(&LinkRef::Name(self.names.name.clone())) {
            return Err(Error::invalid(
                "master",
                format!(
                    "{} is the link itself: a link cannot be its own master",
                    self.names.name
                ),
            ));
        }
        let mut r = self.names.clone();
        r.parent = self.spec.kind.parent().map(|p| names.index_of(p)).transpose()?;
        r.master = self
            .spec
            .common
            .master
            .as_ref()
            .map(|m| names.index_of(m))
            .transpose()?;
        Ok(r)
    }

    /// Names the end of a pair whose name is taken. The kernel answers EEXIST, without saying
    /// for which name, for the link's own (checked first) or its peer's (in the peer's
    /// namespace, `peer_ns`): once the creation has failed, both are looked up, and the error
    /// names the peer when it is the one there and the link's own name is free.
    pub(crate) async fn name_clash(&self, e: Error, own: &Handle, peer_ns: &Handle) -> Error {
        let Some(peer) = self.names.peer.as_deref() else {
            return e;
        };
        if e.errno() != Some(libc::EEXIST)
            || own
                .link_index(&LinkRef::Name(self.names.name.clone()))
                .await
                .is_ok()
            || peer_ns
                .link_index(&LinkRef::Name(peer.to_string()))
                .await
                .is_err()
        {
            return e;
        }
        let elsewhere = own.namespace().inode() != peer_ns.namespace().inode();
        match e {
            Error::Kernel {
                errno,
                op,
                extack,
                extack_offset,
                ..
            } => Error::Kernel {
                errno,
                op,
                link: Some(peer.to_string()),
                extack: extack.or_else(|| {
                    Some(if elsewhere {
                        format!("the peer's name {peer} is taken in the peer's namespace")
                    } else {
                        format!("the peer's name {peer} is taken")
                    })
                }),
                extack_offset,
            },
            other => other,
        }
    }
}

impl Step for AddLink {
    const OP: &'static str = "link.add";

    /// `[code, kind, options]`
    fn read<'de, A: SeqAccess<'de>>(seq: &mut A, cx: &mut ReadContext) -> Parsed<Self, A::Error> {
        let kind: String = next(seq, "kind")?;
        let options: serde_json::Value = next(seq, "options")?;
        cx.take_named_peer();
        let spec = LinkSpec::from_json(&kind, options, cx);
        let peer_target = cx.take_named_peer().unwrap_or(cx.target());
        Ok(spec.map(|spec| {
            let mut add = AddLink::new(spec);
            add.peer_target = add.names.peer.is_some().then_some(peer_target);
            add
        }))
    }

    fn label(&self) -> Option<String> {
        Some(self.names.name.clone())
    }

    /// A kernel without the kind's module answers only "Unknown device type".
    fn explain(&self, error: Error) -> Error {
        if error.errno() != Some(libc::EOPNOTSUPP) {
            return error;
        }
        let kind = self.spec.kind.name();
        error.with_extack(|given| {
            (given == Some("Unknown device type")).then(|| {
                format!(
                    "Unknown device type: this kernel cannot make {kind} links (no {kind} module; Netns.kernelSupports('{kind}') tells before trying)"
                )
            })
        })
    }

    fn links(&self) -> Vec<&LinkRef> {
        self.spec
            .kind
            .parent()
            .into_iter()
            .chain(self.spec.common.master.as_ref())
            .collect()
    }

    fn undo(&self) -> Undo {
        Undo::Created
    }

    /// What undoing it needs besides deleting the link: the master it joins (a bridge's MTU
    /// follows its ports: link/set.rs), then what the kind needs read to undo what creating
    /// the link changes on others (`Kind::reads_before_create`; nothing for most kinds).
    fn reads(&self, names: &View) -> Result<Reads> {
        let resolved = self.resolved(names)?;
        let mut requests: Vec<Read> = resolved.master.map(read_master).into_iter().collect();
        if let Some(master) = resolved.master.filter(|_| self.drops_master_v6()) {
            requests.push(read_ipv6_addresses(master));
        }
        requests.extend(self.spec.kind.reads_before_create(&resolved));
        Ok(Reads {
            requests,
            follow_up: false,
        })
    }

    fn encode(&self, names: &View) -> Result<Vec<u8>> {
        encode_new_link(&self.spec, &self.resolved(names)?)
    }

    /// Sent once a rollback has deleted the link: what its creation changed on other links —
    /// the MTU of the bridge it joined, and what the kind changed (`Kind::restore_after_delete`).
    fn encode_undo(&self, names: &View, before: &Before) -> Result<Vec<UndoRequest>> {
        let has_master = self.spec.common.master.is_some();
        let (master, rest) = before.split_at(usize::from(has_master).min(before.len()));
        let (v6, kind) = rest.split_at(usize::from(has_master && self.drops_master_v6()).min(rest.len()));
        // The link is gone: no index of a bridge is its own.
        let bridge = master.first().and_then(|m| restore_bridge_mtu(m, 0));
        // A bridge it took below 1280 lost its IPv6 addresses: added again once its MTU is back.
        let lost: Vec<u32> = master
            .first()
            .and_then(|m| m.iter().find_map(read_link))
            .filter(|b| drags_bridge_v6(b, self.spec.common.mtu))
            .map(|b| b.index)
            .into_iter()
            .collect();
        let readd = v6.first().map(|a| readd_ipv6(&lost, a)).unwrap_or_default();
        Ok(bridge
            .into_iter()
            .chain(readd)
            .chain(self.spec.kind.restore_after_delete(kind))
            .map(|m| (names.target, m))
            .collect())
    }

    fn effect(&self) -> Effect<'_> {
        Effect::Creates(&self.names.name, self.peer_target.zip(self.names.peer.as_deref()))
    }
}

impl AddLink {
    /// The MTU the link is asked to have, where the kernel should make it with that one (not a
    /// bridge's: `Kind::creation_mtu_is_set_by_user`). What it made is compared with it
    /// (`capped`).
    pub(crate) fn mtu_to_check(&self) -> Option<u32> {
        self.spec
            .common
            .mtu
            .filter(|_| self.spec.kind.creation_mtu_is_set_by_user())
    }

    /// The error for a link the kernel made with another MTU than the one asked, if it did. Some
    /// kinds cap the MTU at creation where `ip link set DEV mtu N` after is refused (a vxlan on
    /// a parent: `vxlan_config_apply`, at the parent's MTU less the headers): the creation
    /// fails as the change would (EINVAL), and the link is deleted (a rollback, or the item's
    /// own undo in 'continue' mode: `batch/mod.rs`).
    pub(crate) fn capped(&self, made: &LinkRecord) -> Option<Error> {
        let asked = self.mtu_to_check()?;
        let got = made.mtu?;
        if got == asked {
            return None;
        }
        let kind = self.spec.kind.name();
        let text = match self.spec.kind.parent() {
            _ if got > asked => format!("the kernel made the MTU {got}, not the {asked} asked"),
            Some(parent) => format!(
                "the kernel capped the MTU at {got} (a {kind} on {} takes at most {got})",
                parent.describe()
            ),
            None => format!("the kernel capped the MTU at {got} (a {kind} takes at most {got})"),
        };
        Some(Error::Kernel {
            errno: libc::EINVAL,
            op: Self::OP.to_string(),
            link: Some(self.names.name.clone()),
            extack: Some(text),
            extack_offset: None,
        })
    }

    /// Whether the link is made with an MTU that would take a bridge it joins below 1280 (the
    /// bridge then loses its IPv6 addresses): they are read before.
    fn drops_master_v6(&self) -> bool {
        self.spec.common.mtu.is_some_and(|m| m < IPV6_MIN_MTU)
    }
}

impl Handle {
    /// `ip link add ...`: creates the link and returns it as the kernel now reports it.
    pub async fn link_add(&self, spec: LinkSpec) -> Result<LinkRecord> {
        let add = AddLink::new(spec);
        let label = add.names.name.clone();
        let mut r = add.names.clone();
        if let Some(p) = add.spec.kind.parent() {
            r.parent = Some(
                self.link_index(p)
                    .await
                    .map_err(|e| e.context("link.add", Some(&label)))?,
            );
        }
        if let Some(m) = &add.spec.common.master {
            r.master = Some(
                self.link_index(m)
                    .await
                    .map_err(|e| e.context("link.add", Some(&label)))?,
            );
        }
        // The peer namespace's fd stays open (in `add`) until the kernel has read the request.
        let sent = self
            .ack("link.add", Some(&label), encode_new_link(&add.spec, &r)?)
            .await;
        if let Err(e) = sent {
            // A peer born in another namespace has no handle here to look it up with.
            let local = add.spec.kind.namespaces().is_empty();
            return Err(if local {
                add.name_clash(e, self, self).await
            } else {
                e
            });
        }
        let made = self.link_get(&LinkRef::Name(label.clone())).await?;
        if let Some(e) = add.capped(&made) {
            // Not made as asked: nothing is left of it.
            return Err(match self.delete_links(&[LinkRef::Index(made.index)]).await {
                Ok(()) => e,
                Err(undo) => {
                    e.with_extack(|t| Some(format!("{}; deleting it failed: {undo}", t.unwrap_or_default())))
                }
            });
        }
        Ok(made)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::kind::tests::NoContext;

    fn add(kind: &str, options: serde_json::Value) -> AddLink {
        AddLink::new(LinkSpec::from_json(kind, options, &mut NoContext).unwrap())
    }

    fn made(mtu: u32) -> LinkRecord {
        LinkRecord {
            mtu: Some(mtu),
            ..LinkRecord::default()
        }
    }

    #[test]
    fn a_creation_made_with_another_mtu_than_asked_is_an_einval_naming_the_cap() {
        let vx = add(
            "vxlan",
            serde_json::json!({"name": "vx1", "vni": 1, "parent": "up0", "mtu": 1500}),
        );
        assert!(vx.capped(&made(1500)).is_none());
        let e = vx.capped(&made(1450)).expect("capped");
        assert_eq!(e.errno(), Some(libc::EINVAL));
        assert!(
            e.message()
                .contains("the kernel capped the MTU at 1450 (a vxlan on up0 takes at most 1450)"),
            "{}",
            e.message()
        );
        // Nothing asked, nothing compared; a bridge's creation MTU is not the user's.
        assert!(add("vxlan", serde_json::json!({"vni": 1}))
            .capped(&made(1450))
            .is_none());
        assert!(add("bridge", serde_json::json!({"mtu": 9000}))
            .capped(&made(1500))
            .is_none());
    }
}

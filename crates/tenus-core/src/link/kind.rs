//! What a link kind is to tenus: one type implementing `Kind` per kind, in one file each
//! (`bridge.rs`, `vxlan.rs`, ...), registered by one line in `kinds.rs`. Everything that
//! depends on the kind (parsing its options, naming, its parent, the IFLA_INFO_DATA it sends,
//! the record details it reads back, its MTU bounds) is a method here, so a new kind is one
//! file and one line, and a missed method is a compile error.

use std::ops::RangeInclusive;

use netlink_packet_route::link::{InfoData, InfoKind};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::args;
use crate::batch::{Before, Read};
use crate::error::Result;
use crate::netns::Namespace;

use super::build::Resolved;
use super::spec::LinkRef;

/// Where a kind's options are read: the namespaces a request may refer to.
pub trait ParseContext {
    /// The batch's `index`-th namespace (0: its own), where a veth or netkit peer is born.
    fn peer(&mut self, arg: &str, index: u32) -> Result<Namespace>;
}

pub trait Kind: Sized + Clone + std::fmt::Debug + Send + Sync + 'static {
    /// IFLA_INFO_KIND, as `ip link add ... type NAME` spells it.
    const NAME: &'static str;
    /// Generated names are this prefix and 8 hex digits (tenus' `MakeNetInterfaceName`).
    const PREFIX: &'static str;
    /// The options JavaScript passes, besides the common ones (`CommonOptions`).
    type Options: DeserializeOwned + Default;
    /// What a listing reports about a link of this kind (the record's `info`).
    type Info: Serialize + Clone + std::fmt::Debug + PartialEq + Send;

    /// Checks the options and turns them into typed values, once.
    fn parse(options: Self::Options, ctx: &mut dyn ParseContext) -> Result<Self>;

    /// IFLA_INFO_KIND and IFLA_INFO_DATA for the request.
    fn info(&self, resolved: &Resolved) -> Result<(InfoKind, Option<InfoData>)>;

    /// Reads the record details from the kernel's IFLA_INFO_DATA.
    fn decode(data: Option<&InfoData>) -> Option<Self::Info>;

    /// The link this one sits on, if the kind has one.
    fn parent(&self) -> Option<&LinkRef> {
        None
    }

    /// True when the parent goes inside IFLA_INFO_DATA (vxlan, gre) rather than IFLA_LINK.
    fn parent_in_data(&self) -> bool {
        false
    }

    /// The MTUs the kernel accepts for the kind (its `min_mtu..=max_mtu`).
    fn mtu_range(&self) -> RangeInclusive<u32> {
        args::MTU_MIN..=args::MTU_MAX
    }

    /// Whether an MTU given in the creation request means what `ip link set DEV mtu N` means.
    /// A bridge treats only the latter as the user's choice: one given at creation is lowered
    /// to its smallest port's as soon as a port joins (`br_mtu_auto_adjust`).
    fn creation_mtu_is_set_by_user(&self) -> bool {
        true
    }

    /// Kinds that make a second link (veth, netkit): its name as asked, if asked.
    fn peer(&self) -> Option<Option<&str>> {
        None
    }

    /// Namespaces the request refers to by descriptor; they must stay open until it is sent.
    fn namespaces(&self) -> Vec<Namespace> {
        Vec::new()
    }

    /// Whether the kernel lets the link change namespace (NETIF_F_NETNS_LOCAL is not set).
    fn movable() -> bool {
        true
    }

    /// What to read before a link of the kind is created, in rollback mode, when creating it
    /// changes links that are there already (an ipvlan switches the other ipvlans on its
    /// parent to its mode): the undo of the creation puts them back from it
    /// (`restore_after_delete`). `resolved` has the parent's and master's indexes.
    fn reads_before_create(&self, _resolved: &Resolved) -> Vec<Read> {
        Vec::new()
    }

    /// Requests that put back what creating the link changed on other links, once a rollback
    /// has deleted it, from what `reads_before_create` read (one entry per read).
    fn restore_after_delete(&self, _before: &Before) -> Vec<Vec<u8>> {
        Vec::new()
    }

    /// The least options a link of the kind can be made with, to find out whether the running
    /// kernel has it (`"parent": "probe0"` names a bridge the probe makes first).
    fn probe() -> serde_json::Value {
        serde_json::json!({})
    }
}

/// A kind with no options and nothing to report beyond its name (dummy, ifb, wireguard).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct NoOptions {}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Knows no namespace but the process's own (tests parse one spec at a time).
    pub(crate) struct NoContext;

    impl ParseContext for NoContext {
        fn peer(&mut self, _: &str, _: u32) -> Result<Namespace> {
            Namespace::current()
        }
    }
}

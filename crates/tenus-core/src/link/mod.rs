//! Links: one file per kind (`bridge.rs`, `veth.rs`, ...) implementing `Kind` (`kind.rs`),
//! registered in `kinds.rs`; the creation spec (`spec.rs`), message building (`build.rs`),
//! decoding (`record.rs`, `fast.rs`) and one file per verb (`add.rs`, `get.rs`, `set.rs`,
//! `del.rs`, `mv.rs`).

pub mod bond;
pub mod bridge;
pub mod build;
pub mod dummy;
pub mod fast;
pub mod gre;
pub mod ipvlan;
pub mod kind;
pub mod kinds;
pub mod macvlan;
pub mod record;
pub mod spec;
pub mod tuntap;
pub mod veth;
pub mod vlan;
pub mod vrf;
pub mod vxlan;
pub mod wireguard;

pub(crate) mod add;
pub(crate) mod del;
pub(crate) mod get;
pub(crate) mod mv;
pub(crate) mod set;
pub mod stats;

pub use kinds::{KindInfo, KindSpec, KIND_NAMES};
pub use record::{LinkRecord, LinkStats};
pub use set::LinkChange;
pub use spec::{CommonOptions, CommonSpec, LinkRef, LinkSpec};

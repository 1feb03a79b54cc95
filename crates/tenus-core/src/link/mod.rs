//! Links: one file per kind in `kinds/` implementing `Kind` (`kind.rs`), registered by one line
//! in `kinds/mod.rs`; the creation spec (`spec.rs`), message building (`build.rs`), decoding
//! (`record.rs`, `fast.rs`; listings are written as JSON directly, `json.rs`) and one file per
//! verb (`add.rs`, `get.rs`, `set.rs`, `del.rs`, `mv.rs`). tun/tap are made with ioctls, not
//! netlink (`tuntap.rs`).

pub mod build;
pub mod fast;
pub mod json;
pub mod kind;
pub mod kinds;
pub mod port;
pub mod record;
pub mod spec;
pub mod tuntap;

pub(crate) mod add;
pub(crate) mod del;
pub(crate) mod get;
pub(crate) mod mv;
pub(crate) mod set;
pub mod stats;

pub use kinds::{KindInfo, KindSpec, KIND_NAMES};
pub use record::{LinkMove, LinkRecord, LinkStats};
pub use set::LinkChange;
pub use spec::{CommonOptions, CommonSpec, LinkRef, LinkSpec};

//! tenus-core: links, addresses, routes and network namespaces over netlink.
//!
//! Messages are built from `netlink-packet-route`'s types (and a few of `rtnetlink`'s
//! builders); the transport (`transport/`) is our own so that it can pipeline, read extended
//! ACKs, detect interrupted dumps and time out. Every change runs through one transaction
//! engine (`batch/`). Nothing here converts JavaScript values: options and records are JSON
//! (serde), and with the `napi` feature their types are described to napi-rs for `index.d.ts`
//! (`js.rs`).

pub mod addr;
pub mod args;
pub mod batch;
pub mod error;
pub mod handle;
mod js;
pub mod link;
pub mod message;
pub mod netns;
// Routing (issue 13 part A): routes, nexthop objects, policy rules.
pub mod nexthop;
pub mod nla;
pub mod route;
pub mod rule;
pub mod transport;
pub mod watch;

pub use addr::AddressRecord;
pub use error::{Error, Result};
pub use handle::Handle;
pub use link::{CommonSpec, KindInfo, KindSpec, LinkChange, LinkRecord, LinkRef, LinkSpec};
pub use netns::{Namespace, Origin};

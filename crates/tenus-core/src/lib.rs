//! tenus-core: links, addresses, routes and network namespaces over netlink.
//!
//! Messages are built with `rtnetlink`'s builders and `netlink-packet-route`'s types; the
//! transport (`transport/`) is our own so that it can pipeline, read extended ACKs, detect
//! interrupted dumps and time out. Nothing here knows about JavaScript.

pub mod addr;
pub mod batch;
pub mod error;
pub mod handle;
pub mod link;
pub mod message;
pub mod netns;
pub mod route;
pub mod transport;
pub mod validate;

pub use addr::AddressRecord;
pub use error::{Error, Result};
pub use handle::Handle;
pub use link::{CommonSpec, KindSpec, LinkChange, LinkRecord, LinkRef, LinkSpec};
pub use netns::{Namespace, Origin};

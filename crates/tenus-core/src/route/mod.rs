//! Routes (`ip route`), IPv4 and IPv6: options and checks (`spec.rs`), names of types, scopes,
//! protocols and tables (`names.rs`), requests (`encode.rs`), routes read back (`record.rs`),
//! the verbs as batch items with their undo (`verbs.rs`), listings (`list.rs`), FIB lookups
//! (`get.rs`) and how listings reach JavaScript (`columns.rs`), a link's default gateway
//! (`gateway.rs`), and the routes the kernel deletes with a link that moves or goes down
//! (`dropped.rs`).

pub mod columns;
pub(crate) mod dropped;
pub mod encode;
pub mod gateway;
pub mod get;
pub mod list;
pub mod names;
pub mod record;
pub mod spec;
pub mod verbs;

pub use gateway::{encode_gateway, encode_gateway_del, Gateway};
pub use get::RouteGetOptions;
pub use list::{RouteFilter, RouteListOptions};
pub use names::TENUS_PROTOCOL;
pub use record::RouteRecord;
pub use spec::{Route, RouteOptions};

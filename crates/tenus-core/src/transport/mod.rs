//! One netlink socket and the task that drives it: requests are pipelined (many messages per
//! `sendmsg`, a bounded window in flight), replies are matched to requests by sequence number,
//! dumps are checked for `NLM_F_DUMP_INTR`, and every request has a deadline.

pub mod ack;
mod contended;
mod direct;
mod driver;
pub mod header;
mod pauses;
mod pending;
mod placement;
mod relay;
mod socket;
#[cfg(test)]
pub(crate) mod testpeer;

pub use driver::{Connection, Expect, Messages, Reply};
pub use socket::open_route_socket;

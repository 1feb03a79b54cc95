//! The floor's parts shared by its program (`main.rs`) and the Node addon floor
//! (`benches/node-floor`): the requests, built by hand, and the socket they go over.

pub mod messages;
pub mod relay;
pub mod socket;

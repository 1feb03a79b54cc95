//! The Node.js binding of tenus: converts JavaScript values to the core's types and core errors
//! to JavaScript errors, nothing else.

pub mod batch;
pub mod error;
pub mod netns;
pub mod record;
mod runtime;
mod settle;
pub mod spec;
pub mod validate;

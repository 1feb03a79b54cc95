//! The Node.js binding of tenus: converts JavaScript values to the core's types and core errors
//! to JavaScript errors, nothing else.

mod error;
mod netns;
mod record;
mod spec;
mod validate;

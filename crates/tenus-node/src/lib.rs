//! The Node.js binding of tenus: a namespace handle class whose methods hand JSON to the core's
//! transaction engine and listings, and the namespace functions. How answers become promises
//! (and stream parts become callback calls, in order with them) is `settle.rs`; the I/O thread
//! every request runs on is `runtime.rs`. Option and record types reach `index.d.ts` from the
//! core (its `napi` feature).

pub mod error;
mod list;
pub mod netns;
// Routing (issue 13 part A): routes, rules, nexthop objects.
mod routing;
mod run;
mod runtime;
mod settle;

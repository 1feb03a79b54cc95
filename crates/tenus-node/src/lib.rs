//! The Node.js binding of tenus: a namespace handle class whose methods hand JSON to the core's
//! transaction engine and listings, and the namespace functions; each a few lines of conversion.
//! How answers become promises (and stream parts callback calls, in order with them) is behind
//! `promise/`. Option and record types reach `index.d.ts` from the core (its `napi` feature).

mod bridge;
pub mod error;
mod list;
mod neigh;
pub mod netns;
mod promise;
// Routing (issue 13 part A): routes, rules, nexthop objects.
mod routing;
mod run;
mod stream;
mod watch;

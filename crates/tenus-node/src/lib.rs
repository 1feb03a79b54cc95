//! The Node.js binding of tenus: a namespace handle class whose methods hand JSON to the core's
//! transaction engine and listings, and the namespace functions. How answers become promises
//! (and stream parts become callback calls, in order with them) is `settle.rs`; the I/O thread
//! every request runs on is `runtime.rs`. Option and record types reach `index.d.ts` from the
//! core (its `napi` feature).

mod bridge;
pub mod error;
mod list;
mod neigh;
pub mod netns;
mod run;
mod runtime;
mod settle;

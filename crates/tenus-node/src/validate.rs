//! Synchronous checks the TypeScript builders run when a chain is assembled, so that a chain
//! with a bad argument fails before its first request. They use the same code as the requests.

use napi_derive::napi;
use tenus_core::validate;

use crate::error::to_napi;
use crate::spec::{link_change, link_spec, NativeLinkChange, NativeLinkSpec};

#[napi(catch_unwind)]
pub fn validate_link_spec(spec: NativeLinkSpec) -> napi::Result<()> {
    link_spec(spec, None)
        .and_then(|s| s.validate().map(drop))
        .map_err(to_napi)
}

#[napi(catch_unwind)]
pub fn validate_link_change(change: NativeLinkChange) -> napi::Result<()> {
    link_change(change).and_then(|c| c.validate()).map_err(to_napi)
}

/// Checks a CIDR (`10.0.0.1/24`, `fd00::1/64`; a bare address means /32 or /128).
#[napi(catch_unwind)]
pub fn validate_cidr(arg: String, cidr: String) -> napi::Result<()> {
    validate::cidr(&arg, &cidr).map(drop).map_err(to_napi)
}

#[napi(catch_unwind)]
pub fn validate_ip(arg: String, ip: String) -> napi::Result<()> {
    validate::ip(&arg, &ip).map(drop).map_err(to_napi)
}

#[napi(catch_unwind)]
pub fn validate_ifname(arg: String, name: String) -> napi::Result<()> {
    validate::ifname(&arg, &name).map_err(to_napi)
}

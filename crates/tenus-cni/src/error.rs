//! The CNI error result: `{cniVersion, code, msg, details}` on stdout, exit status 1. Codes are
//! the spec's well-known ones (SPEC.md, "Error"); failures of the plugin's own work that none
//! of them describes are 999, as the reference plugins' skeleton reports them.

use serde::Serialize;

pub const INCOMPATIBLE_VERSION: u32 = 1;
pub const UNSUPPORTED_FIELD: u32 = 2;
pub const UNKNOWN_CONTAINER: u32 = 3;
pub const INVALID_ENVIRONMENT: u32 = 4;
pub const IO_FAILURE: u32 = 5;
pub const DECODING_FAILURE: u32 = 6;
pub const INVALID_CONFIG: u32 = 7;
/// Not in the spec's table, but in libcni's (`ErrInvalidNetNS`).
pub const INVALID_NETNS: u32 = 8;
pub const TRY_AGAIN_LATER: u32 = 11;
/// STATUS: the plugin cannot service ADD requests.
pub const NOT_AVAILABLE: u32 = 50;
pub const INTERNAL: u32 = 999;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CniError {
    pub code: u32,
    pub msg: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub details: String,
}

pub type Result<T, E = CniError> = std::result::Result<T, E>;

impl CniError {
    pub fn new(code: u32, msg: impl Into<String>) -> Self {
        CniError {
            code,
            msg: msg.into(),
            details: String::new(),
        }
    }

    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }

    pub fn config(msg: impl Into<String>) -> Self {
        Self::new(INVALID_CONFIG, msg)
    }

    pub fn internal(msg: impl Into<String>) -> Self {
        Self::new(INTERNAL, msg)
    }

    /// A netlink failure, with what was being done: the kernel's errno and extended ACK go
    /// into the details.
    pub fn netlink(what: impl Into<String>, e: tenus_core::Error) -> Self {
        let code = match e.errno() {
            Some(libc::EAGAIN) | Some(libc::EBUSY) => TRY_AGAIN_LATER,
            _ => INTERNAL,
        };
        CniError::new(code, what).with_details(e.to_string())
    }

    /// The JSON document written to stdout.
    pub fn to_json(&self, cni_version: &str) -> String {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Doc<'a> {
            cni_version: &'a str,
            #[serde(flatten)]
            error: &'a CniError,
        }
        serde_json::to_string_pretty(&Doc {
            cni_version,
            error: self,
        })
        .unwrap_or_else(|_| format!("{{\"code\":{},\"msg\":\"error\"}}", self.code))
    }
}

impl std::fmt::Display for CniError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.details.is_empty() {
            write!(f, "{}", self.msg)
        } else {
            write!(f, "{}; {}", self.msg, self.details)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_print_as_the_spec_says() {
        let e = CniError::config("bad").with_details("why");
        let v: serde_json::Value = serde_json::from_str(&e.to_json("1.1.0")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"cniVersion": "1.1.0", "code": 7, "msg": "bad", "details": "why"})
        );
        let v: serde_json::Value = serde_json::from_str(&CniError::internal("x").to_json("0.4.0")).unwrap();
        assert!(v.get("details").is_none());
    }

    #[test]
    fn transient_kernel_errors_ask_to_try_again() {
        let busy = tenus_core::Error::kernel_errno(libc::EBUSY, "link.add", "eth0");
        assert_eq!(CniError::netlink("x", busy).code, TRY_AGAIN_LATER);
        let exists = tenus_core::Error::kernel_errno(libc::EEXIST, "link.add", "eth0");
        assert_eq!(CniError::netlink("x", exists).code, INTERNAL);
    }
}

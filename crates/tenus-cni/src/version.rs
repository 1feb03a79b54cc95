//! Spec versions: the ones served, how they compare, and the VERSION result. Results are
//! written in the configuration's version (`types.rs` converts them down).

use crate::error::{CniError, Result, DECODING_FAILURE, INCOMPATIBLE_VERSION};

/// What this plugin speaks: every version with the rich result type (0.3.0 on).
pub const SUPPORTED: [&str; 5] = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

/// The newest, written on errors when the configuration says none.
pub const CURRENT: &str = "1.1.0";

/// `major.minor.patch` as numbers.
pub fn parse(v: &str) -> Result<(u32, u32, u32)> {
    let bad = || CniError::new(DECODING_FAILURE, format!("invalid version {v:?}"));
    let mut parts = v.split('.').map(|p| p.parse::<u32>().map_err(|_| bad()));
    let out = (
        parts.next().ok_or_else(bad)??,
        parts.next().ok_or_else(bad)??,
        parts.next().ok_or_else(bad)??,
    );
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(out)
}

/// `v >= min`.
pub fn at_least(v: &str, min: &str) -> Result<bool> {
    Ok(parse(v)? >= parse(min)?)
}

/// The configuration's version, checked against what is served. A configuration without one
/// is 0.1.0 (as libcni reads it), which is not.
pub fn check(config_version: &str) -> Result<()> {
    let v = if config_version.is_empty() {
        "0.1.0"
    } else {
        config_version
    };
    if SUPPORTED.contains(&v) {
        return Ok(());
    }
    Err(
        CniError::new(INCOMPATIBLE_VERSION, "incompatible CNI versions").with_details(format!(
            "config is {v:?}, plugin supports [{}]",
            SUPPORTED.map(|s| format!("{s:?}")).join(" ")
        )),
    )
}

/// A command that exists only from `min` on (CHECK: 0.4.0, GC and STATUS: 1.1.0).
pub fn require(config_version: &str, command: &str, min: &str) -> Result<()> {
    if at_least(config_version, min)? {
        Ok(())
    } else {
        Err(CniError::new(
            INCOMPATIBLE_VERSION,
            format!("config version does not allow {command}"),
        ))
    }
}

/// 0.3.x and 0.4.0 results carry `version` in each IP and no interface MTU.
pub fn is_legacy(v: &str) -> bool {
    v.starts_with("0.")
}

/// The VERSION result.
pub fn info(cni_version: &str) -> serde_json::Value {
    serde_json::json!({ "cniVersion": cni_version, "supportedVersions": SUPPORTED })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        assert!(at_least("1.10.0", "1.9.0").unwrap());
        assert!(at_least("0.4.0", "0.4.0").unwrap());
        assert!(!at_least("0.3.1", "0.4.0").unwrap());
        assert!(parse("1.0").is_err());
        assert!(parse("1.0.0.1").is_err());
        assert!(parse("a.b.c").is_err());
    }

    #[test]
    fn only_rich_result_versions_are_served() {
        for v in SUPPORTED {
            assert!(check(v).is_ok());
        }
        for v in ["", "0.1.0", "0.2.0", "1.2.0", "2.0.0"] {
            assert_eq!(check(v).unwrap_err().code, INCOMPATIBLE_VERSION, "{v}");
        }
        assert_eq!(require("0.3.1", "CHECK", "0.4.0").unwrap_err().code, 1);
        assert!(require("1.1.0", "GC", "1.1.0").is_ok());
    }
}

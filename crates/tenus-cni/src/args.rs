//! `CNI_ARGS`: `KEY=VALUE;KEY=VALUE`. The plugins read `MAC` (and host-local reads `IP` from the
//! same variable itself); every other key is ignored, as if `IgnoreUnknown=1` were always given:
//! runtimes pass keys meant for other plugins of a chain (Kubernetes' `K8S_POD_NAME`, ...).

use crate::error::{CniError, Result};

/// The pairs of `CNI_ARGS`, in order. A pair without exactly one '=' is refused (as libcni's
/// `LoadArgs` refuses it).
pub fn parse(args: &str) -> Result<Vec<(String, String)>> {
    if args.is_empty() {
        return Ok(Vec::new());
    }
    args.split(';')
        .map(|pair| {
            let mut kv = pair.split('=');
            match (kv.next(), kv.next(), kv.next()) {
                (Some(k), Some(v), None) => Ok((k.to_string(), v.to_string())),
                _ => Err(CniError::config(format!("ARGS: invalid pair {pair:?}"))),
            }
        })
        .collect()
}

/// The value of `key` (the last one wins, as in libcni).
pub fn get(args: &str, key: &str) -> Result<Option<String>> {
    Ok(parse(args)?
        .into_iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v)
        .next_back())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_tolerated() {
        let a = "IgnoreUnknown=1;K8S_POD_NAME=web;MAC=02:00:00:00:00:01;FOO=bar";
        assert_eq!(get(a, "MAC").unwrap().as_deref(), Some("02:00:00:00:00:01"));
        assert_eq!(get(a, "IP").unwrap(), None);
        assert_eq!(get("", "MAC").unwrap(), None);
        assert_eq!(get("FOO=bar", "MAC").unwrap(), None);
    }

    #[test]
    fn malformed_pairs_are_refused() {
        assert_eq!(get("MAC", "MAC").unwrap_err().code, 7);
        assert_eq!(get("A=b=c", "MAC").unwrap_err().code, 7);
    }
}

//! The configuration on stdin: the keys every plugin reads (`cniVersion`, `name`, `type`,
//! `ipam`, `dns`, `prevResult`, `runtimeConfig`, `args`, the GC attachments) and the document
//! itself, which plugin types read their own keys from and which IPAM plugins get unchanged.
//! Unknown keys are allowed (configurations carry keys for other tools), as in the reference
//! plugins; a key of the wrong type is error 7 naming it.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::env::is_cni_name;
use crate::error::{CniError, Result, DECODING_FAILURE, INVALID_CONFIG};
use crate::types::{CniResult, Dns};

#[derive(Debug, Clone)]
pub struct NetConf {
    /// stdin as given (IPAM plugins get exactly this).
    pub bytes: Vec<u8>,
    pub doc: Value,
    pub cni_version: String,
    pub kind: String,
    pub ipam_type: String,
    pub dns: Dns,
}

/// `{containerID, ifname}` of an attachment still in use (GC).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
pub struct Attachment {
    #[serde(rename = "containerID")]
    pub container_id: String,
    pub ifname: String,
}

/// The spec's key for GC, and the one libcni also sends (it was misspelled in the spec once).
pub const VALID_ATTACHMENTS: &str = "cni.dev/valid-attachments";
pub const ATTACHMENTS: &str = "cni.dev/attachments";

#[derive(Deserialize, Default)]
struct Common {
    #[serde(default, rename = "cniVersion")]
    cni_version: String,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    ipam: Ipam,
    #[serde(default)]
    dns: Option<Dns>,
}

#[derive(Deserialize, Default)]
struct Ipam {
    #[serde(default, rename = "type")]
    kind: String,
}

impl NetConf {
    /// Parses stdin. Not JSON: error 6; no usable network name: error 7.
    pub fn parse(bytes: Vec<u8>) -> Result<NetConf> {
        let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
            CniError::new(
                DECODING_FAILURE,
                format!("error unmarshalling network config: {e}"),
            )
        })?;
        if !doc.is_object() {
            return Err(CniError::new(
                DECODING_FAILURE,
                "the network config is not a JSON object",
            ));
        }
        let common: Common = read(&doc, "network config")?;
        if common.name.is_empty() {
            return Err(CniError::config("missing network name"));
        }
        if !is_cni_name(&common.name) {
            return Err(
                CniError::config("invalid characters found in network name").with_details(common.name)
            );
        }
        Ok(NetConf {
            bytes,
            cni_version: common.cni_version,
            kind: common.kind,
            ipam_type: common.ipam.kind,
            dns: common.dns.unwrap_or_default(),
            doc,
        })
    }

    /// The document read as a plugin type's own configuration.
    pub fn plugin<T: DeserializeOwned>(&self) -> Result<T> {
        read(&self.doc, &self.kind)
    }

    /// `prevResult`, if the runtime gave one.
    pub fn prev_result(&self) -> Result<Option<CniResult>> {
        match self.doc.get("prevResult") {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let mut v = v.clone();
                // A prevResult says its version only sometimes: it is the configuration's.
                if let Some(o) = v.as_object_mut() {
                    o.entry("cniVersion")
                        .or_insert_with(|| Value::String(self.cni_version.clone()));
                }
                CniResult::from_value(&v).map(Some)
            }
        }
    }

    /// `prevResult`, which CHECK needs.
    pub fn required_prev_result(&self) -> Result<CniResult> {
        self.prev_result()?
            .ok_or_else(|| CniError::config("required prevResult missing"))
    }

    /// `runtimeConfig.<key>` as a string (the `mac` capability).
    pub fn runtime_config_str(&self, key: &str) -> Option<String> {
        self.doc
            .get("runtimeConfig")
            .and_then(|r| r.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    /// `args.cni.<key>` as a string (the bridge plugin's `args.cni.mac`).
    pub fn args_cni_str(&self, key: &str) -> Option<String> {
        self.doc
            .get("args")
            .and_then(|a| a.get("cni"))
            .and_then(|c| c.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    /// The attachments a GC must keep: `cni.dev/valid-attachments`, else libcni's misspelled
    /// `cni.dev/attachments` (None: neither was given).
    pub fn valid_attachments(&self) -> Result<Option<Vec<Attachment>>> {
        for key in [VALID_ATTACHMENTS, ATTACHMENTS] {
            if let Some(v) = self.doc.get(key).filter(|v| !v.is_null()) {
                return serde_json::from_value(v.clone())
                    .map(Some)
                    .map_err(|e| CniError::config(format!("{key}: {e}")));
            }
        }
        Ok(None)
    }

    /// stdin for a delegated plugin's GC: both attachment keys carry the valid list, so that a
    /// delegate that reads only one of them (host-local reads only the spec's) keeps what it
    /// must.
    pub fn gc_stdin(&self) -> Result<Vec<u8>> {
        let Some(list) = self.valid_attachments()? else {
            return Ok(self.bytes.clone());
        };
        let mut doc = self.doc.clone();
        let v = serde_json::to_value(&list).map_err(|e| CniError::internal(e.to_string()))?;
        doc[VALID_ATTACHMENTS] = v.clone();
        doc[ATTACHMENTS] = v;
        serde_json::to_vec(&doc).map_err(|e| CniError::internal(e.to_string()))
    }
}

/// Reads `doc` into `T`, naming the key that does not fit.
fn read<T: DeserializeOwned>(doc: &Value, what: &str) -> Result<T> {
    T::deserialize(doc).map_err(|e| {
        CniError::new(INVALID_CONFIG, format!("failed to load {what} config")).with_details(e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conf(v: Value) -> Result<NetConf> {
        NetConf::parse(serde_json::to_vec(&v).unwrap())
    }

    #[test]
    fn bad_documents_get_the_specs_codes() {
        assert_eq!(NetConf::parse(b"{not json".to_vec()).unwrap_err().code, 6);
        assert_eq!(NetConf::parse(b"[1]".to_vec()).unwrap_err().code, 6);
        assert_eq!(conf(json!({"cniVersion": "1.1.0"})).unwrap_err().code, 7);
        assert_eq!(conf(json!({"name": "a b"})).unwrap_err().code, 7);
        assert_eq!(
            conf(json!({"name": "n", "ipam": {"type": 3}})).unwrap_err().code,
            7
        );
    }

    #[test]
    fn common_keys_and_extras() {
        let c = conf(json!({
            "cniVersion": "1.0.0", "name": "net1", "type": "tenus-bridge", "bridge": "br9",
            "ipam": {"type": "host-local"}, "dns": {"nameservers": ["1.1.1.1"]},
            "runtimeConfig": {"mac": "02:00:00:00:00:09"}, "args": {"cni": {"mac": "02:00:00:00:00:08"}}
        }))
        .unwrap();
        assert_eq!(
            (c.kind.as_str(), c.ipam_type.as_str()),
            ("tenus-bridge", "host-local")
        );
        assert_eq!(c.dns.nameservers, vec!["1.1.1.1"]);
        assert_eq!(c.runtime_config_str("mac").as_deref(), Some("02:00:00:00:00:09"));
        assert_eq!(c.args_cni_str("mac").as_deref(), Some("02:00:00:00:00:08"));
        assert!(c.prev_result().unwrap().is_none());
        assert_eq!(c.required_prev_result().unwrap_err().code, 7);
    }

    #[test]
    fn gc_attachments_from_either_key() {
        let a = json!([{"containerID": "c1", "ifname": "eth0"}]);
        for key in [VALID_ATTACHMENTS, ATTACHMENTS] {
            let mut doc = json!({"cniVersion": "1.1.0", "name": "n"});
            doc[key] = a.clone();
            let c = conf(doc).unwrap();
            let list = c.valid_attachments().unwrap().unwrap();
            assert_eq!(list[0].container_id, "c1");
            let fwd: Value = serde_json::from_slice(&c.gc_stdin().unwrap()).unwrap();
            assert_eq!(fwd[VALID_ATTACHMENTS], a);
            assert_eq!(fwd[ATTACHMENTS], a);
        }
        let c = conf(json!({"name": "n"})).unwrap();
        assert!(c.valid_attachments().unwrap().is_none());
        assert_eq!(c.gc_stdin().unwrap(), c.bytes);
    }
}

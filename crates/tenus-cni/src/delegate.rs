//! Running a delegated plugin (IPAM), as SPEC.md section 4 says: found in `CNI_PATH`, run with
//! our environment (CNI_COMMAND set to the command asked of it) and the configuration it
//! should see on stdin; its stderr is ours, its stdout is read as a result or an error result
//! (whose code is passed on unchanged). It runs on a blocking thread, so the plugin's netlink
//! work can go on meanwhile.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};

use serde_json::Value;

use crate::env::{Command, Invocation};
use crate::error::{CniError, Result, DECODING_FAILURE, INTERNAL, INVALID_CONFIG};

/// Finds `kind` in `CNI_PATH`.
pub fn find(kind: &str, inv: &Invocation) -> Result<PathBuf> {
    if kind.is_empty() || kind.contains('/') || kind == "." || kind == ".." {
        return Err(CniError::config(format!("invalid plugin type {kind:?}")));
    }
    inv.path_dirs()
        .map(|dir| PathBuf::from(dir).join(kind))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            CniError::new(INVALID_CONFIG, format!("failed to find plugin {kind:?} in path"))
                .with_details(format!("CNI_PATH={}", inv.path))
        })
}

/// Runs `kind` with `command` and `stdin`, and reads what it printed: the result for ADD,
/// nothing otherwise (None).
pub async fn run(kind: &str, command: Command, stdin: Vec<u8>, inv: &Invocation) -> Result<Option<Value>> {
    let path = find(kind, inv)?;
    let name = kind.to_string();
    let out = tokio::task::spawn_blocking(move || exec(&path, command, &stdin))
        .await
        .map_err(|e| CniError::internal(format!("delegate {name} did not finish: {e}")))??;
    let (ok, stdout) = out;
    if !ok {
        return Err(error_result(kind, &stdout));
    }
    if command != Command::Add {
        return Ok(None);
    }
    serde_json::from_slice(&stdout).map(Some).map_err(|e| {
        CniError::new(DECODING_FAILURE, format!("failed to decode the result of {kind}"))
            .with_details(e.to_string())
    })
}

fn exec(path: &PathBuf, command: Command, stdin: &[u8]) -> Result<(bool, Vec<u8>)> {
    let mut child = Process::new(path)
        .env("CNI_COMMAND", command.name())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            CniError::internal(format!("failed to run {}", path.display())).with_details(e.to_string())
        })?;
    if let Some(mut input) = child.stdin.take() {
        // A plugin that exits without reading all of stdin closes the pipe: not our error.
        let _ = input.write_all(stdin);
    }
    let out = child.wait_with_output().map_err(|e| {
        CniError::internal(format!("failed to wait for {}", path.display())).with_details(e.to_string())
    })?;
    Ok((out.status.success(), out.stdout))
}

/// What a failed delegate said: its error result, passed on, or its output as the details.
fn error_result(kind: &str, stdout: &[u8]) -> CniError {
    #[derive(serde::Deserialize)]
    struct Reported {
        code: u32,
        #[serde(default)]
        msg: String,
        #[serde(default)]
        details: String,
    }
    match serde_json::from_slice::<Reported>(stdout) {
        Ok(r) => CniError {
            code: r.code,
            msg: r.msg,
            details: r.details,
        },
        Err(_) => CniError::new(INTERNAL, format!("delegated plugin {kind} failed"))
            .with_details(String::from_utf8_lossy(stdout).trim().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delegate_errors_keep_their_code() {
        let e = error_result("host-local", br#"{"code": 11, "msg": "busy", "details": "lock"}"#);
        assert_eq!((e.code, e.msg.as_str(), e.details.as_str()), (11, "busy", "lock"));
        let e = error_result("host-local", b"panic: oops");
        assert_eq!(e.code, INTERNAL);
        assert_eq!(e.details, "panic: oops");
    }

    #[test]
    fn types_are_file_names_in_the_path() {
        let inv = Invocation {
            path: "/nonexistent:/bin".into(),
            ..Default::default()
        };
        assert!(find("true", &inv).is_ok());
        assert_eq!(find("../bin/true", &inv).unwrap_err().code, 7);
        assert_eq!(find("no-such-plugin", &inv).unwrap_err().code, 7);
    }
}

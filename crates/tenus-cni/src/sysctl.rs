//! Sysctls the reference plugins set (`net/ipv4/ip_forward`, a link's `accept_ra`,
//! `accept_dad`, `arp_notify`, ...). /proc/sys/net shows the namespace of the thread that
//! opens it: the plugin's own namespace is written from here, the pod's from a short-lived
//! thread the core puts there (`Namespace::run_in`) — never this thread.

use std::io;

use tenus_core::netns::Namespace;

const ROOT: &str = "/proc/sys/";

/// Writes `key` (`net/ipv4/ip_forward`, slashes as separators: link names may hold dots)
/// unless it already has `value`.
pub fn set(key: &str, value: &str) -> io::Result<()> {
    let path = format!("{ROOT}{key}");
    if std::fs::read_to_string(&path).is_ok_and(|v| v.trim() == value) {
        return Ok(());
    }
    std::fs::write(&path, value)
}

/// Writes sysctls in `ns`, in order; each one's outcome.
pub async fn set_in(ns: &Namespace, writes: Vec<(String, String)>) -> Vec<io::Result<()>> {
    let n = writes.len();
    match ns
        .run_in(move || writes.iter().map(|(k, v)| set(k, v)).collect::<Vec<_>>())
        .await
    {
        Ok(results) => results,
        Err(e) => (0..n).map(|_| Err(io::Error::other(e.to_string()))).collect(),
    }
}

/// Writes sysctls in `ns` the way the reference plugins do (errors ignored: a kernel without
/// IPv6 has no `net/ipv6`), reporting failures on stderr.
pub async fn best_effort_in(ns: &Namespace, writes: Vec<(String, String)>) {
    let keys: Vec<String> = writes.iter().map(|(k, _)| k.clone()).collect();
    for (key, result) in keys.iter().zip(set_in(ns, writes).await) {
        if let Err(e) = result {
            eprintln!("tenus-cni: sysctl {key}: {e}");
        }
    }
}

/// `net/ipv4/conf/IF/NAME` and the like.
pub fn link_key(family: &str, link: &str, name: &str) -> String {
    format!("net/{family}/conf/{link}/{name}")
}

//! Which processes are inside a namespace: those whose /proc/PID/ns/net has its inode.

use std::os::unix::fs::MetadataExt;

/// PIDs of processes in the namespace with nsfs inode `inode` (processes we may not inspect
/// are left out).
pub fn processes_in(inode: u64) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::metadata(format!("/proc/{pid}/ns/net"))
                .map(|m| m.ino() == inode)
                .unwrap_or(false)
        })
        .collect();
    pids.sort_unstable();
    pids
}

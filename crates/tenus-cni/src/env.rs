//! The protocol's parameters, from the environment (`CNI_COMMAND`, `CNI_CONTAINERID`,
//! `CNI_NETNS`, `CNI_IFNAME`, `CNI_ARGS`, `CNI_PATH`), checked as libcni's skeleton checks
//! them: which are required for which command, and what a container ID and an interface name
//! may look like. A missing or invalid one is error 4 naming it.

use crate::error::{CniError, Result, INVALID_ENVIRONMENT, UNKNOWN_CONTAINER};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Add,
    Del,
    Check,
    Gc,
    Status,
    Version,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Add => "ADD",
            Command::Del => "DEL",
            Command::Check => "CHECK",
            Command::Gc => "GC",
            Command::Status => "STATUS",
            Command::Version => "VERSION",
        }
    }

    fn parse(s: &str) -> Option<Command> {
        Some(match s {
            "ADD" => Command::Add,
            "DEL" => Command::Del,
            "CHECK" => Command::Check,
            "GC" => Command::Gc,
            "STATUS" => Command::Status,
            "VERSION" => Command::Version,
            _ => return None,
        })
    }
}

/// What the runtime asked for.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    pub container_id: String,
    /// Empty on DEL when the runtime no longer has a namespace.
    pub netns: String,
    pub ifname: String,
    pub args: String,
    pub path: String,
}

impl Invocation {
    /// The directories `CNI_PATH` lists.
    pub fn path_dirs(&self) -> impl Iterator<Item = &str> {
        self.path.split(':').filter(|d| !d.is_empty())
    }
}

/// Reads the parameters; `get` is the environment (a function, for tests).
pub fn read(get: &dyn Fn(&str) -> Option<String>) -> Result<(Command, Invocation)> {
    let value = |name: &str| get(name).unwrap_or_default();
    let raw = value("CNI_COMMAND");
    if raw.is_empty() {
        return Err(missing(&["CNI_COMMAND"]));
    }
    let Some(cmd) = Command::parse(&raw) else {
        return Err(CniError::new(
            INVALID_ENVIRONMENT,
            format!("unknown CNI_COMMAND: {raw}"),
        ));
    };
    use Command::*;
    // (name, required for these commands)
    let table: [(&str, &[Command]); 5] = [
        ("CNI_CONTAINERID", &[Add, Check, Del]),
        ("CNI_NETNS", &[Add, Check]),
        ("CNI_IFNAME", &[Add, Check, Del]),
        ("CNI_ARGS", &[]),
        ("CNI_PATH", &[Add, Check, Del, Gc, Status]),
    ];
    let absent: Vec<&str> = table
        .iter()
        .filter(|(name, needed)| needed.contains(&cmd) && value(name).is_empty())
        .map(|(name, _)| *name)
        .collect();
    if !absent.is_empty() {
        return Err(missing(&absent));
    }
    let inv = Invocation {
        container_id: value("CNI_CONTAINERID"),
        netns: value("CNI_NETNS"),
        ifname: value("CNI_IFNAME"),
        args: value("CNI_ARGS"),
        path: value("CNI_PATH"),
    };
    if matches!(cmd, Add | Check | Del) {
        container_id(&inv.container_id)?;
        interface_name(&inv.ifname, cmd)?;
    }
    Ok((cmd, inv))
}

fn missing(names: &[&str]) -> CniError {
    CniError::new(
        INVALID_ENVIRONMENT,
        format!("required env variables [{}] missing", names.join(",")),
    )
}

/// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, as the spec says of container IDs and network names.
pub fn is_cni_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn container_id(id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(CniError::new(UNKNOWN_CONTAINER, "missing containerID"));
    }
    if !is_cni_name(id) {
        return Err(CniError::new(INVALID_ENVIRONMENT, "invalid characters in containerID").with_details(id));
    }
    Ok(())
}

fn interface_name(name: &str, cmd: Command) -> Result<()> {
    let bad = |msg: &str| {
        CniError::new(INVALID_ENVIRONMENT, msg.to_string()).with_details(format!("CNI_IFNAME={name:?}"))
    };
    if name.len() > 15 {
        return Err(bad("interface name is too long"));
    }
    if name == "." || name == ".." {
        return Err(bad("interface name is . or .."));
    }
    if name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace()) {
        return Err(bad("interface name contains / or : or whitespace characters"));
    }
    // The kernel reads a '%' as a pattern to number ("e%d" makes e0), and a control character
    // would be sent as it is: no link is named so, which DEL takes as "gone" (it must succeed).
    if cmd != Command::Del && name.chars().any(|c| c == '%' || c.is_control()) {
        return Err(bad("interface name contains % or control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(vars: &[(&str, &str)]) -> Result<(Command, Invocation)> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        read(&|k| map.get(k).cloned())
    }

    #[test]
    fn missing_variables_are_named() {
        let e = run(&[]).unwrap_err();
        assert_eq!(e.code, 4);
        assert!(e.msg.contains("CNI_COMMAND"));
        let e = run(&[("CNI_COMMAND", "ADD"), ("CNI_PATH", "/x")]).unwrap_err();
        assert_eq!(e.code, 4);
        assert_eq!(
            e.msg,
            "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing"
        );
        assert_eq!(run(&[("CNI_COMMAND", "NOPE")]).unwrap_err().code, 4);
    }

    #[test]
    fn del_needs_no_namespace_and_version_needs_nothing() {
        let (cmd, inv) = run(&[
            ("CNI_COMMAND", "DEL"),
            ("CNI_CONTAINERID", "c1"),
            ("CNI_IFNAME", "eth0"),
            ("CNI_PATH", "/opt/cni/bin"),
        ])
        .unwrap();
        assert_eq!(cmd, Command::Del);
        assert!(inv.netns.is_empty());
        assert_eq!(run(&[("CNI_COMMAND", "VERSION")]).unwrap().0, Command::Version);
        assert_eq!(run(&[("CNI_COMMAND", "GC")]).unwrap_err().code, 4);
    }

    #[test]
    fn container_ids_and_interface_names_are_checked() {
        let base = |id: &'static str, ifname: &'static str| {
            run(&[
                ("CNI_COMMAND", "DEL"),
                ("CNI_CONTAINERID", id),
                ("CNI_IFNAME", ifname),
                ("CNI_PATH", "/x"),
            ])
        };
        assert!(base("abc-1.2_3", "eth0").is_ok());
        assert_eq!(base("-abc", "eth0").unwrap_err().code, 4);
        assert_eq!(base("a b", "eth0").unwrap_err().code, 4);
        assert_eq!(base("abc", "a234567890123456").unwrap_err().code, 4);
        assert_eq!(base("abc", "a/b").unwrap_err().code, 4);
        assert_eq!(base("abc", "..").unwrap_err().code, 4);
    }

    #[test]
    fn a_pattern_name_is_refused_by_add_and_check_not_del() {
        let with = |cmd: &'static str, ifname: &'static str| {
            run(&[
                ("CNI_COMMAND", cmd),
                ("CNI_CONTAINERID", "abc"),
                ("CNI_NETNS", "/x"),
                ("CNI_IFNAME", ifname),
                ("CNI_PATH", "/x"),
            ])
        };
        for cmd in ["ADD", "CHECK"] {
            for name in ["e%d", "e\u{1}"] {
                let e = with(cmd, name).unwrap_err();
                assert_eq!((e.code, e.msg.contains('%')), (4, true), "{cmd} {name}");
            }
        }
        assert!(with("DEL", "e%d").is_ok());
    }
}

//! tenus-cni: CNI plugins on the tenus core, one executable serving tenus-bridge,
//! tenus-macvlan, tenus-ipvlan, tenus-vlan and tenus-ptp (chosen by the name it is run under,
//! or by the configuration's `type` when run as tenus-cni). CNI spec 1.1.0: ADD, DEL, CHECK,
//! STATUS, GC and VERSION, configurations 0.3.0 to 1.1.0.
//!
//! stdout carries one JSON document (the result, the version info or an error) and nothing
//! else; diagnostics go to stderr.

mod args;
mod conf;
mod configure;
mod delegate;
mod env;
mod error;
mod ipam;
mod net;
mod plugins;
mod sysctl;
mod tx;
mod types;
mod validate;
mod version;

use std::io::{Read, Write};

use conf::NetConf;
use env::Command;
use error::{CniError, Result, IO_FAILURE};
use plugins::Plugin;

/// What the run prints on success (None: nothing).
fn run(argv0: &str, stdin: &mut dyn Read) -> (String, Result<Option<serde_json::Value>>) {
    let mut cni_version = version::CURRENT.to_string();
    let out = (|| {
        let (cmd, inv) = env::read(&|k| std::env::var(k).ok())?;
        let mut bytes = Vec::new();
        stdin
            .read_to_end(&mut bytes)
            .map_err(|e| CniError::new(IO_FAILURE, format!("error reading from stdin: {e}")))?;
        if cmd == Command::Version {
            // The version asked about, when the input names a served one.
            let asked = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("cniVersion").and_then(|s| s.as_str()).map(str::to_string))
                .filter(|v| version::check(v).is_ok());
            return Ok(Some(version::info(asked.as_deref().unwrap_or(version::CURRENT))));
        }
        let conf = NetConf::parse(bytes)?;
        version::check(&conf.cni_version)?;
        cni_version = conf.cni_version.clone();
        match cmd {
            Command::Check => version::require(&conf.cni_version, "CHECK", "0.4.0")?,
            Command::Gc => version::require(&conf.cni_version, "GC", "1.1.0")?,
            Command::Status => version::require(&conf.cni_version, "STATUS", "1.1.0")?,
            _ => {}
        }
        let plugin = Plugin::choose(argv0, &conf.kind)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CniError::internal("cannot start the runtime").with_details(e.to_string()))?;
        let result = runtime.block_on(plugin.run(cmd, &conf, &inv))?;
        Ok(result.map(|r| r.to_value(&conf.cni_version)))
    })();
    (cni_version, out)
}

fn main() {
    let argv0 = std::env::args().next().unwrap_or_default();
    if std::env::var_os("CNI_COMMAND").is_none() {
        eprintln!(
            "tenus-cni {}: CNI plugins {} on the tenus core\nCNI protocol versions supported: {}",
            env!("CARGO_PKG_VERSION"),
            Plugin::ALL.map(Plugin::name).join(", "),
            version::SUPPORTED.join(", ")
        );
    }
    let (cni_version, out) = run(&argv0, &mut std::io::stdin().lock());
    let mut stdout = std::io::stdout().lock();
    let code = match out {
        Ok(Some(doc)) => {
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            let _ = writeln!(stdout, "{text}");
            0
        }
        Ok(None) => 0,
        Err(e) => {
            let _ = writeln!(stdout, "{}", e.to_json(&cni_version));
            1
        }
    };
    let _ = stdout.flush();
    std::process::exit(code);
}

//! IPAM delegation: `ipam.type` run with the whole configuration, for every command that must
//! reach it (ADD, DEL, CHECK, GC, STATUS), and DEL again when a later step of ADD fails.

use crate::conf::NetConf;
use crate::delegate;
use crate::env::{Command, Invocation};
use crate::error::{CniError, Result};
use crate::types::CniResult;

/// The configuration's IPAM plugin (`ipam.type`), if it names one.
pub struct Ipam<'a> {
    conf: &'a NetConf,
    inv: &'a Invocation,
}

impl<'a> Ipam<'a> {
    pub fn of(conf: &'a NetConf, inv: &'a Invocation) -> Option<Ipam<'a>> {
        (!conf.ipam_type.is_empty()).then_some(Ipam { conf, inv })
    }

    /// ADD: the addresses, routes and DNS to apply (at least one address).
    pub async fn add(&self) -> Result<CniResult> {
        let kind = &self.conf.ipam_type;
        let out = delegate::run(kind, Command::Add, self.conf.bytes.clone(), self.inv)
            .await?
            .unwrap_or_default();
        let result = CniResult::from_value(&out)?;
        if result.ips.is_empty() {
            // Reserved or not, release what it may hold before failing.
            let _ = self.del().await;
            return Err(CniError::internal("IPAM plugin returned missing IP config"));
        }
        Ok(result)
    }

    pub async fn del(&self) -> Result<()> {
        self.simple(Command::Del, self.conf.bytes.clone()).await
    }

    pub async fn check(&self) -> Result<()> {
        self.simple(Command::Check, self.conf.bytes.clone()).await
    }

    pub async fn status(&self) -> Result<()> {
        self.simple(Command::Status, self.conf.bytes.clone()).await
    }

    pub async fn gc(&self) -> Result<()> {
        self.simple(Command::Gc, self.conf.gc_stdin()?).await
    }

    async fn simple(&self, command: Command, stdin: Vec<u8>) -> Result<()> {
        delegate::run(&self.conf.ipam_type, command, stdin, self.inv)
            .await
            .map(drop)
    }
}

/// Runs IPAM DEL after a failed ADD (best effort: the ADD's own error is what is reported;
/// IPAM's is written to stderr).
pub async fn release(ipam: Option<&Ipam<'_>>) {
    if let Some(ipam) = ipam {
        if let Err(e) = ipam.del().await {
            eprintln!("tenus-cni: IPAM DEL after a failed ADD: {e}");
        }
    }
}

//! `ip route get ADDR [from ADDR] [iif DEV] [oif DEV] [mark N] [uid N] [tos N] [ipproto P]
//! [sport N] [dport N] [fibmatch]`: the kernel's own lookup, policy rules included, answered
//! with the route it chose.

use std::net::IpAddr;

use serde::Deserialize;

use crate::args::{self, Int};
use crate::error::{Error, Result};
use crate::handle::Handle;
use crate::link::LinkRef;
use crate::nla::{attrs, ip_bytes, u32_of, Writer, PLAIN};
use crate::transport::ack::NLMSG_HDRLEN;

use super::encode::*;
use super::record::{read_route, RouteRecord, RTMSG_LEN};
use super::spec::{Family, TOS};

pub const MARK: Int = Int::new("mark", 0..=u32::MAX as u64);
pub const UID: Int = Int::new("uid", 0..=(u32::MAX - 1) as u64);
pub const PORT: Int = Int::new("port", 0..=65535);
pub const IP_PROTO: Int = Int::new("IP protocol", 0..=255);

/// What the lookup is for, besides the destination.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct RouteGetOptions {
    /// Source address.
    pub from: Option<String>,
    /// As if the packet came in on this link (forwarding).
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub iif: Option<LinkRef>,
    /// As if sent out of this link.
    #[cfg_attr(feature = "napi", napi(ts_type = "LinkLike"))]
    pub oif: Option<LinkRef>,
    /// Firewall mark (fwmark rules).
    pub mark: Option<u32>,
    /// As if sent by this user (uidrange rules).
    pub uid: Option<u32>,
    pub tos: Option<u32>,
    /// 'tcp', 'udp', 'icmp', 'ipv6-icmp' or a protocol number (ipproto rules).
    #[cfg_attr(feature = "napi", napi(ts_type = "number | IpProtocol"))]
    pub ipproto: Option<crate::rule::IpProto>,
    pub sport: Option<u32>,
    pub dport: Option<u32>,
    /// Answer with the table entry that matched (whole multipath route) rather than the
    /// route the kernel made for this destination.
    pub fibmatch: Option<bool>,
}

/// Builds the lookup request (as iproute2 lays it out; with NLM_F_ACK, which ip leaves out:
/// the answer's end is the ACK), with `index` resolving links.
pub fn encode_get(
    dst: IpAddr,
    o: &RouteGetOptions,
    index: &dyn Fn(&str, &LinkRef) -> Result<u32>,
) -> Result<Vec<u8>> {
    let family = Family::of(&dst);
    let from = o
        .from
        .as_deref()
        .map(|t| {
            let ip = args::ip("from", t)?;
            if Family::of(&ip) != family {
                return Err(Error::invalid("from", format!("{ip} is not of {dst}'s family")));
            }
            Ok(ip)
        })
        .transpose()?;
    let tos = o.tos.map(|t| TOS.check("tos", t)).transpose()?.unwrap_or(0) as u8;
    let fibmatch = o.fibmatch.unwrap_or(false);
    // IPv4 answers with the main table unless asked for the one the lookup used (fibmatch
    // too, as `ip route get fibmatch` asks); IPv6 refuses the flag (its answer says the table).
    let fib = if fibmatch { RTM_F_FIB_MATCH } else { 0 };
    let flags = match family {
        Family::Inet => RTM_F_LOOKUP_TABLE | fib,
        Family::Inet6 => fib,
    };
    let max = family.max_prefix();
    let header = rtmsg(
        family.code(),
        max,
        if from.is_some() { max } else { 0 },
        tos,
        0,
        0,
        0,
        0,
        flags,
    );
    let mut w = Writer::new(RTM_GETROUTE, PLAIN, &header);
    let (b, n) = ip_bytes(&dst);
    w.bytes(RTA_DST, &b[..n]);
    if let Some(ip) = &from {
        let (b, n) = ip_bytes(ip);
        w.bytes(RTA_SRC, &b[..n]);
    }
    if let Some(uid) = o.uid {
        w.u32(RTA_UID, UID.check("uid", uid)?);
    }
    if let Some(p) = o.ipproto {
        w.u8(RTA_IP_PROTO, p.number("ipproto")?);
    }
    if let Some(p) = o.sport {
        w.bytes(RTA_SPORT, &(PORT.check("sport", p)? as u16).to_be_bytes());
    }
    if let Some(p) = o.dport {
        w.bytes(RTA_DPORT, &(PORT.check("dport", p)? as u16).to_be_bytes());
    }
    if let Some(l) = &o.iif {
        w.u32(RTA_IIF, index("iif", l)?);
    }
    if let Some(l) = &o.oif {
        w.u32(RTA_OIF, index("oif", l)?);
    }
    if let Some(m) = o.mark {
        w.u32(RTA_MARK, MARK.check("mark", m)?);
    }
    Ok(w.finish())
}

impl Handle {
    /// `ip route get`: the route the kernel chooses for `dst`.
    pub async fn route_get(&self, dst: &str, o: &RouteGetOptions) -> Result<RouteRecord> {
        let dst = args::ip("dst", dst)?;
        let mut indexes = Vec::new();
        for (arg, l) in [("iif", &o.iif), ("oif", &o.oif)] {
            if let Some(l) = l {
                l.validate(arg)?;
                let i = self
                    .link_index(l)
                    .await
                    .map_err(|e| e.context("route.get", Some(&l.describe())))?;
                indexes.push((arg, i));
            }
        }
        let index = |arg: &str, _: &LinkRef| -> Result<u32> {
            Ok(indexes.iter().find(|(a, _)| *a == arg).map_or(0, |(_, i)| *i))
        };
        let request = encode_get(dst, o, &index)?;
        let reply = self.reply("route.get", Some(&dst.to_string()), request).await?;
        let (message, route) = reply
            .messages
            .iter()
            .find_map(|m| Some((m, read_route(m)?)))
            .ok_or_else(|| Error::Protocol {
                op: "route.get".into(),
                detail: "no route in the answer".into(),
            })?;
        let names = self.link_names().await?;
        let name = |i: u32| names.get(&i).cloned();
        let mut record = route.record(&name);
        lookup_fields(message, &mut record, &name);
        Ok(record)
    }
}

/// What only a lookup's answer carries: the input link, mark and uid it was made for, and
/// whether it is a cache entry (as `ip route get` shows them).
fn lookup_fields(message: &[u8], record: &mut RouteRecord, name: &dyn Fn(u32) -> Option<String>) {
    let Some(body) = message.get(NLMSG_HDRLEN..) else {
        return;
    };
    if body.len() < RTMSG_LEN {
        return;
    }
    if body
        .get(8..12)
        .and_then(u32_of)
        .is_some_and(|f| f & RTM_F_CLONED != 0)
    {
        record.cached = Some(true);
    }
    for (kind, v) in attrs(&body[RTMSG_LEN..]) {
        match kind {
            RTA_IIF => record.iif = u32_of(v).map(|i| name(i).unwrap_or_else(|| format!("#{i}"))),
            RTA_MARK => record.mark = u32_of(v),
            RTA_UID => record.uid = u32_of(v),
            _ => {}
        }
    }
}

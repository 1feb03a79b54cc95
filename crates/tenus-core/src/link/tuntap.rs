//! TUN/TAP: the kernel refuses to create these over netlink, so they are made as
//! `ip tuntap add NAME mode tun|tap [user U] [group G] [multi_queue]` makes them: the
//! TUNSETIFF, TUNSETOWNER/TUNSETGROUP and TUNSETPERSIST ioctls on /dev/net/tun, run on a native
//! thread inside the target namespace. The device is persistent: it outlives the descriptor.
//! Its record's details (`TunInfo`) are read from what the kernel reports (kind "tun").

use std::fs::OpenOptions;
use std::io;
use std::os::fd::AsRawFd;

use netlink_packet_core::Nla;
use netlink_packet_route::link::InfoData;
use serde::{Deserialize, Serialize};

use crate::args;
use crate::error::{Error, Result};
use crate::handle::Handle;

use super::{LinkRecord, LinkRef};

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNSETPERSIST: libc::c_ulong = 0x4004_54cb;
const TUNSETOWNER: libc::c_ulong = 0x4004_54cc;
const TUNSETGROUP: libc::c_ulong = 0x4004_54ce;
const IFF_TUN: libc::c_short = 0x0001;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_MULTI_QUEUE: libc::c_short = 0x0100;
const IFF_NO_PI: libc::c_short = 0x1000;
const IFF_VNET_HDR: libc::c_short = 0x4000;

crate::js_enum!(TunTapMode { Tun = "tun", Tap = "tap" });

/// `ip tuntap add NAME mode tun|tap [user U] [group G] [multi_queue] [pi] [vnet_hdr]` options.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct TunTapOptions {
    pub name: String,
    /// 'tun' (IP packets) or 'tap' (Ethernet frames).
    pub mode: TunTapMode,
    /// Owning user id.
    pub owner: Option<u32>,
    /// Owning group id.
    pub group: Option<u32>,
    pub multi_queue: Option<bool>,
    /// Packets carry the 4-byte packet information header (`pi`; default off, IFF_NO_PI).
    pub pi: Option<bool>,
    /// Packets carry a virtio-net header (`vnet_hdr`, IFF_VNET_HDR; default off).
    pub vnet_hdr: Option<bool>,
    /// The MTU set right after the device is made (checked here, before it exists: 68..=65535
    /// for tun, 68..=65521 for tap).
    pub mtu: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct TunTapSpec {
    pub name: String,
    /// true for tap (Ethernet frames), false for tun (IP packets).
    pub tap: bool,
    pub owner: Option<u32>,
    pub group: Option<u32>,
    pub multi_queue: bool,
    pub pi: bool,
    pub vnet_hdr: bool,
}

impl TunTapSpec {
    /// Reads and checks `TunTapOptions` given as JSON.
    pub fn from_json(json: &str) -> Result<Self> {
        let value = serde_json::from_str(json).map_err(|e| Error::invalid("options", e.to_string()))?;
        let o: TunTapOptions = args::options("options", value)?;
        args::ifname("name", &o.name)?;
        if let Some(m) = o.mtu {
            // The kernel's max_mtu: 65535 less the link-layer header (tun_net_init).
            let max = if o.mode == TunTapMode::Tap {
                65535 - 14
            } else {
                65535
            };
            args::mtu_in("mtu", m, args::MTU_MIN..=max)?;
        }
        // (uid_t)-1 and (gid_t)-1 mean "none" to the kernel, which refuses them as an owner.
        for (arg, id) in [("owner", o.owner), ("group", o.group)] {
            if id == Some(u32::MAX) {
                return Err(Error::invalid(
                    arg,
                    "4294967295 is (uid_t)-1, no id: leave the option out for none",
                ));
            }
        }
        Ok(TunTapSpec {
            name: o.name,
            tap: o.mode == TunTapMode::Tap,
            owner: o.owner,
            group: o.group,
            multi_queue: o.multi_queue.unwrap_or(false),
            pi: o.pi.unwrap_or(false),
            vnet_hdr: o.vnet_hdr.unwrap_or(false),
        })
    }
}

/// What a tun/tap device reports (`ip -d link`: `tun type tap pi off vnet_hdr on persist on`).
/// Its kind is "tun" for both modes: `mode` says which it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    feature = "napi",
    napi_derive::napi(object, object_to_js = false, object_from_js = false)
)]
pub struct TunInfo {
    /// 'tun' (IP packets) or 'tap' (Ethernet frames).
    pub mode: TunTapMode,
    /// Owning user id, when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<u32>,
    /// Owning group id, when one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<u32>,
    /// Packets carry the 4-byte packet information header (made without IFF_NO_PI).
    pub pi: bool,
    /// Packets carry a virtio-net header.
    pub vnet_hdr: bool,
    /// The device outlives the descriptors attached to it (tenus makes them persistent).
    pub persist: bool,
    pub multi_queue: bool,
    /// Queues attached now (descriptors open on the device), and how many of them are disabled.
    pub queues: u32,
    pub disabled_queues: u32,
}

// IFLA_TUN_* (linux/if_link.h).
const IFLA_TUN_OWNER: u16 = 1;
const IFLA_TUN_GROUP: u16 = 2;
const IFLA_TUN_TYPE: u16 = 3;
const IFLA_TUN_PI: u16 = 4;
const IFLA_TUN_VNET_HDR: u16 = 5;
const IFLA_TUN_PERSIST: u16 = 6;
const IFLA_TUN_MULTI_QUEUE: u16 = 7;
const IFLA_TUN_NUM_QUEUES: u16 = 8;
const IFLA_TUN_NUM_DISABLED_QUEUES: u16 = 9;

impl TunInfo {
    /// Decodes a tun device's IFLA_INFO_DATA (None without a type, which every kernel that
    /// reports these attributes sends).
    pub fn decode(data: Option<&InfoData>) -> Option<TunInfo> {
        let Some(InfoData::Tun(nlas)) = data else {
            return None;
        };
        let mut mode = None;
        let mut info = TunInfo {
            mode: TunTapMode::Tun,
            owner: None,
            group: None,
            pi: false,
            vnet_hdr: false,
            persist: false,
            multi_queue: false,
            queues: 0,
            disabled_queues: 0,
        };
        for nla in nlas {
            let mut value = vec![0; nla.value_len()];
            nla.emit_value(&mut value);
            let byte = value.first().copied().unwrap_or(0) != 0;
            let word = <[u8; 4]>::try_from(value.as_slice()).map(u32::from_ne_bytes).ok();
            match nla.kind() {
                IFLA_TUN_OWNER => info.owner = word,
                IFLA_TUN_GROUP => info.group = word,
                IFLA_TUN_TYPE => {
                    mode = match value.first().map(|&t| libc::c_short::from(t)) {
                        Some(IFF_TUN) => Some(TunTapMode::Tun),
                        Some(IFF_TAP) => Some(TunTapMode::Tap),
                        _ => None,
                    }
                }
                IFLA_TUN_PI => info.pi = byte,
                IFLA_TUN_VNET_HDR => info.vnet_hdr = byte,
                IFLA_TUN_PERSIST => info.persist = byte,
                IFLA_TUN_MULTI_QUEUE => info.multi_queue = byte,
                IFLA_TUN_NUM_QUEUES => info.queues = word.unwrap_or(0),
                IFLA_TUN_NUM_DISABLED_QUEUES => info.disabled_queues = word.unwrap_or(0),
                _ => {}
            }
        }
        info.mode = mode?;
        Some(info)
    }
}

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// An ioctl on the device `name` made: its refusal is a kernel error naming the link.
fn ioctl(fd: i32, request: libc::c_ulong, arg: libc::c_ulong, what: &str, name: &str) -> Result<()> {
    if unsafe { libc::ioctl(fd, request as _, arg) } < 0 {
        let errno = io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
        return Err(Error::Kernel {
            errno,
            op: "tuntap.add".into(),
            link: Some(name.to_string()),
            extack: Some(format!("{what} refused")),
            extack_offset: None,
        });
    }
    Ok(())
}

/// Runs inside the target namespace.
fn create(spec: &TunTapSpec) -> Result<()> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .map_err(|e| Error::os("tuntap.add", "open /dev/net/tun", &e))?;
    let fd = file.as_raw_fd();
    let mut req = IfReq {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        _pad: [0; 22],
    };
    req.name[..spec.name.len()].copy_from_slice(spec.name.as_bytes());
    req.flags = if spec.tap { IFF_TAP } else { IFF_TUN };
    if !spec.pi {
        req.flags |= IFF_NO_PI;
    }
    if spec.vnet_hdr {
        req.flags |= IFF_VNET_HDR;
    }
    if spec.multi_queue {
        req.flags |= IFF_MULTI_QUEUE;
    }
    if unsafe { libc::ioctl(fd, TUNSETIFF as _, &mut req as *mut IfReq) } < 0 {
        let e = io::Error::last_os_error();
        let mut err = Error::os("tuntap.add", "TUNSETIFF", &e);
        if let Error::Os {
            errno: libc::EBUSY, ..
        } = err
        {
            err = Error::Os {
                errno: libc::EEXIST,
                op: "tuntap.add".into(),
                detail: format!("a link named {:?} already exists", spec.name),
            };
        }
        return Err(err);
    }
    if let Some(uid) = spec.owner {
        ioctl(fd, TUNSETOWNER, uid as libc::c_ulong, "TUNSETOWNER", &spec.name)?;
    }
    if let Some(gid) = spec.group {
        ioctl(fd, TUNSETGROUP, gid as libc::c_ulong, "TUNSETGROUP", &spec.name)?;
    }
    ioctl(fd, TUNSETPERSIST, 1, "TUNSETPERSIST", &spec.name)
}

impl Handle {
    /// Creates a persistent tun or tap device in this handle's namespace.
    pub async fn tuntap_add(&self, spec: &TunTapSpec) -> Result<LinkRecord> {
        args::ifname("name", &spec.name)?;
        // TUNSETIFF on an existing persistent device attaches to it instead of failing.
        if self.link_get(&LinkRef::Name(spec.name.clone())).await.is_ok() {
            return Err(Error::kernel_errno(libc::EEXIST, "tuntap.add", &spec.name));
        }
        let job = spec.clone();
        self.namespace().run_in(move || create(&job)).await??;
        self.link_get(&LinkRef::Name(spec.name.clone())).await
    }
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::DefaultNla;
    use netlink_packet_route::link::{InfoData, InfoTun};

    use super::*;

    fn data(attrs: &[(u16, Vec<u8>)]) -> InfoData {
        InfoData::Tun(
            attrs
                .iter()
                .map(|(kind, value)| InfoTun::Other(DefaultNla::new(*kind, value.clone())))
                .collect(),
        )
    }

    #[test]
    fn a_tap_reports_its_mode_owner_flags_and_queues() {
        let tap = data(&[
            (IFLA_TUN_OWNER, 1000u32.to_ne_bytes().to_vec()),
            (IFLA_TUN_TYPE, vec![IFF_TAP as u8]),
            (IFLA_TUN_PI, vec![0]),
            (IFLA_TUN_VNET_HDR, vec![1]),
            (IFLA_TUN_PERSIST, vec![1]),
            (IFLA_TUN_MULTI_QUEUE, vec![1]),
            (IFLA_TUN_NUM_QUEUES, 2u32.to_ne_bytes().to_vec()),
            (IFLA_TUN_NUM_DISABLED_QUEUES, 1u32.to_ne_bytes().to_vec()),
        ]);
        assert_eq!(
            TunInfo::decode(Some(&tap)),
            Some(TunInfo {
                mode: TunTapMode::Tap,
                owner: Some(1000),
                group: None,
                pi: false,
                vnet_hdr: true,
                persist: true,
                multi_queue: true,
                queues: 2,
                disabled_queues: 1,
            })
        );
        let json = serde_json::to_value(TunInfo::decode(Some(&tap)).unwrap()).unwrap();
        assert_eq!(json["mode"], "tap");
        assert_eq!(json["vnetHdr"], true);
        assert!(json.get("group").is_none());
    }

    #[test]
    fn without_a_type_or_data_there_is_nothing_to_report() {
        assert_eq!(TunInfo::decode(None), None);
        assert_eq!(TunInfo::decode(Some(&data(&[(IFLA_TUN_PI, vec![1])]))), None);
        assert_eq!(TunInfo::decode(Some(&data(&[(IFLA_TUN_TYPE, vec![7])]))), None);
        let tun = TunInfo::decode(Some(&data(&[(IFLA_TUN_TYPE, vec![IFF_TUN as u8])]))).unwrap();
        assert_eq!(tun.mode, TunTapMode::Tun);
    }
}

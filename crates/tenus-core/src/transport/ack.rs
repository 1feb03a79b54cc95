//! Reading the 16-byte netlink header and NLMSG_ERROR payloads, extended ACK included.
//! `netlink-packet-core` keeps only the errno of an error message; the kernel's text
//! (`NLMSGERR_ATTR_MSG`) and the offset of the bad attribute (`NLMSGERR_ATTR_OFFS`) are parsed here.

pub const NLMSG_HDRLEN: usize = 16;
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP_INTR: u16 = 0x10;
pub const NLM_F_CAPPED: u16 = 0x100;
pub const NLM_F_ACK_TLVS: u16 = 0x200;

const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSGERR_ATTR_OFFS: u16 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub len: usize,
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
}

pub fn header(buf: &[u8]) -> Option<Header> {
    if buf.len() < NLMSG_HDRLEN {
        return None;
    }
    let len = u32::from_ne_bytes(buf[0..4].try_into().ok()?) as usize;
    if len < NLMSG_HDRLEN || len > buf.len() {
        return None;
    }
    Some(Header {
        len,
        kind: u16::from_ne_bytes(buf[4..6].try_into().ok()?),
        flags: u16::from_ne_bytes(buf[6..8].try_into().ok()?),
        seq: u32::from_ne_bytes(buf[8..12].try_into().ok()?),
    })
}

pub fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The outcome carried by an NLMSG_ERROR (or NLMSG_DONE) message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ack {
    /// Positive errno, or 0 for success.
    pub errno: i32,
    pub message: Option<String>,
    pub offset: Option<u32>,
}

/// Parses the payload of NLMSG_ERROR. `msg` is the whole netlink message.
pub fn parse_error(msg: &[u8], hdr: &Header) -> Ack {
    let payload = &msg[NLMSG_HDRLEN..hdr.len];
    if payload.len() < 4 {
        return Ack {
            errno: libc::EPROTO,
            ..Ack::default()
        };
    }
    let code = i32::from_ne_bytes(payload[0..4].try_into().unwrap());
    let mut ack = Ack {
        errno: errno_of(code),
        ..Ack::default()
    };
    if hdr.flags & NLM_F_ACK_TLVS == 0 {
        return ack;
    }
    // After the code comes the original request: only its header when capped.
    let original_len = if hdr.flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        match header(&payload[4..]) {
            Some(h) => h.len,
            None => return ack,
        }
    };
    let tlv_start = 4 + align4(original_len);
    if tlv_start <= payload.len() {
        parse_tlvs(&payload[tlv_start..], &mut ack);
    }
    ack
}

/// Parses the payload of the NLMSG_DONE that ends a dump: an int error, then TLVs.
pub fn parse_done(msg: &[u8], hdr: &Header) -> Ack {
    let payload = &msg[NLMSG_HDRLEN..hdr.len];
    if payload.len() < 4 {
        return Ack::default();
    }
    let code = i32::from_ne_bytes(payload[0..4].try_into().unwrap());
    let mut ack = Ack {
        errno: errno_of(code),
        ..Ack::default()
    };
    if hdr.flags & NLM_F_ACK_TLVS != 0 {
        parse_tlvs(&payload[4..], &mut ack);
    }
    ack
}

/// The positive errno an error code carries. A kernel sends 0 or -errno; anything else (a
/// corrupted or hostile message, `i32::MIN` included) is EPROTO rather than an overflow.
fn errno_of(code: i32) -> i32 {
    match code {
        0 => 0,
        c if c < 0 && c > -4096 => -c,
        _ => libc::EPROTO,
    }
}

fn parse_tlvs(mut buf: &[u8], ack: &mut Ack) {
    while buf.len() >= 4 {
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let kind = u16::from_ne_bytes([buf[2], buf[3]]) & 0x3fff;
        if len < 4 || len > buf.len() {
            return;
        }
        let value = &buf[4..len];
        match kind {
            NLMSGERR_ATTR_MSG => {
                let text = value.split(|b| *b == 0).next().unwrap_or_default();
                let text = String::from_utf8_lossy(text).trim().to_string();
                if !text.is_empty() {
                    ack.message = Some(text);
                }
            }
            NLMSGERR_ATTR_OFFS if value.len() >= 4 => {
                ack.offset = Some(u32::from_ne_bytes(value[0..4].try_into().unwrap()));
            }
            _ => {}
        }
        buf = &buf[align4(len).min(buf.len())..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nlmsg(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = NLMSG_HDRLEN + payload.len();
        let mut v = Vec::new();
        v.extend_from_slice(&(len as u32).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn capped_error_with_extack() {
        // What the kernel sends for `ip link add x type nosuchkind` on a socket with
        // NETLINK_CAP_ACK and NETLINK_EXT_ACK set.
        let original = nlmsg(16, 0x605, 7, &[]);
        let mut payload = (-95i32).to_ne_bytes().to_vec();
        payload.extend_from_slice(&original[..NLMSG_HDRLEN]);
        payload.extend(tlv(1, b"Unknown device type\0"));
        payload.extend(tlv(2, &36u32.to_ne_bytes()));
        let msg = nlmsg(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 7, &payload);
        let hdr = header(&msg).unwrap();
        assert_eq!(hdr.seq, 7);
        let ack = parse_error(&msg, &hdr);
        assert_eq!(ack.errno, 95);
        assert_eq!(ack.message.as_deref(), Some("Unknown device type"));
        assert_eq!(ack.offset, Some(36));
    }

    #[test]
    fn uncapped_error_skips_the_whole_original_message() {
        let original = nlmsg(16, 0x605, 9, &[1, 2, 3, 4, 5, 6, 7, 8]);
        let mut payload = (-17i32).to_ne_bytes().to_vec();
        payload.extend_from_slice(&original);
        payload.extend(tlv(1, b"exists\0"));
        let msg = nlmsg(NLMSG_ERROR, NLM_F_ACK_TLVS, 9, &payload);
        let ack = parse_error(&msg, &header(&msg).unwrap());
        assert_eq!(ack.errno, 17);
        assert_eq!(ack.message.as_deref(), Some("exists"));
    }

    #[test]
    fn plain_ack_and_truncated_input() {
        let mut payload = 0i32.to_ne_bytes().to_vec();
        payload.extend_from_slice(&[0; 16]);
        let msg = nlmsg(NLMSG_ERROR, NLM_F_CAPPED, 3, &payload);
        assert_eq!(parse_error(&msg, &header(&msg).unwrap()), Ack::default());
        assert!(header(&msg[..10]).is_none());
        let mut short = msg.clone();
        short[0] = 200; // claims more bytes than there are
        assert!(header(&short).is_none());
    }

    #[test]
    fn done_with_error() {
        let msg = nlmsg(NLMSG_DONE, NLM_F_MULTI, 4, &(-16i32).to_ne_bytes());
        assert_eq!(parse_done(&msg, &header(&msg).unwrap()).errno, 16);
    }
}

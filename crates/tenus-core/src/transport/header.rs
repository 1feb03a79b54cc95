//! Reading and editing fields of a serialized netlink header (`struct nlmsghdr`: len u32,
//! type u16, flags u16, seq u32, pid u32, native byte order), by name rather than offset.

const FLAGS: std::ops::Range<usize> = 6..8;
const SEQ: std::ops::Range<usize> = 8..12;
const PID: std::ops::Range<usize> = 12..16;

pub fn flags(msg: &[u8]) -> u16 {
    u16::from_ne_bytes([msg[FLAGS.start], msg[FLAGS.start + 1]])
}

pub fn set_flags(msg: &mut [u8], flags: u16) {
    msg[FLAGS].copy_from_slice(&flags.to_ne_bytes());
}

pub fn add_flags(msg: &mut [u8], bits: u16) {
    set_flags(msg, flags(msg) | bits);
}

pub fn clear_flags(msg: &mut [u8], bits: u16) {
    set_flags(msg, flags(msg) & !bits);
}

pub fn seq(msg: &[u8]) -> u32 {
    u32::from_ne_bytes([
        msg[SEQ.start],
        msg[SEQ.start + 1],
        msg[SEQ.start + 2],
        msg[SEQ.start + 3],
    ])
}

/// The sender's port (0: the kernel's own; a dump's replies carry the requester's).
pub fn pid(msg: &[u8]) -> u32 {
    msg.get(PID)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
}

pub fn set_seq(msg: &mut [u8], seq: u32) {
    msg[SEQ].copy_from_slice(&seq.to_ne_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let mut m = vec![0u8; 16];
        set_seq(&mut m, 0xdead_beef);
        set_flags(&mut m, 0x0105);
        add_flags(&mut m, 0x0200);
        clear_flags(&mut m, 0x0004);
        assert_eq!(seq(&m), 0xdead_beef);
        assert_eq!(flags(&m), 0x0301);
        assert_eq!(&m[..6], &[0; 6], "length and type untouched");
    }
}

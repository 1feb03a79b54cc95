//! A link's index from its name by `SIOCGIFINDEX` on the connection's socket: one syscall in
//! the socket's namespace, where a RTM_GETLINK is a request, a ~1 KiB answer to read and an
//! ACK. Chains and batches naming an existing link by name look it up before sending anything
//! (`ns.link('eth1').address(cidr)`): 2–3 µs this way, ~11 µs by RTM_GETLINK.
//!
//! A netlink socket takes the device ioctls (the socket layer hands any command its protocol
//! does not know to `dev_ioctl`, in the socket's namespace), which find a link by its name or
//! an alternative name as RTM_GETLINK's IFLA_IFNAME does.

use std::io;
use std::os::fd::AsRawFd;

/// The index of the link named `name` in `socket`'s namespace, `ENODEV` when there is none;
/// None for a name that does not fit `struct ifreq` (longer than 15 bytes) or holds a NUL,
/// which the caller looks up by RTM_GETLINK.
pub(super) fn index_of(socket: &impl AsRawFd, name: &str) -> Option<io::Result<u32>> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return None;
    }
    // SAFETY: ifreq is plain data, valid all zero.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (to, from) in req.ifr_name.iter_mut().zip(bytes) {
        *to = *from as libc::c_char;
    }
    // SAFETY: SIOCGIFINDEX reads ifr_name and writes ifr_ifindex of the ifreq given.
    let rc = unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFINDEX, &mut req) };
    if rc < 0 {
        return Some(Err(io::Error::last_os_error()));
    }
    // SAFETY: the kernel wrote the index member.
    Some(Ok(unsafe { req.ifr_ifru.ifru_ifindex } as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::open_route_socket;

    #[test]
    fn finds_loopback_and_refuses_what_is_not_there() {
        let socket = open_route_socket().expect("a route socket");
        let lo = index_of(&socket, "lo").expect("fits").expect("lo is there");
        assert!(lo > 0);
        let gone = index_of(&socket, "tenus-none0")
            .expect("fits")
            .expect_err("no such link");
        assert_eq!(gone.raw_os_error(), Some(libc::ENODEV));
        assert!(index_of(&socket, "sixteen-bytes-xx").is_none());
        assert!(index_of(&socket, "").is_none());
        assert!(index_of(&socket, "a\0b").is_none());
    }
}

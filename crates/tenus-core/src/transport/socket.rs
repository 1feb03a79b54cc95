//! Creating the NETLINK_ROUTE socket with the options the driver relies on, and sending one
//! message on it.

use std::io;
use std::os::fd::AsRawFd;

use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// Large enough that a full window of ACKs (and a dump's skbs) never overflows it.
const RECV_BUFFER_BYTES: libc::c_int = 4 << 20;

/// Opens a route socket in the calling thread's network namespace.
pub fn open_route_socket() -> io::Result<Socket> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind(&SocketAddr::new(0, 0))?;
    // ACKs carry only the header of our request, plus the kernel's explanation on error.
    socket.set_cap_ack(true)?;
    socket.set_ext_ack(true)?;
    // Dump filters (e.g. addresses of one link) are applied by the kernel, not by us.
    socket.set_netlink_get_strict_chk(true)?;
    set_receive_buffer(&socket);
    socket.set_non_blocking(true)?;
    Ok(socket)
}

fn set_receive_buffer(socket: &Socket) {
    let size = RECV_BUFFER_BYTES;
    let set = |opt| unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            &size as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    // SO_RCVBUFFORCE passes rmem_max for CAP_NET_ADMIN; otherwise take what SO_RCVBUF gives.
    if set(libc::SO_RCVBUFFORCE) != 0 {
        set(libc::SO_RCVBUF);
    }
}

/// One message, one `sendmsg` (a netlink datagram goes whole or not at all).
pub(super) fn send_one(socket: &Socket, message: &[u8]) -> io::Result<()> {
    let n = unsafe { libc::send(socket.as_raw_fd(), message.as_ptr().cast(), message.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

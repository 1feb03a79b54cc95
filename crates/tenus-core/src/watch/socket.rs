//! The subscription socket: a NETLINK_ROUTE socket of its own per watcher (the request socket's
//! replies and a burst of events must not share a receive buffer), joined to the objects'
//! multicast groups, with the receive buffer asked for. It also carries the watcher's dumps,
//! so that dump replies and events arrive in the order the kernel made them.

use std::io;
use std::os::fd::AsRawFd;

use netlink_sys::{protocols::NETLINK_ROUTE, Socket};

/// What `open` made.
pub struct Subscribed {
    pub socket: Socket,
    /// The port the kernel gave the socket: dump replies carry it, events another.
    pub port: u32,
    /// The receive buffer the kernel granted, in bytes (it doubles what is asked, for its
    /// bookkeeping, and caps SO_RCVBUF at net.core.rmem_max).
    pub receive_buffer: u64,
}

/// Opens a subscription socket in the calling thread's network namespace.
pub fn open(groups: &[u32], receive_buffer: u64) -> io::Result<Subscribed> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    let port = socket.bind_auto()?.port_number();
    for group in groups {
        socket.add_membership(*group)?;
    }
    let asked = libc::c_int::try_from(receive_buffer).unwrap_or(libc::c_int::MAX);
    // SO_RCVBUFFORCE passes rmem_max with CAP_NET_ADMIN; otherwise take what SO_RCVBUF gives.
    if setsockopt(&socket, libc::SO_RCVBUFFORCE, asked).is_err() {
        setsockopt(&socket, libc::SO_RCVBUF, asked)?;
    }
    let granted = getsockopt(&socket, libc::SO_RCVBUF)?;
    socket.set_non_blocking(true)?;
    Ok(Subscribed {
        socket,
        port,
        receive_buffer: u64::try_from(granted).unwrap_or(0),
    })
}

fn setsockopt(socket: &Socket, option: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: a c_int option value, its size given.
    let r = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn getsockopt(socket: &Socket, option: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a c_int-sized buffer, its size given.
    let r = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if r == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// What one receive gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// A datagram of this many bytes is at the start of the buffer.
    Datagram(usize),
    /// The datagram did not fit the buffer (its rest is lost).
    Truncated,
    /// Nothing is queued.
    Empty,
    /// The kernel dropped messages for this socket (ENOBUFS).
    Overrun,
}

/// Receives one datagram without blocking.
pub fn receive(socket: &Socket, buf: &mut [u8]) -> io::Result<Received> {
    loop {
        // MSG_TRUNC: netlink then returns the datagram's full length, so a short buffer shows.
        // SAFETY: the buffer is writable for its length.
        let n = unsafe {
            libc::recv(
                socket.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            )
        };
        if n >= 0 {
            let n = n as usize;
            return Ok(if n > buf.len() {
                Received::Truncated
            } else {
                Received::Datagram(n)
            });
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) => return Ok(Received::Empty),
            Some(libc::ENOBUFS) => return Ok(Received::Overrun),
            _ => return Err(e),
        }
    }
}

/// Bytes the kernel still charges to the socket's receive buffer (SO_MEMINFO). A datagram
/// already read stays charged until its sender lets go of it (a multicast sender holds it
/// until it has offered it to every listener), so this can be above 0 with nothing queued.
pub fn receive_memory(socket: &Socket) -> io::Result<u32> {
    // SK_MEMINFO_RMEM_ALLOC is the first of the counters.
    let mut info = [0u32; 16];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: a buffer of `len` bytes, its size given.
    let r = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if r == 0 {
        Ok(info[0])
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sends one request (a dump) to the kernel.
pub fn send(socket: &Socket, message: &[u8]) -> io::Result<()> {
    loop {
        // SAFETY: the message is readable for its length.
        let n = unsafe { libc::send(socket.as_raw_fd(), message.as_ptr().cast(), message.len(), 0) };
        if n >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

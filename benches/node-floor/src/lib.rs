//! The floor of an awaited call from Node.js: a Node addon that does the least any library
//! must per call — read the call's arguments, build the request (the C floor's bytes, from
//! `tenus-bench-floor`), send it, wait for its ACK on the calling thread, and hand JavaScript a
//! promise already settled — and nothing else: no validation, no records, no rollback.
//! `benches/tools/node-floor.ts` awaits it once per operation, as the awaited workloads do, so
//! that RESULTS.md shows how much of an awaited call's ratio to the C floor is Node's own.

use std::cell::RefCell;
use std::net::Ipv4Addr;
use std::ptr::null_mut;

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{check_status, sys, Env, Error, JsError, Result};
use napi_derive::napi;
use tenus_bench_floor::messages::{addr_add, fdb, macvlan, neigh, veth};
use tenus_bench_floor::socket::Nl;

thread_local! {
    /// The socket, opened by `open` in the namespace the process runs in.
    static SOCKET: RefCell<Option<Nl>> = const { RefCell::new(None) };
}

/// Opens the NETLINK_ROUTE socket (the C floor's options).
#[napi]
pub fn open() -> Result<()> {
    let nl = Nl::try_open().map_err(|e| Error::from_reason(e.to_string()))?;
    SOCKET.with(|s| *s.borrow_mut() = Some(nl));
    Ok(())
}

/// The index of the link `name` (made by the harness before the run; exits when it is not there).
#[napi]
pub fn index_of(name: String) -> Result<u32> {
    SOCKET.with(|s| match s.borrow_mut().as_mut() {
        Some(nl) => Ok(nl.index_of(&name)),
        None => Err(Error::from_reason("open() first")),
    })
}

/// `ip link add A type veth peer name B`, awaited.
#[napi]
pub fn veth_add<'env>(env: &'env Env, a: String, b: String) -> Result<PromiseRaw<'env, ()>> {
    settled(env, veth(&a, &b))
}

/// `ip link add NAME link PARENT type macvlan mode bridge`, awaited.
#[napi]
pub fn macvlan_add<'env>(env: &'env Env, name: String, parent: u32) -> Result<PromiseRaw<'env, ()>> {
    settled(env, macvlan(&name, parent))
}

/// `ip addr add A.B.C.D/32 dev INDEX`, awaited: the address as text, as a user gives it.
#[napi]
pub fn address_add<'env>(env: &'env Env, index: u32, cidr: String) -> Result<PromiseRaw<'env, ()>> {
    let address = cidr
        .strip_suffix("/32")
        .ok_or_else(|| Error::from_reason(format!("not an IPv4 /32: {cidr}")))?;
    settled(env, addr_add(index, ipv4(address)?))
}

/// `ip neigh add IP lladdr MAC dev INDEX nud permanent`, awaited.
#[napi]
pub fn neighbour_add<'env>(
    env: &'env Env,
    index: u32,
    ip: String,
    mac: String,
) -> Result<PromiseRaw<'env, ()>> {
    settled(env, neigh(index, ipv4(&ip)?, mac_of(&mac)?))
}

/// `bridge fdb add MAC dev INDEX dst DST self`, awaited.
#[napi]
pub fn fdb_add<'env>(env: &'env Env, index: u32, mac: String, dst: String) -> Result<PromiseRaw<'env, ()>> {
    settled(env, fdb(index, mac_of(&mac)?, ipv4(&dst)?))
}

fn ipv4(text: &str) -> Result<[u8; 4]> {
    let ip: Ipv4Addr = text
        .parse()
        .map_err(|_| Error::from_reason(format!("not an IPv4 address: {text}")))?;
    Ok(ip.octets())
}

/// `02:00:00:00:00:01`: six hexadecimal octets.
fn mac_of(text: &str) -> Result<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut octets = text.split(':');
    for byte in &mut mac {
        *byte = octets
            .next()
            .and_then(|o| u8::from_str_radix(o, 16).ok())
            .ok_or_else(|| Error::from_reason(format!("not a MAC address: {text}")))?;
    }
    match octets.next() {
        None => Ok(mac),
        Some(_) => Err(Error::from_reason(format!("not a MAC address: {text}"))),
    }
}

/// Sends `request`, waits for its ACK and returns a promise settled with the outcome.
fn settled<'env>(env: &'env Env, request: Vec<u8>) -> Result<PromiseRaw<'env, ()>> {
    let outcome = SOCKET.with(|s| match s.borrow_mut().as_mut() {
        Some(nl) => nl.request(request).map_err(|e| Error::from_reason(e.to_string())),
        None => Err(Error::from_reason("open() first")),
    });
    let raw = env.raw();
    let mut deferred = null_mut();
    let mut promise = null_mut();
    // SAFETY: plain N-API calls on the JS thread this callback runs on, with values it made.
    unsafe {
        check_status!(sys::napi_create_promise(raw, &mut deferred, &mut promise))?;
        match outcome {
            Ok(()) => check_status!(sys::napi_resolve_deferred(
                raw,
                deferred,
                <()>::to_napi_value(raw, ())?
            ))?,
            Err(e) => check_status!(sys::napi_reject_deferred(
                raw,
                deferred,
                JsError::from(e).into_value(raw)
            ))?,
        }
    }
    Ok(PromiseRaw::new(raw, promise))
}

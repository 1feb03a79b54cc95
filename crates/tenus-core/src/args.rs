//! The argument table: every kind of argument a caller can pass, with its type and its range,
//! and the one checker that applies it. Requests are built from values checked here, so bad
//! input never reaches the kernel and the error names the argument at fault.
//!
//! Options arrive from JavaScript as JSON objects; `options()` reads them into typed structs
//! (serde) and turns serde's complaints into errors that name the option. JavaScript-only
//! mistakes (NaN, fractions, BigInt, `undefined` where a value is due) are caught by the
//! TypeScript layer before anything is serialised (`src/args.ts`).

use std::net::IpAddr;
use std::ops::RangeInclusive;

use serde::de::DeserializeOwned;

use crate::error::{Error, Problem, Result};

/// IFNAMSIZ is 16 including the terminating NUL.
pub const IFNAME_MAX_BYTES: usize = 15;
/// The smallest MTU an IPv4 link takes (ETH_MIN_MTU / IPV4_MIN_MTU).
pub const MTU_MIN: u32 = 68;
/// ETH_MAX_MTU: the largest MTU of every Ethernet-like kind (bridge, veth, macvlan, ...).
pub const MTU_MAX: u32 = 65535;
/// IFALIASZ - 1.
pub const ALIAS_MAX_BYTES: usize = 255;

/// An integer argument: what it is called in messages, and the values it takes.
#[derive(Debug, Clone, Copy)]
pub struct Int {
    pub what: &'static str,
    pub min: u64,
    pub max: u64,
}

impl Int {
    pub const fn new(what: &'static str, range: RangeInclusive<u64>) -> Self {
        Int {
            what,
            min: *range.start(),
            max: *range.end(),
        }
    }

    /// Checks `value` for the argument `arg`.
    pub fn check<T: Copy + Into<u64> + TryFrom<u64>>(&self, arg: &str, value: T) -> Result<T> {
        let v: u64 = value.into();
        if v < self.min || v > self.max {
            return Err(Error::invalid(
                arg,
                format!("{} {v} is out of range {}..={}", self.what, self.min, self.max),
            ));
        }
        Ok(value)
    }
}

/// The integer arguments, with their ranges.
pub const MTU: Int = Int::new("MTU", MTU_MIN as u64..=MTU_MAX as u64);
/// The MTU of a change to an existing link: whatever the kernel's `int` holds. Each device has
/// its own bounds (lo and ifb have no upper one: lo's is 65536), which only the kernel knows;
/// it refuses one outside them with an extended ACK naming the limit.
pub const MTU_CHANGE: Int = Int::new("MTU", 0..=i32::MAX as u64);
pub const TXQLEN: Int = Int::new("transmit queue length", 0..=u32::MAX as u64);
pub const GROUP: Int = Int::new("link group", 0..=u32::MAX as u64);
pub const VLAN_ID: Int = Int::new("VLAN id", 1..=4094);
pub const VNI: Int = Int::new("VNI", 0..=(1 << 24) - 1);
pub const UDP_PORT: Int = Int::new("UDP port", 1..=65535);
/// A VXLAN device's port: 0 asks for the kernel's default (8472), as `ip ... dstport 0` does.
pub const VXLAN_PORT: Int = Int::new("UDP port", 0..=65535);
pub const TTL: Int = Int::new("TTL", 0..=255);
pub const TABLE: Int = Int::new("routing table", 1..=u32::MAX as u64);
pub const INDEX: Int = Int::new("interface index", 1..=i32::MAX as u64);
pub const TIMEOUT_MS: Int = Int::new("timeout (ms)", 1..=u32::MAX as u64);
pub const WINDOW: Int = Int::new("window", 1..=4096);
pub const MIIMON: Int = Int::new("MII monitoring interval (ms)", 0..=i32::MAX as u64);
pub const ID: Int = Int::new("id", 0..=u32::MAX as u64);
// Neighbours, the bridge FDB, bridge VLANs and addresses (issue 13, part B).
/// A VLAN id or the first of a range (`bridge vlan add vid 10-20`): 0 and 4095 are reserved.
pub const BRIDGE_VID: Int = Int::new("VLAN id", 1..=4094);
/// An address lifetime in seconds; 0xffffffff is "forever" (INFINITY_LIFE_TIME).
pub const LIFETIME: Int = Int::new("lifetime (s)", 1..=u32::MAX as u64);
/// The metric of an address's prefix route (IFA_RT_PRIORITY).
pub const METRIC: Int = Int::new("metric", 0..=u32::MAX as u64);
/// A watcher's socket receive buffer (the kernel's floor is about 2 KiB).
pub const RECEIVE_BUFFER: Int = Int::new("receive buffer (bytes)", 1024..=(1 << 30));
/// Events a watcher holds for its consumer.
pub const QUEUE: Int = Int::new("queue (events)", 1..=(1 << 24));

/// A value a kind cannot do without, or an error naming it.
pub fn required<T>(value: Option<T>, arg: &str, kind: &str) -> Result<T> {
    value.ok_or_else(|| Error::invalid_type(arg, format!("a {kind} link needs {arg}")))
}

/// A text argument: no NUL (C strings end there, so the kernel would see less than was
/// asked) and at most `max` bytes.
pub fn text(arg: &str, value: &str, max: usize) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::invalid(arg, format!("{value:?} contains a NUL byte")));
    }
    if value.len() > max {
        return Err(Error::invalid(
            arg,
            format!("is {} bytes long; the limit is {max}", value.len()),
        ));
    }
    Ok(())
}

/// A link's alias (`ip link set DEV alias TEXT`); empty clears it.
pub fn alias(arg: &str, value: &str) -> Result<()> {
    text(arg, value, ALIAS_MAX_BYTES)
}

/// Reads a JSON object of options into `T`, naming the option serde could not read.
pub fn options<T: DeserializeOwned>(arg: &str, value: serde_json::Value) -> Result<T> {
    // Read plainly first, as `options_raw` does: the path is only needed to name what is wrong.
    if let Ok(options) = T::deserialize(&value) {
        return Ok(options);
    }
    serde_path_to_error::deserialize(&value).map_err(|e| named(arg, e, Some(&value)))
}

/// `options` on an item's JSON text as it stands in a batch document (no `Value` tree in
/// between: batches of 100,000 routes read each item's options once, straight into `T`).
pub fn options_raw<T: DeserializeOwned>(arg: &str, raw: &serde_json::value::RawValue) -> Result<T> {
    // Read plainly first: tracking the path costs every option of every item, and is only
    // needed to name what is wrong (the text is read again for that).
    if let Ok(options) = serde_json::from_str(raw.get()) {
        return Ok(options);
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // Errors are rare: the text is read as a value only then, for what `named` looks at.
        let value = serde_json::from_str::<serde_json::Value>(raw.get()).ok();
        named(arg, e, value.as_ref())
    })
}

/// The argument error for serde's complaint at `e.path()` in `value`.
fn named<E: std::fmt::Display>(
    arg: &str,
    e: serde_path_to_error::Error<E>,
    value: Option<&serde_json::Value>,
) -> Error {
    let path = e.path().clone();
    let message = e.into_inner().to_string();
    // serde_json appends the position to errors read from text ("... at line 1 column 9").
    let message = match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    };
    let named = message.starts_with("unknown field") || message.starts_with("missing field");
    let field = match (path.to_string().as_str(), named) {
        ("." | "", true) => unknown_field(&message).unwrap_or(arg).to_string(),
        ("." | "", false) => arg.to_string(),
        // An element of an array argument, named by its place as Node.js does: `links[0]`.
        (p, _) if p.starts_with('[') => format!("{arg}{p}"),
        (p, _) => p.to_string(),
    };
    // A mode (a string union) given an object: serde reads enums from maps too and says
    // "unknown variant", which would make it a bad value instead of a wrong type.
    let structured = value
        .and_then(|v| value_at(v, &path))
        .is_some_and(|v| v.is_object() || v.is_array());
    if structured && message.starts_with("unknown variant") {
        return Error::invalid_type(&field, message);
    }
    from_serde(&field, &message)
}

/// The JSON value at `path` in `root`, if it is there.
fn value_at<'v>(
    root: &'v serde_json::Value,
    path: &serde_path_to_error::Path,
) -> Option<&'v serde_json::Value> {
    use serde_path_to_error::Segment;
    path.iter().try_fold(root, |v, segment| match segment {
        Segment::Seq { index } => v.get(index),
        Segment::Map { key } => v.get(key),
        Segment::Enum { .. } | Segment::Unknown => Some(v),
    })
}

/// `options_raw` for options an item may leave out (then `T`'s defaults).
pub fn options_raw_or_default<T: DeserializeOwned + Default>(
    arg: &str,
    raw: Option<&serde_json::value::RawValue>,
) -> Result<T> {
    raw.map_or_else(|| Ok(T::default()), |raw| options_raw(arg, raw))
}

/// The option serde complained about when it is not in the path (unknown and missing fields).
fn unknown_field(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// What JSON cannot carry: src/args.ts sends ±Infinity as ±Number.MAX_VALUE and NaN as
/// 1.25e308 (never sensible arguments), so that a number where a string is due is still a
/// wrong type while a non-finite integer is a bad value; messages show them by their
/// JavaScript names. Matched by magnitude: serde_json may parse them one unit off.
fn non_finite_name(value: f64) -> Option<&'static str> {
    match value {
        v if v >= 1.5e308 => Some("Infinity"),
        v if v <= -1.5e308 => Some("-Infinity"),
        v if v.abs() >= 1e308 => Some("NaN"),
        _ => None,
    }
}

/// `message` with a stand-in of `non_finite_name` shown as what it stands for.
fn show_non_finite(message: String) -> String {
    const FLOAT: &str = "floating point `";
    let Some(start) = message.find(FLOAT).map(|i| i + FLOAT.len()) else {
        return message;
    };
    let Some(len) = message[start..].find('`') else {
        return message;
    };
    match message[start..start + len]
        .parse::<f64>()
        .ok()
        .and_then(non_finite_name)
    {
        Some(name) => format!("{}{name}{}", &message[..start], &message[start + len..]),
        None => message,
    }
}

/// Whether serde's "expected ..." part names an integer.
fn expects_integer(message: &str) -> bool {
    let expected = message.rsplit("expected ").next().unwrap_or_default();
    [
        "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "integer", "index",
    ]
    .iter()
    .any(|t| expected.contains(t))
}

/// Turns a serde message into an argument error of the kind Node.js would raise: a number
/// where an integer is due is a bad value (a fraction, NaN); any other mismatch is a wrong type.
pub fn from_serde(arg: &str, message: &str) -> Error {
    let float = message.starts_with("invalid type: floating point");
    let problem = if (float && expects_integer(message))
        || message.starts_with("invalid value") && !message.ends_with("expected map with a single key")
        || message.starts_with("unknown field")
        || message.starts_with("unknown variant")
    {
        Problem::Value
    } else {
        // invalid type (a string where a number is due, null, ...), missing field
        Problem::Type
    };
    let message = show_non_finite(
        message
            .replace("u32", "a 32-bit unsigned integer")
            .replace("u16", "a 16-bit unsigned integer")
            .replace("u8", "an 8-bit unsigned integer"),
    );
    let message = match suggestion(&message) {
        Some(name) => format!("{message}; did you mean `{name}`?"),
        None => message,
    };
    Error::InvalidArgument {
        arg: arg.to_string(),
        message,
        problem,
    }
}

/// An unknown option of a kind's bag (`e`, as `from_serde` made it), told with every option the
/// call takes: `more` (the options every kind shares, read apart) and the kind's own, those the
/// caller knows by another name renamed (`rename`: wire name, name in the API), with a
/// suggestion among them all. Any other error is returned as it is.
pub fn unknown_among(e: Error, more: &[&str], rename: &[(&str, &str)]) -> Error {
    let Error::InvalidArgument {
        arg,
        message,
        problem,
    } = e
    else {
        return e;
    };
    let head = message.split("; did you mean").next().unwrap_or_default();
    let mut names = head.split('`').skip(1).step_by(2);
    let given = match names.next() {
        Some(given) if head.starts_with("unknown field") => given,
        _ => {
            return Error::InvalidArgument {
                arg,
                message,
                problem,
            }
        }
    };
    let own = names.map(|n| {
        rename
            .iter()
            .find(|(wire, _)| *wire == n)
            .map_or(n, |(_, api)| *api)
    });
    let expected: Vec<String> = more
        .iter()
        .copied()
        .chain(own)
        .map(|n| format!("`{n}`"))
        .collect();
    let message = format!("unknown field `{given}`, expected one of {}", expected.join(", "));
    let message = match suggestion(&message) {
        Some(name) => format!("{message}; did you mean `{name}`?"),
        None => message,
    };
    Error::InvalidArgument {
        arg,
        message,
        problem,
    }
}

/// Names other tools give what tenus calls otherwise (`ip`'s own words, pyroute2's, Go netlink's).
const SYNONYMS: &[(&str, &str)] = &[
    ("txqueuelen", "txqlen"),
    ("qlen", "txqlen"),
    ("gateway", "via"),
    ("gw", "via"),
    ("priority", "metric"),
    ("preference", "metric"),
    ("device", "dev"),
    ("interface", "dev"),
    ("iface", "dev"),
    ("device", "link"),
    ("interface", "link"),
    ("iface", "link"),
    ("lladdr", "mac"),
    ("hwaddr", "mac"),
    ("address", "mac"),
    ("oif", "dev"),
    ("proto", "protocol"),
    ("prefsrc", "src"),
    ("prio", "priority"),
    ("prio", "metric"),
    ("pref", "priority"),
    ("lookup", "table"),
    ("src", "from"),
    ("nud", "state"),
    ("valid_lft", "validLifetime"),
    ("preferred_lft", "preferredLifetime"),
    ("stp_state", "stp"),
    ("id", "vni"),
    ("dstport", "port"),
    ("dev", "link"),
    ("dev", "parent"),
    ("link", "parent"),
];

/// For "unknown field `x`, expected one of `a`, `b`" (or a variant): the name meant, when a
/// synonym or a typo (two edits at most) points at one of those expected.
fn suggestion(message: &str) -> Option<&str> {
    if !message.starts_with("unknown field") && !message.starts_with("unknown variant") {
        return None;
    }
    let mut names = message.split('`').skip(1).step_by(2);
    let given = names.next()?;
    let expected: Vec<&str> = names.collect();
    let synonym = SYNONYMS
        .iter()
        .find(|(other, ours)| *other == given && expected.contains(ours))
        .map(|(_, ours)| *ours);
    synonym.or_else(|| {
        let lower = given.to_ascii_lowercase();
        expected
            .iter()
            .map(|name| (edits(&lower, &name.to_ascii_lowercase()), *name))
            .filter(|(d, name)| *d <= 2 && *d * 2 <= name.len().max(given.len()))
            .min_by_key(|(d, _)| *d)
            .map(|(_, name)| name)
    })
}

/// Levenshtein distance (names are a few ASCII letters).
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// An interface name as the kernel's `dev_valid_name()` accepts it; '%' is refused too because
/// the kernel would expand it as a template ("eth%d") and the link would not have the name asked.
pub fn ifname(arg: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(arg, "interface name must not be empty"));
    }
    if name.len() > IFNAME_MAX_BYTES {
        return Err(Error::invalid(
            arg,
            format!(
                "interface name {name:?} is {} bytes long; the limit is {IFNAME_MAX_BYTES} (IFNAMSIZ - 1)",
                name.len()
            ),
        ));
    }
    if name == "." || name == ".." {
        return Err(Error::invalid(
            arg,
            format!("interface name {name:?} is reserved"),
        ));
    }
    // /proc/sys/net/ipv{4,6}/conf/{all,default} are the settings of every link: the kernel
    // refuses a link so named (EINVAL, without a word of why).
    if name == "all" || name == "default" {
        return Err(Error::invalid(
            arg,
            format!("interface name {name:?} is reserved (net.ipv4.conf.{name} is every link's settings)"),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| matches!(c, '/' | ':' | '%') || c.is_whitespace() || c.is_control())
    {
        return Err(Error::invalid(
            arg,
            format!("interface name {name:?} contains {bad:?}; '/', ':', '%', whitespace and control characters are not allowed"),
        ));
    }
    Ok(())
}

/// An MTU within the bounds of the kind of link it is for (`MTU` for Ethernet-like kinds).
pub fn mtu(arg: &str, value: u32) -> Result<u32> {
    MTU.check(arg, value)
}

/// An MTU within `range` (a kind's or a link's own `min_mtu..=max_mtu`).
pub fn mtu_in(arg: &str, value: u32, range: RangeInclusive<u32>) -> Result<u32> {
    if !range.contains(&value) {
        return Err(Error::invalid(
            arg,
            format!(
                "MTU {value} is out of range {}..={} for this link",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(value)
}

/// A unicast Ethernet address written as six hex octets separated by ':' or '-'.
pub fn mac(arg: &str, text: &str) -> Result<[u8; 6]> {
    let out = lladdr(arg, text)?;
    if out[0] & 1 == 1 {
        return Err(Error::invalid(
            arg,
            format!("{text} is a multicast address; a link address must be unicast"),
        ));
    }
    if out == [0; 6] {
        return Err(Error::invalid(
            arg,
            "the all-zero MAC address is not a valid link address",
        ));
    }
    Ok(out)
}

/// A link-layer address as neighbours and FDB entries carry it: six hex octets separated by ':'
/// or '-'. Unlike a link's own address (`mac`), multicast and all-zero addresses are valid here
/// (VXLAN's default destination is 00:00:00:00:00:00; a neighbour may map to a multicast MAC).
pub fn lladdr(arg: &str, text: &str) -> Result<[u8; 6]> {
    let bad = || {
        Error::invalid(
            arg,
            format!("{text:?} is not a MAC address (expected six hex octets like 02:42:ac:11:00:02)"),
        )
    };
    let mut out = [0u8; 6];
    let mut parts = text.split([':', '-']);
    for slot in out.iter_mut() {
        let part = parts.next().ok_or_else(bad)?;
        // Two digits: from_str_radix alone would also take a sign ("+f").
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        *slot = u8::from_str_radix(part, 16).map_err(|_| bad())?;
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(out)
}

/// A link-layer address as `ip` shows it: tunnels over IPv4/IPv6 (gre, ipip, ip6gre, ...) have
/// an IP address there; everything else is hex octets.
pub fn format_lladdr(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).unwrap_or_default()).to_string(),
        16 => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).unwrap_or_default()).to_string(),
        _ => format_mac(bytes),
    }
}

/// `aa:bb:cc:...`, written into one string (listings format thousands of these).
pub fn format_mac(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 3);
    write_mac(&mut out, bytes);
    // Hex digits and colons only.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `aa:bb:cc:...` to `out` (`link/json.rs` writes it straight into a listing).
pub fn write_mac(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
}

pub fn ip(arg: &str, text: &str) -> Result<IpAddr> {
    if text.contains('\0') {
        return Err(Error::invalid(arg, format!("{text:?} contains a NUL byte")));
    }
    text.parse::<IpAddr>()
        .map_err(|_| Error::invalid(arg, format!("{text:?} is not an IPv4 or IPv6 address")))
}

/// `ADDRESS/PREFIX`; without a prefix the address is a host address (/32 or /128), as with `ip`.
pub fn cidr(arg: &str, text: &str) -> Result<(IpAddr, u8)> {
    let (addr_text, prefix_text) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let addr = addr_text.parse::<IpAddr>().map_err(|_| {
        Error::invalid(
            arg,
            format!(
                "{text:?} is not an address with an optional prefix length (like 10.0.0.1/24, \
                 fd00::1/64, or 10.0.0.1 for a /32)"
            ),
        )
    })?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix_text {
        None => max,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max && !p.starts_with('+') => n,
            _ => {
                return Err(Error::invalid(
                    arg,
                    format!("prefix length {p:?} in {text:?} must be a number 0..={max}"),
                ))
            }
        },
    };
    Ok((addr, prefix))
}

pub fn vlan_id(arg: &str, id: u32) -> Result<u16> {
    Ok(VLAN_ID.check(arg, id)? as u16)
}

pub fn vni(arg: &str, vni: u32) -> Result<u32> {
    VNI.check(arg, vni)
}

pub fn port(arg: &str, port: u32) -> Result<u16> {
    Ok(UDP_PORT.check(arg, port)? as u16)
}

pub fn ttl(arg: &str, ttl: u32) -> Result<u8> {
    Ok(TTL.check(arg, ttl)? as u8)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unknown_option_names_the_one_meant() {
        let msg = |m: &str| from_serde("options", m).to_string();
        let routes = "unknown field `gateway`, expected one of `dst`, `via`, `dev`, `metric`";
        assert!(msg(routes).ends_with("; did you mean `via`?"), "{}", msg(routes));
        let typo = "unknown field `metirc`, expected one of `dst`, `via`, `dev`, `metric`";
        assert!(msg(typo).ends_with("; did you mean `metric`?"), "{}", msg(typo));
        let mode = "unknown variant `brigde`, expected one of `private`, `vepa`, `bridge`";
        assert!(msg(mode).ends_with("; did you mean `bridge`?"), "{}", msg(mode));
        // Nothing close: no guess.
        let far = "unknown field `colour`, expected one of `dst`, `via`, `dev`";
        assert!(!msg(far).contains("did you mean"), "{}", msg(far));
        // A synonym whose word is not an option here: no guess either.
        let rule = "unknown field `gateway`, expected one of `priority`, `table`";
        assert!(!msg(rule).contains("did you mean"), "{}", msg(rule));
        // Short names: at most half the name changed.
        assert_eq!(
            suggestion("unknown field `to`, expected one of `tos`, `from`"),
            Some("tos")
        );
        assert_eq!(suggestion("unknown field `ab`, expected one of `dev`"), None);
        assert_eq!(edits("kitten", "sitting"), 3);
    }

    #[test]
    fn a_kinds_unknown_option_is_told_among_every_option_of_the_call() {
        let among = |m: &str| {
            unknown_among(
                from_serde("options", m),
                &["mtu", "txqlen"],
                &[("peerNetns", "peerIn")],
            )
            .to_string()
        };
        let bridge = among("unknown field `mtuu`, expected one of `stp`, `forwardDelay`");
        assert!(
            bridge.contains("expected one of `mtu`, `txqlen`, `stp`, `forwardDelay`"),
            "{bridge}"
        );
        assert!(bridge.ends_with("; did you mean `mtu`?"), "{bridge}");
        let veth = among("unknown field `txqueuelen`, expected one of `peer`, `peerMac`, `peerNetns`");
        assert!(veth.contains("`peerIn`") && !veth.contains("peerNetns"), "{veth}");
        assert!(veth.ends_with("; did you mean `txqlen`?"), "{veth}");
        // serde's shorter forms: two names, one name.
        let macvlan = among("unknown field `parnet`, expected `parent` or `mode`");
        assert!(macvlan.ends_with("; did you mean `parent`?"), "{macvlan}");
        // Any other error stays as it was.
        let other = from_serde("options", "invalid type: string \"x\", expected u32");
        assert_eq!(
            unknown_among(other, &["mtu"], &[]).to_string(),
            from_serde("options", "invalid type: string \"x\", expected u32").to_string()
        );
    }

    use super::*;

    fn arg_of(e: Error) -> String {
        match e {
            Error::InvalidArgument { arg, .. } => arg,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Probe {
        mtu: Option<u32>,
        mac: Option<String>,
        up: Option<bool>,
        mode: Option<ProbeMode>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum ProbeMode {
        Bridge,
    }

    fn problem_of(json: &str) -> (String, Problem, String) {
        match options::<Probe>("options", serde_json::from_str(json).unwrap()).unwrap_err() {
            Error::InvalidArgument {
                arg,
                problem,
                message,
            } => (arg, problem, message),
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn numbers_are_bad_values_of_integers_and_wrong_types_of_anything_else() {
        assert_eq!(problem_of(r#"{"mtu": 1.5}"#).1, Problem::Value);
        assert_eq!(problem_of(r#"{"mtu": "9000"}"#).1, Problem::Type);
        for field in ["mac", "up", "mode"] {
            let (arg, problem, _) = problem_of(&format!(r#"{{"{field}": 1.5}}"#));
            assert_eq!((arg.as_str(), problem), (field, Problem::Type));
        }
        let (_, problem, message) = problem_of(r#"{"mtu": 1.7976931348623157e308}"#);
        assert_eq!(problem, Problem::Value);
        assert!(message.contains("`Infinity`"), "{message}");
        let (_, problem, message) = problem_of(r#"{"mac": -1.7976931348623157e308}"#);
        assert_eq!(problem, Problem::Type);
        assert!(message.contains("`-Infinity`"), "{message}");
        let (_, _, message) = problem_of(r#"{"mtu": 1.25e308}"#);
        assert!(message.contains("`NaN`"), "{message}");
    }

    #[test]
    fn an_object_for_a_mode_is_a_wrong_type() {
        assert_eq!(problem_of(r#"{"mode": {}}"#).1, Problem::Type);
        assert_eq!(problem_of(r#"{"mode": {"bridge": 1}}"#).1, Problem::Type);
        assert_eq!(problem_of(r#"{"mode": {"vepa": null}}"#).1, Problem::Type);
        assert_eq!(problem_of(r#"{"mode": "vepa"}"#).1, Problem::Value);
        assert_eq!(problem_of(r#"{"mode": ["bridge"]}"#).1, Problem::Type);
    }

    #[test]
    fn names_follow_the_kernels_rules() {
        assert!(ifname("name", "br0").is_ok());
        assert!(ifname("name", "a23456789012345").is_ok());
        assert_eq!(arg_of(ifname("name", "a234567890123456").unwrap_err()), "name");
        for bad in ["", ".", "..", "a/b", "a:b", "a b", "a\tb", "eth%d", "a\u{7}"] {
            assert!(ifname("name", bad).is_err(), "{bad:?} should be refused");
        }
        // 15 bytes is the limit in bytes, not characters.
        assert!(ifname("name", "ééééééééx").is_err());
    }

    #[test]
    fn mtu_bounds() {
        assert!(mtu("mtu", 67).is_err());
        assert_eq!(mtu("mtu", 68).unwrap(), 68);
        assert_eq!(mtu("mtu", 9000).unwrap(), 9000);
        assert!(mtu("mtu", 65536).is_err());
        assert_eq!(mtu("mtu", 65535).unwrap(), 65535);
    }

    #[test]
    fn macs() {
        assert_eq!(
            mac("mac", "02:42:AC:11:00:02").unwrap(),
            [2, 0x42, 0xac, 0x11, 0, 2]
        );
        assert_eq!(
            mac("mac", "02-42-ac-11-00-02").unwrap(),
            [2, 0x42, 0xac, 0x11, 0, 2]
        );
        for bad in [
            "",
            "02:42:ac:11:00",
            "02:42:ac:11:00:02:03",
            "0g:42:ac:11:00:02",
            "2:42:ac:11:00:02",
            "+2:42:ac:11:00:02",
            "02:42:ac:11:00:+2",
        ] {
            assert!(mac("mac", bad).is_err(), "{bad:?}");
        }
        assert!(mac("mac", "01:00:5e:00:00:01").is_err(), "multicast");
        assert!(mac("mac", "00:00:00:00:00:00").is_err(), "zero");
        assert_eq!(format_mac(&[2, 0x42, 0xac, 0x11, 0, 2]), "02:42:ac:11:00:02");
    }

    #[test]
    fn cidrs() {
        assert_eq!(
            cidr("a", "10.0.0.1/24").unwrap(),
            ("10.0.0.1".parse().unwrap(), 24)
        );
        assert_eq!(cidr("a", "10.0.0.1").unwrap().1, 32);
        assert_eq!(cidr("a", "fd00::1/64").unwrap(), ("fd00::1".parse().unwrap(), 64));
        assert_eq!(cidr("a", "fd00::1").unwrap().1, 128);
        for bad in [
            "10.0.0.1/33",
            "fd00::1/129",
            "10.0.0/24",
            "10.0.0.1/",
            "10.0.0.1/x",
            "x",
            "10.0.0.1/+8",
        ] {
            assert!(cidr("a", bad).is_err(), "{bad:?}");
        }
        // The prefix may be left out: the message says so, not that one is required.
        let e = cidr("address", "10.0.0").unwrap_err().to_string();
        assert!(
            e.contains("optional prefix length") && e.contains("for a /32"),
            "{e}"
        );
    }

    #[test]
    fn vlan_ids_and_vnis() {
        assert!(vlan_id("id", 0).is_err());
        assert_eq!(vlan_id("id", 1).unwrap(), 1);
        assert_eq!(vlan_id("id", 4094).unwrap(), 4094);
        assert!(vlan_id("id", 4095).is_err());
        assert!(vni("vni", 1 << 24).is_err());
        assert_eq!(vni("vni", (1 << 24) - 1).unwrap(), (1 << 24) - 1);
        assert!(port("port", 0).is_err());
        assert!(port("port", 65536).is_err());
    }
}

//! The one error type of the core. Every failure says which operation it belongs to and,
//! where there is one, which link; kernel failures keep the errno and the extended-ACK text.

use std::fmt;

/// What went wrong, with enough context for a caller to switch on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An argument was rejected before anything was sent to the kernel.
    InvalidArgument {
        arg: String,
        message: String,
        problem: Problem,
    },
    /// The kernel answered a request with a negative errno.
    Kernel {
        errno: i32,
        op: String,
        link: Option<String>,
        /// `NLMSGERR_ATTR_MSG`: the kernel's own explanation, when it sends one.
        extack: Option<String>,
        /// `NLMSGERR_ATTR_OFFS`: byte offset of the offending attribute in our request.
        extack_offset: Option<u32>,
    },
    /// No reply arrived before the deadline.
    Timeout {
        op: String,
        link: Option<String>,
        millis: u64,
        /// The kernel's answer came after the deadline after all and said the request was done:
        /// it took effect, so a rollback undoes it as it would a request that succeeded.
        applied: bool,
    },
    /// A dump kept being interrupted by concurrent changes (`NLM_F_DUMP_INTR`).
    DumpInterrupted { op: String, attempts: u32 },
    /// A system call outside netlink failed (namespace files, sockets, threads).
    Os { errno: i32, op: String, detail: String },
    /// The kernel sent something we could not decode.
    Protocol { op: String, detail: String },
    /// The connection's worker is gone (handle closed).
    Closed { op: String },
    /// tenus refuses to do this, for a reason its `code` names (not an argument's fault).
    Refused {
        code: &'static str,
        op: String,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What is wrong with a refused argument, as Node.js names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Not of the type asked for (`ERR_INVALID_ARG_TYPE`): a string where a number is due, ...
    Type,
    /// Of the right type, but not a value the argument takes (`ERR_INVALID_ARG_VALUE`).
    Value,
}

impl Problem {
    /// The Node.js error code.
    pub fn code(self) -> &'static str {
        match self {
            Problem::Type => "ERR_INVALID_ARG_TYPE",
            Problem::Value => "ERR_INVALID_ARG_VALUE",
        }
    }
}

impl Error {
    /// A value the argument does not take.
    pub fn invalid(arg: &str, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            arg: arg.to_string(),
            message: message.into(),
            problem: Problem::Value,
        }
    }

    /// A value of the wrong type.
    pub fn invalid_type(arg: &str, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            arg: arg.to_string(),
            message: message.into(),
            problem: Problem::Type,
        }
    }

    /// The message without the operation and argument in front.
    pub fn message(&self) -> String {
        match self {
            Error::InvalidArgument { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// The refused argument's name, for invalid-argument errors.
    pub fn arg(&self) -> Option<&str> {
        match self {
            Error::InvalidArgument { arg, .. } => Some(arg),
            _ => None,
        }
    }

    /// An errno with no extended ACK, for answers we can give without asking the kernel again
    /// (a link a listing did not contain, a name already taken).
    pub fn kernel_errno(errno: i32, op: &str, link: &str) -> Self {
        Error::Kernel {
            errno,
            op: op.to_string(),
            link: Some(link.to_string()),
            extack: None,
            extack_offset: None,
        }
    }

    pub fn os(op: &str, detail: impl Into<String>, err: &std::io::Error) -> Self {
        Error::Os {
            errno: err.raw_os_error().unwrap_or(libc::EIO),
            op: op.to_string(),
            detail: detail.into(),
        }
    }

    /// The errno this error maps to, if any (invalid arguments map to EINVAL).
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { errno, .. } | Error::Os { errno, .. } => Some(*errno),
            Error::InvalidArgument { .. } => Some(libc::EINVAL),
            Error::Timeout { .. } => Some(libc::ETIMEDOUT),
            Error::DumpInterrupted { .. } => Some(libc::EINTR),
            Error::Protocol { .. } => Some(libc::EPROTO),
            Error::Closed { .. } => Some(libc::EBADF),
            Error::Refused { .. } => None,
        }
    }

    /// A kernel error whose text becomes `text(the kernel's)` where that gives one: what tenus
    /// knows of an error the kernel explains poorly or not at all.
    pub(crate) fn with_extack(mut self, text: impl FnOnce(Option<&str>) -> Option<String>) -> Self {
        if let Error::Kernel { extack, .. } = &mut self {
            if let Some(better) = text(extack.as_deref()) {
                *extack = Some(better);
            }
        }
        self
    }

    /// Fills in the operation and link for errors raised below the level that knows them.
    pub fn context(mut self, new_op: &str, new_link: Option<&str>) -> Self {
        match &mut self {
            Error::Kernel { op, link, .. } | Error::Timeout { op, link, .. } => {
                *op = new_op.to_string();
                if link.is_none() {
                    *link = new_link.map(str::to_string);
                }
            }
            Error::DumpInterrupted { op, .. }
            | Error::Os { op, .. }
            | Error::Protocol { op, .. }
            | Error::Closed { op }
            | Error::Refused { op, .. } => *op = new_op.to_string(),
            Error::InvalidArgument { .. } => {}
        }
        self
    }

    pub fn op(&self) -> Option<&str> {
        match self {
            Error::Kernel { op, .. }
            | Error::Timeout { op, .. }
            | Error::DumpInterrupted { op, .. }
            | Error::Os { op, .. }
            | Error::Protocol { op, .. }
            | Error::Closed { op }
            | Error::Refused { op, .. } => Some(op),
            Error::InvalidArgument { .. } => None,
        }
    }

    pub fn link(&self) -> Option<&str> {
        match self {
            Error::Kernel { link, .. } | Error::Timeout { link, .. } => link.as_deref(),
            _ => None,
        }
    }
}

fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    // std appends " (os error N)"; the errno is reported separately.
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument { arg, message, .. } => write!(f, "invalid {arg}: {message}"),
            Error::Kernel {
                errno,
                op,
                link,
                extack,
                ..
            } => {
                write!(f, "{op}")?;
                if let Some(link) = link {
                    write!(f, " {link}")?;
                }
                write!(f, ": {}", strerror(*errno))?;
                if let Some(text) = extack {
                    write!(f, " ({text})")?;
                }
                Ok(())
            }
            Error::Timeout {
                op,
                link,
                millis,
                applied,
            } => {
                write!(f, "{op}")?;
                if let Some(link) = link {
                    write!(f, " {link}")?;
                }
                write!(f, ": no reply from the kernel within {millis} ms")?;
                if *applied {
                    write!(f, " (its late answer said it was done)")?;
                }
                Ok(())
            }
            Error::DumpInterrupted { op, attempts } => write!(
                f,
                "{op}: dump interrupted by concurrent changes {attempts} times in a row"
            ),
            Error::Os { errno, op, detail } => write!(f, "{op}: {detail}: {}", strerror(*errno)),
            Error::Protocol { op, detail } => write!(f, "{op}: unexpected reply: {detail}"),
            Error::Closed { op } => write!(f, "{op}: the namespace handle is closed"),
            Error::Refused { op, message, .. } => write!(f, "{op}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_error_message_names_everything() {
        let e = Error::Kernel {
            errno: libc::EEXIST,
            op: "link.add".into(),
            link: Some("br0".into()),
            extack: Some("already there".into()),
            extack_offset: None,
        };
        assert_eq!(e.to_string(), "link.add br0: File exists (already there)");
        assert_eq!(e.errno(), Some(libc::EEXIST));
    }

    #[test]
    fn context_keeps_an_existing_link_name() {
        let e = Error::Kernel {
            errno: 19,
            op: String::new(),
            link: Some("a".into()),
            extack: None,
            extack_offset: None,
        }
        .context("link.set", Some("b"));
        assert_eq!(e.op(), Some("link.set"));
        assert_eq!(e.link(), Some("a"));
    }
}

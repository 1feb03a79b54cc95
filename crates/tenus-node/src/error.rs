//! Carrying a core error across to JavaScript. napi-rs errors hold a status and a message only,
//! so the message is a marked JSON document that the TypeScript `TenusError` unpacks.

use tenus_core::Error;

pub const MARKER: &str = "TENUS_ERROR:";

pub fn to_napi(e: Error) -> napi::Error {
    napi::Error::from_reason(format!("{MARKER}{}", error_doc(&e)))
}

/// The JSON document describing an error (also used per item in batch reports).
pub fn error_doc(e: &Error) -> serde_json::Value {
    let (kind, code, extack, offset) = match e {
        Error::InvalidArgument { problem, .. } => ("invalid-argument", Some(problem.code()), None, None),
        Error::Kernel {
            extack,
            extack_offset,
            ..
        } => ("kernel", None, extack.as_deref(), *extack_offset),
        Error::Timeout { .. } => ("timeout", None, None, None),
        Error::DumpInterrupted { .. } => ("dump-interrupted", None, None, None),
        Error::Os { .. } => ("os", None, None, None),
        Error::Protocol { .. } => ("protocol", None, None, None),
        Error::Closed { .. } => ("closed", None, None, None),
        Error::Refused { code, .. } => ("refused", Some(*code), None, None),
    };
    serde_json::json!({
        "kind": kind,
        "code": code,
        "message": e.to_string(),
        "errno": e.errno(),
        "op": e.op(),
        "link": e.link(),
        "arg": e.arg(),
        "extack": extack,
        "extackOffset": offset,
    })
}

/// A panic inside a request becomes a rejected promise, never an abort.
pub fn from_panic(op: &str) -> napi::Error {
    to_napi(Error::Protocol {
        op: op.into(),
        detail: "internal panic in tenus (this is a bug)".into(),
    })
}

//! A reply: its `STATUS` and its sections (`SUMMARY`, `STATS`, ...).
//!
//! cgminer-style replies carry `"STATUS":[{"STATUS":"S","When":..,"Code":..,"Msg":..,
//! "Description":..}]`; btminer may write `"STATUS":"S"` with `Msg` as an object. A joined
//! request (`summary+devs`) is answered with one key per command, each holding a list with
//! that command's reply.

use crate::tolerant::{self, TolerantError};
use serde_json::{Map, Value};

/// How the firmware judged the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    /// `S`: success.
    Success,
    /// `I`: informational (success).
    Info,
    /// `W`: warning (success, with a caveat).
    Warning,
    /// `E`: error.
    Error,
    /// `F`: fatal.
    Fatal,
}

/// The `STATUS` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// S, I, W, E or F.
    pub kind: StatusKind,
    /// The message code (11 is `Summary`, 14 is `Invalid command`, ...).
    pub code: Option<i64>,
    /// `Msg` (text; an object `Msg` is kept as a section instead).
    pub msg: String,
    /// `Description`, often the firmware's name and version.
    pub description: String,
    /// `When`: the miner's clock, seconds since the epoch.
    pub when: Option<i64>,
}

/// One command's reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Its status.
    pub status: Status,
    /// Every other top-level key (`SUMMARY`, `STATS`, `id`, ...).
    pub sections: Map<String, Value>,
}

/// Why a reply could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplyError {
    /// Not readable as JSON even tolerantly.
    #[error(transparent)]
    Unreadable(#[from] TolerantError),
    /// JSON, but without a usable `STATUS`.
    #[error("no STATUS in reply")]
    NoStatus,
    /// The firmware refused: status E or F.
    #[error("firmware refused (code {code:?}): {msg}")]
    Refused {
        /// Its code.
        code: Option<i64>,
        /// Its message.
        msg: String,
    },
    /// A joined request was answered without one of its commands.
    #[error("joined reply has no {0:?} part")]
    MissingPart(String),
    /// A section the report needs is absent or has the wrong shape.
    #[error("reply has no usable {0} section")]
    MissingSection(&'static str),
}

impl Reply {
    /// Reads a single-command reply; an E or F status is [`ReplyError::Refused`].
    pub fn parse(bytes: &[u8]) -> Result<Reply, ReplyError> {
        Reply::from_object(into_object(tolerant::parse(bytes)?)?)?.success()
    }

    /// Reads the reply to a joined request, one reply per command, in the order asked.
    /// A firmware that refuses the whole join answers with one top-level STATUS, which
    /// is returned as [`ReplyError::Refused`].
    pub fn parse_joined(bytes: &[u8], commands: &[String]) -> Result<Vec<Reply>, ReplyError> {
        let mut top = into_object(tolerant::parse(bytes)?)?;
        if commands.len() == 1 || top.contains_key("STATUS") {
            return Ok(vec![Reply::from_object(top)?.success()?]);
        }
        commands
            .iter()
            .map(|c| {
                let part = top.remove(c.as_str()).ok_or_else(|| ReplyError::MissingPart(c.clone()))?;
                let first = match part {
                    Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
                    other => other,
                };
                Reply::from_object(into_object(first)?)?.success()
            })
            .collect()
    }

    fn from_object(mut m: Map<String, Value>) -> Result<Reply, ReplyError> {
        let status = match m.remove("STATUS") {
            Some(Value::Array(items)) => match items.into_iter().next() {
                Some(Value::Object(s)) => status_from(&s)?,
                _ => return Err(ReplyError::NoStatus),
            },
            // btminer: top-level STATUS letter, Code, Msg, Description, When.
            Some(Value::String(letter)) => {
                let mut s = Map::new();
                s.insert("STATUS".into(), Value::String(letter));
                for key in ["Code", "When", "Description"] {
                    if let Some(v) = m.remove(key) {
                        s.insert(key.into(), v);
                    }
                }
                if let Some(Value::String(msg)) = m.get("Msg") {
                    s.insert("Msg".into(), Value::String(msg.clone()));
                    m.remove("Msg");
                }
                status_from(&s)?
            }
            _ => return Err(ReplyError::NoStatus),
        };
        Ok(Reply { status, sections: m })
    }

    fn success(self) -> Result<Reply, ReplyError> {
        match self.status.kind {
            StatusKind::Error | StatusKind::Fatal => {
                Err(ReplyError::Refused { code: self.status.code, msg: self.status.msg })
            }
            _ => Ok(self),
        }
    }

    /// A section's list of objects (`SUMMARY`, `STATS`), by name, ignoring case.
    pub fn section(&self, name: &str) -> Option<&Vec<Value>> {
        self.sections.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_array())
    }

    /// The first object of a section.
    pub fn first(&self, name: &str) -> Option<&Map<String, Value>> {
        self.section(name)?.first()?.as_object()
    }
}

fn into_object(v: Value) -> Result<Map<String, Value>, ReplyError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(ReplyError::NoStatus),
    }
}

fn status_from(s: &Map<String, Value>) -> Result<Status, ReplyError> {
    let kind = match s.get("STATUS").and_then(Value::as_str).map(str::trim) {
        Some("S") => StatusKind::Success,
        Some("I") => StatusKind::Info,
        Some("W") => StatusKind::Warning,
        Some("E") => StatusKind::Error,
        Some("F") => StatusKind::Fatal,
        _ => return Err(ReplyError::NoStatus),
    };
    let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    Ok(Status {
        kind,
        code: s.get("Code").and_then(Value::as_i64),
        msg: text("Msg"),
        description: text("Description"),
        when: s.get("When").and_then(Value::as_i64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_reply_with_nul() {
        let r = Reply::parse(
            b"{\"STATUS\":[{\"STATUS\":\"S\",\"When\":1700000000,\"Code\":11,\"Msg\":\"Summary\",\"Description\":\"bmminer 1.0.0\"}],\"SUMMARY\":[{\"GHS 5s\":104000.5}],\"id\":1}\0",
        )
        .expect("reply");
        assert_eq!(r.status.code, Some(11));
        assert_eq!(r.first("summary").and_then(|s| s["GHS 5s"].as_f64()), Some(104000.5));
    }

    #[test]
    fn refusal_is_an_error_with_the_message() {
        let e = Reply::parse(
            br#"{"STATUS":[{"STATUS":"E","When":1,"Code":14,"Msg":"Invalid command","Description":"x"}],"id":1}"#,
        );
        assert_eq!(e, Err(ReplyError::Refused { code: Some(14), msg: "Invalid command".into() }));
    }

    #[test]
    fn joined_replies_in_order() {
        let body = br#"{"summary":[{"STATUS":[{"STATUS":"S","Code":11,"Msg":"Summary"}],"SUMMARY":[{"Elapsed":5}],"id":1}],"devs":[{"STATUS":[{"STATUS":"S","Code":9,"Msg":"3 ASC(s)"}],"DEVS":[],"id":1}],"id":1}"#;
        let parts = Reply::parse_joined(body, &["summary".into(), "devs".into()]).expect("joined");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].status.msg, "3 ASC(s)");
        assert_eq!(
            Reply::parse_joined(body, &["summary".into(), "pools".into()]),
            Err(ReplyError::MissingPart("pools".into()))
        );
    }

    #[test]
    fn btminer_status_letter_and_object_msg() {
        let r =
            Reply::parse(br#"{"STATUS":"S","When":1,"Code":131,"Msg":{"fw_ver":"20230911.16.Rel"},"Description":""}"#)
                .expect("btminer");
        assert_eq!(r.status.code, Some(131));
        assert_eq!(r.sections["Msg"]["fw_ver"], "20230911.16.Rel");
    }
}

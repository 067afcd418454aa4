//! Requests: `{"command":"summary+devs","parameter":"0"}` on the wire.
//!
//! cgminer also accepts the older plain-text form `command|parameter`; miners answer
//! both, so [`Request::parse`] reads both.

use serde_json::{Map, Value};

/// One API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Command names, joined with `+` on the wire when there are several.
    pub commands: Vec<String>,
    /// The parameter, e.g. `<session>,sleep` for LuxOS `curtail`.
    pub parameter: Option<String>,
}

/// Why a request could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Neither JSON with a `command` nor `command|parameter` text.
    #[error("malformed request: {0}")]
    Malformed(String),
}

impl Request {
    /// A request for one command without a parameter.
    pub fn new(command: &str) -> Self {
        Request { commands: command.split('+').map(str::to_owned).collect(), parameter: None }
    }

    /// The same request with a parameter.
    pub fn with_parameter(mut self, parameter: impl Into<String>) -> Self {
        self.parameter = Some(parameter.into());
        self
    }

    /// The commands as the wire writes them (`summary+devs`).
    pub fn command_line(&self) -> String {
        self.commands.join("+")
    }

    /// The JSON request as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut m = Map::new();
        m.insert("command".into(), Value::String(self.command_line()));
        if let Some(p) = &self.parameter {
            m.insert("parameter".into(), Value::String(p.clone()));
        }
        Value::Object(m).to_string().into_bytes()
    }

    /// Reads a request as a miner does: JSON (`command`, optional `parameter`, which may
    /// be a number) or `command|parameter` text. A trailing NUL or newline is ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, RequestError> {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
        if text.starts_with('{') {
            let value: Value = serde_json::from_str(text).map_err(|e| RequestError::Malformed(e.to_string()))?;
            let command = value
                .get("command")
                .and_then(Value::as_str)
                .ok_or_else(|| RequestError::Malformed("no \"command\" string".into()))?;
            let parameter = match value.get("parameter") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            };
            return Self::checked(command, parameter);
        }
        let (command, parameter) = match text.split_once('|') {
            Some((c, p)) => (c, Some(p.to_owned())),
            None => (text, None),
        };
        Self::checked(command, parameter)
    }

    fn checked(command: &str, parameter: Option<String>) -> Result<Self, RequestError> {
        let commands: Vec<String> = command.split('+').map(|c| c.trim().to_owned()).collect();
        if commands.iter().any(|c| c.is_empty() || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')) {
            return Err(RequestError::Malformed(format!("bad command {command:?}")));
        }
        Ok(Request { commands, parameter })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_text_forms() {
        let r = Request::new("summary+devs").with_parameter("0");
        assert_eq!(Request::parse(&r.to_bytes()), Ok(r.clone()));
        assert_eq!(Request::parse(b"summary+devs|0\n"), Ok(r));
        assert_eq!(Request::parse(br#"{"command":"pga","parameter":3}"#), Ok(Request::new("pga").with_parameter("3")));
    }

    #[test]
    fn rejects_what_is_not_a_request() {
        assert!(Request::parse(b"").is_err());
        assert!(Request::parse(br#"{"cmd":"summary"}"#).is_err());
        assert!(Request::parse(b"summary+").is_err());
        assert!(Request::parse(b"{not json").is_err());
    }
}

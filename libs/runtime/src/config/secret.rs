//! [`Secret`]: a configuration string (a token, a password) that never prints.
//!
//! Debug, Display and Serialize all write `[redacted]`, so a secret cannot leak through
//! logs, error messages or `hcp config show`; code that needs the value calls [`Secret::expose`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a [`Secret`] prints instead of its value.
pub const REDACTED: &str = "[redacted]";

/// A string that prints as `[redacted]`. Compares by value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself; only for handing it to the thing that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the value, in time that does not depend on where they first
    /// differ (for checking a token a caller presents).
    pub fn matches(&self, candidate: &str) -> bool {
        let value = self.0.as_bytes();
        value.len() == candidate.len()
            && value.iter().zip(candidate.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::secret::{REDACTED, Secret};

    #[test]
    fn never_prints_its_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret}"), REDACTED);
        assert_eq!(format!("{secret:?}"), REDACTED);
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(Secret::new("a"), Secret::new("a"));
        assert_ne!(Secret::new("a"), Secret::new("b"));
    }
}

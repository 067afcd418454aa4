//! The error a configuration load returns, and where a value came from ([`Origin`]).
//!
//! Every error names the dotted key (when there is one) and the layer that set it, so a
//! bad value can be fixed without guessing which of file, environment or flags was at fault.

use std::fmt;
use std::path::PathBuf;

/// The layer that set a configuration value last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// The TOML file at this path (`--config FILE`).
    File(PathBuf),
    /// The environment variable with this name.
    Env(String),
    /// The command-line flag with this name (or the dotted key it sets).
    Flag(String),
}

impl Origin {
    /// Precedence of the layer: defaults 0, file 1, environment 2, flags 3.
    pub fn rank(&self) -> u8 {
        match self {
            Origin::Default => 0,
            Origin::File(_) => 1,
            Origin::Env(_) => 2,
            Origin::Flag(_) => 3,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(path) => write!(f, "in {}", path.display()),
            Origin::Env(name) => write!(f, "from environment variable {name}"),
            Origin::Flag(name) => write!(f, "from flag {name}"),
        }
    }
}

/// What kind of failure a [`ConfigError`] reports; it decides how the error is displayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The configuration file could not be read.
    Read,
    /// The configuration file is not valid TOML.
    Syntax,
    /// A key that the schema does not have.
    UnknownKey,
    /// A value of the wrong type, or one that cannot be parsed (e.g. a bad socket address).
    Type,
    /// A value of the right type that failed validation.
    Invalid,
}

/// A configuration error: which key, which value, where it came from, and what is wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct ConfigError {
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// The dotted key, e.g. `pricing.speed` or `sites[1].cap_kw`; empty when no key is involved.
    pub key: String,
    /// The offending value as written in TOML syntax, when it is worth showing.
    pub value: Option<String>,
    /// The layer that set the key (for read and syntax errors: the file).
    pub origin: Origin,
    /// What is wrong, e.g. `must be a positive number`.
    pub message: String,
}

impl ConfigError {
    /// An error about `key`, set by `origin`, of the given kind.
    pub fn new(kind: ErrorKind, key: impl Into<String>, origin: Origin, message: impl Into<String>) -> Self {
        ConfigError { kind, key: key.into(), value: None, origin, message: message.into() }
    }

    /// The same error, showing the offending value.
    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            _ if self.key.is_empty() => write!(f, "config: {}", self.message),
            ErrorKind::UnknownKey => write!(f, "config: unknown key {} ({})", self.key, self.origin),
            _ => {
                write!(f, "config: {}", self.key)?;
                if let Some(value) = &self.value {
                    write!(f, " = {value}")?;
                }
                write!(f, " ({}): {}", self.origin, self.message)
            }
        }
    }
}

//! Turning the merged TOML tree into a typed [`Config`], and serde's messages into errors
//! that name the dotted key and its origin (`expected a number, found a string`).

use toml::{Table, Value};

use crate::config::Config;
use crate::config::error::{ConfigError, ErrorKind};
use crate::config::origins::{Origins, join};

/// Deserializes the merged tree; any unknown key, missing key or wrong type becomes an error
/// naming the key and the layer that set it.
pub(crate) fn decode(tree: Table, origins: &Origins) -> Result<Config, ConfigError> {
    serde_path_to_error::deserialize(Value::Table(tree)).map_err(|err| {
        let key = if err.path().iter().next().is_none() { String::new() } else { err.path().to_string() };
        let message = err.inner().message();
        if let Some(name) = between_backticks(message.strip_prefix("missing field ")) {
            let key = join(&key, name);
            let origin = origins.get(&key);
            return ConfigError::new(ErrorKind::Type, key, origin, "is required");
        }
        if message.starts_with("unknown field ") {
            let (key, origin) = origins.resolve(&key);
            return ConfigError::new(ErrorKind::UnknownKey, key, origin, "unknown key");
        }
        let origin = origins.get(&key);
        ConfigError::new(ErrorKind::Type, key, origin, explain(message))
    })
}

/// `invalid type: string "fast", expected f64` -> `expected a number, found a string`.
fn explain(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some((found, expected)) = message.strip_prefix(prefix).and_then(|rest| rest.rsplit_once(", expected ")) {
            let found = match prefix {
                "invalid type: " => describe_found(found).to_owned(),
                _ => between_backticks(Some(found)).unwrap_or(found).to_owned(),
            };
            return format!("expected {}, found {found}", describe_expected(expected));
        }
    }
    match message {
        "invalid socket address syntax" => "expected a socket address IP:PORT".to_owned(),
        "invalid IPv4 address syntax" => "expected an IPv4 address".to_owned(),
        other => other.to_owned(),
    }
}

fn describe_expected(expected: &str) -> &str {
    match expected {
        "f32" | "f64" => "a number",
        "u8" => "an integer from 0 to 255",
        "u16" => "an integer from 0 to 65535",
        "u32" => "an integer from 0 to 4294967295",
        "u64" | "usize" => "a non-negative integer",
        "socket address" => "a socket address IP:PORT",
        "IPv4 address" => "an IPv4 address",
        "path string" => "a path string",
        "a sequence" => "an array",
        other if other.starts_with("struct ") => "a table",
        other => other,
    }
}

fn describe_found(found: &str) -> &str {
    let kinds = [
        ("string", "a string"),
        ("integer", "an integer"),
        ("floating point", "a float"),
        ("boolean", "a boolean"),
        ("sequence", "an array"),
        ("map", "a table"),
    ];
    kinds.iter().find(|(prefix, _)| found.starts_with(prefix)).map_or(found, |(_, described)| described)
}

/// The text between the first two backticks, e.g. `id` in "missing field `id`".
fn between_backticks(text: Option<&str>) -> Option<&str> {
    let rest = text?.split_once('`')?.1;
    Some(rest.split_once('`')?.0)
}

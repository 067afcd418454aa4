//! Reading the layers: the TOML file, the environment and the flags, each merged into one
//! TOML tree over the defaults while [`Origins`] records which layer set each key.
//!
//! Values from the environment and flags are strings; they are converted to the TOML type
//! the key has in the defaults, so `HCP_PRICING__SPEED=900` becomes a number.

use std::path::Path;

use toml::{Table, Value};

use crate::config::error::{ConfigError, ErrorKind, Origin};
use crate::config::origins::{Origins, join};

/// Variables that are not of the `HCP_SECTION__KEY` form but still set a key.
const ALIASES: [(&str, &str); 4] = [
    ("HCP_STORE", "store.url"),
    ("HCP_DATA_DIR", "data.dir"),
    ("HCP_API", "services.optimization.grpc"),
    ("HCP_LOG", "telemetry.log"),
];

/// Reads and parses the TOML file at `path`.
pub(crate) fn read_file(path: &Path) -> Result<Table, ConfigError> {
    let origin = Origin::File(path.to_path_buf());
    let text = std::fs::read_to_string(path).map_err(|err| {
        ConfigError::new(ErrorKind::Read, "", origin.clone(), format!("cannot read {}: {err}", path.display()))
    })?;
    text.parse::<Table>().map_err(|err| {
        let message = format!("{} is not valid TOML: {}", path.display(), err.to_string().trim_end());
        ConfigError::new(ErrorKind::Syntax, "", origin, message)
    })
}

/// Merges a file's table over `tree`: tables merge key by key, anything else (arrays
/// included) replaces what was there.
pub(crate) fn merge_file(tree: &mut Table, file: Table, prefix: &str, origin: &Origin, origins: &mut Origins) {
    for (name, value) in file {
        let key = join(prefix, &name);
        match (tree.get_mut(&name), value) {
            (Some(Value::Table(base)), Value::Table(over)) => merge_file(base, over, &key, origin, origins),
            (_, value) => {
                record(&key, &value, origin, origins);
                tree.insert(name, value);
            }
        }
    }
}

/// Records `origin` for `key` and everything below it.
fn record(key: &str, value: &Value, origin: &Origin, origins: &mut Origins) {
    match value {
        Value::Table(table) if !table.is_empty() => {
            table.iter().for_each(|(name, v)| record(&join(key, name), v, origin, origins))
        }
        Value::Array(items) => {
            origins.set(key.to_owned(), origin.clone());
            for (index, item) in items.iter().enumerate() {
                record(&format!("{key}[{index}]"), item, origin, origins);
            }
        }
        _ => origins.set(key.to_owned(), origin.clone()),
    }
}

/// The dotted key an environment variable sets, with its value, or `None` if it sets nothing.
/// Names are matched without regard to case.
pub(crate) fn env_key(name: &str, value: &str) -> Option<(String, String)> {
    let upper = name.to_ascii_uppercase();
    let rest = upper.strip_prefix("HCP_")?;
    if rest.contains("__") {
        let key = rest.split("__").map(str::to_ascii_lowercase).collect::<Vec<_>>().join(".");
        return Some((key, value.to_owned()));
    }
    let (_, key) = ALIASES.iter().find(|(alias, _)| *alias == upper)?;
    let value = match *key {
        "services.optimization.grpc" => {
            let bare = value.strip_prefix("http://").unwrap_or(value);
            bare.strip_suffix('/').unwrap_or(bare)
        }
        _ => value,
    };
    Some(((*key).to_owned(), value.to_owned()))
}

/// Applies the environment: aliases first, then `HCP_SECTION__KEY` variables, so the
/// explicit form wins when both name the same key.
pub(crate) fn apply_env(
    tree: &mut Table,
    defaults: &Table,
    env: &[(String, String)],
    origins: &mut Origins,
) -> Result<(), ConfigError> {
    let mapped: Vec<(bool, String, String, &str)> = env
        .iter()
        .filter_map(|(name, value)| {
            env_key(name, value).map(|(key, value)| (name.contains("__"), key, value, name.as_str()))
        })
        .collect();
    for explicit in [false, true] {
        for (_, key, value, name) in mapped.iter().filter(|(e, ..)| *e == explicit) {
            set_value(tree, defaults, key, value, Origin::Env((*name).to_owned()), origins)?;
        }
    }
    Ok(())
}

/// Applies the flags, `(dotted key, raw value)`, in order.
pub(crate) fn apply_flags(
    tree: &mut Table,
    defaults: &Table,
    flags: &[(String, String)],
    origins: &mut Origins,
) -> Result<(), ConfigError> {
    for (key, value) in flags {
        set_value(tree, defaults, key, value, Origin::Flag(key.clone()), origins)?;
    }
    Ok(())
}

/// Sets one dotted key from a string, converted to the key's type in `defaults`.
fn set_value(
    tree: &mut Table,
    defaults: &Table,
    key: &str,
    raw: &str,
    origin: Origin,
    origins: &mut Origins,
) -> Result<(), ConfigError> {
    let fail = |kind, message: &str| ConfigError::new(kind, key, origin.clone(), message);
    let segments: Vec<&str> = key.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(fail(ErrorKind::UnknownKey, ""));
    }
    if key.contains('[') {
        return Err(fail(ErrorKind::Type, "array items can only be set in the config file"));
    }
    let value = match lookup(defaults, &segments) {
        Lookup::Absent => Value::String(raw.to_owned()),
        Lookup::Found(Value::Array(_)) | Lookup::InArray => {
            return Err(fail(ErrorKind::Type, "is an array; it can only be set in the config file"));
        }
        Lookup::Found(Value::Table(_)) => return Err(fail(ErrorKind::Type, "is a section, not a key")),
        Lookup::BelowValue => return Err(fail(ErrorKind::UnknownKey, "")),
        Lookup::Found(Value::Integer(_)) => Value::Integer(
            raw.trim().parse().map_err(|_| fail(ErrorKind::Type, "expected an integer").with_value(quote(raw)))?,
        ),
        Lookup::Found(Value::Float(_)) => Value::Float(
            raw.trim().parse().map_err(|_| fail(ErrorKind::Type, "expected a number").with_value(quote(raw)))?,
        ),
        Lookup::Found(Value::Boolean(_)) => Value::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(fail(ErrorKind::Type, "expected true or false").with_value(quote(raw))),
        }),
        Lookup::Found(_) => Value::String(raw.to_owned()),
    };
    let (last, parents) = segments.split_last().ok_or_else(|| fail(ErrorKind::UnknownKey, ""))?;
    let mut table = tree;
    for segment in parents {
        match table.entry((*segment).to_owned()).or_insert_with(|| Value::Table(Table::new())) {
            Value::Table(inner) => table = inner,
            _ => return Err(fail(ErrorKind::Type, "cannot be set: a key above it is not a table")),
        }
    }
    table.insert((*last).to_owned(), value);
    origins.set(key.to_owned(), origin);
    Ok(())
}

/// What the defaults hold at a dotted key.
enum Lookup<'a> {
    /// Not in the defaults (an optional key, or an unknown one).
    Absent,
    /// This value.
    Found(&'a Value),
    /// Below an array.
    InArray,
    /// Below a plain value, which has no keys.
    BelowValue,
}

fn lookup<'a>(table: &'a Table, segments: &[&str]) -> Lookup<'a> {
    let Some((first, rest)) = segments.split_first() else { return Lookup::Absent };
    match (table.get(*first), rest.is_empty()) {
        (None, _) => Lookup::Absent,
        (Some(value), true) => Lookup::Found(value),
        (Some(Value::Table(inner)), false) => lookup(inner, rest),
        (Some(Value::Array(_)), false) => Lookup::InArray,
        (Some(_), false) => Lookup::BelowValue,
    }
}

/// A raw string shown as a TOML string.
fn quote(raw: &str) -> String {
    Value::String(raw.to_owned()).to_string()
}

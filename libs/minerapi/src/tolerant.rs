//! Reads what real firmware sends as JSON, however sloppy.
//!
//! [`repair`] makes one pass over the text, outside string literals:
//! - drops NUL bytes (cgminer ends every reply with one);
//! - puts the missing comma into `}{` and `][` inside a container (bmminer's `stats`);
//! - drops a comma before `}` or `]`;
//! - writes `inf`, `-inf`, `nan` (any case) as `null`, and any other bare word as a string;
//! - escapes raw control characters inside strings.
//!
//! [`parse`] then reads the repaired text; several top-level objects are merged into one.
//! Neither panics on any input (property-tested on arbitrary bytes).

use serde_json::{Map, Value};

/// Why a reply could not be read even after repair.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TolerantError {
    /// Nothing but whitespace and NULs.
    #[error("empty reply")]
    Empty,
    /// Not JSON even after repair (e.g. cut off mid-object).
    #[error("not JSON after repair: {0}")]
    Json(String),
    /// JSON, but not an object (every reply is one).
    #[error("the reply is JSON but not an object")]
    NotAnObject,
}

/// Parses a reply, repairing firmware quirks first.
pub fn parse(bytes: &[u8]) -> Result<Value, TolerantError> {
    let text = String::from_utf8_lossy(bytes);
    let repaired = repair(&text);
    let mut values = Vec::new();
    for value in serde_json::Deserializer::from_str(&repaired).into_iter::<Value>() {
        match value {
            Ok(Value::Object(m)) => values.push(m),
            Ok(_) if values.is_empty() => return Err(TolerantError::NotAnObject),
            Ok(_) => break,
            // Trailing junk after a complete reply is ignored; junk alone is an error.
            Err(e) if values.is_empty() => {
                return Err(if repaired.trim().is_empty() {
                    TolerantError::Empty
                } else {
                    TolerantError::Json(e.to_string())
                });
            }
            Err(_) => break,
        }
    }
    let mut objects = values.into_iter();
    let mut merged: Map<String, Value> = objects.next().ok_or(TolerantError::Empty)?;
    objects.for_each(|m| merged.extend(m));
    Ok(Value::Object(merged))
}

/// Rewrites firmware's JSON-like text into JSON (see the module docs).
pub fn repair(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    // The last significant character written outside a string, and where it sits in `out`.
    let mut last: Option<(char, usize)> = None;
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\0' => {}
            '"' => {
                out.push('"');
                copy_string(&mut chars, &mut out);
                last = Some(('"', out.len() - 1));
            }
            '{' | '[' => {
                let closer = if c == '{' { '}' } else { ']' };
                if depth > 0 && last.is_some_and(|(l, _)| l == closer) {
                    out.push(',');
                }
                depth += 1;
                last = Some((c, out.len()));
                out.push(c);
            }
            '}' | ']' => {
                if let Some((',', at)) = last {
                    out.truncate(at);
                }
                depth = depth.saturating_sub(1);
                last = Some((c, out.len()));
                out.push(c);
            }
            c if c.is_ascii_digit() || (c == '-' && chars.peek().is_some_and(char::is_ascii_digit)) => {
                last = Some((c, out.len()));
                out.push(c);
                while let Some(&n) = chars.peek() {
                    if !(n.is_ascii_digit() || matches!(n, '.' | 'e' | 'E' | '+' | '-')) {
                        break;
                    }
                    out.push(n);
                    chars.next();
                }
            }
            c if c.is_ascii_alphabetic() || (c == '-' && chars.peek().is_some_and(|n| n.is_ascii_alphabetic())) => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek() {
                    if !(n.is_ascii_alphanumeric() || n == '_') {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                let start = out.len();
                match word.to_ascii_lowercase().as_str() {
                    w @ ("true" | "false" | "null") => out.push_str(w),
                    "inf" | "-inf" | "infinity" | "-infinity" | "nan" | "-nan" => out.push_str("null"),
                    _ => out.push_str(&Value::String(word).to_string()),
                }
                last = Some(('w', start));
            }
            c if c.is_whitespace() => out.push(c),
            c => {
                last = Some((c, out.len()));
                out.push(c);
            }
        }
    }
    out
}

/// Copies the rest of a string literal (after its opening quote), escaping raw
/// control characters, up to and including the closing quote.
fn copy_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    let mut escaped = false;
    for c in chars.by_ref() {
        if escaped {
            escaped = false;
            out.push(c);
        } else if c == '\\' {
            escaped = true;
            out.push(c);
        } else if c == '"' {
            out.push(c);
            return;
        } else if (c as u32) < 0x20 {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    // Unterminated: close it so the parser reports a clear error rather than running on.
    if escaped {
        out.pop();
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trailing_nul_and_whitespace() {
        assert_eq!(parse(b"{\"a\":1}\0"), Ok(json!({"a": 1})));
        assert_eq!(parse(b"\n{\"a\":1}\n\0\0"), Ok(json!({"a": 1})));
    }

    #[test]
    fn missing_comma_between_objects() {
        let v = parse(br#"{"STATS":[{"Type":"Antminer S19"}{"fan1":5400}],"id":1}"#).expect("repaired");
        assert_eq!(v["STATS"][1]["fan1"], 5400);
    }

    #[test]
    fn trailing_commas() {
        assert_eq!(parse(br#"{"a":[1,2,],"b":{"c":1,},}"#), Ok(json!({"a":[1,2],"b":{"c":1}})));
        assert_eq!(parse(br#"{"a":1 ,  }"#), Ok(json!({"a":1})));
    }

    #[test]
    fn inf_and_nan_become_null() {
        assert_eq!(
            parse(br#"{"GHS 5s":inf,"temp":-inf,"x":nan,"y":NaN,"ok":true}"#),
            Ok(json!({"GHS 5s":null,"temp":null,"x":null,"y":null,"ok":true}))
        );
    }

    #[test]
    fn quirks_inside_strings_are_left_alone() {
        assert_eq!(parse(br#"{"m":"}{ ,} inf nan"}"#), Ok(json!({"m":"}{ ,} inf nan"})));
        assert_eq!(parse(b"{\"m\":\"a\x01b\"}"), Ok(json!({"m":"a\u{1}b"})));
    }

    #[test]
    fn numbers_with_exponents_stay_numbers() {
        assert_eq!(parse(br#"{"a":1e3,"b":-2.5E-1}"#), Ok(json!({"a":1000.0,"b":-0.25})));
    }

    #[test]
    fn several_top_level_objects_merge() {
        assert_eq!(parse(br#"{"a":1}{"b":2}"#), Ok(json!({"a":1,"b":2})));
        assert_eq!(parse(b"{\"a\":1}\0garbage"), Ok(json!({"a":1})));
        assert_eq!(parse(b"[1][2]"), Err(TolerantError::NotAnObject));
    }

    #[test]
    fn what_cannot_be_read_is_a_clear_error() {
        assert_eq!(parse(b""), Err(TolerantError::Empty));
        assert_eq!(parse(b"\0\0 "), Err(TolerantError::Empty));
        assert!(matches!(parse(br#"{"STATUS":[{"STATUS":"S""#), Err(TolerantError::Json(_))));
        assert_eq!(parse(b"HTTP/1.1 400 Bad Request"), Err(TolerantError::NotAnObject));
    }
}

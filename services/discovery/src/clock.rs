//! The wall clock, read here at the edge (the domain takes time as an argument).

use hcp_domain::units::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};

/// Now.
pub fn now() -> Timestamp {
    let micros = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64);
    Timestamp::from_unix_micros(micros)
}

//! The wall clock, read here at the edge (the domain takes time as an argument).

use hcp_domain::units::Timestamp;

/// Now.
pub fn now() -> Timestamp {
    Timestamp::from_unix_micros(hcp_runtime::clock::now_micros())
}

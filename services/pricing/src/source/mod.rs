//! Where prices come from.

pub mod http;
pub mod replay;
pub mod simulate;

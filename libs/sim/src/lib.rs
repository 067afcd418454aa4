//! Deterministic simulation parts, shared by the miner simulator and the GPU agent so
//! that neither service depends on the other.
//!
//! - [`rng`]: a small seeded generator (same seed, same run).
//! - [`gpu`]: simulated GPU hosts, what NVML would report, for the agent's default backend.

#![forbid(unsafe_code)]

pub mod gpu;
pub mod rng;

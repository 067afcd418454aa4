//! The GPU host agent.
//!
//! - [`backend`]: where GPUs come from: NVML with the `nvml` feature, else simulated.
//! - [`agent`]: registration with discovery and heartbeats.

#![forbid(unsafe_code)]

pub mod agent;
pub mod backend;

pub use agent::{AgentConfig, run};

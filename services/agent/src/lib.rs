//! The GPU host agent.
//!
//! - [`backend`]: where GPUs come from: NVML with the `nvml` feature, else simulated.
//! - [`agent`]: registration with discovery and heartbeats.
//! - [`executor`]: the stream to execution: enrolment, commands, run reports, the journal.
//! - [`runner`]: a workload's run as a process (`CUDA_VISIBLE_DEVICES`, logs) or simulated.

#![forbid(unsafe_code)]

pub mod agent;
pub mod backend;
pub mod executor;
pub mod runner;

pub use agent::{AgentConfig, run};

//! Execution: placed workloads run on their GPUs through the agents.
//!
//! Agents dial in ([`grpc`]: one long-lived stream each, enrolled with an operator's
//! token) so that agents behind a site's NAT work. [`execution`] reconciles each
//! workload's recorded state with what its agents were told (start, pause, resume,
//! stop) and records their reports as workload events (`workload.starting`,
//! `workload.started`, `workload.checkpointed`, `workload.completed`,
//! `workload.failed`); an agent gone too long has its work re-queued or failed by
//! policy. [`ledger`] and [`view`] are its projection of the log: a restarted execution
//! folds the log and resumes every in-flight command, and the agents' journals make a
//! repeated start harmless. [`miners`] moves miners to their plans' targets, confirmed by
//! the miners' own telemetry; [`power`] starts a workload's GPUs only when its site can
//! feed them, curtailing miners first when it cannot; [`demand`] follows utilities'
//! demand-response signals over MQTT.

#![forbid(unsafe_code)]

pub mod demand;
pub mod execution;
pub mod grpc;
pub mod ledger;
pub mod miners;
pub mod power;
mod start;
pub mod view;

pub use execution::{Execution, LostPolicy};
pub use start::start;

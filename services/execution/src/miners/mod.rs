//! Miner control: plans become targets, execution moves miners to them, and only the
//! miners' own telemetry confirms a move (real firmware accepts commands and does
//! nothing).
//!
//! - [`book`]: the projection: targets from `allocation.targeted`, commands and outcomes
//!   from execution's own `control-<id>` streams, observed modes from discovery's
//!   `resource.mode_changed`; what each miner needs now.
//! - [`controller`]: one task per miner with something due: record, send, confirm by
//!   reading the miner, retry, fail alone; wakes staggered by the site's [`ramp`].
//! - [`view`]: the handler that folds the log into the book and wakes the controller.
//! - [`api`]: the Fleet gRPC API: operators' curtail (with a preview) and wake, status,
//!   maintenance. Precedence, highest first: maintenance (no commands), an operator's
//!   curtailment (until lifted or expired, at most `execution.max_curtailment_seconds`),
//!   the plan.
//!
//! A restarted execution folds the log again: a command recorded but not confirmed is
//! watched (its miner read), not sent again, and tries already spent count.

pub mod api;
pub mod book;
pub mod controller;
pub mod ramp;
pub mod view;

pub use controller::{Controller, Settings};

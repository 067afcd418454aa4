//! Optimization as a service: for a site, read its devices from the inventory and the
//! latest prices from the book, plan the coming interval ([`hcp_optimizer::planner`]),
//! record the plan as an `allocation.planned` event in `plans-<site>` with its
//! explanation, and serve plan and explain over gRPC.
//!
//! The expected price for the coming interval is the last real-time price: on the
//! shipped ERCOT data nothing known before an interval predicted its price better
//! (BENCHMARKS.md). Further ahead it moves toward the day-ahead prices (published the
//! day before) plus the real-time spread, decaying as learned over the last week. Each
//! model's devices run now if the best path over that horizon that starts running beats
//! the best that starts curtailed, under the minimum dwell and the switching cost: the
//! rule the backtest's HCP strategy follows. Plans are decisions; switching the hardware
//! to them is the switcher's job.

#![forbid(unsafe_code)]

pub mod grpc;
pub mod service;

pub use service::{Optimizer, PlanError, SitePolicy};

//! Optimization as a service: for a site, read its devices and the latest prices from
//! its own projections of the log ([`fleet`], the market book), plan the coming interval
//! ([`hcp_optimizer::planner`]), record the plan as an `allocation.planned` event in
//! `plans-<site>` with its explanation and what it wants of each device as
//! `allocation.targeted`, and serve plan and explain over gRPC. A site is planned each
//! time its price is recorded ([`handlers::Planner`]).
//!
//! The expected price for the coming interval is the last real-time price: on the
//! shipped ERCOT data nothing known before an interval predicted its price better
//! (BENCHMARKS.md). Further ahead it moves toward the day-ahead prices (published the
//! day before) plus the real-time spread, decaying as learned over the last week. Each
//! model's devices run now if the best path over that horizon that starts running beats
//! the best that starts curtailed, under the minimum dwell and the switching cost: the
//! rule the backtest's HCP strategy follows. Plans are decisions (desired state);
//! switching the hardware to them is execution's job, and a device's mode changes only
//! when it reports it.

#![forbid(unsafe_code)]

pub mod fleet;
pub mod grpc;
pub mod handlers;
pub mod metrics;
pub mod service;
pub mod sites;
mod start;

pub use service::{Optimizer, PlanError, SitePolicy};
pub use start::{policies, start};

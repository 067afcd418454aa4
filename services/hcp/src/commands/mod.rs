//! One module per noun, one file per verb.

pub mod api;
pub mod backtest;
pub mod billing;
pub mod events;
pub mod fleet;
pub mod hosts;
pub mod keys;
pub mod plan;
pub mod projections;
pub mod resources;
pub mod serve;
pub mod sites;
pub mod state;
pub mod status;
pub mod tenants;
pub mod up;
pub mod usage;
pub mod webhooks;
pub mod workloads;

//! One module per noun, one file per verb.

pub mod backtest;
pub mod events;
pub mod plan;
pub mod resources;
pub mod serve;
pub mod sites;
pub mod status;
pub mod up;

//! HCP's pure domain.
//!
//! - [`units`]: value types that make wrong units impossible (money, power, energy,
//!   hashrate, $/MWh, instants).
//! - [`ids`]: typed, validated identifiers and the stream each aggregate lives in.
//! - [`workload`], [`resource`], [`site`], [`tenant`] and [`apikey`]: the aggregates, as pure deciders
//!   ([`Aggregate::decide`] / [`Aggregate::evolve`]) with typed errors.
//! - [`catalogue`]: the real hardware models HCP knows.
//! - [`codec`]: the mapping between domain events and their protobuf payloads.
//!
//! Nothing here does IO, reads a clock or draws a random number: time and ids come
//! in with commands, so that replaying a history always gives the same state.

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod apikey;
pub mod catalogue;
pub mod codec;
pub mod control;
pub mod ids;
pub mod plan;
pub mod resource;
pub mod site;
pub mod tenant;
pub mod units;
pub mod user;
pub mod workload;

pub use aggregate::Aggregate;

//! HCP's protobuf contracts.
//!
//! - [`v1`]: the generated messages (event envelope, workload and resource event
//!   payloads, service requests) and, with the `grpc` feature, tonic stubs.
//! - `client` (with `grpc`): connecting a client channel, with errors that name the address.
//! - [`descriptors`]: the compiled descriptor set, so that any stored payload can be
//!   rendered as JSON for operators by its event type, without hand-written mappings.

#![allow(missing_docs)] // generated code carries the proto comments only

#[cfg(feature = "grpc")]
pub mod client;
pub mod descriptors;

/// Generated code for package `hcp.v1`.
#[allow(clippy::all, clippy::pedantic)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/hcp.v1.rs"));
}

//! The skeleton every HCP service stands on.
//!
//! - [`config`]: one layered configuration for a whole deployment (defaults, TOML file,
//!   `HCP_<SECTION>__<KEY>` environment, flags), validated before anything starts.
//! - [`error`]: one error-code table, mapped once to gRPC and HTTP statuses.
//! - [`context`]: correlation (trace), causation, actor and tenant on every event.
//! - [`repository`]: load, decide, append with the expected version, retry on conflict.
//! - [`reactor`]: handlers on the global log from a durable checkpoint, with retries.
//! - [`grpc`], [`http`]: the gRPC server (health, metrics, graceful drain) and the
//!   `/metrics` `/health` `/status` listener.
//! - [`host`]: services in a process, announced in the log, shut down in order.
//! - [`metrics`], [`store`]: Prometheus families and the timed store.
//! - [`telemetry`]: logs, and OpenTelemetry spans over OTLP when an endpoint is set,
//!   each on its event's or request's trace.
//! - [`aggregates`]: the domain's aggregates as stored streams.
//! - [`clock`]: the wall clock, read at the edge.
//!
//! docs/adr/0005-service-runtime.md explains how a new service is written on it.

#![forbid(unsafe_code)]

pub mod aggregates;
pub mod clock;
pub mod config;
pub mod context;
pub mod error;
pub mod fetch;
pub mod grpc;
pub mod host;
pub mod http;
pub mod metrics;
pub mod reactor;
pub mod render;
pub mod repository;
pub mod store;
pub mod telemetry;

pub use context::EventContext;
pub use error::{ErrorCode, HasErrorCode, status};
pub use host::Host;
pub use metrics::Metrics;
pub use reactor::{Durability, Handler, HandlerError};
pub use repository::{EventSourced, Repository, RepositoryError};

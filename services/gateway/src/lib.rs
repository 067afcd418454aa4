//! The public gateway: REST under `/v1` on the service runtime,
//! each call forwarded to the services over gRPC on the caller's behalf.
//!
//! - [`folded`]: the gateway's own aggregates by id, kept folded from their streams.
//! - [`keys`]: API keys folded from `apikey-<id>`, and how a presented key is checked;
//!   [`jwt`]: tokens from an OpenID Connect issuer, checked against its JWKS.
//! - [`auth`]: the caller of a request (its key, then its rate limit by [`limits`]), and
//!   role checks, in one place.
//! - [`problem`]: errors as RFC 9457 `application/problem+json`, naming the field;
//!   [`body`]: request bodies (JSON, at most 1 MiB), refused as problems too.
//! - [`request_id`]: an `X-Request-Id` on every response (the caller's, or a new one).
//! - [`routes`]: every route in one table, with its roles and, for most, the gRPC method
//!   it is; [`forward`] answers those from JSON through [`upstream`]'s channels.
//! - [`workloads`]: `/v1/workloads`, scoped to the caller's tenant.
//! - [`live`]: `/v1/stream` (WebSocket) and `/v1/events` (SSE), resumable by position.
//! - [`users`]: the people tokens are taken for, recorded as they are first seen.
//! - [`fleet`]: `/v1/me` (who a key is) and `/v1/resources/{id}/history` (a device's events).
//! - [`console`]: the web console's built files, served at `/`.
//! - [`keys_api`]: `/v1/keys` (admins): create, list, revoke, rotate.
//! - [`credentials`]: `hcp up`'s demo keys, in a file only its user reads.
//! - [`openapi`]: the OpenAPI 3.1 document (`/v1/openapi.json`, `/docs`), generated from
//!   the route table and the proto descriptors.
//! - [`start`]: the router, served on `services.gateway.http`.

#![forbid(unsafe_code)]

pub mod auth;
pub mod body;
pub mod console;
pub mod credentials;
pub mod fleet;
pub mod folded;
pub mod forward;
pub mod jwt;
pub mod keys;
pub mod keys_api;
pub mod limits;
pub mod live;
pub mod openapi;
pub mod problem;
pub mod request_id;
pub mod routes;
mod start;
pub mod state;
pub mod upstream;
pub mod users;
pub mod workloads;

pub use start::{router, start};
pub use upstream::Upstreams;

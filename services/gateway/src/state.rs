//! What every route shares: the keys and a channel to routing.

use crate::keys::Keys;
use std::sync::Arc;

/// The gateway's shared state.
pub struct Gateway {
    /// The recorded API keys.
    pub keys: Arc<Keys>,
    /// Routing's gRPC API (connected lazily: the gateway starts before or without it).
    pub routing: tonic::transport::Channel,
    /// Per-key rate limits.
    pub limits: crate::limits::Limits,
}

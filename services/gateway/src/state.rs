//! What every route shares: the keys, the limits and the channels to the services.

use crate::keys::Keys;
use crate::upstream::Upstreams;
use hcp_eventstore::EventStore;
use std::sync::Arc;

/// The gateway's shared state.
pub struct Gateway {
    /// The recorded API keys.
    pub keys: Arc<Keys>,
    /// The services' gRPC APIs (connected lazily: the gateway starts before or without them).
    pub upstreams: Upstreams,
    /// Per-key rate limits.
    pub limits: crate::limits::Limits,
    /// Where keys are recorded (admins' `/v1/keys`).
    pub keystore: Arc<dyn KeyStore>,
}

/// Records key commands in the store (the store's type erased, so routes stay plain).
pub trait KeyStore: Send + Sync {
    /// Executes `command` on key `id` as `context`'s actor.
    fn execute<'a>(
        &'a self,
        id: &'a str,
        command: hcp_domain::apikey::ApiKeyCommand,
        context: &'a hcp_runtime::EventContext,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<hcp_domain::apikey::ApiKey, crate::problem::Problem>> + Send + 'a>,
    >;
}

impl<S: EventStore> KeyStore for hcp_runtime::Repository<hcp_domain::apikey::ApiKey, S> {
    fn execute<'a>(
        &'a self,
        id: &'a str,
        command: hcp_domain::apikey::ApiKeyCommand,
        context: &'a hcp_runtime::EventContext,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<hcp_domain::apikey::ApiKey, crate::problem::Problem>> + Send + 'a>,
    > {
        Box::pin(async move {
            hcp_runtime::Repository::execute(self, id, command, context)
                .await
                .map(|done| done.state)
                .map_err(|e| crate::problem::Problem::from_status(&hcp_runtime::status(&e)))
        })
    }
}

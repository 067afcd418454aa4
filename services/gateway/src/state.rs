//! What every route shares: the keys, the limits, the channels to the services, and the
//! store (its type erased) for keys and the live stream.

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
    /// Per-caller rate limits.
    pub limits: crate::limits::Limits,
    /// Per-tenant rate limits (all of a tenant's callers together).
    pub tenant_limits: crate::limits::Limits,
    /// Per-caller daily quotas.
    pub daily: crate::limits::Daily,
    /// How long a request may take (then 504).
    pub timeout: std::time::Duration,
    /// The JWT issuer, when tokens are taken.
    pub issuer: Option<crate::jwt::Issuer>,
    /// Where keys are recorded (admins' `/v1/keys`).
    pub keystore: Arc<dyn Record<hcp_domain::apikey::ApiKey>>,
    /// The users tokens have been taken for.
    pub users: Arc<crate::users::Users>,
    /// Where users are recorded.
    pub userstore: Arc<dyn Record<hcp_domain::user::User>>,
    /// The event log, for the live stream.
    pub log: Arc<dyn Log>,
    /// Where request durations are recorded (none in a bare router).
    pub metrics: Option<hcp_runtime::Metrics>,
    /// Which tenant each workload is for, as the stream has met them.
    pub tenancy: crate::live::Tenancy,
    /// The web console's files, served at `/`.
    pub console: crate::console::Console,
}

/// A boxed future, for the store's type erased.
pub type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The log as the live stream reads it (the store's type erased).
pub trait Log: Send + Sync {
    /// Every event from `from` on: the stored ones, then new ones as they are appended.
    fn subscribe(&self, from: u64) -> Boxed<'_, hcp_eventstore::Result<hcp_eventstore::Subscription>>;
    /// The last event's position.
    fn head(&self) -> Boxed<'_, hcp_eventstore::Result<u64>>;
    /// A stream's first event.
    fn first<'a>(&'a self, stream: &'a str)
    -> Boxed<'a, hcp_eventstore::Result<Option<hcp_eventstore::RecordedEvent>>>;
    /// A stream's latest `max` events, oldest first.
    fn last<'a>(
        &'a self,
        stream: &'a str,
        max: usize,
    ) -> Boxed<'a, hcp_eventstore::Result<Vec<hcp_eventstore::RecordedEvent>>>;
}

/// A store as a [`Log`].
pub struct StoreLog<S>(pub Arc<S>);

impl<S: EventStore> Log for StoreLog<S> {
    fn subscribe(&self, from: u64) -> Boxed<'_, hcp_eventstore::Result<hcp_eventstore::Subscription>> {
        Box::pin(self.0.subscribe(from))
    }

    fn head(&self) -> Boxed<'_, hcp_eventstore::Result<u64>> {
        Box::pin(self.0.head())
    }

    fn first<'a>(
        &'a self,
        stream: &'a str,
    ) -> Boxed<'a, hcp_eventstore::Result<Option<hcp_eventstore::RecordedEvent>>> {
        Box::pin(async move {
            let events = self.0.read_stream(stream, 1, hcp_eventstore::Direction::Forwards, 1).await?;
            Ok(events.into_iter().next())
        })
    }

    fn last<'a>(
        &'a self,
        stream: &'a str,
        max: usize,
    ) -> Boxed<'a, hcp_eventstore::Result<Vec<hcp_eventstore::RecordedEvent>>> {
        Box::pin(async move {
            let mut events = self.0.read_stream(stream, u64::MAX, hcp_eventstore::Direction::Backwards, max).await?;
            events.reverse();
            Ok(events)
        })
    }
}

/// Records an aggregate's commands in the store (the store's type erased, so routes
/// stay plain): API keys and users.
pub trait Record<A: hcp_runtime::EventSourced>: Send + Sync {
    /// Executes `command` on `id` as `context`'s actor; answers the new state.
    fn execute<'a>(
        &'a self,
        id: &'a str,
        command: A::Command,
        context: &'a hcp_runtime::EventContext,
    ) -> Boxed<'a, Result<A, crate::problem::Problem>>;
}

impl<A, S> Record<A> for hcp_runtime::Repository<A, S>
where
    A: hcp_runtime::EventSourced + Clone + Send + Sync + 'static,
    A::Command: Clone + Send + Sync,
    A::Event: Send + Sync,
    A::Error: hcp_runtime::HasErrorCode + std::fmt::Display + Send + Sync,
    S: EventStore,
{
    fn execute<'a>(
        &'a self,
        id: &'a str,
        command: A::Command,
        context: &'a hcp_runtime::EventContext,
    ) -> Boxed<'a, Result<A, crate::problem::Problem>> {
        Box::pin(async move {
            hcp_runtime::Repository::execute(self, id, command, context)
                .await
                .map(|done| done.state)
                .map_err(|e| crate::problem::Problem::from_status(&hcp_runtime::status(&e)))
        })
    }
}

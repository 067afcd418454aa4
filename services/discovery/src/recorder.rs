//! Writing resource events through the runtime's repository: decide a command against
//! the resource's state, append what it decided with the version it was decided at,
//! and keep that state; a conflict (another writer got there first) reloads the stream
//! and decides again.
//!
//! Discovery is the only writer of the `resource-*` streams it creates, so the cached
//! state is normally current.

use hcp_domain::ids::ResourceId;
use hcp_domain::resource::{Resource, ResourceCommand, ResourceError};
use hcp_eventstore::EventStore;
use hcp_runtime::{EventContext, Repository, RepositoryError};
use std::sync::Arc;

/// Why a command was not recorded.
pub type RecordError = RepositoryError<ResourceError>;

/// Records resource commands in a store.
pub struct Recorder<S> {
    repository: Repository<Resource, S>,
    actor: String,
}

impl<S: EventStore> Recorder<S> {
    /// Writes as `actor` (recorded in each event's metadata).
    pub fn new(store: Arc<S>, actor: &str) -> Self {
        Recorder { repository: Repository::new(store), actor: actor.to_owned() }
    }

    /// Decides `command` for `id` and appends the result; returns the new state.
    ///
    /// Commands for different resources run concurrently (their appends share the
    /// store's group commit); two for the same resource race on the expected version,
    /// and the loser reloads and decides again.
    pub async fn execute(&self, id: &ResourceId, command: ResourceCommand) -> Result<Resource, RecordError> {
        self.execute_in(id, command, &EventContext::new(self.actor.as_str())).await
    }

    /// [`Recorder::execute`] with the caller's context (its trace, its cause).
    pub async fn execute_in(
        &self,
        id: &ResourceId,
        command: ResourceCommand,
        context: &EventContext,
    ) -> Result<Resource, RecordError> {
        self.repository.execute(id.as_str(), command, context).await.map(|done| done.state)
    }

    /// The state as last recorded by or loaded into this recorder, if any.
    pub fn known(&self, id: &ResourceId) -> Option<Resource> {
        self.repository.cached(id.as_str())
    }

    /// Takes a state folded elsewhere (the inventory's catch-up) as current.
    pub fn adopt(&self, id: ResourceId, state: Resource) {
        let version = state.version;
        self.repository.adopt(id.as_str(), state, version);
    }
}

//! Notifications on the service runtime (issue 14, first step: webhooks).
//!
//! - [`rules`]: a checkpointed reactor that raises a notification (`notification.raised`
//!   on `notify-<tenant>`) for the events people need to hear about (a workload failed or
//!   preempted, a budget threshold crossed, a curtailment started or failed), grouped by
//!   (tenant, type, subject) and not raised again within the repeat interval;
//! - [`fanout`]: a checkpointed reactor that schedules each notification to every
//!   endpoint of its tenant that takes its type (`delivery.scheduled` on
//!   `deliveries-<endpoint>`);
//! - [`dispatch`]: delivers each scheduled notification to the Standard Webhooks spec,
//!   retrying on Svix's schedule, honouring `Retry-After`, disabling an endpoint that
//!   answers 410 and dead-lettering after the last try; every attempt is an event, and a
//!   restart resumes what was pending from them. Each endpoint has its own bound on
//!   deliveries in flight, so one slow endpoint never delays another's;
//! - [`keys`]: each tenant's key, kept outside the log, that seals its endpoints'
//!   secrets and its contacts' addresses: erasing it (`EraseSecrets`, recorded as
//!   `secrets.erased`) makes them unreadable for ever (crypto-shredding);
//! - the Notifications gRPC API: endpoints, secrets and their rotation, deliveries,
//!   replay, a test send, the erasure of a tenant's secrets.
//!
//! Every derived event's id comes from its cause, so whatever is handled twice is
//! recorded once.

#![forbid(unsafe_code)]

pub mod channels;
pub mod dispatch;
pub mod fanout;
pub mod grpc;
pub mod keys;
pub mod rules;
pub mod start;
pub mod view;

pub use start::start;

/// A tenant's notification stream.
pub fn notify_stream(tenant: &str) -> String {
    format!("notify-{tenant}")
}

/// An endpoint's stream.
pub fn endpoint_stream(id: &str) -> String {
    format!("endpoint-{id}")
}

/// A contact's stream.
pub fn contact_stream(id: &str) -> String {
    format!("contact-{id}")
}

/// A tenant's erasures of its key.
pub fn secrets_stream(tenant: &str) -> String {
    format!("secrets-{tenant}")
}

/// An endpoint's (or a contact's) deliveries.
pub fn deliveries_stream(endpoint: &str) -> String {
    format!("deliveries-{endpoint}")
}

/// Event types.
pub mod types {
    /// A notification raised.
    pub const RAISED: &str = "notification.raised";
    /// An endpoint subscribed.
    pub const ENDPOINT_CREATED: &str = "endpoint.created";
    /// Its secret rotated.
    pub const SECRET_ROTATED: &str = "endpoint.secret_rotated";
    /// Disabled (a 410, or an operator).
    pub const ENDPOINT_DISABLED: &str = "endpoint.disabled";
    /// Enabled again.
    pub const ENDPOINT_ENABLED: &str = "endpoint.enabled";
    /// A delivery scheduled (again, for a replay).
    pub const SCHEDULED: &str = "delivery.scheduled";
    /// One attempt and its answer.
    pub const ATTEMPTED: &str = "delivery.attempted";
    /// The last attempt failed.
    pub const DEAD_LETTERED: &str = "delivery.dead_lettered";
    /// An email address or phone number subscribed.
    pub const CONTACT_CREATED: &str = "contact.created";
    /// A tenant's key erased (crypto-shredding).
    pub const SECRETS_ERASED: &str = "secrets.erased";
}

#[cfg(test)]
mod tests {
    /// `hcp events read` renders every event this service writes.
    #[test]
    fn every_event_type_names_its_message() {
        use crate::types::*;
        for t in [
            RAISED,
            ENDPOINT_CREATED,
            SECRET_ROTATED,
            ENDPOINT_DISABLED,
            ENDPOINT_ENABLED,
            SCHEDULED,
            ATTEMPTED,
            DEAD_LETTERED,
            CONTACT_CREATED,
            SECRETS_ERASED,
        ] {
            assert!(hcp_proto::descriptors::descriptor_for(t).is_some(), "{t}");
        }
    }
}

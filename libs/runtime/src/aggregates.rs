//! The domain's aggregates as stored streams: their prefix and codec.

use crate::repository::EventSourced;
use hcp_domain::apikey::{ApiKey, ApiKeyEvent};
use hcp_domain::codec::{
    decode_api_key_event, decode_resource_event, decode_site_event, decode_tenant_event, decode_user_event,
    decode_workload_event, encode_api_key_event, encode_resource_event, encode_site_event, encode_tenant_event,
    encode_user_event, encode_workload_event,
};
use hcp_domain::resource::{Resource, ResourceEvent};
use hcp_domain::site::{Site, SiteEvent};
use hcp_domain::tenant::{Tenant, TenantEvent};
use hcp_domain::units::Timestamp;
use hcp_domain::user::{User, UserEvent};
use hcp_domain::workload::{Workload, WorkloadEvent};
use hcp_eventstore::RecordedEvent;

/// `EventSourced` for an aggregate whose events carry their instant (`at()`) and whose
/// codec takes it back from the envelope.
macro_rules! event_sourced {
    ($aggregate:ty, $event:ty, $prefix:literal, $encode:path, $decode:path) => {
        impl EventSourced for $aggregate {
            const STREAM_PREFIX: &'static str = $prefix;

            fn encode(event: &$event) -> (&'static str, Vec<u8>) {
                $encode(event)
            }

            fn decode(recorded: &RecordedEvent) -> Result<$event, String> {
                let at = Timestamp::from_unix_micros(recorded.metadata.time_unix_micros);
                $decode(&recorded.event_type, &recorded.payload, at).map_err(|e| e.to_string())
            }

            fn time_unix_micros(event: &$event) -> i64 {
                event.at().unix_micros()
            }
        }
    };
}

event_sourced!(Resource, ResourceEvent, "resource-", encode_resource_event, decode_resource_event);
event_sourced!(Site, SiteEvent, "site-", encode_site_event, decode_site_event);
event_sourced!(Tenant, TenantEvent, "tenant-", encode_tenant_event, decode_tenant_event);
event_sourced!(ApiKey, ApiKeyEvent, "apikey-", encode_api_key_event, decode_api_key_event);
event_sourced!(Workload, WorkloadEvent, "workload-", encode_workload_event, decode_workload_event);
event_sourced!(User, UserEvent, "user-", encode_user_event, decode_user_event);

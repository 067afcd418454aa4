//! The domain's aggregates as stored streams: their prefix and codec.

use crate::repository::EventSourced;
use hcp_domain::codec::{
    decode_resource_event, decode_site_event, decode_tenant_event, encode_resource_event, encode_site_event,
    encode_tenant_event,
};
use hcp_domain::resource::{Resource, ResourceEvent};
use hcp_domain::site::{Site, SiteEvent};
use hcp_domain::tenant::{Tenant, TenantEvent};
use hcp_domain::units::Timestamp;
use hcp_eventstore::RecordedEvent;

impl EventSourced for Resource {
    const STREAM_PREFIX: &'static str = "resource-";

    fn encode(event: &ResourceEvent) -> (&'static str, Vec<u8>) {
        encode_resource_event(event)
    }

    fn decode(recorded: &RecordedEvent) -> Result<ResourceEvent, String> {
        let at = Timestamp::from_unix_micros(recorded.metadata.time_unix_micros);
        decode_resource_event(&recorded.event_type, &recorded.payload, at).map_err(|e| e.to_string())
    }

    fn time_unix_micros(event: &ResourceEvent) -> i64 {
        event.at().unix_micros()
    }
}

impl EventSourced for Site {
    const STREAM_PREFIX: &'static str = "site-";

    fn encode(event: &SiteEvent) -> (&'static str, Vec<u8>) {
        encode_site_event(event)
    }

    fn decode(recorded: &RecordedEvent) -> Result<SiteEvent, String> {
        let at = Timestamp::from_unix_micros(recorded.metadata.time_unix_micros);
        decode_site_event(&recorded.event_type, &recorded.payload, at).map_err(|e| e.to_string())
    }

    fn time_unix_micros(event: &SiteEvent) -> i64 {
        event.at().unix_micros()
    }
}

impl EventSourced for Tenant {
    const STREAM_PREFIX: &'static str = "tenant-";

    fn encode(event: &TenantEvent) -> (&'static str, Vec<u8>) {
        encode_tenant_event(event)
    }

    fn decode(recorded: &RecordedEvent) -> Result<TenantEvent, String> {
        let at = Timestamp::from_unix_micros(recorded.metadata.time_unix_micros);
        decode_tenant_event(&recorded.event_type, &recorded.payload, at).map_err(|e| e.to_string())
    }

    fn time_unix_micros(event: &TenantEvent) -> i64 {
        event.at().unix_micros()
    }
}

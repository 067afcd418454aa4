//! Domain events to and from their protobuf payloads.
//!
//! A stored event is `(type, schema_version, payload bytes)`; the type names the
//! proto message (see `hcp_proto::descriptors`). Decoding validates ids and units
//! again, so a corrupt or foreign payload is an error, never a panic.

mod apikey;
mod resource;
mod site;
mod tenant;
mod user;
mod workload;

pub use apikey::{decode_api_key_event, encode_api_key_event};
pub use resource::{
    decode_resource_event, encode_resource_event, health_from_pb, health_to_pb, mode_from_pb, mode_to_pb,
    resource_to_pb, spec_to_pb,
};
pub use site::{decode_site_event, encode_site_event, site_policy_to_pb, site_to_pb};
pub use tenant::{decode_tenant_event, encode_tenant_event};
pub use user::{decode_user_event, encode_user_event};
pub use workload::{
    decode_workload_event, encode_workload_event, kind_from_pb, kind_to_pb, spec_from_pb,
    spec_to_pb as workload_spec_to_pb, workload_to_pb,
};

/// The schema version every event type is written at today.
pub const SCHEMA_VERSION: u32 = 1;

/// Why a payload could not become a domain event.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The type is not one this aggregate knows.
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    /// The bytes are not the message the type names.
    #[error("payload of {event_type} does not decode: {source}")]
    Decode {
        /// The event type.
        event_type: String,
        /// The protobuf error.
        source: prost::DecodeError,
    },
    /// The message decoded but a field is invalid.
    #[error("payload of {event_type}: {field}: {reason}")]
    Invalid {
        /// The event type.
        event_type: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Decodes `bytes` as `M`, naming the event type on failure.
fn decode_as<M: prost::Message + Default>(event_type: &str, bytes: &[u8]) -> Result<M, CodecError> {
    M::decode(bytes).map_err(|source| CodecError::Decode { event_type: event_type.to_owned(), source })
}

/// Builds an `Invalid` error.
fn invalid(event_type: &str, field: &'static str, reason: impl ToString) -> CodecError {
    CodecError::Invalid { event_type: event_type.to_owned(), field, reason: reason.to_string() }
}

/// Parses a list of resource ids.
fn resource_ids(
    event_type: &str,
    field: &'static str,
    ids: Vec<String>,
) -> Result<Vec<crate::ids::ResourceId>, CodecError> {
    ids.into_iter().map(|s| crate::ids::ResourceId::new(s).map_err(|e| invalid(event_type, field, e))).collect()
}

/// Resource ids as strings.
fn resource_strings(ids: &[crate::ids::ResourceId]) -> Vec<String> {
    ids.iter().map(|r| r.as_str().to_owned()).collect()
}

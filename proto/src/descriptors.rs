//! The compiled descriptor set of every HCP proto file, and payload-to-JSON
//! rendering by event type.
//!
//! Event types are named `<aggregate>.<snake_case_fact>` and map to the message
//! `hcp.v1.<Aggregate><FactInCamelCase>`: `workload.migration_started` is
//! `hcp.v1.WorkloadMigrationStarted`. That convention is the whole registry.

use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use std::sync::OnceLock;

/// The encoded `FileDescriptorSet` of all HCP protos (for gRPC reflection too).
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hcp_descriptor.bin"));

/// Why a payload could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No proto message matches the event type.
    #[error("unknown event type {0:?} (no message {1})")]
    UnknownType(String, String),
    /// The bytes are not a valid message of that type.
    #[error("payload of {event_type} is not a valid {message}: {source}")]
    Decode {
        /// The event type.
        event_type: String,
        /// The message it maps to.
        message: String,
        /// The decode error.
        source: prost::DecodeError,
    },
}

/// The descriptor pool, decoded once.
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("descriptor set compiled by build.rs decodes")
    })
}

/// The full message name for an event type: `workload.submitted` -> `hcp.v1.WorkloadSubmitted`.
pub fn message_name(event_type: &str) -> String {
    // Events whose payload is a message the API also answers with, under its own name.
    const NAMED: [(&str, &str); 5] = [
        ("invoice.issued", "hcp.v1.Invoice"),
        ("ratecard.set", "hcp.v1.RateCard"),
        ("notification.raised", "hcp.v1.Notification"),
        ("endpoint.disabled", "hcp.v1.EndpointStateChanged"),
        ("endpoint.enabled", "hcp.v1.EndpointStateChanged"),
    ];
    if let Some((_, name)) = NAMED.iter().find(|(t, _)| *t == event_type) {
        return (*name).to_owned();
    }
    let mut name = String::from("hcp.v1.");
    for part in event_type.split(['.', '_']) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name
}

/// The message descriptor of an event type, if HCP defines one.
pub fn descriptor_for(event_type: &str) -> Option<MessageDescriptor> {
    pool().get_message_by_name(&message_name(event_type))
}

/// Renders a payload as JSON using the message its event type names.
pub fn payload_to_json(event_type: &str, payload: &[u8]) -> Result<serde_json::Value, RenderError> {
    decode_to_json(event_type, &message_name(event_type), payload)
}

/// Renders an encoded message of HCP's (full name, e.g. `hcp.v1.Resource`) as JSON.
pub fn message_to_json(full_name: &str, bytes: &[u8]) -> Result<serde_json::Value, RenderError> {
    decode_to_json(full_name, full_name, bytes)
}

/// Renders an encoded message of HCP's straight to JSON text (no intermediate tree: what
/// an API answers with, where the allocations of a `Value` would be most of the work).
pub fn message_to_json_bytes(full_name: &str, bytes: &[u8]) -> Result<Vec<u8>, RenderError> {
    let desc = pool()
        .get_message_by_name(full_name)
        .ok_or_else(|| RenderError::UnknownType(full_name.to_owned(), full_name.to_owned()))?;
    let msg = DynamicMessage::decode(desc, bytes).map_err(|source| RenderError::Decode {
        event_type: full_name.to_owned(),
        message: full_name.to_owned(),
        source,
    })?;
    let mut out = Vec::with_capacity(bytes.len() * 2);
    let mut serializer = serde_json::Serializer::new(&mut out);
    // Writing to a Vec cannot fail, and every message serializes.
    let _ = msg.serialize_with_options(&mut serializer, &prost_reflect::SerializeOptions::new());
    Ok(out)
}

/// Reads JSON (the proto3 JSON mapping: camelCase or the proto's own field names) into
/// an encoded message of HCP's (full name, e.g. `hcp.v1.WorkloadSpec`); the error names
/// the field at fault. A `null` is refused (the mapping reads it as the default, which
/// hides a client's mistake): a field left at its default is left out.
pub fn json_to_message(full_name: &str, json: &serde_json::Value) -> Result<Vec<u8>, String> {
    use prost::Message;
    if let Some(path) = first_null(json, "") {
        return Err(format!("{path}: null is not a value (leave the field out for its default)"));
    }
    let desc = pool().get_message_by_name(full_name).ok_or_else(|| format!("no message {full_name}"))?;
    let options = prost_reflect::DeserializeOptions::new().deny_unknown_fields(true);
    let msg = DynamicMessage::deserialize_with_options(desc, json.clone(), &options).map_err(|e| e.to_string())?;
    Ok(msg.encode_to_vec())
}

/// The dotted path of the first `null` in `json`'s objects and arrays.
fn first_null(json: &serde_json::Value, at: &str) -> Option<String> {
    let join = |k: &str| if at.is_empty() { k.to_owned() } else { format!("{at}.{k}") };
    match json {
        serde_json::Value::Null if !at.is_empty() => Some(at.to_owned()),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| first_null(v, &join(k))),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(n, v)| first_null(v, &join(&n.to_string())))
        }
        _ => None,
    }
}

fn decode_to_json(what: &str, message: &str, bytes: &[u8]) -> Result<serde_json::Value, RenderError> {
    let desc = pool()
        .get_message_by_name(message)
        .ok_or_else(|| RenderError::UnknownType(what.to_owned(), message.to_owned()))?;
    let msg = DynamicMessage::decode(desc, bytes).map_err(|source| RenderError::Decode {
        event_type: what.to_owned(),
        message: message.to_owned(),
        source,
    })?;
    Ok(serde_json::to_value(&msg).unwrap_or(serde_json::Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1;
    use prost::Message;

    #[test]
    fn event_types_map_to_messages() {
        assert_eq!(message_name("workload.migration_started"), "hcp.v1.WorkloadMigrationStarted");
        assert!(descriptor_for("workload.submitted").is_some());
        assert!(descriptor_for("resource.health_changed").is_some());
        assert!(descriptor_for("workload.teleported").is_none());
    }

    #[test]
    fn renders_payload_as_json() {
        let p = v1::WorkloadFailed { reason: "gpu fell off the bus".into() }.encode_to_vec();
        let json = payload_to_json("workload.failed", &p).expect("renders");
        assert_eq!(json, serde_json::json!({"reason": "gpu fell off the bus"}));
    }

    #[test]
    fn names_what_is_wrong() {
        let err = payload_to_json("workload.teleported", b"").unwrap_err();
        assert!(err.to_string().contains("workload.teleported"), "{err}");
        let err = payload_to_json("workload.failed", &[0xff, 0xff]).unwrap_err();
        assert!(err.to_string().contains("hcp.v1.WorkloadFailed"), "{err}");
    }
}

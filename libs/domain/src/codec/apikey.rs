//! API key events <-> `hcp.v1.ApiKey*` messages.

use super::{CodecError, decode_as, invalid};
use crate::apikey::{ApiKeyEvent, Role};
use crate::ids::TenantId;
use crate::units::Timestamp;
use hcp_proto::v1 as pb;
use prost::Message;

/// Encodes an event as (type, payload). The instant travels in the envelope.
pub fn encode_api_key_event(event: &ApiKeyEvent) -> (&'static str, Vec<u8>) {
    let bytes = match event {
        ApiKeyEvent::Created { id, tenant, role, name, prefix, secret_sha256, expires_at, .. } => pb::ApiKeyCreated {
            key_id: id.clone(),
            tenant_id: tenant.as_ref().map(|t| t.as_str().to_owned()).unwrap_or_default(),
            role: role.as_str().to_owned(),
            name: name.clone(),
            prefix: prefix.clone(),
            secret_sha256: secret_sha256.clone(),
            expires_unix_micros: expires_at.map_or(0, Timestamp::unix_micros),
        }
        .encode_to_vec(),
        ApiKeyEvent::Revoked { from, reason, .. } => {
            pb::ApiKeyRevoked { from_unix_micros: from.unix_micros(), reason: reason.clone() }.encode_to_vec()
        }
    };
    (event.event_type(), bytes)
}

/// Decodes a stored API key event; `at` comes from the envelope.
pub fn decode_api_key_event(event_type: &str, payload: &[u8], at: Timestamp) -> Result<ApiKeyEvent, CodecError> {
    let t = event_type;
    Ok(match event_type {
        "api_key.created" => {
            let m: pb::ApiKeyCreated = decode_as(t, payload)?;
            let tenant = match m.tenant_id.as_str() {
                "" => None,
                id => Some(TenantId::new(id).map_err(|e| invalid(t, "tenant_id", e))?),
            };
            let role = Role::parse(&m.role).ok_or_else(|| invalid(t, "role", format!("{:?} is no role", m.role)))?;
            let expires_at = (m.expires_unix_micros != 0).then(|| Timestamp::from_unix_micros(m.expires_unix_micros));
            ApiKeyEvent::Created {
                id: m.key_id,
                tenant,
                role,
                name: m.name,
                prefix: m.prefix,
                secret_sha256: m.secret_sha256,
                expires_at,
                at,
            }
        }
        "api_key.revoked" => {
            let m: pb::ApiKeyRevoked = decode_as(t, payload)?;
            ApiKeyEvent::Revoked { from: Timestamp::from_unix_micros(m.from_unix_micros), reason: m.reason, at }
        }
        other => return Err(CodecError::UnknownType(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_events_round_trip_and_bad_payloads_name_the_field() {
        let at = Timestamp::from_unix_secs(1_800_000_000);
        for e in [
            ApiKeyEvent::Created {
                id: "k7f3a9c2e1".into(),
                tenant: Some(TenantId::new("acme").expect("id")),
                role: Role::Developer,
                name: "ci".into(),
                prefix: "hcp_k7f3".into(),
                secret_sha256: "ab".repeat(32),
                expires_at: Some(Timestamp::from_unix_secs(1_900_000_000)),
                at,
            },
            ApiKeyEvent::Created {
                id: "k0000000001".into(),
                tenant: None,
                role: Role::Admin,
                name: "root".into(),
                prefix: "hcp_k000".into(),
                secret_sha256: "cd".repeat(32),
                expires_at: None,
                at,
            },
            ApiKeyEvent::Revoked { from: Timestamp::from_unix_secs(1_800_000_600), reason: "rotated".into(), at },
        ] {
            let (t, bytes) = encode_api_key_event(&e);
            assert_eq!(decode_api_key_event(t, &bytes, at).expect("decodes"), e);
        }
        let bad = pb::ApiKeyCreated { key_id: "k".into(), role: "root".into(), ..Default::default() }.encode_to_vec();
        let e = decode_api_key_event("api_key.created", &bad, at).expect_err("no such role").to_string();
        assert!(e.contains("role"), "{e}");
    }
}

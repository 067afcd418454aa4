//! User events <-> `hcp.v1.User*` messages.

use super::{CodecError, decode_as, invalid};
use crate::apikey::Role;
use crate::ids::TenantId;
use crate::units::Timestamp;
use crate::user::UserEvent;
use hcp_proto::v1 as pb;
use prost::Message;

fn tenant_id(tenant: &Option<TenantId>) -> String {
    tenant.as_ref().map(|t| t.as_str().to_owned()).unwrap_or_default()
}

fn role_names(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_owned()).collect()
}

/// Encodes an event as (type, payload). The instant travels in the envelope.
pub fn encode_user_event(event: &UserEvent) -> (&'static str, Vec<u8>) {
    let bytes = match event {
        UserEvent::Registered { issuer, subject, tenant, roles, .. } => pb::UserRegistered {
            issuer: issuer.clone(),
            subject: subject.clone(),
            tenant_id: tenant_id(tenant),
            roles: role_names(roles),
        }
        .encode_to_vec(),
        UserEvent::ClaimsChanged { tenant, roles, .. } => {
            pb::UserClaimsChanged { tenant_id: tenant_id(tenant), roles: role_names(roles) }.encode_to_vec()
        }
    };
    (event.event_type(), bytes)
}

fn tenant_of(t: &str, id: &str) -> Result<Option<TenantId>, CodecError> {
    match id {
        "" => Ok(None),
        id => TenantId::new(id).map(Some).map_err(|e| invalid(t, "tenant_id", e)),
    }
}

fn roles_of(t: &str, names: &[String]) -> Result<Vec<Role>, CodecError> {
    names.iter().map(|n| Role::parse(n).ok_or_else(|| invalid(t, "roles", format!("{n:?} is no role")))).collect()
}

/// Decodes a stored user event; `at` comes from the envelope.
pub fn decode_user_event(event_type: &str, payload: &[u8], at: Timestamp) -> Result<UserEvent, CodecError> {
    let t = event_type;
    Ok(match event_type {
        "user.registered" => {
            let m: pb::UserRegistered = decode_as(t, payload)?;
            let (tenant, roles) = (tenant_of(t, &m.tenant_id)?, roles_of(t, &m.roles)?);
            UserEvent::Registered { issuer: m.issuer, subject: m.subject, tenant, roles, at }
        }
        "user.claims_changed" => {
            let m: pb::UserClaimsChanged = decode_as(t, payload)?;
            UserEvent::ClaimsChanged { tenant: tenant_of(t, &m.tenant_id)?, roles: roles_of(t, &m.roles)?, at }
        }
        other => return Err(CodecError::UnknownType(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_events_round_trip_and_bad_payloads_name_the_field() {
        let at = Timestamp::from_unix_secs(1_800_000_000);
        for e in [
            UserEvent::Registered {
                issuer: "https://id.example".into(),
                subject: "alice".into(),
                tenant: Some(TenantId::new("acme").expect("id")),
                roles: vec![Role::Viewer, Role::Developer],
                at,
            },
            UserEvent::ClaimsChanged { tenant: None, roles: vec![Role::Operator], at },
        ] {
            let (t, bytes) = encode_user_event(&e);
            assert_eq!(decode_user_event(t, &bytes, at).expect("decode"), e);
        }
        let bad = pb::UserClaimsChanged { tenant_id: String::new(), roles: vec!["emperor".into()] }.encode_to_vec();
        let err = decode_user_event("user.claims_changed", &bad, at).expect_err("no such role");
        assert!(err.to_string().contains("roles"), "{err}");
    }
}

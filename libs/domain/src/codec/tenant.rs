//! Tenant events <-> `hcp.v1.Tenant*` messages.

use super::workload::{kind_from_pb, kind_to_pb};
use super::{CodecError, decode_as, invalid};
use crate::ids::TenantId;
use crate::tenant::{Quota, TenantEvent};
use crate::units::Timestamp;
use hcp_proto::v1 as pb;
use prost::Message;

fn quota_to_pb(q: &Quota) -> pb::TenantQuota {
    pb::TenantQuota { nominal_gpus: q.nominal_gpus, borrowing_limit_gpus: q.borrowing_limit_gpus, weight: q.weight }
}

fn quota_from_pb(t: &str, q: Option<pb::TenantQuota>) -> Result<Quota, CodecError> {
    let q = q.ok_or_else(|| invalid(t, "quota", "missing"))?;
    Ok(Quota { nominal_gpus: q.nominal_gpus, borrowing_limit_gpus: q.borrowing_limit_gpus, weight: q.weight })
}

/// Encodes an event as (type, payload). The instant travels in the envelope.
pub fn encode_tenant_event(event: &TenantEvent) -> (&'static str, Vec<u8>) {
    let bytes = match event {
        TenantEvent::Created { id, name, quota, .. } => {
            pb::TenantCreated { tenant_id: id.as_str().to_owned(), name: name.clone(), quota: Some(quota_to_pb(quota)) }
                .encode_to_vec()
        }
        TenantEvent::QuotaSet { quota, .. } => pb::TenantQuotaSet { quota: Some(quota_to_pb(quota)) }.encode_to_vec(),
        TenantEvent::ClassGranted { class, .. } => {
            pb::TenantClassGranted { class: kind_to_pb(*class) as i32 }.encode_to_vec()
        }
        TenantEvent::ClassRevoked { class, .. } => {
            pb::TenantClassRevoked { class: kind_to_pb(*class) as i32 }.encode_to_vec()
        }
    };
    (event.event_type(), bytes)
}

/// Decodes a stored tenant event; `at` comes from the envelope.
pub fn decode_tenant_event(event_type: &str, payload: &[u8], at: Timestamp) -> Result<TenantEvent, CodecError> {
    let t = event_type;
    Ok(match event_type {
        "tenant.created" => {
            let m: pb::TenantCreated = decode_as(t, payload)?;
            let id = TenantId::new(m.tenant_id).map_err(|e| invalid(t, "tenant_id", e))?;
            TenantEvent::Created { id, name: m.name, quota: quota_from_pb(t, m.quota)?, at }
        }
        "tenant.quota_set" => {
            let m: pb::TenantQuotaSet = decode_as(t, payload)?;
            TenantEvent::QuotaSet { quota: quota_from_pb(t, m.quota)?, at }
        }
        "tenant.class_granted" => {
            let m: pb::TenantClassGranted = decode_as(t, payload)?;
            TenantEvent::ClassGranted { class: kind_from_pb(t, "class", m.class)?, at }
        }
        "tenant.class_revoked" => {
            let m: pb::TenantClassRevoked = decode_as(t, payload)?;
            TenantEvent::ClassRevoked { class: kind_from_pb(t, "class", m.class)?, at }
        }
        other => return Err(CodecError::UnknownType(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::WorkloadKind;

    #[test]
    fn tenant_events_round_trip_and_bad_payloads_name_the_field() {
        let at = Timestamp::from_unix_secs(1_700_000_000);
        let quota = Quota { nominal_gpus: 16, borrowing_limit_gpus: 8, weight: 2 };
        for e in [
            TenantEvent::Created { id: TenantId::new("acme").expect("id"), name: "Acme".into(), quota, at },
            TenantEvent::QuotaSet { quota, at },
            TenantEvent::ClassGranted { class: WorkloadKind::RealtimeInference, at },
            TenantEvent::ClassRevoked { class: WorkloadKind::Training, at },
        ] {
            let (t, bytes) = encode_tenant_event(&e);
            assert_eq!(decode_tenant_event(t, &bytes, at).expect("decodes"), e);
        }
        let bad = pb::TenantClassGranted { class: 42 }.encode_to_vec();
        let e = decode_tenant_event("tenant.class_granted", &bad, at).expect_err("not a kind").to_string();
        assert!(e.contains("class"), "{e}");
    }
}

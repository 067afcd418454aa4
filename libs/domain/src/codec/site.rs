//! Site events <-> `hcp.v1.Site*` messages.

use super::{CodecError, decode_as, invalid};
use crate::site::{Site, SiteEvent, SitePolicy};
use crate::units::Timestamp;
use hcp_proto::v1 as pb;
use prost::Message;

/// A policy as its message.
pub fn site_policy_to_pb(p: &SitePolicy) -> pb::SitePolicy {
    pb::SitePolicy {
        settlement_point: p.settlement_point.clone(),
        min_dwell_seconds: p.min_dwell_seconds,
        hysteresis_usd_mwh: p.hysteresis_usd_mwh,
        max_wake_kw: p.max_wake_kw,
        gpu_usd_per_hour: p.gpu_usd_per_hour,
        switch_cost_usd: p.switch_cost_usd,
    }
}

fn policy_from_pb(p: pb::SitePolicy) -> SitePolicy {
    SitePolicy {
        settlement_point: p.settlement_point,
        min_dwell_seconds: p.min_dwell_seconds,
        hysteresis_usd_mwh: p.hysteresis_usd_mwh,
        max_wake_kw: p.max_wake_kw,
        gpu_usd_per_hour: p.gpu_usd_per_hour,
        switch_cost_usd: p.switch_cost_usd,
    }
}

/// A site's state as its message.
pub fn site_to_pb(site: &Site) -> pb::SiteView {
    pb::SiteView {
        site: site.id.clone().unwrap_or_default(),
        cap_kw: site.cap_kw,
        policy: Some(site_policy_to_pb(&site.policy)),
        version: site.version,
    }
}

/// Encodes an event as (type, payload). The instant travels in the envelope.
pub fn encode_site_event(event: &SiteEvent) -> (&'static str, Vec<u8>) {
    let bytes = match event {
        SiteEvent::Configured { id, cap_kw, policy, .. } => {
            pb::SiteConfigured { site_id: id.clone(), cap_kw: *cap_kw, policy: Some(site_policy_to_pb(policy)) }
                .encode_to_vec()
        }
        SiteEvent::CapChanged { from_kw, to_kw, reason, .. } => {
            pb::SiteCapChanged { from_kw: *from_kw, to_kw: *to_kw, reason: reason.clone() }.encode_to_vec()
        }
    };
    (event.event_type(), bytes)
}

/// Decodes a stored site event; `at` comes from the envelope.
pub fn decode_site_event(event_type: &str, payload: &[u8], at: Timestamp) -> Result<SiteEvent, CodecError> {
    let t = event_type;
    Ok(match event_type {
        "site.configured" => {
            let m: pb::SiteConfigured = decode_as(t, payload)?;
            let policy = m.policy.ok_or_else(|| invalid(t, "policy", "missing"))?;
            SiteEvent::Configured { id: m.site_id, cap_kw: m.cap_kw, policy: policy_from_pb(policy), at }
        }
        "site.cap_changed" => {
            let m: pb::SiteCapChanged = decode_as(t, payload)?;
            SiteEvent::CapChanged { from_kw: m.from_kw, to_kw: m.to_kw, reason: m.reason, at }
        }
        other => return Err(CodecError::UnknownType(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_events_round_trip() {
        let at = Timestamp::from_unix_secs(1_700_000_000);
        let policy = SitePolicy { settlement_point: "HB_SOUTH".into(), max_wake_kw: 10.0, ..SitePolicy::default() };
        for e in [
            SiteEvent::Configured { id: "tx-1".into(), cap_kw: 100.0, policy, at },
            SiteEvent::CapChanged { from_kw: 100.0, to_kw: 80.0, reason: "grid".into(), at },
        ] {
            let (t, bytes) = encode_site_event(&e);
            assert_eq!(decode_site_event(t, &bytes, at).expect("decodes"), e);
        }
        assert!(decode_site_event("site.configured", &[0xff], at).is_err());
    }
}

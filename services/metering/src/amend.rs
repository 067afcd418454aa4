//! Corrections of usage records, as Orb amends: a `usage.amended` event on the tenant's
//! usage stream that names the record, what it stood at, what it stands at now, why and
//! (in its metadata) who; never an edit. The books take back what the record stood at
//! and bill what it stands at now: on an invoice already issued for its period, the
//! difference is an adjustment on the next one.

use crate::ledger::{Ledger, LedgerError};
use crate::recorder::{USAGE_AMENDED, USAGE_RECORDED, usage_stream};
use hcp_billing::period::Cadence;
use hcp_domain::units::Timestamp;
use hcp_eventstore::{EventStore, ExpectedVersion, RecordedEvent, StoreError};
use hcp_proto::v1 as pb;
use hcp_runtime::EventContext;
use prost::Message;
use std::collections::HashMap;
use uuid::Uuid;

/// The longest reason taken.
pub const MAX_REASON: usize = 500;
/// The most GPUs a corrected record may hold.
const MAX_GPUS: u32 = 100_000;
/// The most records one listing answers.
const MAX_LIST: usize = 1_000;

/// A record as it stands: its event id, the record, how often it was amended.
pub type Standing = (Uuid, pb::UsageRecorded, u32);

/// A usage stream's `events` folded into its records as they stand (amendments applied),
/// in order; an amendment of a record the stream does not hold is left out.
pub fn standing(events: &[RecordedEvent]) -> Result<Vec<Standing>, prost::DecodeError> {
    let mut out: Vec<Standing> = Vec::new();
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    for e in events {
        if e.event_type == USAGE_RECORDED {
            index.insert(e.id, out.len());
            out.push((e.id, pb::UsageRecorded::decode(e.payload.as_ref())?, 0));
        } else if e.event_type == USAGE_AMENDED {
            let a = pb::UsageAmended::decode(e.payload.as_ref())?;
            let place = a.record_id.parse::<Uuid>().ok().and_then(|id| index.get(&id));
            if let (Some(&n), Some(now)) = (place, a.now) {
                out[n].1 = now;
                out[n].2 += 1;
            }
        }
    }
    Ok(out)
}

/// `record` corrected as `request` asks, within its billing period under `cadence`;
/// refuses what is not a correction, naming the field.
pub fn corrected(
    record: &pb::UsageRecorded,
    request: &pb::AmendUsageRequest,
    cadence: Cadence,
) -> Result<pb::UsageRecorded, LedgerError> {
    let invalid = |m: String| Err(LedgerError::Invalid(m));
    let reason = request.reason.trim();
    if reason.is_empty() {
        return invalid("reason: required (why the record is corrected)".into());
    }
    if reason.chars().count() > MAX_REASON {
        return invalid(format!("reason: at most {MAX_REASON} characters"));
    }
    let mut now = record.clone();
    now.from_unix_micros = request.from_unix_micros.unwrap_or(record.from_unix_micros);
    now.to_unix_micros = request.to_unix_micros.unwrap_or(record.to_unix_micros);
    now.gpus = request.gpus.unwrap_or(record.gpus);
    if now.from_unix_micros < 0 {
        return invalid(format!("from_unix_micros: {} is before 1970", now.from_unix_micros));
    }
    // A record is its span's piece in one period: corrected, it stays there.
    let period = cadence.period_of(Timestamp::from_unix_micros(record.from_unix_micros));
    let last = period.end.unix_micros().max(record.to_unix_micros);
    if now.from_unix_micros < period.start.unix_micros() {
        return invalid(format!(
            "from_unix_micros: {} is before the record's billing period ({period})",
            now.from_unix_micros
        ));
    }
    if now.to_unix_micros > last {
        return invalid(format!(
            "to_unix_micros: {} is after the record's billing period ({period})",
            now.to_unix_micros
        ));
    }
    if now.to_unix_micros < now.from_unix_micros {
        return invalid(format!(
            "to_unix_micros: {} is before from_unix_micros {}",
            now.to_unix_micros, now.from_unix_micros
        ));
    }
    if now.gpus > MAX_GPUS {
        return invalid(format!("gpus: {} is more than {MAX_GPUS}", now.gpus));
    }
    let span = crate::view::span_of(&now);
    now.gpu_micros = i64::try_from(span.gpu_micros())
        .map_err(|_| LedgerError::Invalid("to_unix_micros: the corrected span is too long".into()))?;
    if now == *record {
        return invalid("the amendment changes nothing: give from_unix_micros, to_unix_micros or gpus".into());
    }
    Ok(now)
}

impl<S: EventStore> Ledger<S> {
    /// Corrects `request.record_id` of `request.tenant` as it asks, by `context`'s actor;
    /// answers the record as it stands then.
    pub async fn amend(
        &self,
        request: &pb::AmendUsageRequest,
        context: &EventContext,
    ) -> Result<pb::UsageRecordView, LedgerError> {
        let tenant = request.tenant.as_str();
        let id = request.record_id.parse::<Uuid>().map_err(|_| {
            LedgerError::Invalid(format!("record_id: {:?} is not a usage record's id", request.record_id))
        })?;
        // At the version the view has seen: another writer in between, look again.
        for attempt in 1.. {
            let found = self.view.read(tenant, |b| b.record(id).map(|(_, r)| (r.to_pb(), b.usage_version)));
            let Some((was, version)) = found else {
                return Err(LedgerError::NotFound(format!("record_id: {tenant} has no usage record {id}")));
            };
            let now = corrected(&was, request, self.cadence())?;
            let amended = pb::UsageAmended {
                record_id: id.to_string(),
                was: Some(was),
                now: Some(now),
                reason: request.reason.trim().to_owned(),
            };
            let at = hcp_runtime::clock::now_micros();
            let event = context.clone().with_tenant(tenant).event(0, USAGE_AMENDED, amended.encode_to_vec(), at);
            match self.store().append(&usage_stream(tenant), ExpectedVersion::Exact(version), vec![event]).await {
                Ok(appended) => {
                    self.seen(appended.last_position).await;
                    tracing::info!(tenant, record = %id, actor = context.actor, "usage record amended");
                    let view = self.view.read(tenant, |b| b.record(id).map(|(n, _)| b.view_of(n)));
                    return view.ok_or_else(|| LedgerError::NotFound(format!("record_id: {id}")));
                }
                Err(StoreError::Conflict(_)) if attempt < 8 => self.seen(self.store().head().await?).await,
                Err(e) => return Err(e.into()),
            }
        }
        unreachable!("the loop returns")
    }

    /// `tenant`'s usage records as they stand (of `workload_id` only, if not empty), the
    /// `limit` newest (0: 100), oldest first.
    pub fn usage_records(&self, tenant: &str, workload_id: &str, limit: u32) -> Vec<pb::UsageRecordView> {
        let limit = if limit == 0 { 100 } else { (limit as usize).min(MAX_LIST) };
        self.view.read(tenant, |b| {
            let mut out: Vec<pb::UsageRecordView> = (0..b.records.len())
                .rev()
                .filter(|&n| workload_id.is_empty() || &*b.records[n].workload_id == workload_id)
                .take(limit)
                .map(|n| b.view_of(n))
                .collect();
            out.reverse();
            out
        })
    }
}

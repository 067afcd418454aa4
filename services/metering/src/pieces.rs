//! A billed span's usage records: the span cut at each period's end, so that a workload
//! running across periods is billed in each period, on that period's invoice, not only
//! once it ends.
//!
//! A piece that ends at a period's end while its span runs on is named by its workload,
//! the version of the event that opened the span, and its end; whenever it is recorded
//! (when the span closes, or when the log closes the tenant's usage through that end
//! with the span still open) it is the same event id, so the piece is on the usage
//! stream once. The span's last piece is named by the event that closed it.

use hcp_billing::usage::Span;
use hcp_domain::units::Timestamp;
use hcp_proto::v1 as pb;
use hcp_runtime::EventContext;
use uuid::Uuid;

/// `closed_by` of a piece that ended with its period while its span ran on.
pub const PERIOD_ENDED: &str = "period.ended";

/// Whose GPU time a span is.
#[derive(Debug, Clone, Copy)]
pub struct Billed<'a> {
    /// The workload (its id, without `workload-`).
    pub workload_id: &'a str,
    /// Its tenant.
    pub tenant: &'a str,
    /// Its GPU model.
    pub model: &'a str,
    /// Where it ran: the site its spec named, else the site of the resource it was placed
    /// on ("" when neither is known).
    pub site: &'a str,
}

impl Billed<'_> {
    /// The usage record of `span`, closed by `closed_by` (an event type, or
    /// [`PERIOD_ENDED`]).
    pub fn record(&self, span: Span, closed_by: &str) -> pb::UsageRecorded {
        pb::UsageRecorded {
            workload_id: self.workload_id.to_owned(),
            tenant: self.tenant.to_owned(),
            gpu_model: self.model.to_owned(),
            site: self.site.to_owned(),
            gpus: span.gpus,
            from_unix_micros: span.from.unix_micros(),
            to_unix_micros: span.to.unix_micros(),
            gpu_micros: i64::try_from(span.gpu_micros()).unwrap_or(i64::MAX),
            closed_by: closed_by.to_owned(),
        }
    }

    /// The context whose event ids name the piece of the span opened by version
    /// `opened_by` of the workload's stream that ends at `end`, a period's end.
    pub fn piece(&self, context: EventContext, opened_by: u64, end: Timestamp) -> EventContext {
        context.with_tenant(self.tenant).with_ids_from_key(&piece_key(self.workload_id, opened_by, end))
    }
}

fn piece_key(workload_id: &str, opened_by: u64, end: Timestamp) -> String {
    format!("usage:{workload_id}:{opened_by}:{}", end.unix_micros())
}

/// The event id of the usage record of the piece of `workload_id`'s span opened by
/// version `opened_by` that ends at `end`, a period's end.
pub fn piece_id(workload_id: &str, opened_by: u64, end: Timestamp) -> Uuid {
    EventContext::new(ACTOR).with_ids_from_key(&piece_key(workload_id, opened_by, end)).event_id(0)
}

/// Who records usage (event ids derive from it too).
pub const ACTOR: &str = "metering";

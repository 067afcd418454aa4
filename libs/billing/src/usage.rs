//! Billable GPU time from a workload's lifecycle. A workload is billed for its GPUs from
//! `started` until it is preempted, re-queued, completed, failed or cancelled; paused, it
//! keeps its GPUs and is billed for them; queued, scheduled or starting, it is not.

use hcp_domain::units::Timestamp;
use hcp_domain::workload::WorkloadEvent;

/// Microseconds in an hour.
pub const MICROS_PER_HOUR: i128 = 3_600_000_000;

/// A stretch of billed time on `gpus` GPUs, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// From.
    pub from: Timestamp,
    /// To (not included).
    pub to: Timestamp,
    /// GPUs held.
    pub gpus: u32,
}

impl Span {
    /// GPU-microseconds.
    pub fn gpu_micros(&self) -> i128 {
        i128::from((self.to.unix_micros() - self.from.unix_micros()).max(0)) * i128::from(self.gpus)
    }
}

/// One workload's meter: fed its events in order, it answers each billed span as it closes.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    gpus: u32,
    since: Option<Timestamp>,
    opened_by: u64,
}

impl Meter {
    /// Folds one event; answers the span it closes, if it closes one.
    pub fn apply(&mut self, event: &WorkloadEvent) -> Option<Span> {
        self.apply_at(0, event)
    }

    /// Folds the event at `version` of the workload's stream; answers the span it closes,
    /// if it closes one. The version of the event that opens a span names the span (see
    /// [`Meter::opened_by`]).
    pub fn apply_at(&mut self, version: u64, event: &WorkloadEvent) -> Option<Span> {
        match event {
            WorkloadEvent::Submitted { spec, .. } => {
                self.gpus = spec.gpu_count;
                None
            }
            WorkloadEvent::Started { at, .. } => {
                if self.since.is_none() {
                    self.since = Some(*at);
                    self.opened_by = version;
                }
                None
            }
            WorkloadEvent::Preempted { at, .. }
            | WorkloadEvent::Queued { at, .. }
            | WorkloadEvent::Completed { at }
            | WorkloadEvent::Failed { at, .. }
            | WorkloadEvent::Cancelled { at, .. } => {
                let from = self.since.take()?;
                Some(Span { from, to: (*at).max(from), gpus: self.gpus })
            }
            // Paused, resumed, checkpointed, migrating, scheduled, starting: the bill goes on
            // (or has not begun).
            _ => None,
        }
    }

    /// The span still open, up to `now` (an invoice preview's).
    pub fn open(&self, now: Timestamp) -> Option<Span> {
        self.since.map(|from| Span { from, to: now.max(from), gpus: self.gpus })
    }

    /// Whether it is billing now.
    pub fn billing(&self) -> bool {
        self.since.is_some()
    }

    /// The version of the event that opened the span open now, or of the last span's
    /// opening once it closed (0 before any, or when folded with [`Meter::apply`]).
    pub fn opened_by(&self) -> u64 {
        self.opened_by
    }
}

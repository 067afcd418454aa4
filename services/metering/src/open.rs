//! The spans still open: every workload billing now (started, perhaps paused, not yet
//! preempted, re-queued or ended), folded in memory from the whole log at each start.
//! Previews, estimates and budgets count them up to now; and the tenants metering has
//! seen, whose periods it invoices.

use hcp_billing::usage::{Meter, Span};
use hcp_domain::codec::decode_workload_event;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::WorkloadEvent;
use hcp_eventstore::RecordedEvent;
use hcp_runtime::{Handler, HandlerError};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The view's consumer name (in memory: it has no checkpoint).
pub const VIEW: &str = "metering-view";

/// One workload's meter and whose it is.
#[derive(Debug, Clone)]
struct Entry {
    tenant: String,
    model: String,
    meter: Meter,
}

/// An open span of a tenant's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSpan {
    /// The workload.
    pub workload_id: String,
    /// The GPU model.
    pub model: String,
    /// From its start up to now.
    pub span: Span,
}

#[derive(Default)]
struct Inner {
    workloads: HashMap<String, Entry>,
    tenants: BTreeSet<String>,
}

/// The view.
#[derive(Default)]
pub struct Open {
    inner: Mutex<Inner>,
}

impl Open {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Folds one workload event.
    pub fn apply(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let at = Timestamp::from_unix_micros(event.metadata.time_unix_micros);
        let decoded = decode_workload_event(&event.event_type, &event.payload, at)
            .map_err(|why| HandlerError::corrupt(event, why))?;
        let mut inner = self.lock();
        if let WorkloadEvent::Submitted { spec, .. } = &decoded {
            inner.tenants.insert(spec.tenant.as_str().to_owned());
            let entry = Entry {
                tenant: spec.tenant.as_str().to_owned(),
                model: spec.gpu_model.as_str().to_owned(),
                meter: Meter::default(),
            };
            inner.workloads.insert(event.stream.clone(), entry);
        }
        let ended = matches!(
            decoded,
            WorkloadEvent::Completed { .. } | WorkloadEvent::Failed { .. } | WorkloadEvent::Cancelled { .. }
        );
        if let Some(entry) = inner.workloads.get_mut(&event.stream) {
            entry.meter.apply(&decoded);
        }
        if ended {
            inner.workloads.remove(&event.stream);
        }
        Ok(())
    }

    /// `tenant`'s spans open now, up to `now`.
    pub fn spans(&self, tenant: &str, now: Timestamp) -> Vec<OpenSpan> {
        let inner = self.lock();
        let mut out: Vec<OpenSpan> = inner
            .workloads
            .iter()
            .filter(|(_, e)| e.tenant == tenant)
            .filter_map(|(stream, e)| {
                let span = e.meter.open(now)?;
                let workload_id = stream.trim_start_matches("workload-").to_owned();
                Some(OpenSpan { workload_id, model: e.model.clone(), span })
            })
            .collect();
        out.sort_by(|a, b| a.workload_id.cmp(&b.workload_id));
        out
    }

    /// Every tenant that has submitted a workload.
    pub fn tenants(&self) -> Vec<String> {
        self.lock().tenants.iter().cloned().collect()
    }
}

/// The handler that folds the view.
pub struct OpenView(pub std::sync::Arc<Open>);

impl Handler for OpenView {
    fn name(&self) -> &str {
        VIEW
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.stream.starts_with("workload-")
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.0.apply(event)
    }
}

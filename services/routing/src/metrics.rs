//! Routing's own metrics, refreshed from the board every few seconds: workloads by tenant and
//! status (`hcp_workloads`), and the waiting ones by the reason the last cycle gave
//! (`hcp_workloads_pending`: the scheduler dashboard's queue and pending reasons).

use crate::board::Board;
use hcp_eventstore::EventStore;
use hcp_runtime::Host;
use hcp_runtime::metrics::{Labels, Series, SnapshotGauges, labels};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How often the gauges are refreshed.
pub const EVERY: Duration = Duration::from_secs(5);

/// The gauges' values now: (workloads by tenant and status; waiting ones by reason).
pub fn tally(board: &Board) -> (Series, Series) {
    let inner = board.read();
    let mut statuses: HashMap<Labels, f64> = HashMap::new();
    for w in inner.workloads.values() {
        let tenant = w.spec.as_ref().map_or("", |s| s.tenant.as_str());
        *statuses.entry(labels(&[("tenant", tenant), ("status", &w.status.to_string())])).or_default() += 1.0;
    }
    let mut reasons: HashMap<Labels, f64> = HashMap::new();
    for p in inner.pending.values() {
        *reasons.entry(labels(&[("reason", p.reason.as_str())])).or_default() += 1.0;
    }
    (statuses.into_iter().collect(), reasons.into_iter().collect())
}

/// Registers the gauges in `host` and keeps them fresh from `board`.
pub fn export<S: EventStore>(host: &Host<S>, board: Arc<Board>) {
    let statuses = SnapshotGauges::register(&host.metrics, "workloads", "workloads by tenant and status");
    let pending =
        SnapshotGauges::register(&host.metrics, "workloads_pending", "waiting workloads by the last cycle's reason");
    host.every("routing-metrics", EVERY, move || {
        let (s, p) = tally(&board);
        statuses.set(s);
        pending.set(p);
    });
}

//! The scheduling loop: on every change (and at least each `cycle_seconds`) it builds
//! the placement core's input from the board, decides one cycle, and records the
//! decision as events on each workload's stream (`workload.scheduled`,
//! `workload.preempted`). Around the cycle it keeps the queue whole: a submitted
//! workload is queued, a preempted one is queued again until its retry budget is spent
//! (then it fails), and a draining host's preemptible work is preempted.
//!
//! One routing process runs the loop; its decisions are appended with the expected
//! version, so a workload changed meanwhile (cancelled, say) refuses the stale decision.

use crate::board::{Board, Inner};
use crate::routing::Routing;
use hcp_domain::ids::WorkloadId;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::{Locality, Workload, WorkloadCommand, WorkloadKind, WorkloadStatus};
use hcp_eventstore::EventStore;
use hcp_placement::{Class, Gpu, Input, Pending, Running, Shape, TenantQuota};
use hcp_runtime::EventContext;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// The actor of the scheduler's events.
pub const ACTOR: &str = "routing";

/// Runs cycles until `stop` resolves.
pub async fn run<S: EventStore>(routing: Arc<Routing<S>>, every: Duration, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = routing.board.changed.notified() => {}
            () = tokio::time::sleep(every) => {}
            () = &mut stop => return,
        }
        cycle(&routing).await;
    }
}

/// One cycle: housekeeping, then placement.
pub async fn cycle<S: EventStore>(routing: &Routing<S>) {
    let now = hcp_runtime::clock::now_micros();
    let at = Timestamp::from_unix_micros(now);
    let context = EventContext::new(ACTOR);
    let chores = housekeeping(&routing.board.read(), routing.max_attempts, at);
    for (id, command) in chores {
        routing.record(id, command, &context).await;
    }
    let (input, ids) = input(&routing.board, now, routing.aging_micros);
    let decision = hcp_placement::schedule(&input);
    for p in &decision.placements {
        let Some(&id) = ids.get(p.workload.as_ref()) else { continue };
        let resources = p.gpus.iter().filter_map(|g| hcp_domain::ids::ResourceId::new(g.clone()).ok()).collect();
        routing.record(id, WorkloadCommand::Schedule { resources, at }, &context).await;
    }
    for p in &decision.preemptions {
        let Some(&id) = ids.get(p.victim.as_str()) else { continue };
        let reason = format!(
            "preempted to make room for workload {} (a higher class, or its tenant's own quota)",
            p.for_workload
        );
        routing.record(id, WorkloadCommand::Preempt { reason, at }, &context).await;
    }
    let mut board = routing.board.write();
    board.pending = decision.pending.into_iter().map(|p| (Arc::clone(&p.workload), p)).collect();
    board.releasing.retain(|_, r| r.until_unix_micros > now);
}

/// What keeps the queue whole: queue the submitted, re-queue or fail the preempted, move
/// preemptible work off draining hosts.
fn housekeeping(board: &Inner, max_attempts: u32, at: Timestamp) -> Vec<(WorkloadId, WorkloadCommand)> {
    let draining: Vec<&str> = board.cordons.iter().filter(|(_, c)| c.drain).map(|(h, _)| h.as_str()).collect();
    // Only a drain needs to know where each GPU is.
    let host_of: HashMap<String, String> =
        if draining.is_empty() { HashMap::new() } else { board.gpus().map(|g| (g.id, g.host)).collect() };
    let mut commands = Vec::new();
    for (id, w) in &board.workloads {
        let Some(spec) = &w.spec else { continue };
        match w.status {
            WorkloadStatus::Submitted => commands.push((*id, WorkloadCommand::Queue { at })),
            WorkloadStatus::Preempted if w.attempts >= max_attempts => {
                let reason = format!("preempted {} times: its retry budget of {max_attempts} is spent", w.attempts);
                commands.push((*id, WorkloadCommand::Fail { reason, at }));
            }
            WorkloadStatus::Preempted => commands.push((*id, WorkloadCommand::Queue { at })),
            s if s.holds_resources() && spec.preemptible && s != WorkloadStatus::Migrating => {
                let on =
                    w.resources.iter().filter_map(|r| host_of.get(r.as_str())).find(|h| draining.contains(&h.as_str()));
                if let Some(host) = on {
                    let reason = format!("host {host} is draining");
                    commands.push((*id, WorkloadCommand::Preempt { reason, at }));
                }
            }
            _ => {}
        }
    }
    commands.sort_by_key(|(id, _)| *id);
    commands
}

/// A workload kind as a placement class.
pub fn class(kind: WorkloadKind) -> Class {
    match kind {
        WorkloadKind::RealtimeInference => Class::RealtimeInference,
        WorkloadKind::BatchInference => Class::BatchInference,
        WorkloadKind::Training => Class::Training,
    }
}

/// The placement core's input, and the workload ids by the text the decision names them.
fn input(board: &Board, now: i64, aging_micros: i64) -> (Input, HashMap<String, WorkloadId>) {
    let board = board.read();
    let gpus: Vec<Gpu> = board.gpus().collect();
    let mut ids = HashMap::new();
    let mut running = Vec::new();
    let mut queue = Vec::new();
    for (id, w) in &board.workloads {
        let Some(spec) = &w.spec else { continue };
        // Ended work is neither placed nor a victim: no id text for it each cycle.
        if !(w.status.holds_resources() || w.status == WorkloadStatus::Queued) {
            continue;
        }
        let text = id.to_string();
        if w.status.holds_resources() {
            running.push(Running {
                id: text.clone(),
                tenant: spec.tenant.as_str().to_owned(),
                class: class(spec.kind),
                preemptible: spec.preemptible,
                gpus: w.resources.iter().map(|r| r.as_str().to_owned()).collect(),
                started_unix_micros: w.updated_at.unix_micros(),
                preempting: false,
            });
        } else {
            queue.push(pending(&text, w, spec));
        }
        ids.insert(text, *id);
    }
    for (id, r) in &board.releasing {
        if r.until_unix_micros <= now {
            continue;
        }
        let Some(spec) = board.workloads.get(id).and_then(|w| w.spec.as_ref()) else { continue };
        running.push(Running {
            // Apart from the workload itself, which may be queued again meanwhile.
            id: format!("{id}#releasing"),
            tenant: spec.tenant.as_str().to_owned(),
            class: class(spec.kind),
            preemptible: false,
            gpus: r.gpus.iter().map(|g| g.as_str().to_owned()).collect(),
            started_unix_micros: 0,
            preempting: true,
        });
    }
    let tenants: BTreeMap<String, TenantQuota> = board
        .tenants
        .iter()
        .filter(|(_, t)| t.id.is_some())
        .map(|(id, t)| {
            let q = t.quota;
            (
                id.clone(),
                TenantQuota {
                    nominal_gpus: q.nominal_gpus,
                    borrowing_limit_gpus: q.borrowing_limit_gpus,
                    weight: q.weight.max(1),
                },
            )
        })
        .collect();
    (Input { gpus, running, queue, tenants, now_unix_micros: now, aging_micros }, ids)
}

fn pending(id: &str, w: &Workload, spec: &hcp_domain::workload::WorkloadSpec) -> Pending {
    Pending {
        id: id.into(),
        tenant: spec.tenant.as_str().to_owned(),
        class: class(spec.kind),
        shape: Shape {
            model: Some(spec.gpu_model.as_str().to_owned()),
            count: spec.gpu_count,
            min_memory_mib: spec.memory_mib,
            site: spec.site.as_ref().map(|s| s.as_str().to_owned()),
            locality: match spec.locality {
                Locality::Any => hcp_placement::Locality::Any,
                Locality::Rack => hcp_placement::Locality::Rack,
                Locality::Host => hcp_placement::Locality::Host,
            },
        },
        submitted_unix_micros: w.submitted_at.unix_micros(),
    }
}

//! Execution's core: reconcile each workload's recorded state with what its agents were
//! told, and turn agents' run reports into workload events.
//!
//! Desired, by the workload's status: scheduled -> record `workload.starting`, then
//! start; starting or running -> started (resumed after a pause); paused -> paused;
//! preempted, cancelled, failed, completed -> stopped. What each host was last told is
//! kept, so a redelivered event sends nothing twice; an agent that (re)enrols is told
//! again, and its journal answers a start it already took with the run's state.

use crate::ledger::{Ledger, Sent};
use crate::miners::Controller;
use crate::miners::book::{CURTAILMENT_LIFTED, CURTAILMENT_STARTED};
use crate::power::{Admit, admit, curtailment_id, curtailment_prefix, pending};
use hcp_domain::ids::WorkloadId;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::{Workload, WorkloadCommand, WorkloadError, WorkloadStatus};
use hcp_eventstore::EventStore;
use hcp_proto::v1 as pb;
use hcp_runtime::repository::Executed;
use hcp_runtime::{EventContext, Repository, RepositoryError};
use prost::Message;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The actor of execution's events.
pub const ACTOR: &str = "execution";

/// What happens to the work of an agent that is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostPolicy {
    /// Re-queued, as after a preemption.
    Requeue,
    /// Failed.
    Fail,
}

/// A connected (or recently connected) agent.
pub struct Link {
    /// Commands to it.
    pub tx: Option<mpsc::Sender<Result<pb::AgentCommand, tonic::Status>>>,
    /// Its GPUs.
    pub gpus: usize,
    /// `process` or `simulated`.
    pub runner: String,
    /// Since when it is disconnected.
    pub gone_since: Option<Instant>,
    /// Which connection is current (a newer one replaces it).
    pub session: u64,
}

/// The service's state.
pub struct Execution<S> {
    /// Workloads.
    pub workloads: Repository<Workload, S>,
    /// Its view.
    pub ledger: Mutex<Ledger>,
    /// Agents by host.
    pub agents: Mutex<HashMap<String, Link>>,
    /// The enrolment token.
    pub token: hcp_runtime::config::Secret,
    /// Seconds a stopped workload gets before SIGKILL.
    pub grace_seconds: u32,
    /// How long an agent may be gone before its work is handled.
    pub lost_after: Duration,
    /// What happens then.
    pub lost_policy: LostPolicy,
    /// When this process started (an agent never seen since counts as gone from then).
    pub started: Instant,
    /// Workloads to reconcile.
    pub dirty: mpsc::UnboundedSender<WorkloadId>,
    /// Log queries waiting for their agent's answer.
    pub queries: Mutex<HashMap<u64, oneshot::Sender<pb::LogsReply>>>,
    /// The next query's number (and session numbers).
    pub counter: AtomicU64,
    /// Miner control, which makes room under a site's cap before GPUs start.
    pub miners: Arc<Controller<S>>,
    /// Workloads waiting for miners to sleep before their GPUs start.
    pub waiting_power: Mutex<HashSet<WorkloadId>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> Timestamp {
    Timestamp::from_unix_micros(hcp_runtime::clock::now_micros())
}

impl<S: EventStore> Execution<S> {
    /// The ledger.
    pub fn ledger(&self) -> MutexGuard<'_, Ledger> {
        lock(&self.ledger)
    }

    /// The agents.
    pub fn agents(&self) -> MutexGuard<'_, HashMap<String, Link>> {
        lock(&self.agents)
    }

    /// Log queries waiting for their agent's answer.
    pub fn queries(&self) -> MutexGuard<'_, HashMap<u64, oneshot::Sender<pb::LogsReply>>> {
        lock(&self.queries)
    }

    /// A fresh number.
    pub fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Executes `command` and applies what it recorded to the ledger.
    pub async fn execute(
        &self,
        id: WorkloadId,
        command: WorkloadCommand,
    ) -> Result<Executed<Workload>, RepositoryError<WorkloadError>> {
        let context = EventContext::new(ACTOR);
        let done = self.workloads.execute(&id.to_string(), command, &context).await?;
        let mut ledger = self.ledger();
        for (version, e) in done.versioned() {
            ledger.apply_workload(id, e, version);
        }
        drop(ledger);
        if !done.events.is_empty() {
            let _ = self.dirty.send(id);
        }
        Ok(done)
    }

    async fn record(&self, id: WorkloadId, command: WorkloadCommand) {
        let kind = command.kind();
        match self.execute(id, command).await {
            Ok(_) => {}
            Err(RepositoryError::Refused { source, .. }) => {
                tracing::debug!(workload = %id, %kind, error = %source, "no longer applies");
            }
            Err(e) => tracing::warn!(workload = %id, %kind, error = %e, "cannot record"),
        }
    }

    /// Brings what `id`'s agents were told in line with its recorded state.
    pub async fn reconcile(&self, id: WorkloadId) {
        let Some(w) = self.ledger().workloads.get(&id).cloned() else { return };
        if w.status == WorkloadStatus::Scheduled {
            if !self.power_for(id, &w).await {
                return;
            }
            // Recorded before it is sent: a crash between the two resends it on restart.
            self.record(id, WorkloadCommand::Start { at: now() }).await;
            return;
        }
        if !w.status.holds_resources() {
            self.give_power_back(id).await;
        }
        let desired = match w.status {
            WorkloadStatus::Starting | WorkloadStatus::Running => Sent::Start,
            WorkloadStatus::Paused => Sent::Pause,
            WorkloadStatus::Preempted
            | WorkloadStatus::Queued
            | WorkloadStatus::Cancelled
            | WorkloadStatus::Failed
            | WorkloadStatus::Completed => Sent::Stop,
            _ => return,
        };
        let Some(placed) = self.ledger().placed.get(&id).cloned() else { return };
        let spec = w.spec.as_ref().map(hcp_domain::codec::workload_spec_to_pb);
        for (host, uuids) in &placed.hosts {
            let key = (id, host.clone());
            let last = self.ledger().sent.get(&key).copied();
            let command = match (last, desired) {
                (Some((a, s)), d) if a == placed.attempt && s == d => continue,
                // A resumed run was told to resume, not to start again.
                (Some((a, Sent::Pause)), Sent::Start) if a == placed.attempt => Sent::Resume,
                (Some((a, Sent::Resume)), Sent::Start) if a == placed.attempt => continue,
                (None, Sent::Stop) => continue,
                (_, d) => d,
            };
            use pb::agent_command::Command as C;
            let (workload_id, attempt) = (id.to_string(), placed.attempt);
            let message = match command {
                Sent::Start => C::Start(pb::StartRun {
                    workload_id,
                    attempt,
                    spec: spec.clone(),
                    gpu_uuids: uuids.clone(),
                    resume_from_ms: u64::try_from(w.progress.as_millis()).unwrap_or(0),
                    scheduled_unix_micros: placed.scheduled_unix_micros,
                }),
                Sent::Pause => C::Pause(pb::PauseRun { workload_id, attempt }),
                Sent::Resume => C::Resume(pb::ResumeRun { workload_id, attempt }),
                Sent::Stop => C::Stop(pb::StopRun {
                    workload_id,
                    attempt,
                    grace_seconds: self.grace_seconds,
                    reason: w.reason.clone().unwrap_or_default(),
                }),
            };
            if self.send(host, message).await {
                self.ledger().sent.insert(key, (placed.attempt, command));
            }
        }
        if desired == Sent::Stop {
            let mut ledger = self.ledger();
            let all_told =
                placed.hosts.keys().all(|h| ledger.sent.get(&(id, h.clone())).is_some_and(|(_, s)| *s == Sent::Stop));
            if all_told || w.status == WorkloadStatus::Completed {
                ledger.placed.remove(&id);
                ledger.sent.retain(|(w, _), _| *w != id);
            }
        }
    }

    /// Sends a command to `host`'s agent; whether it was connected.
    pub async fn send(&self, host: &str, command: pb::agent_command::Command) -> bool {
        let tx = self.agents().get(host).and_then(|l| l.tx.clone());
        match tx {
            Some(tx) => tx.send(Ok(pb::AgentCommand { command: Some(command) })).await.is_ok(),
            None => false,
        }
    }

    /// Turns an agent's report into workload events.
    pub async fn report(&self, host: &str, report: pb::RunReport) {
        let Ok(id) = WorkloadId::parse(&report.workload_id) else {
            tracing::warn!(host, workload = %report.workload_id, "report for a malformed workload id");
            return;
        };
        let current = {
            let ledger = self.ledger();
            ledger.placed.get(&id).map(|p| p.attempt) == Some(report.attempt)
        };
        if !current {
            return;
        }
        let state = pb::RunState::try_from(report.state).unwrap_or(pb::RunState::Unspecified);
        let progress = Duration::from_millis(report.progress_ms);
        match state {
            pb::RunState::Started | pb::RunState::Resumed | pb::RunState::Paused => {
                let all_started = {
                    let mut ledger = self.ledger();
                    let Some(p) = ledger.placed.get_mut(&id) else { return };
                    p.started.insert(host.to_owned());
                    p.started.len() == p.hosts.len()
                };
                let starting = self.ledger().workloads.get(&id).is_some_and(|w| w.status == WorkloadStatus::Starting);
                if all_started && starting {
                    let endpoint = (!report.detail.is_empty()).then(|| report.detail.clone());
                    self.record(id, WorkloadCommand::ConfirmStarted { endpoint, at: now() }).await;
                }
            }
            pb::RunState::Checkpointed => self.record(id, WorkloadCommand::Checkpoint { progress, at: now() }).await,
            pb::RunState::Completed => {
                let starting = self.ledger().workloads.get(&id).is_some_and(|w| w.status == WorkloadStatus::Starting);
                if starting {
                    self.record(id, WorkloadCommand::ConfirmStarted { endpoint: None, at: now() }).await;
                }
                self.record(id, WorkloadCommand::Complete { at: now() }).await;
            }
            pb::RunState::Failed => {
                let reason = format!("on {host}: {}", if report.detail.is_empty() { "failed" } else { &report.detail });
                self.record(id, WorkloadCommand::Fail { reason, at: now() }).await;
            }
            pb::RunState::Lost => self.lost(id, &format!("on {host}: {}", report.detail)).await,
            pb::RunState::Stopped | pb::RunState::Unspecified => {}
        }
    }

    /// Whether the site can feed `id`'s GPUs now; when it cannot, curtails miners for the
    /// shortfall (once per attempt) and leaves `id` waiting for them to sleep.
    async fn power_for(&self, id: WorkloadId, w: &Workload) -> bool {
        let cid = curtailment_id(id, w.attempts);
        let now_us = hcp_runtime::clock::now_micros();
        let short = {
            let ledger = self.ledger();
            let book = self.miners.book.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if book.curtailments.contains_key(&cid) {
                // Room is being made: start once no miner of it is still going to sleep.
                if pending(&book, &cid) {
                    lock(&self.waiting_power).insert(id);
                    return false;
                }
                lock(&self.waiting_power).remove(&id);
                return true;
            }
            match admit(&ledger, &book, id, now_us) {
                Admit::Ready => None,
                Admit::Short { site, shortfall_kw, need_kw, cap_kw } => {
                    let miners = book.select(&site, Some(shortfall_kw), now_us);
                    Some((site, shortfall_kw, need_kw, cap_kw, miners))
                }
            }
        };
        let Some((site, shortfall_kw, need_kw, cap_kw, miners)) = short else {
            lock(&self.waiting_power).remove(&id);
            return true;
        };
        if miners.is_empty() {
            tracing::warn!(workload = %id, site, shortfall_kw, "over the cap and no miner left to curtail: starting");
            return true;
        }
        let max_run = w.spec.as_ref().map_or(Duration::from_secs(3600), |s| s.run.max_run_time);
        let until = now_us + i64::try_from(max_run.as_micros()).unwrap_or(i64::MAX).min(4 * 3_600_000_000);
        let record = pb::CurtailmentStarted {
            curtailment_id: cid,
            site: site.clone(),
            miners: miners.iter().map(|(m, _)| m.clone()).collect(),
            kw: shortfall_kw,
            all: false,
            until_unix_micros: until,
            reason: format!(
                "power for workload {id}: its GPUs need {need_kw:.1} kW, {shortfall_kw:.1} kW over the {cap_kw:.0} kW cap"
            ),
            actor: ACTOR.into(),
        };
        let event = EventContext::new(ACTOR).event(0, CURTAILMENT_STARTED, record.encode_to_vec(), now_us);
        if let Err(e) = self.miners.record_curtailment(&site, event).await {
            tracing::warn!(workload = %id, error = %e, "could not curtail miners for a workload's power");
        }
        lock(&self.waiting_power).insert(id);
        false
    }

    /// Lifts the curtailments made for `id`'s power: mining takes it back.
    async fn give_power_back(&self, id: WorkloadId) {
        lock(&self.waiting_power).remove(&id);
        let prefix = curtailment_prefix(id);
        let mine: Vec<pb::CurtailmentStarted> = {
            let book = self.miners.book.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            book.curtailments
                .values()
                .filter(|c| c.record.curtailment_id.starts_with(&prefix))
                .map(|c| c.record.clone())
                .collect()
        };
        for c in mine {
            let lifted = pb::CurtailmentLifted {
                curtailment_id: c.curtailment_id.clone(),
                reason: format!("workload {id} stopped"),
            };
            let event = EventContext::new(ACTOR).event(
                0,
                CURTAILMENT_LIFTED,
                lifted.encode_to_vec(),
                hcp_runtime::clock::now_micros(),
            );
            if let Err(e) = self.miners.record_curtailment(&c.site, event).await {
                tracing::warn!(workload = %id, error = %e, "could not give a workload's power back");
            }
        }
    }

    /// Workloads waiting for miners to sleep, to be looked at again.
    pub fn recheck_power(&self) {
        for id in lock(&self.waiting_power).iter() {
            let _ = self.dirty.send(*id);
        }
    }

    /// Handles a run that is gone (its agent restarted or was lost) by the policy.
    pub async fn lost(&self, id: WorkloadId, why: &str) {
        let command = match self.lost_policy {
            LostPolicy::Requeue => {
                WorkloadCommand::Preempt { reason: format!("its agent was lost ({why}); re-queued"), at: now() }
            }
            LostPolicy::Fail => WorkloadCommand::Fail { reason: format!("its agent was lost ({why})"), at: now() },
        };
        self.record(id, command).await;
    }

    /// Handles the work of agents gone longer than `lost_after`.
    pub async fn sweep(&self) {
        let gone: Vec<String> = {
            let agents = self.agents();
            let ledger = self.ledger();
            let hosts: std::collections::BTreeSet<&String> =
                ledger.placed.values().flat_map(|p| p.hosts.keys()).collect();
            hosts
                .into_iter()
                .filter(|h| match agents.get(*h) {
                    Some(l) => l.tx.is_none() && l.gone_since.is_some_and(|t| t.elapsed() > self.lost_after),
                    None => self.started.elapsed() > self.lost_after,
                })
                .cloned()
                .collect()
        };
        for host in gone {
            let ids = self.ledger().on_host(&host);
            for id in ids {
                let holds = self.ledger().workloads.get(&id).is_some_and(|w| w.status.holds_resources());
                if holds {
                    self.lost(id, &format!("no agent on {host} for {:?}", self.lost_after)).await;
                }
            }
        }
    }
}

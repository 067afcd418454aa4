//! The dispatcher: each scheduled delivery is tried to the Standard Webhooks spec until
//! it is delivered, its endpoint is gone, or its last try fails. Each try is recorded
//! (`delivery.attempted`: status, the first bytes of the answer, how long it took, what
//! comes next), so a restart resumes every pending delivery where its log left it. Each
//! endpoint has its own bound on tries in flight, and a delivery waiting for its next
//! try holds nothing: one slow or failing endpoint never delays another's deliveries.

use crate::channels::{self, Target};
use crate::keys::Keys;
use crate::view::{Job, State, View};
use crate::{deliveries_stream, endpoint_stream, types};
use hcp_eventstore::{EventStore, ExpectedVersion};
use hcp_notify::schedule::{self, Next, Outcome};
use hcp_proto::v1 as pb;
use hcp_runtime::EventContext;
use hcp_runtime::config::NotificationsConfig;
use hcp_runtime::metrics::{Counter, Family, Labels, labels};
use prost::Message;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinSet;

/// The dispatcher.
pub struct Dispatcher<S> {
    store: Arc<S>,
    view: Arc<View>,
    keys: Keys,
    config: NotificationsConfig,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
    active: Mutex<HashSet<Job>>,
    /// Tries by channel and outcome, and dead letters by channel, for /metrics.
    tries: Family<Labels, Counter>,
    dead: Family<Labels, Counter>,
}

fn now_micros() -> i64 {
    hcp_runtime::clock::now_micros()
}

/// A number in [0, 1) from the system's randomness.
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

impl<S: EventStore> Dispatcher<S> {
    /// A dispatcher over `store` and `view`, signing with the secrets `keys` open.
    pub fn new(store: Arc<S>, view: Arc<View>, keys: Keys, config: NotificationsConfig) -> Self {
        Dispatcher {
            store,
            view,
            keys,
            config,
            limits: Mutex::default(),
            active: Mutex::default(),
            tries: Family::default(),
            dead: Family::default(),
        }
    }

    /// The same, counting its tries (`hcp_deliveries_total`: channel, outcome) and dead
    /// letters (`hcp_deliveries_dead_lettered_total`: channel) in `metrics`.
    pub fn with_metrics(self, metrics: &hcp_runtime::Metrics) -> Self {
        let tries = metrics
            .counters("deliveries", "delivery tries by channel and outcome (delivered, failed, throttled, gone)");
        let dead =
            metrics.counters("deliveries_dead_lettered", "deliveries given up on after their last try, by channel");
        // Every series starts at 0, so `increase()` sees the first dead letter.
        for channel in ["webhook", "contact"] {
            dead.get_or_create(&labels(&[("channel", channel)])).inc_by(0);
            for outcome in ["delivered", "failed", "throttled", "gone"] {
                tries.get_or_create(&labels(&[("channel", channel), ("outcome", outcome)])).inc_by(0);
            }
        }
        Dispatcher { tries, dead, ..self }
    }

    fn limit(&self, endpoint: &str) -> Arc<Semaphore> {
        let mut limits = self.limits.lock().unwrap_or_else(PoisonError::into_inner);
        let n = self.config.max_in_flight_per_endpoint.max(1) as usize;
        Arc::clone(limits.entry(endpoint.to_owned()).or_insert_with(|| Arc::new(Semaphore::new(n))))
    }

    /// Runs until dropped: the `pending` deliveries, then each job from `jobs`.
    pub async fn run(self: Arc<Self>, pending: Vec<Job>, mut jobs: UnboundedReceiver<Job>) {
        let mut tasks = JoinSet::new();
        for job in pending {
            tasks.spawn(Arc::clone(&self).deliver(job));
        }
        loop {
            tokio::select! {
                job = jobs.recv() => match job {
                    Some(job) => { tasks.spawn(Arc::clone(&self).deliver(job)); }
                    None => break,
                },
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn record(&self, endpoint: &str, key: &str, kind: &str, payload: Vec<u8>) {
        let context = EventContext::new("notifications").with_ids_from_key(key);
        let event = context.event(0, kind, payload, now_micros());
        let stream =
            if kind == types::ENDPOINT_DISABLED { endpoint_stream(endpoint) } else { deliveries_stream(endpoint) };
        // Retried until stored: a lost record would resend or lose a delivery.
        let mut wait = Duration::from_millis(50);
        while let Err(e) = self.store.append(&stream, ExpectedVersion::Any, vec![event.clone()]).await {
            tracing::warn!(%stream, error = %e, "cannot record a delivery; retrying");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    async fn deliver(self: Arc<Self>, job: Job) {
        let fresh = self.active.lock().unwrap_or_else(PoisonError::into_inner).insert(job.clone());
        if fresh {
            self.attempts(&job).await;
            self.active.lock().unwrap_or_else(PoisonError::into_inner).remove(&job);
        }
    }

    async fn attempts(&self, job: &Job) {
        let (endpoint_id, notification, round) = job;
        let Some(delivery) = self.view.delivery(endpoint_id, notification).filter(|d| d.round == *round) else {
            return;
        };
        let State::Pending { mut attempt, mut due } = delivery.state else { return };
        let limit = self.limit(endpoint_id);
        loop {
            let wait = Duration::from_micros(u64::try_from(due - now_micros()).unwrap_or(0));
            tokio::time::sleep(wait).await;
            let target = match (self.view.endpoint(endpoint_id), self.view.contact(endpoint_id)) {
                (Some(endpoint), _) => {
                    if let Some(reason) = &endpoint.disabled {
                        tracing::info!(endpoint = %endpoint_id, %reason, "endpoint disabled; delivery left pending");
                        return;
                    }
                    Target::Webhook(endpoint)
                }
                (None, Some(contact)) => Target::Contact(contact),
                (None, None) => return,
            };
            let started = Instant::now();
            let sent = {
                let _permit = limit.acquire().await.expect("never closed");
                channels::send(&target, &self.keys, &self.config, notification, &delivery.kind, &delivery.body).await
            };
            let sent = match sent {
                Ok(sent) => sent,
                Err(why) => {
                    tracing::warn!(target = %endpoint_id, %why, "cannot send; delivery left pending");
                    return;
                }
            };
            let duration_ms = started.elapsed().as_secs_f64() * 1e3;
            let sent_at = now_micros() / 1_000_000;
            let outcome = Outcome::of(sent.status, sent.retry_after.as_deref(), sent_at);
            let channel = match &target {
                Target::Webhook(_) => "webhook",
                Target::Contact(_) => "contact",
            };
            self.tries.get_or_create(&labels(&[("channel", channel), ("outcome", outcome.as_str())])).inc();
            let next = schedule::next(attempt as usize, outcome, jitter(), self.config.schedule_speed);
            let next_at = match next {
                Next::RetryIn(d) => now_micros() + d.as_micros() as i64,
                _ => 0,
            };
            let attempted = pb::DeliveryAttempted {
                notification_id: notification.clone(),
                attempt,
                status: sent.status.map_or(0, u32::from),
                error: sent.error,
                response: sent.response,
                duration_ms,
                outcome: outcome.as_str().to_owned(),
                next_unix_micros: next_at,
                round: *round,
            };
            let key = format!("{notification}:{endpoint_id}:{round}:{attempt}");
            self.record(endpoint_id, &key, types::ATTEMPTED, attempted.encode_to_vec()).await;
            match next {
                Next::Done => return,
                Next::Disable => {
                    let reason = format!("the endpoint answered 410 Gone to {notification}");
                    let changed = pb::EndpointStateChanged { reason };
                    let key = format!("{endpoint_id}:gone:{notification}:{round}");
                    self.record(endpoint_id, &key, types::ENDPOINT_DISABLED, changed.encode_to_vec()).await;
                    return;
                }
                Next::DeadLetter => {
                    self.dead.get_or_create(&labels(&[("channel", channel)])).inc();
                    let dead = pb::DeliveryDeadLettered {
                        notification_id: notification.clone(),
                        attempts: attempt,
                        round: *round,
                    };
                    let key = format!("{notification}:{endpoint_id}:{round}:dead");
                    self.record(endpoint_id, &key, types::DEAD_LETTERED, dead.encode_to_vec()).await;
                    return;
                }
                Next::RetryIn(_) => {
                    attempt += 1;
                    due = next_at;
                }
            }
        }
    }
}

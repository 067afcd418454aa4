//! The dispatcher: each scheduled delivery is tried to the Standard Webhooks spec until
//! it is delivered, its endpoint is gone, or its last try fails. Each try is recorded
//! (`delivery.attempted`: status, the first bytes of the answer, how long it took, what
//! comes next), so a restart resumes every pending delivery where its log left it. Each
//! endpoint has its own bound on tries in flight, and a delivery waiting for its next
//! try holds nothing: one slow or failing endpoint never delays another's deliveries.

use crate::keys::Keys;
use crate::view::{Job, State, View};
use crate::{deliveries_stream, endpoint_stream, types};
use bytes::Bytes;
use hcp_eventstore::{EventStore, ExpectedVersion};
use hcp_notify::schedule::{self, Next, Outcome};
use hcp_notify::webhook::{self, Secret};
use hcp_proto::v1 as pb;
use hcp_runtime::EventContext;
use hcp_runtime::config::NotificationsConfig;
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
        Dispatcher { store, view, keys, config, limits: Mutex::default(), active: Mutex::default() }
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

    /// The secrets that sign for `endpoint` now (the current one, and the one before it
    /// during the overlap); none when its tenant's key is erased.
    fn secrets(&self, endpoint: &crate::view::Endpoint) -> Option<Vec<Secret>> {
        let tenant = &endpoint.created.tenant;
        let key = self.keys.get(tenant).ok().flatten()?;
        let open = |sealed: &str| {
            let text = key.open(tenant, sealed).ok()?;
            Secret::parse(&String::from_utf8_lossy(&text)).ok()
        };
        let mut secrets = vec![open(&endpoint.secret_sealed)?];
        if let Some((previous, until)) = &endpoint.previous
            && *until > now_micros()
            && let Some(s) = open(previous)
        {
            secrets.push(s);
        }
        Some(secrets)
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
            let Some(endpoint) = self.view.endpoint(endpoint_id) else { return };
            if let Some(reason) = &endpoint.disabled {
                tracing::info!(endpoint = %endpoint_id, %reason, "endpoint disabled; delivery left pending");
                return;
            }
            let Some(secrets) = self.secrets(&endpoint) else {
                tracing::warn!(endpoint = %endpoint_id, "the tenant's key is erased: nothing can be signed or sent");
                return;
            };
            let sent_at = now_micros() / 1_000_000;
            let mut headers: Vec<(&str, String)> =
                webhook::headers(&secrets, notification, sent_at, delivery.body.as_bytes()).into_iter().collect();
            headers.push(("content-type", "application/json".into()));
            let timeout = Duration::from_secs_f64(self.config.timeout_seconds);
            let started = Instant::now();
            let reply = {
                let _permit = limit.acquire().await.expect("never closed");
                let body = Bytes::from(delivery.body.clone());
                hcp_runtime::fetch::post(&endpoint.created.url, &headers, body, timeout).await
            };
            let duration_ms = started.elapsed().as_secs_f64() * 1e3;
            let (status, retry_after, response, error) = match &reply {
                Ok(r) => {
                    let text = String::from_utf8_lossy(&r.body[..r.body.len().min(256)]).into_owned();
                    (Some(r.status), r.retry_after.clone(), text, String::new())
                }
                Err(e) => (None, None, String::new(), e.to_string()),
            };
            let outcome = Outcome::of(status, retry_after.as_deref(), sent_at);
            let next = schedule::next(attempt as usize, outcome, jitter(), self.config.schedule_speed);
            let next_at = match next {
                Next::RetryIn(d) => now_micros() + d.as_micros() as i64,
                _ => 0,
            };
            let attempted = pb::DeliveryAttempted {
                notification_id: notification.clone(),
                attempt,
                status: status.map_or(0, u32::from),
                error,
                response,
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

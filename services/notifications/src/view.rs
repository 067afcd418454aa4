//! The service's view, folded in memory from the whole log at each start: every endpoint
//! (`endpoint-<id>`), every email or SMS contact (`contact-<id>`) and every delivery with its attempts (`deliveries-<endpoint>`).
//! Once live, each delivery scheduled is handed to the dispatcher as it is folded.

use crate::types;
use hcp_eventstore::RecordedEvent;
use hcp_proto::v1 as pb;
use hcp_runtime::reactor::decoded as decode;
use hcp_runtime::{Handler, HandlerError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::mpsc::UnboundedSender;

/// The view's consumer name (in memory).
pub const VIEW: &str = "notifications-view";

/// An endpoint as the log has it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// As created.
    pub created: pb::EndpointCreated,
    /// The secret in use, sealed.
    pub secret_sealed: String,
    /// The secret before the last rotation, sealed, and until when it still signs.
    pub previous: Option<(String, i64)>,
    /// Why it is disabled, if it is.
    pub disabled: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// To be tried: the next attempt's number and when it is due (Unix micros).
    Pending {
        /// The attempt's number in this round (1 for the first).
        attempt: u32,
        /// When.
        due: i64,
    },
    /// A 2xx came back.
    Delivered,
    /// The last attempt failed.
    DeadLettered,
    /// The endpoint answered 410.
    Gone,
}

impl State {
    fn as_str(&self) -> &'static str {
        match self {
            State::Pending { .. } => "pending",
            State::Delivered => "delivered",
            State::DeadLettered => "dead_lettered",
            State::Gone => "gone",
        }
    }
}

/// One notification's delivery to one endpoint.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The notification's type.
    pub kind: String,
    /// The body sent.
    pub body: String,
    /// The round (1; a replay starts another).
    pub round: u32,
    /// Every attempt, of every round.
    pub attempts: Vec<pb::DeliveryAttempted>,
    /// Where it stands.
    pub state: State,
    /// When it was scheduled (Unix micros): the order deliveries are listed in.
    pub scheduled: i64,
}

/// What the dispatcher is handed: a delivery's endpoint, notification and round.
pub type Job = (String, String, u32);

#[derive(Default)]
struct Inner {
    endpoints: BTreeMap<String, Endpoint>,
    contacts: BTreeMap<String, pb::ContactCreated>,
    /// Endpoint → notification → delivery.
    deliveries: HashMap<String, BTreeMap<String, Delivery>>,
    live: Option<UnboundedSender<Job>>,
}

/// The view.
#[derive(Default)]
pub struct View {
    inner: Mutex<Inner>,
}

impl View {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Folds one event.
    pub fn apply(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        if let Some(id) = event.stream.strip_prefix("endpoint-") {
            return self.apply_endpoint(id, event);
        }
        if let Some(id) = event.stream.strip_prefix("contact-") {
            if event.event_type == types::CONTACT_CREATED {
                let created: pb::ContactCreated = decode(event)?;
                self.lock().contacts.insert(id.to_owned(), created);
            }
            return Ok(());
        }
        let Some(endpoint) = event.stream.strip_prefix("deliveries-") else { return Ok(()) };
        let mut inner = self.lock();
        let job = match event.event_type.as_str() {
            types::SCHEDULED => {
                let s: pb::DeliveryScheduled = decode(event)?;
                let delivery = Delivery {
                    kind: s.r#type,
                    body: s.body,
                    round: s.round,
                    attempts: inner
                        .deliveries
                        .get(endpoint)
                        .and_then(|d| d.get(&s.notification_id))
                        .map(|d| d.attempts.clone())
                        .unwrap_or_default(),
                    state: State::Pending { attempt: 1, due: event.metadata.time_unix_micros },
                    scheduled: event.metadata.time_unix_micros,
                };
                inner.deliveries.entry(endpoint.to_owned()).or_default().insert(s.notification_id.clone(), delivery);
                Some((endpoint.to_owned(), s.notification_id, s.round))
            }
            types::ATTEMPTED => {
                let a: pb::DeliveryAttempted = decode(event)?;
                if let Some(d) = inner.deliveries.get_mut(endpoint).and_then(|d| d.get_mut(&a.notification_id))
                    && a.round == d.round
                {
                    d.state = match a.outcome.as_str() {
                        "delivered" => State::Delivered,
                        "gone" => State::Gone,
                        _ => State::Pending { attempt: a.attempt + 1, due: a.next_unix_micros },
                    };
                    d.attempts.push(a);
                }
                None
            }
            types::DEAD_LETTERED => {
                let a: pb::DeliveryDeadLettered = decode(event)?;
                if let Some(d) = inner.deliveries.get_mut(endpoint).and_then(|d| d.get_mut(&a.notification_id))
                    && a.round == d.round
                {
                    d.state = State::DeadLettered;
                }
                None
            }
            _ => None,
        };
        if let (Some(job), Some(live)) = (job, inner.live.as_ref()) {
            let _ = live.send(job);
        }
        Ok(())
    }

    fn apply_endpoint(&self, id: &str, event: &RecordedEvent) -> Result<(), HandlerError> {
        let mut inner = self.lock();
        match event.event_type.as_str() {
            types::ENDPOINT_CREATED => {
                let created: pb::EndpointCreated = decode(event)?;
                let secret_sealed = created.secret_sealed.clone();
                inner
                    .endpoints
                    .insert(id.to_owned(), Endpoint { created, secret_sealed, previous: None, disabled: None });
            }
            types::SECRET_ROTATED => {
                let r: pb::EndpointSecretRotated = decode(event)?;
                if let Some(e) = inner.endpoints.get_mut(id) {
                    e.secret_sealed = r.secret_sealed;
                    e.previous = Some((r.previous_sealed, r.previous_until_unix_micros));
                }
            }
            types::ENDPOINT_DISABLED => {
                let c: pb::EndpointStateChanged = decode(event)?;
                if let Some(e) = inner.endpoints.get_mut(id) {
                    e.disabled = Some(c.reason);
                }
            }
            types::ENDPOINT_ENABLED => {
                if let Some(e) = inner.endpoints.get_mut(id) {
                    e.disabled = None;
                }
                // What waited while it was disabled goes on.
                if let Some(live) = inner.live.as_ref() {
                    let pending = inner.deliveries.get(id).into_iter().flatten();
                    for (notification, d) in pending.filter(|(_, d)| matches!(d.state, State::Pending { .. })) {
                        let _ = live.send((id.to_owned(), notification.clone(), d.round));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// From now on, hands each delivery scheduled to `jobs`; answers the deliveries
    /// pending now (to resume).
    pub fn go_live(&self, jobs: UnboundedSender<Job>) -> Vec<Job> {
        let mut inner = self.lock();
        inner.live = Some(jobs);
        inner
            .deliveries
            .iter()
            .flat_map(|(endpoint, ds)| {
                ds.iter()
                    .filter(|(_, d)| matches!(d.state, State::Pending { .. }))
                    .map(|(id, d)| (endpoint.clone(), id.clone(), d.round))
            })
            .collect()
    }

    /// An endpoint.
    pub fn endpoint(&self, id: &str) -> Option<Endpoint> {
        self.lock().endpoints.get(id).cloned()
    }

    /// A tenant's endpoints.
    pub fn endpoints(&self, tenant: &str) -> Vec<Endpoint> {
        self.lock().endpoints.values().filter(|e| e.created.tenant == tenant).cloned().collect()
    }

    /// A contact.
    pub fn contact(&self, id: &str) -> Option<pb::ContactCreated> {
        self.lock().contacts.get(id).cloned()
    }

    /// A tenant's contacts.
    pub fn contacts(&self, tenant: &str) -> Vec<pb::ContactCreated> {
        self.lock().contacts.values().filter(|c| c.tenant == tenant).cloned().collect()
    }

    /// A delivery.
    pub fn delivery(&self, endpoint: &str, notification: &str) -> Option<Delivery> {
        self.lock().deliveries.get(endpoint).and_then(|d| d.get(notification)).cloned()
    }

    /// An endpoint's deliveries, newest first.
    pub fn deliveries(&self, endpoint: &str) -> Vec<pb::DeliveryView> {
        let inner = self.lock();
        let mut out: Vec<(&i64, pb::DeliveryView)> = inner
            .deliveries
            .get(endpoint)
            .into_iter()
            .flatten()
            .map(|(id, d)| {
                let view = pb::DeliveryView {
                    notification_id: id.clone(),
                    r#type: d.kind.clone(),
                    state: d.state.as_str().to_owned(),
                    attempts: d.attempts.clone(),
                };
                (&d.scheduled, view)
            })
            .collect();
        out.sort_by(|a, b| b.0.cmp(a.0).then_with(|| b.1.notification_id.cmp(&a.1.notification_id)));
        out.into_iter().map(|(_, v)| v).collect()
    }

    /// An endpoint's dead-lettered deliveries: (notification, round).
    pub fn dead_lettered(&self, endpoint: &str) -> Vec<(String, Delivery)> {
        let inner = self.lock();
        let all = inner.deliveries.get(endpoint).into_iter().flatten();
        all.filter(|(_, d)| d.state == State::DeadLettered).map(|(id, d)| (id.clone(), d.clone())).collect()
    }
}

/// The handler that folds the view.
pub struct Folder(pub Arc<View>);

impl Handler for Folder {
    fn name(&self) -> &str {
        VIEW
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        ["endpoint-", "contact-", "deliveries-"].iter().any(|p| event.stream.starts_with(p))
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.0.apply(event)
    }
}

//! The rules: which events people need to hear about, as notifications.
//!
//! - a workload failed or was preempted: its tenant;
//! - a budget threshold crossed: its tenant;
//! - for the platform's operators (tenant `platform`): a curtailment started, a miner
//!   command failed (a curtailment that did not take), a device gone offline (not one
//!   curtailed on purpose), a demand-response signal stale or its target missed, a price
//!   above `notifications.price_alert_usd_mwh`, a plan's margin below
//!   `notifications.margin_alert_usd_per_hour`.
//!
//! Alerts are grouped by (tenant, type, subject) and one is not raised again within the
//! repeat interval (by the events' own times), as Alertmanager's `repeat_interval`, so a
//! flapping condition does not spam. Each notification's id derives from its cause.
//!
//! Nothing the rules decide by rests on memory alone, so a restart changes none of it:
//! when a tenant's alerts were last raised is read back from its `notify-<tenant>` stream
//! the first time the tenant is seen, and whether a device that went offline was
//! curtailed on purpose is read from its own stream, as it stood just before.

use crate::{notify_stream, types};
use hcp_domain::units::Timestamp;
use hcp_eventstore::{Direction, EventStore, NewEvent, RecordedEvent, Tails};
use hcp_proto::v1 as pb;
use hcp_runtime::{EventContext, Handler, HandlerError};
use prost::Message;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::Mutex;

/// The rules' durable consumer name.
pub const RULES: &str = "notifications-rules";
/// The tenant of notifications for the platform's operators.
pub const PLATFORM: &str = "platform";
/// The event types the rules raise notifications for.
pub const WATCHED: [&str; 10] = [
    "workload.failed",
    "workload.preempted",
    "budget.threshold_crossed",
    "curtailment.started",
    "miner.command_failed",
    "resource.health_changed",
    "demand_response.stale",
    "demand_response.missed",
    "price.observed",
    "allocation.planned",
];

#[derive(Default)]
struct State {
    /// Workload stream → tenant.
    tenants: HashMap<String, String>,
    /// (tenant, type, subject) → when last raised (Unix micros, event time).
    last: HashMap<(String, String, String), i64>,
    /// The tenants whose recent notifications `last` holds (read back from their streams).
    recalled: HashSet<String>,
    tails: Tails,
}

/// How many events the rules read from a stream at a time when they look back.
const PAGE: usize = 256;

/// The handler.
pub struct Rules<S> {
    store: Arc<S>,
    repeat_micros: i64,
    price_above: Option<f64>,
    margin_below: Option<f64>,
    state: Mutex<State>,
}

impl<S> Rules<S> {
    /// Rules over `store`, with `config`'s repeat interval and levels.
    pub fn new(store: Arc<S>, config: &hcp_runtime::config::NotificationsConfig) -> Self {
        Rules {
            store,
            repeat_micros: (config.repeat_seconds * 1e6) as i64,
            price_above: config.price_alert_usd_mwh,
            margin_below: config.margin_alert_usd_per_hour,
            state: Mutex::default(),
        }
    }
}

/// The notification event for `kind` about `subject` at `at` (Unix micros), with its
/// data; `endpoint` names the only endpoint it goes to (a test), or is empty. Its id
/// (the webhook id) is the event's, from `context`.
pub fn notification(
    context: &EventContext,
    at: i64,
    tenant: &str,
    kind: &str,
    subject: &str,
    data: serde_json::Value,
    endpoint: &str,
) -> NewEvent {
    let mut event = context.event(0, types::RAISED, Vec::new(), at);
    let body =
        serde_json::json!({"type": kind, "timestamp": Timestamp::from_unix_micros(at).to_string(), "data": data});
    let n = pb::Notification {
        id: format!("msg_{}", event.id.simple()),
        tenant: tenant.to_owned(),
        r#type: kind.to_owned(),
        subject: subject.to_owned(),
        body: body.to_string(),
        raised_unix_micros: at,
        endpoint: endpoint.to_owned(),
    };
    event.payload = n.encode_to_vec().into();
    event
}

impl<S: EventStore> Rules<S> {
    /// Whether a platform event is worth an alert (and what it is about).
    async fn platform_alert(&self, event: &RecordedEvent) -> Result<Option<String>, HandlerError> {
        let bad = |why: prost::DecodeError| HandlerError::corrupt(event, why);
        Ok(match event.event_type.as_str() {
            "resource.health_changed" => {
                let changed = pb::ResourceHealthChanged::decode(event.payload.as_ref()).map_err(bad)?;
                let offline = changed.to == pb::ResourceHealth::Offline as i32;
                (offline && !self.curtailed_before(event).await?).then(|| event.stream.clone())
            }
            "price.observed" => {
                let p = pb::PriceObserved::decode(event.payload.as_ref()).map_err(bad)?;
                self.price_above.filter(|level| p.real_time_usd_mwh > *level).map(|_| p.site)
            }
            "allocation.planned" => {
                let plan = pb::AllocationPlanned::decode(event.payload.as_ref()).map_err(bad)?;
                self.margin_below.filter(|level| plan.margin_usd_per_hour < *level).map(|_| plan.site)
            }
            _ => Some(event.stream.clone()),
        })
    }

    /// Whether the resource `event` is about was curtailed on purpose just before it:
    /// the last mode it was put in, read from its stream backwards from the event.
    async fn curtailed_before(&self, event: &RecordedEvent) -> Result<bool, HandlerError> {
        let mut before = event.version.saturating_sub(1);
        while before > 0 {
            let page = self
                .store
                .read_stream(&event.stream, before, Direction::Backwards, PAGE)
                .await
                .map_err(HandlerError::from)?;
            if let Some(changed) = page.iter().find(|e| e.event_type == "resource.mode_changed") {
                let mode = pb::ResourceModeChanged::decode(changed.payload.as_ref())
                    .map_err(|why| HandlerError::corrupt(changed, why))?;
                return Ok(mode.to == pb::ResourceMode::Curtailed as i32);
            }
            let Some(oldest) = page.last() else { break };
            before = oldest.version.saturating_sub(1);
        }
        Ok(false)
    }

    /// Fills `last` with when each of `tenant`'s alerts was last raised, from its stream
    /// (so what an earlier run raised counts after a restart); once per tenant. The whole
    /// stream is read: its events' times need not be in order (a price series replayed
    /// beside live workloads), so no earlier point can be taken as the end.
    async fn recall(&self, state: &mut State, tenant: &str) -> Result<(), HandlerError> {
        if state.recalled.contains(tenant) {
            return Ok(());
        }
        let stream = notify_stream(tenant);
        let mut from = 1;
        loop {
            let page =
                self.store.read_stream(&stream, from, Direction::Forwards, PAGE).await.map_err(HandlerError::from)?;
            for e in page.iter().filter(|e| e.event_type == types::RAISED) {
                let n = pb::Notification::decode(e.payload.as_ref()).map_err(|why| HandlerError::corrupt(e, why))?;
                if n.endpoint.is_empty() {
                    let last = state.last.entry((n.tenant, n.r#type, n.subject)).or_insert(n.raised_unix_micros);
                    *last = (*last).max(n.raised_unix_micros);
                }
            }
            match page.last() {
                Some(newest) if page.len() == PAGE => from = newest.version + 1,
                _ => break,
            }
        }
        state.recalled.insert(tenant.to_owned());
        Ok(())
    }

    async fn tenant_of(&self, state: &mut State, event: &RecordedEvent) -> Result<Option<String>, HandlerError> {
        if let Some(t) = state.tenants.get(&event.stream) {
            return Ok(Some(t.clone()));
        }
        let first =
            self.store.read_stream(&event.stream, 1, Direction::Forwards, 1).await.map_err(HandlerError::from)?;
        let Some(submitted) = first.first().filter(|e| e.event_type == "workload.submitted") else { return Ok(None) };
        let tenant = submitted.metadata.tenant.clone().or_else(|| {
            hcp_proto::descriptors::payload_to_json(&submitted.event_type, &submitted.payload)
                .ok()
                .and_then(|j| j["spec"]["tenant"].as_str().map(ToOwned::to_owned))
        });
        if let Some(t) = &tenant {
            state.tenants.insert(event.stream.clone(), t.clone());
        }
        Ok(tenant)
    }
}

impl<S: EventStore> Handler for Rules<S> {
    fn name(&self) -> &str {
        RULES
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        WATCHED.contains(&event.event_type.as_str())
            || (event.event_type == "workload.submitted" && event.stream.starts_with("workload-"))
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let mut state = self.state.lock().await;
        let state = &mut *state;
        if event.event_type == "workload.submitted" {
            if let Some(t) = &event.metadata.tenant {
                state.tenants.insert(event.stream.clone(), t.clone());
            }
            return Ok(());
        }
        let (tenant, subject) = if let Some(workload) = event.stream.strip_prefix("workload-") {
            let Some(tenant) = self.tenant_of(state, event).await? else { return Ok(()) };
            (tenant, workload.to_owned())
        } else if let Some(tenant) = event.stream.strip_prefix("budget-") {
            // Each threshold is its own alert (grouping would keep 80% and 100% back behind 50%).
            let crossed: pb::BudgetThresholdCrossed = pb::BudgetThresholdCrossed::decode(event.payload.as_ref())
                .map_err(|why| HandlerError::corrupt(event, why))?;
            (tenant.to_owned(), format!("budget {}%", crossed.percent))
        } else {
            let Some(subject) = self.platform_alert(event).await? else { return Ok(()) };
            (PLATFORM.to_owned(), subject)
        };
        let key = (tenant.clone(), event.event_type.clone(), subject.clone());
        let at = event.metadata.time_unix_micros;
        self.recall(state, &tenant).await?;
        if state.last.get(&key).is_some_and(|last| at - last < self.repeat_micros) {
            return Ok(());
        }
        let mut data = hcp_proto::descriptors::payload_to_json(&event.event_type, &event.payload)
            .unwrap_or_else(|_| serde_json::json!({}));
        if let Some(object) = data.as_object_mut() {
            object.insert("subject".into(), serde_json::Value::from(subject.as_str()));
        }
        let context = EventContext::caused_by("notifications", event).with_tenant(tenant.as_str());
        let raised = notification(&context, at, &tenant, &event.event_type, &subject, data, "");
        state
            .tails
            .append_once(self.store.as_ref(), &notify_stream(&tenant), raised)
            .await
            .map_err(HandlerError::from)?;
        state.last.insert(key, at);
        Ok(())
    }
}

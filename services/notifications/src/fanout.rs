//! The fan-out: each notification raised is scheduled to every endpoint and contact of
//! its tenant that takes its type (endpoints: not disabled), or only to the one it names, as
//! `delivery.scheduled` on `deliveries-<endpoint>`, with an id derived from the
//! notification and the endpoint. A delivery the view already knows is not scheduled
//! again.

use crate::view::View;
use crate::{deliveries_stream, types};
use hcp_eventstore::{EventStore, ExpectedVersion, RecordedEvent};
use hcp_proto::v1 as pb;
use hcp_runtime::host::ReactorWatch;
use hcp_runtime::{EventContext, Handler, HandlerError};
use prost::Message;
use std::sync::Arc;

/// The fan-out's durable consumer name.
pub const FANOUT: &str = "notifications-fanout";

/// The handler.
pub struct Fanout<S> {
    store: Arc<S>,
    view: Arc<View>,
    watch: ReactorWatch,
}

impl<S> Fanout<S> {
    /// A fan-out over `store`, its endpoints from `view` (folded by the reactor `watch`
    /// follows: each notification waits until the view has seen the log up to it).
    pub fn new(store: Arc<S>, view: Arc<View>, watch: ReactorWatch) -> Self {
        Fanout { store, view, watch }
    }
}

/// Schedules `notification` (round `round`) to `endpoint`.
pub async fn schedule<S: EventStore>(
    store: &S,
    endpoint: &str,
    notification: &pb::Notification,
    round: u32,
    at: i64,
) -> Result<(), hcp_eventstore::StoreError> {
    let scheduled = pb::DeliveryScheduled {
        notification_id: notification.id.clone(),
        r#type: notification.r#type.clone(),
        body: notification.body.clone(),
        round,
    };
    let key = format!("{}:{endpoint}:{round}", notification.id);
    let context = EventContext::new("notifications").with_tenant(notification.tenant.as_str()).with_ids_from_key(&key);
    let event = context.event(0, types::SCHEDULED, scheduled.encode_to_vec(), at);
    store.append(&deliveries_stream(endpoint), ExpectedVersion::Any, vec![event]).await.map(|_| ())
}

impl<S: EventStore> Handler for Fanout<S> {
    fn name(&self) -> &str {
        FANOUT
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.event_type == types::RAISED
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let n = pb::Notification::decode(event.payload.as_ref()).map_err(|why| HandlerError::corrupt(event, why))?;
        self.watch.caught_up(event.position).await;
        let takes = |types: &[String]| types.is_empty() || types.contains(&n.r#type);
        let endpoints = self.view.endpoints(&n.tenant).into_iter().filter_map(|e| {
            let chosen = if n.endpoint.is_empty() {
                takes(&e.created.types) && e.disabled.is_none()
            } else {
                e.created.id == n.endpoint
            };
            chosen.then_some(e.created.id)
        });
        let contacts = self.view.contacts(&n.tenant).into_iter().filter_map(|c| {
            let chosen = if n.endpoint.is_empty() { takes(&c.types) } else { c.id == n.endpoint };
            chosen.then_some(c.id)
        });
        // One stream each: appended together.
        let at = event.metadata.time_unix_micros;
        let n = &n;
        let targets: Vec<String> =
            endpoints.chain(contacts).filter(|target| self.view.delivery(target, &n.id).is_none()).collect();
        let sends = targets.iter().map(|target| schedule(self.store.as_ref(), target, n, 1, at));
        for done in futures_util::future::join_all(sends.collect::<Vec<_>>()).await {
            done.map_err(HandlerError::from)?;
        }
        Ok(())
    }
}

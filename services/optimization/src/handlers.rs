//! Optimization's handlers on the log.
//!
//! - [`View`]: its own projections, the fleet and the price book, folded in memory
//!   from the beginning of the log each start.
//! - [`Planner`]: plans a site each time a `price.observed` event for it is recorded,
//!   from its durable checkpoint, so a restarted optimizer plans every interval it
//!   missed and none twice (a plan's ids derive from its price event's id, so handling
//!   that event again appends nothing new). Before planning it waits for the view to
//!   have folded the log up to the price event.

use crate::fleet::{ALLOCATION_TARGETED, Fleet};
use crate::service::{Optimizer, PlanError};
use hcp_eventstore::{EventStore, RecordedEvent};
use hcp_market::Book;
use hcp_market::streams::{BITCOIN_DAY_OBSERVED, DAY_AHEAD_PUBLISHED, PRICE_OBSERVED};
use hcp_proto::v1 as pb;
use hcp_runtime::host::ReactorWatch;
use hcp_runtime::{ErrorCode, EventContext, Handler, HandlerError};
use prost::Message;
use std::sync::Arc;

/// The consumer name of the view (in memory: it has no checkpoint).
pub const VIEW: &str = "optimization-view";
/// The planner's durable consumer name.
pub const PLANNER: &str = "optimization-planner";

/// The fleet and the market as the log records them.
pub struct View {
    /// Devices and their targets.
    pub fleet: Arc<Fleet>,
    /// Prices and hashprice.
    pub book: Arc<Book>,
    /// Caps and policies.
    pub sites: Arc<crate::sites::Sites>,
}

impl Handler for View {
    fn name(&self) -> &str {
        VIEW
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.stream.starts_with("resource-")
            || event.stream.starts_with("site-")
            || event.stream.starts_with("control-")
            || event.stream.starts_with("curtailment-")
            || event.stream.starts_with("workload-")
            || matches!(
                event.event_type.as_str(),
                PRICE_OBSERVED | DAY_AHEAD_PUBLISHED | BITCOIN_DAY_OBSERVED | ALLOCATION_TARGETED
            )
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.fleet.apply(event).map_err(|e| HandlerError::new(ErrorCode::Internal, e))?;
        self.sites.apply(event).map_err(|e| HandlerError::new(ErrorCode::Internal, e))?;
        self.book.apply(event).map_err(|e| HandlerError::new(ErrorCode::Internal, e))
    }
}

/// Called with each plan recorded (`hcp up` prints them).
pub type OnPlan = Arc<dyn Fn(&pb::AllocationPlanned) + Send + Sync>;

/// Plans on each recorded price.
pub struct Planner<S> {
    /// The optimizer.
    pub optimizer: Arc<Optimizer<S>>,
    /// The view's progress.
    pub view: ReactorWatch,
    /// Called with each plan recorded.
    pub on_plan: Option<OnPlan>,
    /// Plans and their figures, for /metrics.
    pub metrics: crate::metrics::PlanMetrics,
}

impl<S: EventStore> Handler for Planner<S> {
    fn name(&self) -> &str {
        PLANNER
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.event_type == PRICE_OBSERVED
            && event.stream.strip_prefix("prices-").is_some_and(|site| self.optimizer.sites().any(|s| s == site))
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let price = pb::PriceObserved::decode(event.payload.as_ref()).map_err(|e| HandlerError::corrupt(event, e))?;
        if !self.view.caught_up(event.position).await {
            return Err(HandlerError::new(ErrorCode::Unavailable, "the view stopped"));
        }
        let quote = hcp_market::streams::quote(price);
        let context = EventContext::caused_by(PLANNER, event);
        match self.optimizer.plan_at(&quote.site, &quote, &context).await {
            Ok(plan) => {
                tracing::info!(site = %plan.site, plan = %plan.plan_id, summary = %plan.summary, "planned");
                self.metrics.planned(&plan);
                if let Some(f) = &self.on_plan {
                    f(&plan);
                }
                Ok(())
            }
            Err(e) => {
                self.metrics.missed(&quote.site, &e);
                if let PlanError::Store(e) = e {
                    return Err(e.into());
                }
                // Nothing to plan for this interval (no devices or hashprice yet, or no
                // feasible plan): recorded as nothing, the next interval tries again.
                tracing::debug!(site = %quote.site, error = %e, "no plan for this interval");
                Ok(())
            }
        }
    }
}

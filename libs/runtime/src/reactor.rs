//! Reactors and projections: a handler fed the global log, catch-up then live.
//!
//! - A **checkpointed** handler starts after its durable checkpoint (the store's) and
//!   commits the checkpoint after each batch it has handled, so a restart resumes where
//!   it left off; delivery is at least once, so handlers are idempotent by event id
//!   (events they append get ids derived from the cause: see [`crate::context`]).
//! - An **in-memory** projection starts from the beginning of the log each time the
//!   process starts (its state is in memory only).
//!
//! A failing subscription (store down, broker restarted) is started again from the last
//! handled position with exponential backoff, counted in `hcp_projection_restarts_total`
//! and logged; nothing waits on it forever. A handler error that retrying can fix is
//! retried the same way; any other is logged, counted in `hcp_events_failed_total` and
//! skipped, so one poisoned event does not stop the service. Lag (the store's head minus
//! the last handled position) is sampled every second into `hcp_projection_lag_events`.

use crate::error::ErrorCode;
use crate::metrics::Metrics;
use hcp_eventstore::{EventStore, Position, RecordedEvent};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Why a handler could not handle an event.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct HandlerError {
    /// What kind of failure; retryable codes are retried.
    pub code: ErrorCode,
    /// What went wrong.
    pub message: String,
}

impl HandlerError {
    /// An error of `code`.
    pub fn new(code: ErrorCode, message: impl std::fmt::Display) -> Self {
        HandlerError { code, message: message.to_string() }
    }
}

impl HandlerError {
    /// A stored event this handler cannot read (`stream vN: why`); not retried.
    pub fn corrupt(event: &RecordedEvent, why: impl std::fmt::Display) -> Self {
        HandlerError::new(ErrorCode::Internal, format!("{} v{}: {why}", event.stream, event.version))
    }
}

/// `event`'s payload as message `M`, or why it cannot be read.
pub fn decoded<M: prost::Message + Default>(event: &RecordedEvent) -> Result<M, HandlerError> {
    M::decode(event.payload.as_ref()).map_err(|why| HandlerError::corrupt(event, why))
}

impl<E: crate::error::HasErrorCode> From<E> for HandlerError {
    fn from(e: E) -> Self {
        HandlerError::new(e.code(), &e)
    }
}

/// Something that reacts to events of the global log.
pub trait Handler: Send + Sync + 'static {
    /// Its consumer name: the checkpoint's key and the metrics label.
    fn name(&self) -> &str;
    /// Whether it wants `event` at all (others pass by without a call).
    fn wants(&self, event: &RecordedEvent) -> bool {
        let _ = event;
        true
    }
    /// Handles one event.
    fn handle(&self, event: &RecordedEvent) -> impl Future<Output = Result<(), HandlerError>> + Send;
    /// Called after each batch, `last` its last position: answers the position through
    /// which everything handled is finished, which is what the checkpoint commits (at
    /// most `last`; 0: nothing yet). A handler that sends without waiting for each
    /// acknowledgement may keep the latest batch in flight and answer an earlier
    /// position. An error hands everything after the last commit to it again.
    fn flush(&self, last: Position) -> impl Future<Output = Result<Position, HandlerError>> + Send {
        async move { Ok(last) }
    }
    /// Finishes everything handled (at shutdown, before the last commit).
    fn finish(&self) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async { Ok(()) }
    }
}

/// Where a handler starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// After its stored checkpoint; commits one after each batch.
    Checkpointed,
    /// From the beginning of the log, each time the process starts.
    InMemory,
}

/// A running handler: its position, and the task feeding it.
pub struct ReactorHandle {
    name: String,
    position: watch::Receiver<Position>,
    task: tokio::task::JoinHandle<()>,
}

impl ReactorHandle {
    /// The consumer name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The last position handled.
    pub fn position(&self) -> Position {
        *self.position.borrow()
    }

    /// A receiver of the last position handled.
    pub fn watch(&self) -> watch::Receiver<Position> {
        self.position.clone()
    }

    /// Waits until the handler has handled the log up to `position`; `false` if it
    /// stopped first (shutdown).
    pub async fn caught_up(&self, position: Position) -> bool {
        let mut rx = self.position.clone();
        rx.wait_for(|p| *p >= position).await.is_ok()
    }

    /// Waits for the task to end (after shutdown: its last checkpoint committed).
    pub async fn join(self) {
        let _ = self.task.await;
    }

    /// Stops the task now, without committing (for tests of crashes).
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// The first retry waits this long; each next one twice as long, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Starts `handler` on `store`'s log; it runs until `shutdown` is cancelled.
pub fn spawn<S: EventStore, H: Handler>(
    store: Arc<S>,
    handler: Arc<H>,
    durability: Durability,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> ReactorHandle {
    let name = handler.name().to_owned();
    let (tx, position) = watch::channel(0);
    let task = tokio::spawn(run(store, handler, durability, metrics, shutdown, tx));
    ReactorHandle { name, position, task }
}

async fn run<S: EventStore, H: Handler>(
    store: Arc<S>,
    handler: Arc<H>,
    durability: Durability,
    metrics: Metrics,
    shutdown: CancellationToken,
    position: watch::Sender<Position>,
) {
    let labels = Metrics::projection(handler.name());
    // Its failure counters start at 0, so `increase()` sees the first failure.
    metrics.projection_restarts.get_or_create(&labels).inc_by(0);
    metrics.events_failed.get_or_create(&labels).inc_by(0);
    let mut backoff = FIRST_BACKOFF;
    let mut last: Option<Position> = None;
    let mut committed: Option<Position> = None;
    let mut lag = tokio::time::interval(Duration::from_secs(1));
    lag.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    'subscribe: loop {
        if shutdown.is_cancelled() {
            break;
        }
        if last.is_none() && durability == Durability::Checkpointed {
            match store.load_checkpoint(handler.name()).await {
                Ok(cp) => {
                    last = cp;
                    committed = cp;
                }
                Err(e) => {
                    tracing::warn!(handler = handler.name(), error = %e, "cannot load the checkpoint; retrying");
                    metrics.projection_restarts.get_or_create(&labels).inc();
                    if !pause(&shutdown, &mut backoff).await {
                        break;
                    }
                    continue;
                }
            }
            if let Some(p) = last {
                position.send_replace(p);
            }
        }
        let from = last.map_or(0, |p| p + 1);
        let mut sub = match store.subscribe(from).await {
            Ok(sub) => sub,
            Err(e) => {
                tracing::warn!(handler = handler.name(), from, error = %e, "cannot subscribe; retrying");
                metrics.projection_restarts.get_or_create(&labels).inc();
                if !pause(&shutdown, &mut backoff).await {
                    break;
                }
                continue;
            }
        };
        loop {
            let batch = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break 'subscribe,
                _ = lag.tick() => {
                    if let Ok(head) = store.head().await {
                        let lag = store.distance(last.unwrap_or(0), head);
                        metrics.projection_lag.get_or_create(&labels).set(lag as i64);
                    }
                    continue;
                }
                batch = sub.next_batch() => batch,
            };
            let batch = match batch {
                Some(Ok(batch)) => batch,
                Some(Err(e)) => {
                    tracing::warn!(handler = handler.name(), error = %e, "subscription failed; starting it again");
                    metrics.projection_restarts.get_or_create(&labels).inc();
                    if !pause(&shutdown, &mut backoff).await {
                        break 'subscribe;
                    }
                    continue 'subscribe;
                }
                None => {
                    tracing::warn!(handler = handler.name(), "subscription ended; starting it again");
                    metrics.projection_restarts.get_or_create(&labels).inc();
                    if !pause(&shutdown, &mut backoff).await {
                        break 'subscribe;
                    }
                    continue 'subscribe;
                }
            };
            backoff = FIRST_BACKOFF;
            for event in &batch {
                if handler.wants(event) && !handle(&*handler, event, &metrics, &shutdown).await {
                    // Shut down while retrying: this event is not handled, so not committed.
                    break 'subscribe;
                }
                last = Some(event.position);
            }
            let Some(p) = last else { continue };
            let finished = match handler.flush(p).await {
                Ok(finished) => finished.min(p),
                Err(e) => {
                    tracing::warn!(handler = handler.name(), error = %e, "cannot finish the batch; handling it again");
                    metrics.projection_restarts.get_or_create(&labels).inc();
                    last = committed;
                    if !pause(&shutdown, &mut backoff).await {
                        break 'subscribe;
                    }
                    continue 'subscribe;
                }
            };
            metrics.events_handled.get_or_create(&labels).inc_by(batch.len() as u64);
            metrics.projection_position.get_or_create(&labels).set(p as i64);
            if durability == Durability::Checkpointed && finished > committed.unwrap_or(0) {
                match store.save_checkpoint(handler.name(), finished).await {
                    Ok(()) => committed = Some(finished),
                    Err(e) => tracing::warn!(handler = handler.name(), error = %e, "cannot commit the checkpoint"),
                }
            }
            position.send_replace(p);
        }
    }
    if durability == Durability::Checkpointed && committed != last {
        // What the last batch began must be finished before its position is committed.
        let finished = match handler.finish().await {
            Ok(()) => last,
            Err(e) => {
                tracing::warn!(handler = handler.name(), error = %e, "cannot finish the batch at shutdown");
                committed
            }
        };
        if let Some(p) = finished.filter(|_| finished != committed)
            && let Err(e) = store.save_checkpoint(handler.name(), p).await
        {
            tracing::warn!(handler = handler.name(), error = %e, "cannot commit the checkpoint at shutdown");
        }
    }
}

/// Handles one event, retrying what can be retried; `false` if shut down meanwhile.
async fn handle<H: Handler>(
    handler: &H,
    event: &RecordedEvent,
    metrics: &Metrics,
    shutdown: &CancellationToken,
) -> bool {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let span = crate::telemetry::event_span(handler.name(), event);
        match handler.handle(event).instrument(span).await {
            Ok(()) => return true,
            Err(e) if e.code.is_retryable() => {
                tracing::warn!(handler = handler.name(), position = event.position, error = %e, "handler failed; retrying");
                if !pause(shutdown, &mut backoff).await {
                    return false;
                }
            }
            Err(e) => {
                tracing::error!(
                    handler = handler.name(),
                    position = event.position,
                    event_type = %event.event_type,
                    stream = %event.stream,
                    error = %e,
                    "handler refused an event; skipping it"
                );
                metrics.events_failed.get_or_create(&Metrics::projection(handler.name())).inc();
                return true;
            }
        }
    }
}

/// Sleeps for the backoff and doubles it; `false` if shut down meanwhile.
async fn pause(shutdown: &CancellationToken, backoff: &mut Duration) -> bool {
    let wait = *backoff;
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(wait) => true,
    }
}

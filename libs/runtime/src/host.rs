//! The process that hosts services: one per `hcp serve <service>` and one for all of
//! `hcp up`, so both go through the same code.
//!
//! A service hands the host its gRPC services ([`Host::serve`]), its reactors
//! ([`Host::reactor`]) and background tasks ([`Host::spawn`]). The host binds its
//! listeners before anything runs (port 0 in tests), announces it in the log
//! (`service.started` in `service-<name>`), and on SIGINT or SIGTERM
//! ([`Host::run_until_shutdown`]) stops intake, drains in-flight calls, lets reactors
//! commit their checkpoints, stops tasks and announces `service.stopped`, all within the
//! grace period.

use crate::context::EventContext;
use crate::grpc::{GrpcListener, GrpcServices};
use crate::http::HttpListener;
use crate::metrics::{InfoLabels, Metrics};
use crate::reactor::{self, Durability, Handler, ReactorHandle};
use hcp_eventstore::{EventStore, ExpectedVersion, Position};
use hcp_proto::v1 as pb;
use prost::Message;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The build's version, announced by every service.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The stream a service announces itself in.
pub fn service_stream(service: &str) -> String {
    format!("service-{service}")
}

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not be bound.
    #[error("{service}: cannot bind its {what} listener on {addr}: {source}")]
    Bind {
        /// The service.
        service: String,
        /// `gRPC` or `HTTP`.
        what: &'static str,
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The store failed.
    #[error("{0}")]
    Store(#[from] hcp_eventstore::StoreError),
    /// The service refuses its configuration (naming the setting).
    #[error("{0}")]
    Config(String),
}

/// A service the host runs.
struct Hosted {
    name: String,
    instance: String,
    grpc_addr: SocketAddr,
    consumers: Vec<String>,
    server: Option<JoinHandle<()>>,
}

/// Hosts services in this process.
pub struct Host<S> {
    /// The store every service uses.
    pub store: Arc<S>,
    /// The process's metrics.
    pub metrics: Metrics,
    /// Cancelled when shutdown begins.
    pub shutdown: CancellationToken,
    mode: &'static str,
    http_addr: Mutex<Option<SocketAddr>>,
    http_stop: CancellationToken,
    http_task: Mutex<Option<JoinHandle<()>>>,
    services: Mutex<Vec<Hosted>>,
    reactors: Mutex<Vec<(String, Durability, ReactorHandle)>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<S: EventStore> Host<S> {
    /// A host over `store`; `mode` is `serve` or `up`, as announced.
    pub fn new(store: Arc<S>, metrics: Metrics, mode: &'static str) -> Arc<Self> {
        Arc::new(Host {
            store,
            metrics,
            shutdown: CancellationToken::new(),
            mode,
            http_addr: Mutex::default(),
            http_stop: CancellationToken::new(),
            http_task: Mutex::default(),
            services: Mutex::default(),
            reactors: Mutex::default(),
            tasks: Mutex::default(),
        })
    }

    /// Binds and serves the process's HTTP listener (`/metrics`, `/health`, `/status`).
    pub async fn serve_http(self: &Arc<Self>, service: &str, addr: SocketAddr) -> Result<SocketAddr, StartError> {
        let listener = HttpListener::bind(addr).await.map_err(|source| StartError::Bind {
            service: service.to_owned(),
            what: "HTTP",
            addr,
            source,
        })?;
        let bound = listener.local_addr();
        let weak = Arc::downgrade(self);
        let status: crate::http::StatusFn =
            Arc::new(move || weak.upgrade().map_or(serde_json::Value::Null, |h| h.status()));
        let (metrics, shutdown, stop) = (self.metrics.clone(), self.shutdown.clone(), self.http_stop.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = listener.serve(metrics, shutdown, status, stop).await {
                tracing::error!(error = %e, "HTTP listener stopped");
            }
        });
        *lock(&self.http_addr) = Some(bound);
        *lock(&self.http_task) = Some(task);
        Ok(bound)
    }

    /// Starts a handler on the log, owned by `service`; returns its handle's position.
    pub fn reactor<H: Handler>(&self, service: &str, handler: Arc<H>, durability: Durability) -> ReactorWatch {
        let handle =
            reactor::spawn(Arc::clone(&self.store), handler, durability, self.metrics.clone(), self.shutdown.clone());
        let watch = ReactorWatch { name: handle.name().to_owned(), position: handle.watch() };
        lock(&self.reactors).push((service.to_owned(), durability, handle));
        watch
    }

    /// Runs a background task until it ends or shutdown begins (then it is dropped at
    /// its next await point: tasks keep nothing half-written across an await).
    pub fn spawn(&self, what: &str, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let shutdown = self.shutdown.clone();
        let what = what.to_owned();
        lock(&self.tasks).push(tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => tracing::debug!(task = %what, "stopped at shutdown"),
                () = task => tracing::debug!(task = %what, "ended"),
            }
        }));
    }

    /// Runs `tick` now and every `period` until shutdown (a service's gauges refreshed
    /// from its state).
    pub fn every(&self, what: &str, period: std::time::Duration, tick: impl Fn() + Send + 'static) {
        self.spawn(what, async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                tick();
            }
        });
    }

    /// Binds `grpc` and serves `services` there; announces the service. Returns where
    /// it listens.
    pub async fn serve(
        &self,
        service: &str,
        services: GrpcServices,
        grpc: SocketAddr,
    ) -> Result<SocketAddr, StartError> {
        let listener = GrpcListener::bind(grpc).await.map_err(|source| StartError::Bind {
            service: service.to_owned(),
            what: "gRPC",
            addr: grpc,
            source,
        })?;
        let grpc_addr = listener.local_addr();
        let (name, metrics, shutdown) = (service.to_owned(), self.metrics.clone(), self.shutdown.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = listener.serve(&name, services, metrics, shutdown.cancelled_owned()).await {
                tracing::error!(service = %name, error = %e, "gRPC server stopped");
            }
        });
        let names = |wanted: Durability| -> Vec<String> {
            lock(&self.reactors)
                .iter()
                .filter(|(s, d, _)| s == service && *d == wanted)
                .map(|(_, _, r)| r.name().to_owned())
                .collect()
        };
        let (consumers, projections) = (names(Durability::Checkpointed), names(Durability::InMemory));
        let instance = uuid::Uuid::now_v7().to_string();
        let started = pb::ServiceStarted {
            service: service.to_owned(),
            instance: instance.clone(),
            version: VERSION.to_owned(),
            grpc_addr: grpc_addr.to_string(),
            http_addr: lock(&self.http_addr).map(|a| a.to_string()).unwrap_or_default(),
            pid: std::process::id(),
            consumers: consumers.clone(),
            mode: self.mode.to_owned(),
            projections,
        };
        self.announce(service, "service.started", started.encode_to_vec()).await?;
        self.metrics
            .service_info
            .get_or_create(&InfoLabels { service: service.to_owned(), version: VERSION.to_owned() })
            .set(1);
        lock(&self.services).push(Hosted {
            name: service.to_owned(),
            instance,
            grpc_addr,
            consumers,
            server: Some(server),
        });
        Ok(grpc_addr)
    }

    async fn announce(&self, service: &str, event_type: &str, payload: Vec<u8>) -> Result<(), StartError> {
        let event = EventContext::new(service).event(0, event_type, payload, crate::clock::now_micros());
        self.store.append(&service_stream(service), ExpectedVersion::Any, vec![event]).await?;
        Ok(())
    }

    /// What `/status` shows: each service and each projection's position.
    pub fn status(&self) -> serde_json::Value {
        let services: Vec<serde_json::Value> = lock(&self.services)
            .iter()
            .map(|s| {
                serde_json::json!({
                    "service": s.name, "instance": s.instance, "grpc": s.grpc_addr.to_string(),
                    "consumers": s.consumers, "serving": !self.shutdown.is_cancelled(),
                })
            })
            .collect();
        let projections: Vec<serde_json::Value> = lock(&self.reactors)
            .iter()
            .map(|(service, d, r)| {
                serde_json::json!({
                    "service": service, "projection": r.name(), "position": r.position(),
                    "durable": *d == Durability::Checkpointed,
                })
            })
            .collect();
        serde_json::json!({ "mode": self.mode, "version": VERSION, "services": services, "projections": projections })
    }

    /// Waits for SIGINT or SIGTERM (or `shutdown` cancelled by someone else), then shuts
    /// down in order within `grace`: stop intake and drain calls, let reactors commit,
    /// stop tasks, announce. `Err` names what did not finish in time.
    pub async fn run_until_shutdown(&self, grace: Duration) -> Result<(), String> {
        tokio::select! {
            () = signal() => {},
            () = self.shutdown.cancelled() => {},
        }
        self.shutdown(grace).await
    }

    /// Shuts down now (see [`Host::run_until_shutdown`]).
    pub async fn shutdown(&self, grace: Duration) -> Result<(), String> {
        tracing::info!("shutting down");
        self.shutdown.cancel();
        let drained = tokio::time::timeout(grace, self.drain()).await;
        self.http_stop.cancel();
        if let Some(task) = lock(&self.http_task).take() {
            task.abort();
        }
        drained.map_err(|_| format!("shutdown took longer than the grace period of {:.1} s", grace.as_secs_f64()))
    }

    async fn drain(&self) {
        let servers: Vec<(String, String, Option<JoinHandle<()>>)> =
            lock(&self.services).iter_mut().map(|s| (s.name.clone(), s.instance.clone(), s.server.take())).collect();
        let mut names = Vec::new();
        for (name, instance, server) in servers {
            if let Some(server) = server {
                let _ = server.await;
            }
            names.push((name, instance));
        }
        let reactors: Vec<(String, Durability, ReactorHandle)> = std::mem::take(&mut *lock(&self.reactors));
        for (_, _, r) in reactors {
            r.join().await;
        }
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *lock(&self.tasks));
        for t in tasks {
            let _ = t.await;
        }
        for (name, instance) in names {
            let stopped = pb::ServiceStopped { service: name.clone(), instance, reason: "shutdown".into() };
            if let Err(e) = self.announce(&name, "service.stopped", stopped.encode_to_vec()).await {
                tracing::warn!(service = %name, error = %e, "cannot announce the stop");
            }
        }
    }
}

/// A handler's name and position, for waiting on its catch-up.
#[derive(Clone)]
pub struct ReactorWatch {
    name: String,
    position: tokio::sync::watch::Receiver<Position>,
}

impl ReactorWatch {
    /// The consumer name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The last position handled.
    pub fn position(&self) -> Position {
        *self.position.borrow()
    }

    /// Waits until the log is handled up to `position`; `false` if the handler stopped.
    pub async fn caught_up(&self, position: Position) -> bool {
        let mut rx = self.position.clone();
        rx.wait_for(|p| *p >= position).await.is_ok()
    }
}

/// SIGINT or SIGTERM.
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {},
                    _ = term.recv() => {},
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

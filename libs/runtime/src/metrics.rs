//! The process's Prometheus metrics: one registry, the families every service shares,
//! and their text encoding for `/metrics`.
//!
//! Names follow Prometheus practice: the `hcp_` prefix, base units in the name
//! (seconds, events), counters ending in `_total`, labels of bounded cardinality (the
//! gRPC method is its path, the projection its consumer name).

use prometheus_client::encoding::EncodeLabelSet;
pub use prometheus_client::metrics::counter::Counter;
pub use prometheus_client::metrics::family::Family;
pub use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::{Arc, Mutex};

/// Labels of a gRPC call's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrpcLabels {
    /// The service that served it.
    pub service: String,
    /// `/package.Service/Method`.
    pub method: String,
    /// The gRPC status code's name, e.g. `Ok`, `InvalidArgument`.
    pub code: String,
}

/// Labels of a gRPC call's duration.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    /// The service that served it.
    pub service: String,
    /// `/package.Service/Method`.
    pub method: String,
}

/// Labels of an HTTP request's duration (OpenTelemetry's `http.server.request.duration`
/// attributes, in Prometheus' spelling).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// `GET`, `POST`.
    pub http_request_method: String,
    /// The route's template, `/v1/workloads/{id}`.
    pub http_route: String,
    /// The response's status.
    pub http_response_status_code: u16,
}

/// Labels of a store operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabels {
    /// `append`, `read_stream`, `read_all`, `head`, `checkpoint`.
    pub operation: String,
}

/// Labels of a projection or reactor.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProjectionLabels {
    /// Its consumer name.
    pub projection: String,
}

/// Labels of the service info metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InfoLabels {
    /// The service.
    pub service: String,
    /// The build's version.
    pub version: String,
}

/// A latency histogram: 50 µs to ~13 s.
fn new_histogram() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.000_05, 2.0, 19))
}

/// The families every service records into; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    /// gRPC calls served, by service, method and status code.
    pub grpc_requests: Family<GrpcLabels, Counter>,
    /// gRPC call durations, by service and method, seconds.
    pub grpc_duration: Family<MethodLabels, Histogram>,
    /// HTTP request durations (the gateway), seconds.
    pub http_duration: Family<HttpLabels, Histogram>,
    /// Store operation durations, seconds.
    pub store_duration: Family<StoreLabels, Histogram>,
    /// Events between a projection's position and the store's head.
    pub projection_lag: Family<ProjectionLabels, Gauge>,
    /// A projection's last handled position.
    pub projection_position: Family<ProjectionLabels, Gauge>,
    /// Events a projection or reactor has handled.
    pub events_handled: Family<ProjectionLabels, Counter>,
    /// Times a projection's subscription failed and was started again.
    pub projection_restarts: Family<ProjectionLabels, Counter>,
    /// Events a reactor gave up on (a permanent handler error), logged and skipped.
    pub events_failed: Family<ProjectionLabels, Counter>,
    /// One series per running service, value 1.
    pub service_info: Family<InfoLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with the shared families registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("hcp");
        let m = Metrics {
            registry: Arc::default(),
            grpc_requests: Family::default(),
            grpc_duration: Family::new_with_constructor(new_histogram),
            http_duration: Family::new_with_constructor(new_histogram),
            store_duration: Family::new_with_constructor(new_histogram),
            projection_lag: Family::default(),
            projection_position: Family::default(),
            events_handled: Family::default(),
            projection_restarts: Family::default(),
            events_failed: Family::default(),
            service_info: Family::default(),
        };
        registry.register("grpc_server_requests", "gRPC calls served", m.grpc_requests.clone());
        registry.register_with_unit(
            "grpc_server_request_duration",
            "gRPC call durations, to the response's headers",
            prometheus_client::registry::Unit::Seconds,
            m.grpc_duration.clone(),
        );
        registry.register_with_unit(
            "http_server_request_duration",
            "HTTP request durations, to the response's headers (http.server.request.duration)",
            prometheus_client::registry::Unit::Seconds,
            m.http_duration.clone(),
        );
        registry.register_with_unit(
            "store_operation_duration",
            "event store operation durations",
            prometheus_client::registry::Unit::Seconds,
            m.store_duration.clone(),
        );
        registry.register(
            "projection_lag_events",
            "events between a projection and the store's head",
            m.projection_lag.clone(),
        );
        registry.register(
            "projection_position",
            "a projection's last handled global position",
            m.projection_position.clone(),
        );
        registry.register("events_handled", "events a projection or reactor has handled", m.events_handled.clone());
        registry.register(
            "projection_restarts",
            "subscriptions started again after a failure",
            m.projection_restarts.clone(),
        );
        registry.register("events_failed", "events a reactor could not handle and skipped", m.events_failed.clone());
        registry.register("service_info", "the services running in this process", m.service_info.clone());
        *m.registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = registry;
        m
    }

    /// Registers a service's own metric.
    pub fn register(&self, name: &str, help: &str, metric: impl prometheus_client::registry::Metric) {
        self.registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner).register(name, help, metric);
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }

    /// Labels of a projection.
    pub fn projection(name: &str) -> ProjectionLabels {
        ProjectionLabels { projection: name.to_owned() }
    }
}

/// A service's own labels, as (name, value) pairs.
pub type Labels = Vec<(String, String)>;

/// `pairs` as [`Labels`].
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Gauge values by label set: a snapshot's worth.
pub type Series = Vec<(Labels, f64)>;

/// A gauge that holds a float (watts, dollars).
pub type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

/// A family of gauges set whole from a snapshot of a service's state (devices by mode,
/// workloads by status): a label set missing from the latest snapshot goes to 0 rather than
/// keeping its last value, and no scrape ever sees the family half-cleared.
#[derive(Clone)]
pub struct SnapshotGauges {
    family: Family<Labels, FloatGauge>,
    seen: Arc<Mutex<std::collections::HashSet<Labels>>>,
}

impl SnapshotGauges {
    /// Registers the family `hcp_<name>` in `metrics`.
    pub fn register(metrics: &Metrics, name: &str, help: &str) -> Self {
        let gauges = SnapshotGauges { family: Family::default(), seen: Arc::default() };
        metrics.register(name, help, gauges.family.clone());
        gauges
    }

    /// Sets every gauge from `values`; those not in it go to 0.
    pub fn set(&self, values: impl IntoIterator<Item = (Labels, f64)>) {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut now = std::collections::HashSet::with_capacity(seen.len());
        for (labels, value) in values {
            self.family.get_or_create(&labels).set(value);
            now.insert(labels);
        }
        for gone in seen.difference(&now) {
            self.family.get_or_create(gone).set(0.0);
        }
        seen.extend(now);
    }
}

impl Metrics {
    /// Registers a service's own counter family `hcp_<name>_total`.
    pub fn counters(&self, name: &str, help: &str) -> Family<Labels, Counter> {
        let family = Family::default();
        self.register(name, help, family.clone());
        family
    }

    /// Registers a service's own float gauge family `hcp_<name>` (set value by value).
    pub fn gauges(&self, name: &str, help: &str) -> Family<Labels, FloatGauge> {
        let family = Family::default();
        self.register(name, help, family.clone());
        family
    }
}

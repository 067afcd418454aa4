//! Traces exported over OTLP to a collector (a real OTLP/gRPC trace service, the
//! protocol's own generated server, on loopback): handling an event exports a span on
//! the event's trace, so the trace that a price observation started reaches the plan.
//! Its own process (one global subscriber).

use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{EventStore, ExpectedVersion, RecordedEvent};
use hcp_runtime::config::TelemetryConfig;
use hcp_runtime::{Durability, EventContext, Handler, HandlerError, Host, Metrics};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A span as the collector keeps it: its name and trace id.
type Received = (String, Vec<u8>);

/// The collector: keeps every span it is sent.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Received>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().expect("spans");
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                spans.extend(scope.spans.into_iter().map(|s| (s.name, s.trace_id)));
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

struct Planner;

impl Handler for Planner {
    fn name(&self) -> &str {
        "test-planner"
    }
    async fn handle(&self, _event: &RecordedEvent) -> Result<(), HandlerError> {
        tracing::info!("planning");
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handling_an_event_exports_a_span_on_the_events_trace() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let server = TraceServiceServer::new(collector.clone());
    tokio::spawn(tonic::transport::Server::builder().add_service(server).serve_with_incoming(incoming));

    let config =
        TelemetryConfig { log: "info".into(), otlp_endpoint: Some(format!("http://{addr}")), otlp_token: None };
    let telemetry = hcp_runtime::telemetry::init(&config, "test").expect("telemetry");
    assert!(telemetry.exporting());

    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let price = EventContext::new("pricing");
    let event = price.event(0, "price.observed", vec![1], 0);
    store.append("prices-x", ExpectedVersion::Any, vec![event]).await.expect("append");
    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let watch = host.reactor("test", Arc::new(Planner), Durability::InMemory);
    assert!(watch.caught_up(1).await);
    host.shutdown(Duration::from_secs(5)).await.expect("stops");
    telemetry.shutdown().await;

    let spans = collector.0.lock().expect("spans").clone();
    let trace = price.correlation_id.as_bytes().to_vec();
    assert!(
        spans.iter().any(|(name, t)| name == "handle" && *t == trace),
        "no handle span on trace {}: {spans:?}",
        price.correlation_id.simple()
    );
}

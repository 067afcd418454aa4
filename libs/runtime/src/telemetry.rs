//! Logs and traces for a process: `tracing` to stderr, filtered by `telemetry.log`
//! (`HCP_LOG`), and, when `telemetry.otlp_endpoint` is set, OpenTelemetry spans
//! exported over OTLP/gRPC (off otherwise: no exporter, no cost but the spans).
//!
//! A span's trace is the event's: handling an event opens a span whose trace id is the
//! event's correlation id and whose parent span id is taken from its causation id
//! ([`event_span`]), and a gRPC request's span continues its caller's `traceparent`
//! ([`request_span`]). So one trace follows a price observation, across processes and
//! through the log, to the plan it caused.

use crate::config::TelemetryConfig;
use hcp_eventstore::RecordedEvent;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider};
use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use uuid::Uuid;

/// The process's telemetry; [`Telemetry::shutdown`] flushes spans not yet exported.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
#[error("telemetry: {0}")]
pub struct TelemetryError(String);

/// Installs the global subscriber for `service` (once per process).
pub fn init(config: &TelemetryConfig, service: &str) -> Result<Telemetry, TelemetryError> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .map_err(|e| TelemetryError(format!("telemetry.log {:?}: {e}", config.log)))?;
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let provider = match &config.otlp_endpoint {
        None => None,
        Some(endpoint) => {
            let mut metadata = tonic::metadata::MetadataMap::new();
            if let Some(token) = &config.otlp_token {
                let value = format!("Bearer {}", token.expose())
                    .parse()
                    .map_err(|_| TelemetryError("telemetry.otlp_token is not a valid header value".into()))?;
                metadata.insert("authorization", value);
            }
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .with_metadata(metadata)
                .build()
                .map_err(|e| TelemetryError(format!("OTLP exporter for {endpoint}: {e}")))?;
            let resource = opentelemetry_sdk::Resource::builder().with_service_name(service.to_owned()).build();
            Some(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
        }
    };
    let otel = provider.as_ref().map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("hcp")));
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .map_err(|e| TelemetryError(format!("a subscriber is installed already: {e}")))?;
    Ok(Telemetry { provider })
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports what is buffered and stops the exporter (it blocks, so off the runtime's threads).
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        }
    }
}

/// The span id an event's id stands for: its low 8 bytes (never all zero).
pub(crate) fn span_bytes(id: Uuid) -> [u8; 8] {
    let b = id.as_bytes();
    [b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15] | 1]
}

/// A remote parent from a trace id and a span id.
fn parent(trace: Uuid, span_bytes: [u8; 8]) -> opentelemetry::Context {
    let context = SpanContext::new(
        TraceId::from_bytes(*trace.as_bytes()),
        SpanId::from_bytes(span_bytes),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    opentelemetry::Context::new().with_remote_span_context(context)
}

/// The span of handling `event`, on the event's trace.
pub fn event_span(handler: &str, event: &RecordedEvent) -> tracing::Span {
    let span = tracing::info_span!(
        "handle",
        handler,
        event_type = %event.event_type,
        stream = %event.stream,
        position = event.position,
    );
    if let Some(trace) = event.metadata.correlation_id {
        let _ = span.set_parent(parent(trace, span_bytes(event.metadata.causation_id.unwrap_or(event.id))));
    }
    span
}

/// The span of a gRPC request, continuing the caller's `traceparent` when it sent one.
pub fn request_span(service: &str, method: &str, traceparent: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!("grpc", service, method);
    if let Some(trace) = traceparent.and_then(crate::context::parse_traceparent) {
        let span_id = traceparent
            .and_then(|t| t.split('-').nth(2))
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .filter(|s| *s != 0)
            .map_or([0x5a; 8], u64::to_be_bytes);
        let _ = span.set_parent(parent(trace, span_id));
    }
    span
}

//! `hcp status`: finds the services of a deployment from their announcements in the
//! log (`service.started` / `service.stopped` in `service-<name>`), asks each running
//! one for its `grpc.health.v1` status, and shows its consumers' checkpoints and lag
//! behind the store's head. Works for one `hcp up` and for a set of `hcp serve`.

use crate::cli::StatusArgs;
use crate::commands::events::emit;
use crate::settings;
use hcp_eventstore::{AnyStore, Direction, EventStore};
use hcp_proto::v1 as pb;
use hcp_runtime::config::{Config, SERVICE_NAMES};
use hcp_runtime::host::service_stream;
use prost::Message;
use std::time::Duration;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// One service as `hcp status` sees it.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Row {
    pub service: String,
    pub state: String,
    mode: String,
    grpc: String,
    http: String,
    pid: u32,
    version: String,
    pub consumers: Vec<Consumer>,
}

/// A service's projection or durable consumer.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Consumer {
    pub name: String,
    /// `checkpointed` (durable) or `in-memory` (rebuilt at each start).
    pub kind: &'static str,
    /// The durable checkpoint, or the in-memory position the service reports.
    pub position: Option<u64>,
    pub lag: Option<u64>,
}

/// Prints the deployment's status.
pub async fn run(config: &Config, args: StatusArgs) -> anyhow::Result<()> {
    let store = settings::open_existing(config).await?;
    let head = store.head().await?;
    let mut rows = Vec::new();
    for name in SERVICE_NAMES {
        if let Some(row) = service(&store, name, head).await? {
            rows.push(row);
        }
    }
    let mut out = std::io::stdout().lock();
    if args.output.json {
        let all = serde_json::json!({ "store": config.store_url(), "head": head, "services": rows });
        emit(&mut out, &all.to_string())?;
        return Ok(());
    }
    emit(&mut out, &format!("store {} at position {head}", config.store_url()))?;
    if rows.is_empty() {
        emit(&mut out, "no service has announced itself in this store (start `hcp up` or `hcp serve <service>`)")?;
        return Ok(());
    }
    emit(
        &mut out,
        &format!("{:<14} {:<12} {:<6} {:<22} {:<22} {:>8}", "SERVICE", "STATE", "MODE", "GRPC", "HTTP", "PID"),
    )?;
    for r in &rows {
        emit(
            &mut out,
            &format!("{:<14} {:<12} {:<6} {:<22} {:<22} {:>8}", r.service, r.state, r.mode, r.grpc, r.http, r.pid),
        )?;
        for c in &r.consumers {
            let show = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
            emit(
                &mut out,
                &format!("  {:<12} {:<28} position {:>10}  lag {:>8}", c.kind, c.name, show(c.position), show(c.lag)),
            )?;
        }
    }
    Ok(())
}

/// The service `name` as its announcements, health and consumers show it (none if it never announced itself).
pub(crate) async fn service(store: &AnyStore, name: &str, head: u64) -> anyhow::Result<Option<Row>> {
    let Some(last) = store.read_stream(&service_stream(name), u64::MAX, Direction::Backwards, 1).await?.pop() else {
        return Ok(None);
    };
    // The latest start, even when the latest event is its stop.
    let started = if last.event_type == "service.started" {
        Some(last.clone())
    } else {
        store
            .read_stream(&service_stream(name), u64::MAX, Direction::Backwards, 16)
            .await?
            .into_iter()
            .find(|e| e.event_type == "service.started")
    };
    let Some(started) = started.and_then(|e| pb::ServiceStarted::decode(e.payload.as_ref()).ok()) else {
        return Ok(None);
    };
    let state =
        if last.event_type == "service.stopped" { "stopped".to_owned() } else { health(&started.grpc_addr).await };
    let mut consumers = Vec::new();
    for c in &started.consumers {
        let position = store.load_checkpoint(c).await?;
        consumers.push(Consumer { name: c.clone(), kind: "checkpointed", position, lag: lag(store, head, position) });
    }
    if !started.projections.is_empty() && state != "stopped" {
        let positions = positions(&started.http_addr).await;
        for p in &started.projections {
            let position = positions.get(p).copied();
            consumers.push(Consumer { name: p.clone(), kind: "in-memory", position, lag: lag(store, head, position) });
        }
    }
    Ok(Some(Row {
        service: name.to_owned(),
        state,
        mode: started.mode,
        grpc: started.grpc_addr,
        http: started.http_addr,
        pid: started.pid,
        version: started.version,
        consumers,
    }))
}

/// How far the head is past a position (events on SQLite, appends on JetStream).
fn lag(store: &AnyStore, head: u64, position: Option<u64>) -> Option<u64> {
    position.map(|p| store.distance(p, head))
}

/// The in-memory projections' positions from a service's HTTP `/status` (none if it
/// does not answer).
async fn positions(http: &str) -> std::collections::HashMap<String, u64> {
    let Ok(body) = hcp_runtime::http::get(http, "/status", Duration::from_secs(1)).await else {
        return Default::default();
    };
    let status: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    status["projections"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["projection"].as_str()?.to_owned(), p["position"].as_u64()?)))
        .collect()
}

/// `serving`, `not-serving` or `unreachable`, from `grpc.health.v1` within a second.
async fn health(addr: &str) -> String {
    let check = async {
        let channel = hcp_proto::client::connect(&format!("http://{addr}")).await.ok()?;
        let reply = HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
            .await
            .ok()?;
        Some(reply.into_inner().status())
    };
    match tokio::time::timeout(Duration::from_secs(1), check).await {
        Ok(Some(ServingStatus::Serving)) => "serving".into(),
        Ok(Some(_)) => "not-serving".into(),
        _ => "unreachable".into(),
    }
}

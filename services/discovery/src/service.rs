//! Discovery as a running service on the runtime: catch the inventory up from the
//! store, serve gRPC, scan, poll, and watch agents, until the host shuts down.

use crate::agents::Agents;
use crate::config::DiscoveryConfig;
use crate::grpc::{AgentsService, InventoryService};
use crate::identify::{miner_id, miner_spec};
use crate::inventory::{Inventory, InventoryFeed};
use crate::poller::{PollSet, poll_once, telemetry};
use crate::recorder::Recorder;
use crate::scan::{Found, ScanOutcome, scan};
use futures_util::StreamExt;
use hcp_domain::resource::{Health, Mode, ResourceCommand, ResourceKind};
use hcp_eventstore::EventStore;
use hcp_minerapi::StatsReport;
use hcp_proto::v1::agents_server::AgentsServer;
use hcp_proto::v1::inventory_server::InventoryServer;
use hcp_runtime::grpc::GrpcServices;
use hcp_runtime::host::StartError;
use hcp_runtime::{Durability, Host};
use std::net::SocketAddr;
use std::sync::Arc;

/// A running discovery service; its tasks belong to the host that started it and stop
/// when the host shuts down.
pub struct Discovery<S> {
    /// Where the gRPC API listens.
    pub grpc_addr: SocketAddr,
    /// The inventory projection.
    pub inventory: Arc<Inventory>,
    /// The miners being polled.
    pub polled: Arc<PollSet>,
    /// The command writer.
    pub recorder: Arc<Recorder<S>>,
    /// The agents registry.
    pub agents: Arc<Agents<S>>,
    /// Completed scans so far.
    pub scans: tokio::sync::watch::Receiver<usize>,
}

impl<S: EventStore> Discovery<S> {
    /// Starts discovery in `host`; returns once the inventory has caught up with the
    /// store and the gRPC API is listening (the first scan runs in the background).
    pub async fn start(host: &Arc<Host<S>>, config: DiscoveryConfig) -> Result<Self, StartError> {
        let store = Arc::clone(&host.store);
        let (closed, mut summaries) = tokio::sync::mpsc::unbounded_channel();
        let gap = (config.poll_interval.max(config.heartbeat_interval) * 3).as_micros();
        let folding = crate::summary::Summaries::new(
            i64::try_from(config.summary_interval.as_micros()).unwrap_or(i64::MAX),
            i64::try_from(gap).unwrap_or(i64::MAX),
        );
        let mut inventory = Inventory::with_summaries(folding, closed);
        if let Some((path, keep)) = &config.samples {
            let keep = i64::try_from(keep.as_micros()).unwrap_or(i64::MAX);
            match crate::samples::Samples::open(path, keep) {
                Ok(samples) => {
                    let samples = Arc::new(samples);
                    let (writer, readings) = tokio::sync::mpsc::unbounded_channel();
                    inventory = inventory.with_samples(Arc::clone(&samples), writer);
                    host.spawn("telemetry samples", write_samples(samples, readings, host.shutdown.clone()));
                }
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "raw telemetry is not kept"),
            }
        }
        let inventory = Arc::new(inventory);
        {
            let (store, shutdown) = (Arc::clone(&store), host.shutdown.clone());
            host.spawn("telemetry summaries", async move {
                loop {
                    tokio::select! {
                        next = summaries.recv() => match next {
                            Some(s) => record_summary(store.as_ref(), s).await,
                            None => return,
                        },
                        () = shutdown.cancelled() => return,
                    }
                }
            });
        }
        let head = store.head().await?;
        host.reactor("discovery", Arc::new(InventoryFeed(Arc::clone(&inventory))), Durability::InMemory);
        tokio::select! {
            () = inventory.caught_up(head) => {},
            () = host.shutdown.cancelled() => {},
        }
        crate::metrics::export(host, Arc::clone(&inventory));

        let recorder = Arc::new(Recorder::new(Arc::clone(&store), "discovery"));
        let polled = Arc::new(PollSet::default());
        for (id, entry) in inventory.snapshot() {
            let Some(rid) = entry.resource.id.clone() else { continue };
            recorder.adopt(rid.clone(), entry.resource.clone());
            // Miners recorded before a restart are polled at their address until a scan
            // identifies them again.
            if let (Some(ResourceKind::AsicMiner { nominal_hashrate, .. }), Some(ip)) =
                (entry.resource.spec.as_ref().map(|s| &s.kind), id.strip_prefix("asic-").and_then(|ip| ip.parse().ok()))
            {
                let port = config.targets.first().map_or(hcp_minerapi::API_PORT, |t| t.port);
                if entry.resource.health != Health::Retired {
                    polled.upsert(
                        rid,
                        SocketAddr::new(ip, port),
                        None,
                        nominal_hashrate.terahashes(),
                        (entry.resource.health, entry.resource.mode),
                    );
                }
            }
        }
        let agents = Arc::new(Agents::new(Arc::clone(&recorder), Arc::clone(&inventory), config.clone()));

        let (scans_tx, scans) = tokio::sync::watch::channel(0usize);
        {
            let (config, recorder, inventory, polled, store) = (
                config.clone(),
                Arc::clone(&recorder),
                Arc::clone(&inventory),
                Arc::clone(&polled),
                Arc::clone(&store),
            );
            host.spawn("scanner", async move {
                loop {
                    let outcome = scan(&config.targets, config.concurrency, config.timeout).await;
                    let registered = register_found(&outcome, &recorder, &inventory, &polled).await;
                    // A scan counts as done once the inventory shows what it registered.
                    if let Ok(head) = store.head().await {
                        inventory.caught_up(head).await;
                    }
                    tracing::info!(probed = outcome.probed, found = outcome.found.len(), registered, "scan done");
                    scans_tx.send_modify(|n| *n += 1);
                    tokio::time::sleep(config.rescan_interval).await;
                }
            });
        }
        {
            let (config, recorder, inventory, polled) =
                (config.clone(), Arc::clone(&recorder), Arc::clone(&inventory), Arc::clone(&polled));
            host.spawn("poller", async move {
                let mut tick = tokio::time::interval(config.poll_interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    poll_once(&polled, &inventory, &recorder, &config).await;
                }
            });
        }
        {
            let agents = Arc::clone(&agents);
            let every = (config.agent_timeout / 4).max(std::time::Duration::from_millis(50));
            host.spawn("agent sweeper", async move {
                loop {
                    tokio::time::sleep(every).await;
                    agents.sweep().await;
                }
            });
        }
        let mut services = GrpcServices::default();
        services
            .add(AgentsServer::new(AgentsService(Arc::clone(&agents))))
            .add(InventoryServer::new(InventoryService(Arc::clone(&inventory))));
        let grpc_addr = host.serve("discovery", services, config.grpc_addr).await?;
        Ok(Discovery { grpc_addr, inventory, polled, recorder, agents, scans })
    }

    /// Waits for the next completed scan.
    pub async fn scanned(&mut self, count: usize) {
        let _ = self.scans.wait_for(|n| *n >= count).await;
    }
}

/// Registers what a scan found that the store does not know yet (concurrently, so the
/// appends share group commits), and polls it all; returns how many it registered.
pub async fn register_found<S: EventStore>(
    outcome: &ScanOutcome,
    recorder: &Recorder<S>,
    inventory: &Inventory,
    polled: &PollSet,
) -> usize {
    let mut registrations = Vec::with_capacity(outcome.found.len());
    for found in &outcome.found {
        registrations.push(register_one(found, recorder, inventory, polled));
    }
    let outcomes: Vec<bool> =
        futures_util::stream::iter(registrations).buffer_unordered(REGISTER_CONCURRENCY).collect().await;
    let registered = outcomes.into_iter().filter(|new| *new).count();
    for (addr, why) in &outcome.unidentified {
        tracing::info!(%addr, %why, "something answers on the API port but is not an identifiable miner");
    }
    registered
}

/// Registrations in flight at once.
const REGISTER_CONCURRENCY: usize = 64;

/// Registers one found miner if it is new (and records what it was doing); polls it.
async fn register_one<S: EventStore>(
    found: &Found,
    recorder: &Recorder<S>,
    inventory: &Inventory,
    polled: &PollSet,
) -> bool {
    let (id, spec) = match (miner_id(found.addr), miner_spec(found)) {
        (Ok(id), Ok(spec)) => (id, spec),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(addr = %found.addr, error = %e, "cannot name a found miner");
            return false;
        }
    };
    let nominal = match &spec.kind {
        ResourceKind::AsicMiner { nominal_hashrate, .. } => nominal_hashrate.terahashes(),
        ResourceKind::Gpu { .. } => 0.0,
    };
    let mut new = false;
    let state = match recorder.known(&id).or_else(|| inventory.state(id.as_str())) {
        Some(s) if s.id.is_some() => s,
        _ => {
            let command = ResourceCommand::Register { id: id.clone(), spec, at: crate::clock::now() };
            let registered = match recorder.execute(&id, command).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "could not register a found miner");
                    return false;
                }
            };
            new = true;
            // What it was doing when found is a fact too: hashing is mining.
            let hashing = found.summary.hashrate_ths.is_some_and(|h| h > 0.0);
            let mode = if hashing { Mode::Mining } else { Mode::Curtailed };
            match recorder.execute(&id, ResourceCommand::SetMode { mode, at: crate::clock::now() }).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "could not record a found miner's mode");
                    registered
                }
            }
        }
    };
    let reading = telemetry(&found.summary, &StatsReport::default(), found.version.firmware.name());
    inventory.show(id.as_str(), &found.addr.to_string(), reading);
    polled.upsert(id, found.addr, Some(found.version.firmware.clone()), nominal, (state.health, state.mode));
    new
}

/// Appends a device's interval summary to its `telemetry-<id>` stream.
async fn record_summary<S: EventStore>(store: &S, summary: hcp_proto::v1::TelemetrySummarized) {
    use prost::Message;
    let stream = format!("telemetry-{}", summary.resource_id);
    let at = summary.interval_end_unix_micros;
    let event =
        hcp_runtime::EventContext::new("discovery").event(0, "telemetry.summarized", summary.encode_to_vec(), at);
    if let Err(e) = hcp_eventstore::append_all_at_tail(store, &stream, vec![event]).await {
        tracing::warn!(%stream, error = %e, "could not record a telemetry summary");
    }
}

/// Writes readings to the samples table in batches (one a second), pruning what is older
/// than its retention each minute.
async fn write_samples(
    samples: Arc<crate::samples::Samples>,
    mut readings: tokio::sync::mpsc::UnboundedReceiver<(String, hcp_proto::v1::Telemetry)>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = every.tick() => {},
            () = shutdown.cancelled() => return,
        }
        let mut batch = Vec::new();
        while let Ok(r) = readings.try_recv() {
            batch.push(r);
        }
        ticks += 1;
        let (s, prune) = (Arc::clone(&samples), ticks.is_multiple_of(60));
        let done = tokio::task::spawn_blocking(move || {
            if !batch.is_empty() {
                s.insert(&batch)?;
            }
            if prune {
                s.prune(hcp_runtime::clock::now_micros())?;
            }
            Ok::<(), rusqlite::Error>(())
        })
        .await;
        if let Ok(Err(e)) = done {
            tracing::warn!(error = %e, "could not write raw telemetry");
        }
    }
}

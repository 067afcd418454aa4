//! Starting metering on the runtime: the ledger's view catches up with the log, the
//! usage recorder resumes from its checkpoint, invoices and budget alerts are looked for
//! every `metering.issue_every_seconds`, usage records are published to Kafka when
//! `[metering.kafka]` is set, and the API listens.

use crate::energy::EnergyRecorder;
use crate::grpc::MeteringService;
use crate::ledger::Ledger;
use crate::metrics::MeteringMetrics;
use crate::publisher::Publisher;
use crate::recorder::UsageRecorder;
use crate::view::Folder;
use hcp_billing::period::Cadence;
use hcp_domain::units::Timestamp;
use hcp_eventstore::EventStore;
use hcp_proto::v1::metering_server::MeteringServer;
use hcp_runtime::config::MeteringConfig;
use hcp_runtime::grpc::GrpcServices;
use hcp_runtime::host::{ReactorWatch, StartError};
use hcp_runtime::{Durability, Host};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Starts metering in `host`; answers where its API listens and its ledger.
pub async fn start<S: EventStore>(
    host: &Arc<Host<S>>,
    config: &MeteringConfig,
    grpc: SocketAddr,
) -> Result<(SocketAddr, Arc<Ledger<S>>), StartError> {
    let view = Arc::new(Ledger::<S>::view(config).map_err(|e| StartError::Config(e.to_string()))?);
    let head = host.store.head().await?;
    let watch = host.reactor("metering", Arc::new(Folder(Arc::clone(&view))), Durability::InMemory);
    let ledger = Ledger::new(Arc::clone(&host.store), config.clone(), view, watch.clone())
        .map_err(|e| StartError::Config(e.to_string()))?;
    let ledger = Arc::new(ledger);
    tokio::select! {
        _ = watch.caught_up(head) => {},
        () = host.shutdown.cancelled() => {},
    }
    let metrics = MeteringMetrics::register(&host.metrics);
    ledger.follow(recorder(host, ledger.cadence()));
    host.reactor("metering", Arc::new(EnergyRecorder::new(Arc::clone(&host.store))), Durability::Checkpointed);
    if let Some(kafka) = &config.kafka {
        let publisher =
            Publisher::new(kafka).map_err(|e| StartError::Config(e.to_string()))?.with_metrics(metrics.clone());
        host.reactor("metering", Arc::new(publisher), Durability::Checkpointed);
        tracing::info!(brokers = %kafka.brokers, topic = %kafka.topic, "publishing usage records to Kafka");
    }
    let every = Duration::from_secs_f64(config.issue_every_seconds.max(0.01));
    host.spawn("metering-invoicer", invoicer(Arc::clone(&ledger), every, metrics));
    let mut services = GrpcServices::default();
    services.add(MeteringServer::new(MeteringService(Arc::clone(&ledger))));
    let addr = host.serve("metering", services, grpc).await?;
    Ok((addr, ledger))
}

/// Starts the usage recorder alone, from its checkpoint, cutting spans at the ends of
/// `cadence`'s periods; answers its position.
pub fn recorder<S: EventStore>(host: &Arc<Host<S>>, cadence: Cadence) -> ReactorWatch {
    let recorder = UsageRecorder::new(Arc::clone(&host.store), cadence);
    host.reactor("metering", Arc::new(recorder), Durability::Checkpointed)
}

/// Issues the invoices that fall due and records the budget thresholds crossed, every
/// `every`; a failed round (or a round in which a tenant's invoices failed, the others'
/// issued) is logged, counted and tried again at the next.
async fn invoicer<S: EventStore>(ledger: Arc<Ledger<S>>, every: Duration, metrics: MeteringMetrics) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = Timestamp::from_unix_micros(hcp_runtime::clock::now_micros());
        match ledger.issue_due(now).await {
            Ok(round) => {
                metrics.invoices_issued.inc_by(round.issued.len() as u64);
                if !round.failed.is_empty() {
                    metrics.invoicing_failures.inc();
                }
                for (tenant, e) in &round.failed {
                    tracing::error!(tenant, error = %e, "cannot issue the tenant's invoices due");
                }
            }
            Err(e) => {
                metrics.invoicing_failures.inc();
                tracing::error!(error = %e, "cannot issue the invoices due");
            }
        }
        if let Err(e) = ledger.check_budgets(now).await {
            metrics.invoicing_failures.inc();
            tracing::error!(error = %e, "cannot check the budgets");
        }
    }
}

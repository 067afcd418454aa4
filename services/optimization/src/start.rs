//! Starting optimization on the runtime: its view, its planner, its API.

use crate::fleet::Fleet;
use crate::grpc::OptimizationService;
use crate::handlers::{OnPlan, Planner, View};
use crate::service::{Optimizer, SitePolicy};
use crate::sites::Sites;
use hcp_domain::site::{SiteCommand, SitePolicy as RecordedPolicy};
use hcp_domain::units::Timestamp;
use hcp_eventstore::EventStore;
use hcp_market::Book;
use hcp_proto::v1::optimization_server::OptimizationServer;
use hcp_runtime::EventContext;
use hcp_runtime::config::Config;
use hcp_runtime::grpc::GrpcServices;
use hcp_runtime::host::StartError;
use hcp_runtime::{Durability, Host};
use std::net::SocketAddr;
use std::sync::Arc;

/// The sites' policies from the configuration: the dwell is in market time, so it is
/// divided by the pricing speed (a replay at 60x holds a device 15 s for 15 minutes).
pub fn policies(config: &Config) -> Vec<SitePolicy> {
    let speed = config.pricing.speed.max(1e-9);
    config
        .sites
        .iter()
        .map(|s| SitePolicy {
            site: s.id.clone(),
            cap_kw: s.cap_kw,
            min_dwell_micros: (s.min_dwell_seconds / speed * 1e6) as i64,
            hysteresis_usd_mwh: s.hysteresis_usd_mwh,
            max_wake_kw: s.effective_max_wake_kw(),
            gpu_usd_per_hour: s.gpu_usd_per_hour,
            switch_cost_usd: s.switch_cost_usd,
        })
        .collect()
}

/// Starts optimization in `host`: the view catches up with the log, then the planner
/// resumes from its checkpoint and the API listens on `grpc`. Returns the API's address.
pub async fn start<S: EventStore>(
    host: &Arc<Host<S>>,
    config: &Config,
    grpc: SocketAddr,
    on_plan: Option<OnPlan>,
) -> Result<(SocketAddr, Arc<Optimizer<S>>), StartError> {
    let fleet = Arc::new(Fleet::default());
    let book = Arc::new(Book::default());
    let sites = Arc::new(Sites::default());
    for s in &config.sites {
        book.add_site(&s.id);
    }
    let head = host.store.head().await?;
    let view = host.reactor(
        "optimization",
        Arc::new(View { fleet: Arc::clone(&fleet), book: Arc::clone(&book), sites: Arc::clone(&sites) }),
        Durability::InMemory,
    );
    tokio::select! {
        _ = view.caught_up(head) => {},
        () = host.shutdown.cancelled() => {},
    }
    let optimizer = Arc::new(
        Optimizer::new(Arc::clone(&host.store), fleet, book, policies(config)).with_sites(sites, config.pricing.speed),
    );
    seed_sites(&optimizer, config).await?;
    let metrics = crate::metrics::PlanMetrics::register(&host.metrics, config.sites.iter().map(|s| s.id.as_str()));
    let planner = Planner { optimizer: Arc::clone(&optimizer), view, on_plan, metrics };
    host.reactor("optimization", Arc::new(planner), Durability::Checkpointed);
    let mut services = GrpcServices::default();
    services.add(OptimizationServer::new(OptimizationService(Arc::clone(&optimizer))));
    let addr = host.serve("optimization", services, grpc).await?;
    Ok((addr, optimizer))
}

/// Configures each site of the configuration that the log does not know yet; a site
/// already recorded keeps its recorded cap (changed at run time with `hcp sites
/// set-cap`), and a different cap in the file is reported, not applied.
async fn seed_sites<S: EventStore>(optimizer: &Optimizer<S>, config: &Config) -> Result<(), StartError> {
    let context = EventContext::new("optimization");
    let now = hcp_runtime::clock::now_micros();
    for s in &config.sites {
        let policy = RecordedPolicy {
            settlement_point: s.settlement_point.clone(),
            min_dwell_seconds: s.min_dwell_seconds,
            hysteresis_usd_mwh: s.hysteresis_usd_mwh,
            max_wake_kw: s.effective_max_wake_kw(),
            gpu_usd_per_hour: s.gpu_usd_per_hour,
            switch_cost_usd: s.switch_cost_usd,
        };
        let command =
            SiteCommand::Configure { id: s.id.clone(), cap_kw: s.cap_kw, policy, at: Timestamp::from_unix_micros(now) };
        match optimizer.site(&s.id, command, &context).await {
            Ok(site) if site.cap_kw != s.cap_kw => tracing::warn!(
                site = %s.id,
                configured_kw = s.cap_kw,
                recorded_kw = site.cap_kw,
                "the site's cap was changed at run time; planning with the recorded cap"
            ),
            Ok(_) => {}
            Err(hcp_runtime::RepositoryError::Store { source, .. }) => return Err(source.into()),
            Err(e) => tracing::error!(site = %s.id, error = %e, "cannot record the configured site"),
        }
    }
    Ok(())
}

//! `hcp up`: the platform on its embedded defaults, in one process, through the same
//! runtime and code as `hcp serve`: the event store, a simulated fleet (miners on
//! loopback addresses, GPU hosts with their agents), discovery, pricing (replaying the
//! shipped ERCOT and Bitcoin series), optimization (planning each site on each
//! recorded price), routing (the workload queue, with a `demo` tenant), execution
//! (the simulated GPU hosts' agents attach to it and run what is placed), metering
//! (usage, invoices, budgets) and notifications (webhooks), each on its own gRPC address from the configuration, and one
//! `/metrics` for the process. Runs until SIGINT or SIGTERM; prints the fleet's health
//! every poll interval and each plan.

use crate::settings;
use anyhow::Context;
use hcp_agent::AgentConfig;
use hcp_agent::backend::Simulated;
use hcp_agent::executor::ExecutorConfig;
use hcp_agent::runner::Runner;
use hcp_discovery::{Discovery, DiscoveryConfig, ScanTarget};
use hcp_domain::ids::SiteId;
use hcp_domain::resource::Health;
use hcp_runtime::config::Config;
use hcp_runtime::store::Instrumented;
use hcp_runtime::{Host, Metrics};
use hcp_sim::gpu::SimGpuHost;
use hcp_simulator::{Fleet, FleetSpec};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs until SIGINT or SIGTERM.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    // Inputs first: a data file that cannot be read stops here, before anything starts.
    let market = hcp_pricing::market_data(config).map_err(anyhow::Error::msg)?;
    let mut discovery_config = DiscoveryConfig::from_config(config).context("discovery.targets")?;
    // Its own agents enrol with the configured token, or with one made for this run.
    let token = config
        .execution
        .enrolment_token
        .as_ref()
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), |t| t.expose().to_owned());
    let secret = hcp_runtime::config::Secret::new(token.clone());
    discovery_config.agent_token = Some(secret.clone());

    let metrics = Metrics::new();
    let store = Arc::new(Instrumented::new(settings::open_or_create(config).await?, metrics.clone()));
    eprintln!("store: {}", config.store_url());
    let host = Host::new(store, metrics, "up");
    let http = host.serve_http("up", config.up.metrics).await?;
    eprintln!("metrics: http://{http}/metrics (also /health and /status)");

    let sim = &config.simulator;
    let fleet = if sim.enabled {
        let mut spec = FleetSpec::uniform(sim.sites as usize, sim.miners_per_site as usize, sim.first_octet as u8);
        spec.time_factor = sim.time_factor;
        spec.board_failures_per_hour = sim.board_failures_per_hour;
        let fleet = Fleet::start(spec).await.context("starting the simulated fleet")?;
        for s in &fleet.spec.sites {
            let (first, last) = s.range();
            eprintln!("simulator: site {} ({}): {} miners on {first}-{last}:4028", s.id, s.settlement_point, s.miners);
            if !config.sites.iter().any(|c| c.id == s.id) {
                eprintln!(
                    "simulator: site {} is not in the configuration's [[sites]]: discovered, not priced or planned",
                    s.id
                );
            }
            discovery_config.targets.push(ScanTarget {
                site: SiteId::new(s.id.clone())?,
                first,
                last,
                port: fleet.spec.port,
            });
        }
        Some(fleet)
    } else {
        None
    };
    let started = Instant::now();
    let mut discovery = Discovery::start(&host, discovery_config).await.context("starting discovery")?;
    eprintln!(
        "discovery: gRPC on http://{} ({} resources already known)",
        discovery.grpc_addr,
        discovery.inventory.len()
    );

    let (routing_addr, routing) = hcp_routing::start(&host, config, config.services.routing.grpc).await?;
    eprintln!("routing: gRPC on http://{routing_addr} (workloads, tenants, hosts)");
    let (execution, _) = hcp_execution::start(&host, config, secret, config.services.execution.grpc).await?;
    eprintln!("execution: gRPC on http://{execution} (agents attach here)");
    let (metering, _) = hcp_metering::start(&host, &config.metering, config.services.metering.grpc).await?;
    eprintln!(
        "metering: gRPC on http://{metering} (usage, invoices, rate cards, budgets; {} periods)",
        config.metering.period
    );
    let keys = hcp_notifications::keys::Keys::new(config.data.dir.join("keys"));
    let notifications =
        hcp_notifications::start(&host, &config.notifications, keys, config.services.notifications.grpc).await?;
    eprintln!("notifications: gRPC on http://{notifications} (webhook endpoints, deliveries)");

    if fleet.is_some() {
        let site = config.sites.first().map_or_else(|| "tx-south-1".to_owned(), |s| s.id.clone());
        for (n, gpu_host) in SimGpuHost::fleet(sim.gpu_hosts as usize, sim.gpus_per_host).into_iter().enumerate() {
            let agent = AgentConfig {
                discovery: format!("http://{}", discovery.grpc_addr),
                host: gpu_host.name.clone(),
                site: site.clone(),
                rack: format!("g{}", n / 4 + 1),
                token: token.clone(),
            };
            let executor = ExecutorConfig {
                execution: format!("http://{execution}"),
                token: token.clone(),
                host: gpu_host.name.clone(),
                gpus: gpu_host.gpus.iter().map(|g| (g.uuid.clone(), g.index)).collect(),
                data_dir: config.data.dir.join("agents").join(&gpu_host.name),
                runner: Runner::Simulated { time_factor: sim.time_factor },
            };
            host.spawn("agent", async move {
                if let Err(e) = hcp_agent::run(Simulated(gpu_host), agent).await {
                    tracing::error!(error = %e, "agent stopped");
                }
            });
            host.spawn("agent executor", async move {
                if let Err(e) = hcp_agent::executor::run(executor).await {
                    tracing::error!(error = %e, "agent executor stopped");
                }
            });
        }
        demo_tenant(config, &routing).await;
    }

    let pricing = hcp_pricing::start(&host, config, market, config.services.pricing.grpc).await?;
    eprintln!(
        "pricing: gRPC on http://{pricing}; prices: {} at {}x",
        config.pricing.prices.as_ref().map_or_else(|| config.pricing.source.clone(), |p| p.display().to_string()),
        config.pricing.speed
    );
    let on_plan: hcp_optimization::handlers::OnPlan =
        Arc::new(|plan| eprintln!("plan {}: {}", plan.site, plan.summary));
    let (optimization, _) =
        hcp_optimization::start(&host, config, config.services.optimization.grpc, Some(on_plan)).await?;
    eprintln!("optimization: gRPC on http://{optimization}");

    // The gateway last, in front of every service's actual address.
    let addrs = [
        ("routing", routing_addr),
        ("discovery", discovery.grpc_addr),
        ("pricing", pricing),
        ("optimization", optimization),
        ("execution", execution),
        ("metering", metering),
        ("notifications", notifications),
    ];
    let upstreams = hcp_gateway::Upstreams::lazy(|name| addrs.iter().find(|(n, _)| *n == name).map(|(_, a)| *a))
        .map_err(anyhow::Error::msg)?;
    let (gateway, keys) = hcp_gateway::start(&host, config.services.gateway.http, upstreams, &config.gateway).await?;
    // Announced like the others (its health on gRPC), so `hcp status` shows it and its projections.
    host.serve("gateway", hcp_runtime::grpc::GrpcServices::default(), config.services.gateway.grpc).await?;
    eprintln!(
        "gateway: REST on http://{gateway}/v1 (the API at /v1/openapi.json, readable at /docs); the web console at http://{gateway}/"
    );
    if fleet.is_some() {
        let path = config.data.dir.join("credentials");
        let tenant = hcp_domain::ids::TenantId::new(DEMO_TENANT)?;
        match hcp_gateway::credentials::demo_keys(&host.store, &keys, &tenant, &path).await {
            Ok(k) => {
                eprintln!("api key: {} (tenant {DEMO_TENANT}, developer; kept in {})", k.tenant, path.display());
                eprintln!("admin key: {} (the platform's admin: fleet, sites, plans, tenants, keys)", k.admin);
                eprintln!("try: curl -H 'Authorization: Bearer {}' http://{gateway}/v1/workloads", k.tenant);
            }
            Err(e) => tracing::warn!(error = %e, "no demo API keys"),
        }
    }

    tokio::select! {
        () = discovery.scanned(1) => {
            eprintln!(
                "scan: {} miners polled, {} resources in inventory, {:.1} s after start",
                discovery.polled.len(),
                discovery.inventory.len(),
                started.elapsed().as_secs_f64()
            );
            eprintln!("ready: try `hcp resources list`, `hcp workloads submit --tenant demo --kind training --gpu-model H100 --gpus 8 --duration 2h`, `hcp status`, `hcp invoices preview --tenant demo` and `hcp events tail --follow` in another terminal; Ctrl-C stops");
        }
        () = host.shutdown.cancelled() => {}
        () = hcp_runtime::host::signal() => host.shutdown.cancel(),
    }
    let poll = Duration::from_secs_f64(config.discovery.poll_seconds);
    let inventory = Arc::clone(&discovery.inventory);
    host.spawn("health line", async move {
        let mut every = tokio::time::interval(poll);
        every.tick().await;
        loop {
            every.tick().await;
            eprintln!("{}", health_line(&inventory));
        }
    });
    let grace = Duration::from_secs_f64(config.shutdown.grace_seconds);
    let stopped = host.run_until_shutdown(grace).await;
    drop(fleet);
    stopped.map_err(anyhow::Error::msg)
}

/// The demo tenant: the whole simulated GPU fleet as its quota, every class granted, so
/// that a first workload can be submitted at once (`--tenant demo`). Recorded once, by
/// routing, with `hcp up` as the actor.
async fn demo_tenant<S: hcp_eventstore::EventStore>(config: &Config, routing: &hcp_routing::Routing<S>) {
    use hcp_domain::tenant::{Quota, TenantCommand};
    use hcp_domain::workload::WorkloadKind;
    let gpus = config.simulator.gpu_hosts * config.simulator.gpus_per_host;
    let context = hcp_runtime::EventContext::new("hcp-up");
    let quota = Quota { nominal_gpus: gpus, borrowing_limit_gpus: 0, weight: 1 };
    match routing.create_tenant(DEMO_TENANT, "Demo tenant", quota, &context).await {
        Ok(_) => {
            let grant = TenantCommand::Grant {
                class: WorkloadKind::RealtimeInference,
                at: hcp_domain::units::Timestamp::from_unix_micros(hcp_runtime::clock::now_micros()),
            };
            if let Err(e) = routing.tenant(DEMO_TENANT, grant, &context).await {
                tracing::warn!(error = %e, "cannot grant the demo tenant realtime inference");
            }
            eprintln!("tenant: {DEMO_TENANT} ({gpus} GPUs, every class) created");
        }
        Err(e) if hcp_runtime::HasErrorCode::code(&e) == hcp_runtime::ErrorCode::AlreadyExists => {}
        Err(e) => tracing::warn!(error = %e, "cannot create the demo tenant"),
    }
}

/// The tenant `hcp up` creates.
pub const DEMO_TENANT: &str = "demo";

fn health_line(inventory: &hcp_discovery::Inventory) -> String {
    let snapshot = inventory.snapshot();
    let count = |h: Health| snapshot.iter().filter(|(_, e)| e.resource.health == h).count();
    format!(
        "fleet: {} resources: {} healthy, {} degraded, {} offline",
        snapshot.len(),
        count(Health::Healthy),
        count(Health::Degraded),
        count(Health::Offline)
    )
}

//! `hcp up`: the platform on its embedded defaults, in one process: the event store, a
//! simulated fleet (miners on loopback addresses, GPU hosts with their agents),
//! discovery with its gRPC API, and pricing (replaying the shipped ERCOT and Bitcoin
//! series) with the optimizer planning every site on each new interval. Runs until
//! interrupted; prints the fleet's health every poll interval and each plan.

use crate::cli::UpArgs;
use anyhow::Context;
use hcp_agent::AgentConfig;
use hcp_agent::backend::Simulated;
use hcp_discovery::{Discovery, DiscoveryConfig, ScanTarget};
use hcp_domain::ids::SiteId;
use hcp_domain::resource::Health;
use hcp_eventstore::AnyStore;
use hcp_sim::gpu::SimGpuHost;
use hcp_simulator::{Fleet, FleetSpec};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod market;

/// Runs until Ctrl-C.
pub async fn run(store_url: &str, args: UpArgs) -> anyhow::Result<()> {
    let store =
        Arc::new(AnyStore::open(store_url).await.with_context(|| format!("opening the event store {store_url}"))?);
    eprintln!("store: {store_url}");
    if !(args.poll_seconds > 0.0 && args.poll_seconds.is_finite()) {
        anyhow::bail!("--poll-seconds must be a positive number, not {}", args.poll_seconds);
    }
    let fleet = if args.no_simulator {
        None
    } else {
        let mut spec = FleetSpec::uniform(args.sites, args.miners_per_site, args.first_octet);
        spec.time_factor = args.time_factor;
        spec.board_failures_per_hour = args.board_failures_per_hour;
        let fleet = Fleet::start(spec).await.context("starting the simulated fleet")?;
        for s in &fleet.spec.sites {
            let (first, last) = s.range();
            eprintln!("simulator: site {} ({}): {} miners on {first}-{last}:4028", s.id, s.settlement_point, s.miners);
        }
        Some(fleet)
    };
    let targets = match &fleet {
        Some(f) => f
            .spec
            .sites
            .iter()
            .map(|s| {
                let (first, last) = s.range();
                Ok(ScanTarget { site: SiteId::new(s.id.clone())?, first, last, port: f.spec.port })
            })
            .collect::<Result<Vec<_>, hcp_domain::ids::InvalidId>>()?,
        None => Vec::new(),
    };
    let site = targets.first().map_or_else(|| "tx-south-1".to_owned(), |t| t.site.to_string());
    let config = DiscoveryConfig {
        targets,
        poll_interval: Duration::from_secs_f64(args.poll_seconds),
        grpc_addr: args.grpc,
        ..DiscoveryConfig::default()
    };
    let started = Instant::now();
    let mut discovery = Discovery::start(Arc::clone(&store), config).await.context("starting discovery")?;
    eprintln!(
        "discovery: gRPC on http://{} ({} resources already known)",
        discovery.grpc_addr,
        discovery.inventory.len()
    );

    let agents: Vec<_> = if args.no_simulator {
        Vec::new()
    } else {
        SimGpuHost::fleet(args.gpu_hosts, args.gpus_per_host)
            .into_iter()
            .enumerate()
            .map(|(n, host)| {
                let config = AgentConfig {
                    discovery: format!("http://{}", discovery.grpc_addr),
                    host: host.name.clone(),
                    site: site.clone(),
                    rack: format!("g{}", n / 4 + 1),
                };
                tokio::spawn(hcp_agent::run(Simulated(host), config))
            })
            .collect()
    };

    let mut market_tasks = Vec::new();
    if let Some(f) = &fleet {
        let sites = f
            .spec
            .sites
            .iter()
            .map(|s| market::MarketSite {
                market: hcp_pricing::SiteMarket { site: s.id.clone(), settlement_point: s.settlement_point.clone() },
                policy: hcp_optimization::SitePolicy {
                    site: s.id.clone(),
                    cap_kw: s.power_cap_w as f64 / 1000.0,
                    min_dwell_micros: (900.0 / args.price_speed.max(1e-9) * 1e6) as i64,
                    hysteresis_usd_mwh: 5.0,
                    max_wake_kw: s.power_cap_w as f64 / 1000.0,
                    gpu_usd_per_hour: 2.0,
                    switch_cost_usd: 0.05,
                },
            })
            .collect();
        let market_args = market::MarketArgs {
            source: &args.price_source,
            prices: &args.prices,
            btc: &args.btc,
            speed: args.price_speed,
            api: args.api,
        };
        match market::start(Arc::clone(&store), &discovery, sites, market_args).await {
            Ok(tasks) => market_tasks = tasks,
            Err(e) => eprintln!("pricing and optimization not started: {e:#}"),
        }
    }

    tokio::select! {
        _ = discovery.scanned(1) => {
            eprintln!(
                "scan: {} miners polled, {} resources in inventory, {:.1} s after start",
                discovery.polled.len(),
                discovery.inventory.len(),
                started.elapsed().as_secs_f64()
            );
        }
        _ = tokio::signal::ctrl_c() => return Ok(()),
    }
    eprintln!("ready: try `hcp resources list` and `hcp events tail --follow` in another terminal; Ctrl-C stops");
    let mut every = tokio::time::interval(Duration::from_secs_f64(args.poll_seconds));
    every.tick().await;
    loop {
        tokio::select! {
            _ = every.tick() => eprintln!("{}", health_line(&discovery)),
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    agents.iter().for_each(|a| a.abort());
    market_tasks.iter().for_each(|t| t.abort());
    drop(fleet);
    Ok(())
}

fn health_line<S>(discovery: &Discovery<S>) -> String {
    let snapshot = discovery.inventory.snapshot();
    let count = |h: Health| snapshot.iter().filter(|(_, e)| e.resource.health == h).count();
    format!(
        "fleet: {} resources: {} healthy, {} degraded, {} offline",
        snapshot.len(),
        count(Health::Healthy),
        count(Health::Degraded),
        count(Health::Offline)
    )
}

//! The market side of `hcp up`: pricing replaying the shipped series for every site,
//! and the optimizer planning each site on every new interval, its changes recorded on
//! the resources; both served over gRPC on one listener.

use anyhow::Context;
use hcp_discovery::Discovery;
use hcp_domain::ids::ResourceId;
use hcp_domain::resource::{Mode, ResourceCommand};
use hcp_economics::series::{parse_btc_daily, parse_ercot};
use hcp_eventstore::EventStore;
use hcp_optimization::grpc::OptimizationService;
use hcp_optimization::{Optimizer, SitePolicy};
use hcp_pricing::grpc::PricingService;
use hcp_pricing::source::http::HttpPoller;
use hcp_pricing::source::replay::Replay;
use hcp_pricing::source::simulate::{Calibration, Simulator};
use hcp_pricing::{Recorder, SiteMarket};
use hcp_proto::mux::Mux;
use hcp_proto::v1 as pb;
use hcp_proto::v1::optimization_server::OptimizationServer;
use hcp_proto::v1::pricing_server::PricingServer;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A site to price and plan.
pub struct MarketSite {
    /// Prices.
    pub market: SiteMarket,
    /// Planning policy.
    pub policy: SitePolicy,
}

/// What to replay and where to serve.
pub struct MarketArgs<'a> {
    /// `replay`, `simulated` or an `http://` URL.
    pub source: &'a str,
    /// ERCOT prices.
    pub prices: &'a Path,
    /// Bitcoin days.
    pub btc: &'a Path,
    /// Simulated market seconds per real second.
    pub speed: f64,
    /// The API address.
    pub api: SocketAddr,
}

/// Starts pricing, planning and their API; returns the tasks.
pub async fn start<S: EventStore>(
    store: Arc<S>,
    discovery: &Discovery<S>,
    sites: Vec<MarketSite>,
    args: MarketArgs<'_>,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let read = |p: &Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let intervals = parse_ercot(&args.prices.display().to_string(), &read(args.prices)?)?;
    let days = parse_btc_daily(&args.btc.display().to_string(), &read(args.btc)?)?;
    let markets: Vec<SiteMarket> = sites.iter().map(|s| s.market.clone()).collect();
    let recorder = Arc::new(Recorder::load(Arc::clone(&store), &markets).await?);
    let optimizer = Arc::new(Optimizer::new(
        Arc::clone(&store),
        Arc::clone(&discovery.inventory),
        Arc::clone(&recorder.book),
        sites.iter().map(|s| s.policy.clone()).collect(),
    ));
    let mut tasks = Vec::new();
    let (series, source) = match args.source {
        "replay" => (intervals, "replay"),
        "simulated" => {
            let cal = Calibration::fit(&intervals).context("the price series is too short to calibrate a simulator")?;
            let last = intervals[intervals.len() - 1];
            (Simulator::new(cal, &last, 42).take(intervals.len()).collect(), "simulated")
        }
        url if url.starts_with("http://") => (Vec::new(), "http"),
        other => anyhow::bail!("unknown price source {other:?}: replay, simulated or an http:// URL"),
    };
    if source == "http" {
        // Hashprice still comes from the Bitcoin series: all of it is history.
        for d in &days {
            recorder.bitcoin(d).await?;
        }
    }
    for (k, market) in markets.into_iter().enumerate() {
        let recorder = Arc::clone(&recorder);
        if source == "http" {
            let poller = HttpPoller { market, url: args.source.to_owned(), timeout: Duration::from_secs(5) };
            tasks.push(tokio::spawn(async move { poller.run(&recorder, Duration::from_secs(15)).await }));
            continue;
        }
        // One replay carries the Bitcoin days; every site's carries its prices.
        let days = if k == 0 { days.clone() } else { Vec::new() };
        let replay =
            Replay { market, intervals: series.clone(), days, speed: args.speed, skip: 0, source: source.into() };
        tasks.push(tokio::spawn(async move {
            if let Err(e) = replay.run(&recorder).await {
                tracing::error!(error = %e, "price replay stopped");
            }
        }));
    }
    let listener =
        tokio::net::TcpListener::bind(args.api).await.with_context(|| format!("binding the API on {}", args.api))?;
    let mux = Mux::new(
        "/hcp.v1.Pricing/",
        PricingServer::new(PricingService(Arc::clone(&recorder.book))),
        OptimizationServer::new(OptimizationService(Arc::clone(&optimizer))),
    );
    tasks.push(tokio::spawn(async move {
        if let Err(e) = hcp_proto::mux::serve(listener, mux).await {
            tracing::error!(error = %e, "API server stopped");
        }
    }));
    eprintln!("pricing and optimization: gRPC on http://{}; prices: {} at {}x", args.api, args.source, args.speed);
    let sites: Vec<String> = sites.into_iter().map(|s| s.policy.site).collect();
    let book = Arc::clone(&recorder.book);
    let resources = Arc::clone(&discovery.recorder);
    tasks.push(tokio::spawn(async move {
        let mut seen = vec![None; sites.len()];
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            for (k, site) in sites.iter().enumerate() {
                let last = book.last_start(site);
                if last.is_none() || last == seen[k] {
                    continue;
                }
                seen[k] = last;
                match optimizer.plan(site).await {
                    Ok(plan) => {
                        apply(&resources, &plan).await;
                        eprintln!("plan {site}: {}", plan.summary);
                    }
                    Err(e) => tracing::debug!(%site, error = %e, "no plan yet"),
                }
            }
        }
    }));
    Ok(tasks)
}

/// Records a plan's changes on the resources (switching the hardware follows them).
async fn apply<S: EventStore>(resources: &hcp_discovery::recorder::Recorder<S>, plan: &pb::AllocationPlanned) {
    for change in &plan.changes {
        let mode = match pb::ResourceMode::try_from(change.mode) {
            Ok(pb::ResourceMode::Mining) => Mode::Mining,
            Ok(pb::ResourceMode::ServingAi) => Mode::ServingAi,
            Ok(pb::ResourceMode::Curtailed) => Mode::Curtailed,
            _ => continue,
        };
        let Ok(id) = ResourceId::new(change.resource_id.clone()) else { continue };
        let command = ResourceCommand::SetMode { mode, at: hcp_discovery::clock::now() };
        if let Err(e) = resources.execute(&id, command).await {
            tracing::warn!(error = %e, "could not record a planned mode");
        }
    }
}

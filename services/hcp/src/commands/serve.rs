//! `hcp serve <service>`: one service as its own process, on the configured store (in
//! practice JetStream, shared with the other services), its gRPC and HTTP addresses
//! from the configuration's service table. SIGINT or SIGTERM stops intake, drains calls
//! and handlers, commits checkpoints and exits 0 within the grace period.

use crate::settings;
use anyhow::Context;
use hcp_discovery::{Discovery, DiscoveryConfig};
use hcp_runtime::config::Config;
use hcp_runtime::store::Instrumented;
use hcp_runtime::{Host, Metrics};
use std::sync::Arc;
use std::time::Duration;

/// The services `hcp serve` runs today.
pub const SERVABLE: [&str; 8] =
    ["discovery", "pricing", "optimization", "routing", "execution", "metering", "notifications", "gateway"];

/// Runs `service` until SIGINT or SIGTERM.
pub async fn run(config: &Config, service: &str) -> anyhow::Result<()> {
    if !SERVABLE.contains(&service) {
        anyhow::bail!(
            "unknown service {service:?}: `hcp serve` runs {} (the others are not built yet)",
            SERVABLE.join(", ")
        );
    }
    let addrs = config.service(service).cloned().with_context(|| format!("no addresses for {service}"))?;
    // Everything that can be wrong with the inputs is found before anything is opened.
    let market =
        if service == "pricing" { Some(hcp_pricing::market_data(config).map_err(anyhow::Error::msg)?) } else { None };
    let discovery = DiscoveryConfig::from_config(config).context("discovery.targets")?;
    let token = config.execution.enrolment_token.clone();
    if service == "execution" && token.is_none() {
        anyhow::bail!(
            "execution.enrolment_token is not set: agents enrol with it (set it in the file or HCP_EXECUTION__ENROLMENT_TOKEN)"
        );
    }

    let metrics = Metrics::new();
    let store = Arc::new(Instrumented::new(settings::open_or_create(config).await?, metrics.clone()));
    let host = Host::new(store, metrics, "serve");
    if service == "gateway" {
        // Its REST API takes its HTTP address (health at /v1/health).
        let upstreams = hcp_gateway::Upstreams::from_config(config).map_err(anyhow::Error::msg)?;
        let (rest, _) = hcp_gateway::start(&host, addrs.http, upstreams, &config.gateway).await?;
        // Announced like the others (its health on gRPC), so `hcp status` shows it and its projections.
        host.serve("gateway", hcp_runtime::grpc::GrpcServices::default(), addrs.grpc).await?;
        eprintln!("ready: gateway REST on http://{rest}/v1; store {}", config.store_url());
        let grace = Duration::from_secs_f64(config.shutdown.grace_seconds);
        host.run_until_shutdown(grace).await.map_err(anyhow::Error::msg)?;
        eprintln!("gateway: stopped");
        return Ok(());
    }
    let http = host.serve_http(service, addrs.http).await?;
    let grpc = match (service, market) {
        ("discovery", _) => Discovery::start(&host, discovery).await?.grpc_addr,
        ("pricing", Some(market)) => hcp_pricing::start(&host, config, market, addrs.grpc).await?,
        ("optimization", _) => hcp_optimization::start(&host, config, addrs.grpc, None).await?.0,
        ("routing", _) => hcp_routing::start(&host, config, addrs.grpc).await?.0,
        ("metering", _) => hcp_metering::start(&host, &config.metering, addrs.grpc).await?.0,
        ("notifications", _) => {
            let keys = hcp_notifications::keys::Keys::new(config.data.dir.join("keys"));
            hcp_notifications::start(&host, &config.notifications, keys, addrs.grpc).await?
        }
        _ => hcp_execution::start(&host, config, token.context("execution.enrolment_token")?, addrs.grpc).await?.0,
    };
    eprintln!(
        "ready: {service} gRPC on http://{grpc}, HTTP on http://{http} (/metrics, /health, /status); store {}",
        config.store_url()
    );
    let grace = Duration::from_secs_f64(config.shutdown.grace_seconds);
    host.run_until_shutdown(grace).await.map_err(anyhow::Error::msg)?;
    eprintln!("{service}: stopped");
    Ok(())
}

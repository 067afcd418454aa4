//! `hcp sites list|set-cap`: sites as the log records them, and an operator's cap
//! change, recorded by optimization (the sites' writer) with the operator as actor.

use crate::cli::{SetCapArgs, SitesCommand};
use crate::commands::events::emit;
use crate::settings;
use anyhow::Context;
use hcp_domain::Aggregate;
use hcp_domain::site::Site;
use hcp_eventstore::{Direction, EventStore};
use hcp_proto::v1 as pb;
use hcp_proto::v1::optimization_client::OptimizationClient;
use hcp_runtime::EventSourced;
use hcp_runtime::config::Config;

/// Runs a sites command.
pub async fn run(command: SitesCommand, config: &Config) -> anyhow::Result<()> {
    match command {
        SitesCommand::List(output) => list(config, output.json).await,
        SitesCommand::SetCap(args) => set_cap(args, config).await,
    }
}

async fn list(config: &Config, json: bool) -> anyhow::Result<()> {
    let store = settings::open_existing(config).await?;
    let mut out = std::io::stdout().lock();
    if !json && !emit(&mut out, &format!("{:<16} {:>10} {:<12} {:>8}", "SITE", "CAP_KW", "SETTLEMENT", "VERSION"))? {
        return Ok(());
    }
    for s in &config.sites {
        let events = store.read_stream(&format!("site-{}", s.id), 1, Direction::Forwards, usize::MAX).await?;
        let folded: Result<Vec<_>, String> = events.iter().map(Site::decode).collect();
        let site = Site::fold(&folded.map_err(anyhow::Error::msg)?);
        if site.id.is_none() {
            continue;
        }
        let line = if json {
            let view = hcp_domain::codec::site_to_pb(&site);
            hcp_proto::descriptors::payload_to_json("site.view", &prost::Message::encode_to_vec(&view))
                .map(|v| v.to_string())
                .unwrap_or_default()
        } else {
            format!("{:<16} {:>10.1} {:<12} {:>8}", s.id, site.cap_kw, site.policy.settlement_point, site.version)
        };
        if !emit(&mut out, &line)? {
            break;
        }
    }
    Ok(())
}

async fn set_cap(args: SetCapArgs, config: &Config) -> anyhow::Result<()> {
    let url = args.api.clone().unwrap_or_else(|| format!("http://{}", config.services.optimization.dial_addr()));
    let channel = hcp_proto::client::connect(&url)
        .await
        .context("optimization records cap changes (is `hcp up` or `hcp serve optimization` running?)")?;
    let mut request = tonic::Request::new(pb::SetSiteCapRequest {
        site: args.site.clone(),
        cap_kw: args.cap_kw,
        reason: args.reason,
    });
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    if let Ok(actor) = format!("operator:{user}").parse() {
        request.metadata_mut().insert("x-hcp-actor", actor);
    }
    let site = OptimizationClient::new(channel)
        .set_site_cap(request)
        .await
        .map_err(|s| anyhow::anyhow!("setting the cap of {}: {}", args.site, s.message()))?
        .into_inner();
    println!("{}: cap {:.1} kW (version {})", site.site, site.cap_kw, site.version);
    Ok(())
}

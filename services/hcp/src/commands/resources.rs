//! `hcp resources list|get`: discovery's inventory over gRPC.

use crate::cli::{DiscoveryAddr, GetArgs, ListArgs, ResourcesCommand};
use crate::commands::events::emit;
use anyhow::Context;
use hcp_proto::v1 as pb;
use hcp_proto::v1::inventory_client::InventoryClient;
use hcp_runtime::config::Config;
use prost::Message;
use tonic::transport::Channel;

/// Runs a resources command.
pub async fn run(command: ResourcesCommand, config: &Config) -> anyhow::Result<()> {
    match command {
        ResourcesCommand::List(args) => list(args, config).await,
        ResourcesCommand::Get(args) => get(args, config).await,
    }
}

async fn client(at: &DiscoveryAddr, config: &Config) -> anyhow::Result<InventoryClient<Channel>> {
    let url = at.discovery.clone().unwrap_or_else(|| format!("http://{}", config.services.discovery.grpc));
    let channel = hcp_proto::client::connect(&url)
        .await
        .context("discovery serves the inventory (is `hcp up` or `hcp serve discovery` running?)")?;
    Ok(InventoryClient::new(channel))
}

fn health(s: &str) -> anyhow::Result<pb::ResourceHealth> {
    pb::ResourceHealth::from_str_name(&format!("RESOURCE_HEALTH_{}", s.to_ascii_uppercase()))
        .with_context(|| format!("unknown health {s:?}: healthy, degraded, offline or retired"))
}

fn mode(s: &str) -> anyhow::Result<pb::ResourceMode> {
    pb::ResourceMode::from_str_name(&format!("RESOURCE_MODE_{}", s.to_ascii_uppercase().replace('-', "_")))
        .with_context(|| format!("unknown mode {s:?}: idle, mining, serving-ai or curtailed"))
}

async fn list(args: ListArgs, config: &Config) -> anyhow::Result<()> {
    let health = args.health.as_deref().map(health).transpose()?;
    let mode = args.mode.as_deref().map(mode).transpose()?;
    let mut client = client(&args.at, config).await?;
    let mut out = std::io::stdout().lock();
    if !args.output.json && !emit(&mut out, &header())? {
        return Ok(());
    }
    let (mut token, mut printed) = (String::new(), 0usize);
    loop {
        let request = pb::ListResourcesRequest {
            site: args.site.clone().unwrap_or_default(),
            mode: mode.map_or(0, |m| m as i32),
            health: health.map_or(0, |h| h as i32),
            page_size: 1000,
            page_token: token,
        };
        let page = client.list_resources(request).await.context("listing resources")?.into_inner();
        for r in &page.resources {
            if args.limit.is_some_and(|l| printed >= l) || !emit(&mut out, &line(r, args.output.json)?)? {
                return Ok(());
            }
            printed += 1;
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        token = page.next_page_token;
    }
}

async fn get(args: GetArgs, config: &Config) -> anyhow::Result<()> {
    let mut client = client(&args.at, config).await?;
    let r = match client.get_resource(pb::GetResourceRequest { id: args.id.clone() }).await {
        Ok(r) => r.into_inner(),
        Err(s) if s.code() == tonic::Code::NotFound => anyhow::bail!("no resource {:?}", args.id),
        Err(s) => return Err(s).context("getting the resource"),
    };
    let json = hcp_proto::descriptors::message_to_json("hcp.v1.Resource", &r.encode_to_vec())?;
    let text = if args.output.json { json.to_string() } else { serde_json::to_string_pretty(&json)? };
    emit(&mut std::io::stdout().lock(), &text)?;
    Ok(())
}

fn header() -> String {
    format!(
        "{:<40} {:<22} {:<11} {:<5} {:<9} {:<9} {:>10} {:>8}  ADDRESS",
        "ID", "MODEL", "SITE", "RACK", "MODE", "HEALTH", "TH/s|UTIL", "WATTS"
    )
}

fn line(r: &pb::Resource, json: bool) -> anyhow::Result<String> {
    if json {
        return Ok(hcp_proto::descriptors::message_to_json("hcp.v1.Resource", &r.encode_to_vec())?.to_string());
    }
    let spec = r.spec.clone().unwrap_or_default();
    let (model, gpu, efficiency) = match spec.kind {
        Some(pb::resource_spec::Kind::Asic(a)) => {
            let th = a.nominal_hashrate_hs as f64 / 1e12;
            let jth = if th > 0.0 { format!("{:.1}", a.nominal_power_w as f64 / th) } else { "-".into() };
            (a.model, false, jth)
        }
        Some(pb::resource_spec::Kind::Gpu(g)) => (g.model, true, "-".into()),
        None => (String::new(), false, "-".into()),
    };
    let t = r.telemetry.clone().unwrap_or_default();
    let work = if gpu { format!("{}%", t.utilization_pct) } else { format!("{:.1}", t.hashrate_ths) };
    let name = |s: &str, prefix: &str| s.trim_start_matches(prefix).to_ascii_lowercase().replace('_', "-");
    Ok(format!(
        "{:<40} {:<22} {:<11} {:<5} {:<9} {:<9} {:>6} {:>10} {:>8.0}  {}",
        r.id,
        model,
        spec.site,
        spec.rack,
        name(pb::ResourceMode::try_from(r.mode).unwrap_or_default().as_str_name(), "RESOURCE_MODE_"),
        name(pb::ResourceHealth::try_from(r.health).unwrap_or_default().as_str_name(), "RESOURCE_HEALTH_"),
        efficiency,
        work,
        t.power_w,
        r.address
    ))
}

//! `hcp resources list|get|samples`: discovery's inventory over gRPC, or, when discovery
//! is down, the same projection folded from the log (said on stderr); a device's raw
//! readings from discovery's samples table.

use crate::cli::{DiscoveryAddr, GetArgs, ListArgs, ResourcesCommand, SamplesArgs};
use crate::commands::events::emit;
use crate::settings;
use anyhow::Context;
use hcp_discovery::inventory::Inventory;
use hcp_eventstore::EventStore;
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
        ResourcesCommand::Samples(args) => samples(args, config).await,
        ResourcesCommand::State(args) => crate::commands::state::resource(args, config).await,
    }
}

async fn samples(args: SamplesArgs, config: &Config) -> anyhow::Result<()> {
    let since = args.since.map_or(0, |d| hcp_runtime::clock::now_micros() - i64::try_from(d.as_micros()).unwrap_or(0));
    let request = pb::SamplesRequest { resource_id: args.id.clone(), since_unix_micros: since, limit: args.limit };
    let reply = client(&args.at, config).await?.samples(request).await;
    let reply = reply.map_err(|s| anyhow::anyhow!("samples of {}: {} ({:?})", args.id, s.message(), s.code()))?;
    let mut out = std::io::stdout().lock();
    if !args.output.json {
        emit(&mut out, &format!("{:<27} {:>9} {:>9} {:>6} {:>5}", "AT", "WATTS", "TH/s", "°C", "UTIL"))?;
    }
    for t in reply.into_inner().samples {
        let line = if args.output.json {
            hcp_proto::descriptors::message_to_json("hcp.v1.Telemetry", &t.encode_to_vec())?.to_string()
        } else {
            let at = hcp_domain::units::Timestamp::from_unix_micros(t.observed_unix_micros);
            format!(
                "{at:<27} {:>9.0} {:>9.1} {:>6.1} {:>4}%",
                t.power_w, t.hashrate_ths, t.max_temp_c, t.utilization_pct
            )
        };
        emit(&mut out, &line)?;
    }
    Ok(())
}

async fn client(at: &DiscoveryAddr, config: &Config) -> anyhow::Result<InventoryClient<Channel>> {
    let url = at.discovery.clone().unwrap_or_else(|| format!("http://{}", config.services.discovery.dial_addr()));
    let channel = hcp_proto::client::connect(&url)
        .await
        .context("discovery serves the inventory (is `hcp up` or `hcp serve discovery` running?)")?;
    Ok(InventoryClient::new(channel))
}

/// Where resources are read: discovery's live inventory, or, when discovery is down,
/// the inventory folded from the log (the same projection, without telemetry).
enum Source {
    Live(InventoryClient<Channel>),
    Log(Inventory),
}

impl Source {
    async fn open(at: &DiscoveryAddr, config: &Config) -> anyhow::Result<Source> {
        let live = match client(at, config).await {
            Ok(c) => return Ok(Source::Live(c)),
            Err(e) => e,
        };
        let store = settings::open_existing(config)
            .await
            .map_err(|e| anyhow::anyhow!("{live:#}; and the log cannot be read instead: {e:#}"))?;
        let inventory = Inventory::default();
        let mut from = 0;
        loop {
            let page = store.read_all(from, 10_000).await?;
            let Some(last) = page.last().map(|e| e.position) else { break };
            for e in &page {
                inventory.apply(e).map_err(anyhow::Error::msg)?;
            }
            from = last + 1;
        }
        eprintln!("note: {live:#}; read from the log at {} instead (no telemetry)", config.store_url());
        Ok(Source::Log(inventory))
    }

    async fn list(&mut self, request: pb::ListResourcesRequest) -> anyhow::Result<pb::ListResourcesResponse> {
        match self {
            Source::Live(c) => Ok(c.list_resources(request).await.context("listing resources")?.into_inner()),
            Source::Log(inventory) => Ok(inventory.list(&request)?),
        }
    }

    async fn get(&mut self, id: &str) -> anyhow::Result<Option<pb::Resource>> {
        match self {
            Source::Live(c) => match c.get_resource(pb::GetResourceRequest { id: id.to_owned() }).await {
                Ok(r) => Ok(Some(r.into_inner())),
                Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
                Err(s) => Err(s).context("getting the resource"),
            },
            Source::Log(inventory) => Ok(inventory.get(id)),
        }
    }
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
    let mut source = Source::open(&args.at, config).await?;
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
            query: args.query.clone().unwrap_or_default(),
            order_by: args.order_by.clone().unwrap_or_default(),
        };
        let page = source.list(request).await?;
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
    let Some(r) = Source::open(&args.at, config).await?.get(&args.id).await? else {
        anyhow::bail!("no resource {:?}", args.id)
    };
    let json = hcp_proto::descriptors::message_to_json("hcp.v1.Resource", &r.encode_to_vec())?;
    let text = if args.output.json { json.to_string() } else { serde_json::to_string_pretty(&json)? };
    emit(&mut std::io::stdout().lock(), &text)?;
    Ok(())
}

/// The table's header. WATTS marked `~` are estimated from the model's stock figures and
/// the hashrate, for firmware that reports no power (stock Antminer).
fn header() -> String {
    format!(
        "{:<40} {:<22} {:<11} {:<5} {:<10} {:<9} {:>6} {:>10} {:>8}  ADDRESS",
        "ID", "MODEL", "SITE", "RACK", "MODE", "HEALTH", "J/TH", "TH/s|UTIL", "WATTS"
    )
}

fn line(r: &pb::Resource, json: bool) -> anyhow::Result<String> {
    if json {
        return Ok(hcp_proto::descriptors::message_to_json("hcp.v1.Resource", &r.encode_to_vec())?.to_string());
    }
    let spec = r.spec.clone().unwrap_or_default();
    let t = r.telemetry.clone().unwrap_or_default();
    let (model, gpu, efficiency, watts) = match spec.kind {
        Some(pb::resource_spec::Kind::Asic(a)) => {
            let th = a.nominal_hashrate_hs as f64 / 1e12;
            let jth = if th > 0.0 { format!("{:.1}", a.nominal_power_w as f64 / th) } else { "-".into() };
            // Stock firmware reports no power: an estimate from the stock figures, marked.
            let watts = if t.power_w > 0.0 || t.hashrate_ths <= 0.0 || th <= 0.0 {
                format!("{:.0}", t.power_w)
            } else {
                format!("~{:.0}", a.nominal_power_w as f64 * (t.hashrate_ths / th).min(1.5))
            };
            (a.model, false, jth, watts)
        }
        Some(pb::resource_spec::Kind::Gpu(g)) => (g.model, true, "-".into(), format!("{:.0}", t.power_w)),
        None => (String::new(), false, "-".into(), format!("{:.0}", t.power_w)),
    };
    let work = if gpu { format!("{}%", t.utilization_pct) } else { format!("{:.1}", t.hashrate_ths) };
    let name = |s: &str, prefix: &str| s.trim_start_matches(prefix).to_ascii_lowercase().replace('_', "-");
    Ok(format!(
        "{:<40} {:<22} {:<11} {:<5} {:<10} {:<9} {:>6} {:>10} {:>8}  {}",
        r.id,
        model,
        spec.site,
        spec.rack,
        name(pb::ResourceMode::try_from(r.mode).unwrap_or_default().as_str_name(), "RESOURCE_MODE_"),
        name(pb::ResourceHealth::try_from(r.health).unwrap_or_default().as_str_name(), "RESOURCE_HEALTH_"),
        efficiency,
        work,
        watts,
        r.address
    ))
}

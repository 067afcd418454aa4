//! `hcp fleet curtail|wake|status|maintenance`: operators' control of the miners, through
//! execution's Fleet API. `curtail` and `wake` preview with `--dry-run` (which miners, and
//! the kW) before anything moves; a curtailment outranks plans until it is lifted or its
//! time passes; `status` shows each miner's desired against observed state.

use crate::commands::api::{ListArgs, channel, json, refused, request};
use crate::commands::workloads::duration;
use clap::{Args, Subcommand};
use hcp_domain::units::Timestamp;
use hcp_proto::v1 as pb;
use hcp_proto::v1::fleet_client::FleetClient;
use hcp_runtime::config::Config;

/// `hcp fleet ...`
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Put miners at a site to sleep: `--kw` of them (least efficient first) or `--all`.
    Curtail(CurtailArgs),
    /// Lift a site's curtailments (or one): its miners go back to what plans want.
    Wake(WakeArgs),
    /// Active curtailments, and each miner's desired against observed state.
    Status(StatusArgs),
    /// Take a miner out of plans and commands (`on`), or put it back (`off`).
    Maintenance(MaintenanceArgs),
}

/// `hcp fleet curtail`.
#[derive(Debug, Args)]
pub struct CurtailArgs {
    /// The site.
    #[arg(long)]
    pub site: String,
    /// Load to shed, kW.
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    pub kw: Option<f64>,
    /// Every miner at the site.
    #[arg(long)]
    pub all: bool,
    /// How long it lasts, e.g. 30m or 2h (default and most: `execution.max_curtailment_seconds`).
    #[arg(long, value_parser = duration::parse)]
    pub until: Option<std::time::Duration>,
    /// The preview, reason, address and output.
    #[command(flatten)]
    pub act: ActArgs,
}

/// `hcp fleet wake`.
#[derive(Debug, Args)]
pub struct WakeArgs {
    /// The site.
    #[arg(long)]
    pub site: String,
    /// One curtailment (default: every one at the site).
    #[arg(long)]
    pub id: Option<String>,
    /// The preview, reason, address and output.
    #[command(flatten)]
    pub act: ActArgs,
}

/// What `curtail` and `wake` share.
#[derive(Debug, Args)]
pub struct ActArgs {
    /// Only show which miners and the kW; nothing moves.
    #[arg(long)]
    pub dry_run: bool,
    /// Why (recorded).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// The execution gRPC address.
    #[arg(long)]
    pub api: Option<String>,
    /// Output format.
    #[command(flatten)]
    pub output: crate::cli::Output,
}

/// `hcp fleet status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this site.
    #[arg(long)]
    pub site: Option<String>,
    /// The address and output format.
    #[command(flatten)]
    pub list: ListArgs,
}

/// `hcp fleet maintenance`.
#[derive(Debug, Args)]
pub struct MaintenanceArgs {
    /// The miner's resource id, e.g. asic-10.0.0.7.
    pub id: String,
    /// `on` or `off`.
    #[arg(value_parser = ["on", "off"])]
    pub state: String,
    /// Why (recorded).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// The execution gRPC address.
    #[arg(long)]
    pub api: Option<String>,
}

fn time(micros: i64) -> String {
    Timestamp::from_unix_micros(micros).to_string()
}

fn miner_lines(miners: &[pb::FleetMiner]) {
    println!("{:<24} {:<20} {:>7} {:>6}  OBSERVED", "MINER", "MODEL", "KW", "J/TH");
    for m in miners {
        println!("{:<24} {:<20} {:>7.2} {:>6.1}  {}", m.resource_id, m.model, m.kw, m.joules_per_terahash, m.observed);
    }
}

/// Runs a fleet command.
pub async fn run(command: FleetCommand, config: &Config) -> anyhow::Result<()> {
    match command {
        FleetCommand::Curtail(a) => {
            let mut client = FleetClient::new(channel(config, "execution", a.act.api.as_deref()).await?);
            let until = a
                .until
                .map_or(0, |d| hcp_runtime::clock::now_micros() + i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
            let message = pb::CurtailRequest {
                site: a.site,
                kw: a.kw.unwrap_or(0.0),
                all: a.all,
                until_unix_micros: until,
                dry_run: a.act.dry_run,
                reason: a.act.reason,
            };
            let reply = client.curtail(request(message, "operator")).await.map_err(|s| refused("curtail", s))?;
            let r = reply.into_inner();
            if a.act.output.json {
                println!("{}", json("hcp.v1.CurtailResponse", &r));
                return Ok(());
            }
            let head = if r.dry_run {
                "preview (nothing moves)".to_owned()
            } else {
                format!("curtailment {}", r.curtailment_id)
            };
            println!("{head}: {}; until {}", r.summary, time(r.until_unix_micros));
            miner_lines(&r.miners);
        }
        FleetCommand::Wake(a) => {
            let mut client = FleetClient::new(channel(config, "execution", a.act.api.as_deref()).await?);
            let message = pb::WakeRequest {
                site: a.site,
                curtailment_id: a.id.unwrap_or_default(),
                dry_run: a.act.dry_run,
                reason: a.act.reason,
            };
            let r = client.wake(request(message, "operator")).await.map_err(|s| refused("wake", s))?.into_inner();
            if a.act.output.json {
                println!("{}", json("hcp.v1.WakeResponse", &r));
                return Ok(());
            }
            let verb = if r.dry_run { "would lift" } else { "lifted" };
            println!("{verb} {}: {} miners, {:.1} kW back", r.lifted.join(", "), r.miners.len(), r.expected_kw);
            miner_lines(&r.miners);
        }
        FleetCommand::Status(a) => {
            let mut client = FleetClient::new(channel(config, "execution", a.list.api.as_deref()).await?);
            let message = pb::FleetStatusRequest { site: a.site.unwrap_or_default() };
            let r = client.status(request(message, "operator")).await.map_err(|s| refused("status", s))?.into_inner();
            if a.list.output.json {
                println!("{}", json("hcp.v1.FleetStatusResponse", &r));
                return Ok(());
            }
            for c in &r.curtailments {
                let what = if c.all { "all miners".to_owned() } else { format!("{:.0} kW", c.kw) };
                println!(
                    "curtailment {} at {}: {what}, {} miners, until {}, by {} ({})",
                    c.curtailment_id,
                    c.site,
                    c.miners.len(),
                    time(c.until_unix_micros),
                    c.actor,
                    c.reason
                );
            }
            println!(
                "{:<24} {:<12} {:<7} {:<10} {:<8} {:<10} SOURCE",
                "MINER", "SITE", "DESIRED", "OBSERVED", "COMMAND", "OUTCOME"
            );
            for m in &r.miners {
                let dash = |s: &str| if s.is_empty() { "-".to_owned() } else { s.to_owned() };
                let command =
                    if m.command.is_empty() { "-".to_owned() } else { format!("{}#{}", m.command, m.attempt) };
                println!(
                    "{:<24} {:<12} {:<7} {:<10} {:<8} {:<10} {}",
                    m.resource_id,
                    m.site,
                    dash(&m.desired),
                    m.observed,
                    command,
                    dash(&m.outcome),
                    dash(&m.source)
                );
            }
        }
        FleetCommand::Maintenance(a) => {
            let mut client = FleetClient::new(channel(config, "execution", a.api.as_deref()).await?);
            let message = pb::MaintenanceRequest { resource_id: a.id, on: a.state == "on", reason: a.reason };
            let m = client.maintenance(request(message, "operator")).await.map_err(|s| refused("maintenance", s))?;
            let m = m.into_inner();
            let state = if m.maintenance { "in maintenance (out of plans)" } else { "back in plans" };
            println!("{} {state}; observed {}", m.resource_id, m.observed);
        }
    }
    Ok(())
}

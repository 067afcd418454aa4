//! `hcp hosts list|cordon|drain|uncordon`: GPU hosts for maintenance, through routing's
//! Hosts API. A cordoned host takes no new work; a drained one also has its preemptible
//! work re-queued (the rest finishes).

use crate::commands::api::{ListArgs, channel, json, refused, request};
use clap::{Args, Subcommand};
use hcp_proto::v1 as pb;
use hcp_proto::v1::hosts_client::HostsClient;
use hcp_runtime::config::Config;

/// `hcp hosts ...`
#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// Every GPU host: its GPUs, what is busy, and whether it is schedulable.
    List(ListArgs),
    /// No new work on the host.
    Cordon(HostArgs),
    /// No new work, and its preemptible work re-queued elsewhere.
    Drain(HostArgs),
    /// Back in service.
    Uncordon(HostArgs),
}

/// One host.
#[derive(Debug, Args)]
pub struct HostArgs {
    /// The host's name.
    pub host: String,
    /// Why (recorded).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// The routing gRPC address.
    #[arg(long)]
    pub api: Option<String>,
}

fn line(h: &pb::HostView) -> String {
    format!(
        "{:<20} {:<12} {:<8} {:>4} {:>4}  {:<11} {}",
        h.host,
        h.site,
        h.rack,
        h.gpus,
        h.busy_gpus,
        h.state,
        h.workloads.join(",")
    )
}

/// Runs a hosts command.
pub async fn run(command: HostsCommand, config: &Config) -> anyhow::Result<()> {
    let (api, verb) = match &command {
        HostsCommand::List(a) => (a.api.clone(), "list"),
        HostsCommand::Cordon(a) => (a.api.clone(), "cordon"),
        HostsCommand::Drain(a) => (a.api.clone(), "drain"),
        HostsCommand::Uncordon(a) => (a.api.clone(), "uncordon"),
    };
    let mut client = HostsClient::new(channel(config, "routing", api.as_deref()).await?);
    let reply = match command {
        HostsCommand::List(a) => {
            let list = client.list(pb::ListHostsRequest {}).await.map_err(|s| refused(verb, s))?.into_inner();
            if !a.output.json {
                println!(
                    "{:<20} {:<12} {:<8} {:>4} {:>4}  {:<11} WORKLOADS",
                    "HOST", "SITE", "RACK", "GPUS", "BUSY", "STATE"
                );
            }
            for h in &list.hosts {
                println!("{}", if a.output.json { json("hcp.v1.HostView", h) } else { line(h) });
            }
            return Ok(());
        }
        HostsCommand::Cordon(a) => {
            client.cordon(request(pb::HostRequest { host: a.host, reason: a.reason }, "operator")).await
        }
        HostsCommand::Drain(a) => {
            client.drain(request(pb::HostRequest { host: a.host, reason: a.reason }, "operator")).await
        }
        HostsCommand::Uncordon(a) => {
            client.uncordon(request(pb::HostRequest { host: a.host, reason: a.reason }, "operator")).await
        }
    };
    println!("{}", line(&reply.map_err(|s| refused(verb, s))?.into_inner()));
    Ok(())
}

//! `hcp tenants create|set-quota|grant|revoke|list`: tenants' quotas, weights and the
//! classes an operator grants them, through routing's Tenants API.

use crate::commands::api::{ListArgs, channel, json, kind_name, refused, request};
use crate::commands::workloads::kind;
use clap::{Args, Subcommand};
use hcp_proto::v1 as pb;
use hcp_proto::v1::tenants_client::TenantsClient;
use hcp_runtime::config::Config;

/// `hcp tenants ...`
#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant with a quota (it may submit training and batch inference).
    Create(QuotaArgs),
    /// Change a tenant's quota and weight.
    SetQuota(QuotaArgs),
    /// Let a tenant submit a class (realtime-inference is granted only this way).
    Grant(GrantArgs),
    /// Stop a tenant submitting a class (what runs keeps running).
    Revoke(GrantArgs),
    /// Every tenant with its quota and what it uses.
    List(ListArgs),
}

/// A tenant's quota.
#[derive(Debug, Args)]
pub struct QuotaArgs {
    /// The tenant's id.
    pub id: String,
    /// Display name (create only).
    #[arg(long, default_value = "")]
    pub name: String,
    /// GPUs it is guaranteed.
    #[arg(long, default_value_t = 0)]
    pub nominal_gpus: u32,
    /// GPUs it may borrow beyond that while others' quota is idle.
    #[arg(long, default_value_t = 0)]
    pub borrowing_limit_gpus: u32,
    /// Its weight in fair share.
    #[arg(long, default_value_t = 1)]
    pub weight: u32,
    /// The routing gRPC address.
    #[arg(long)]
    pub api: Option<String>,
}

/// A class to grant or revoke.
#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The tenant's id.
    pub id: String,
    /// training, batch-inference or realtime-inference.
    pub kind: String,
    /// The routing gRPC address.
    #[arg(long)]
    pub api: Option<String>,
}

fn print(t: &pb::TenantView) {
    let classes: Vec<String> = t.classes.iter().map(|c| kind_name(*c)).collect();
    println!(
        "{:<16} {:>8} {:>8} {:>6} {:>6}  {}",
        t.id,
        t.nominal_gpus,
        t.borrowing_limit_gpus,
        t.weight,
        t.used_gpus,
        classes.join(",")
    );
}

/// Runs a tenants command.
pub async fn run(command: TenantsCommand, config: &Config) -> anyhow::Result<()> {
    let api = match &command {
        TenantsCommand::Create(a) | TenantsCommand::SetQuota(a) => a.api.clone(),
        TenantsCommand::Grant(a) | TenantsCommand::Revoke(a) => a.api.clone(),
        TenantsCommand::List(a) => a.api.clone(),
    };
    let mut client = TenantsClient::new(channel(config, "routing", api.as_deref()).await?);
    let view = match command {
        TenantsCommand::Create(a) => {
            let m = pb::CreateTenantRequest {
                id: a.id,
                name: a.name,
                nominal_gpus: a.nominal_gpus,
                borrowing_limit_gpus: a.borrowing_limit_gpus,
                weight: a.weight,
            };
            client.create(request(m, "operator")).await.map_err(|s| refused("create", s))?
        }
        TenantsCommand::SetQuota(a) => {
            let m = pb::SetTenantQuotaRequest {
                id: a.id,
                nominal_gpus: a.nominal_gpus,
                borrowing_limit_gpus: a.borrowing_limit_gpus,
                weight: a.weight,
            };
            client.set_quota(request(m, "operator")).await.map_err(|s| refused("set-quota", s))?
        }
        TenantsCommand::Grant(a) => {
            let m = pb::GrantClassRequest { id: a.id, kind: kind(&a.kind)? as i32 };
            client.grant(request(m, "operator")).await.map_err(|s| refused("grant", s))?
        }
        TenantsCommand::Revoke(a) => {
            let m = pb::GrantClassRequest { id: a.id, kind: kind(&a.kind)? as i32 };
            client.revoke(request(m, "operator")).await.map_err(|s| refused("revoke", s))?
        }
        TenantsCommand::List(a) => {
            let list = client.list(pb::ListTenantsRequest {}).await.map_err(|s| refused("list", s))?.into_inner();
            if !a.output.json {
                println!("{:<16} {:>8} {:>8} {:>6} {:>6}  CLASSES", "TENANT", "NOMINAL", "BORROW", "WEIGHT", "USED");
            }
            for t in &list.tenants {
                if a.output.json {
                    println!("{}", json("hcp.v1.TenantView", t));
                } else {
                    print(t);
                }
            }
            return Ok(());
        }
    };
    print(&view.into_inner());
    Ok(())
}

//! `hcp keys create|list|revoke`: API keys written to the store directly, as the gateway's
//! admins would over `/v1/keys`, for where there is no key yet (a new deployment of
//! `hcp serve`: the first admin key comes from here). The whole key is printed once, on
//! stdout; the store keeps its hash.

use crate::cli::Output;
use crate::commands::events::emit;
use crate::commands::workloads::duration;
use crate::settings;
use anyhow::Context;
use clap::{Args, Subcommand};
use hcp_domain::Aggregate;
use hcp_domain::apikey::{ApiKey, ApiKeyCommand, Role};
use hcp_domain::ids::TenantId;
use hcp_domain::units::Timestamp;
use hcp_eventstore::EventStore;
use hcp_runtime::EventSourced;
use hcp_runtime::config::Config;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `hcp keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; the whole key is printed once.
    Create(CreateArgs),
    /// Every key (never a secret).
    List(ListArgs),
    /// Revoke a key now.
    Revoke(RevokeArgs),
}

/// `hcp keys create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// viewer, developer or billing (a tenant's: give --tenant), operator or admin (the platform's).
    #[arg(long)]
    pub role: String,
    /// The tenant it acts for.
    #[arg(long)]
    pub tenant: Option<String>,
    /// What you call it.
    #[arg(long, default_value = "")]
    pub name: String,
    /// It stops working after this long (e.g. 90d, 12h); never, when left out.
    #[arg(long)]
    pub expires_in: Option<String>,
}

/// `hcp keys list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// `hcp keys revoke`
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The key's id (the part after `hcp_`).
    pub id: String,
    /// Why.
    #[arg(long, default_value = "revoked by an operator")]
    pub reason: String,
}

/// Runs the command.
pub async fn run(command: KeysCommand, config: &Config) -> anyhow::Result<()> {
    let store = Arc::new(settings::open_or_create(config).await?);
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let context = hcp_runtime::EventContext::new(format!("operator:{user}"));
    let now = Timestamp::from_unix_micros(hcp_runtime::clock::now_micros());
    match command {
        KeysCommand::Create(args) => {
            let role = Role::parse(&args.role).with_context(|| {
                let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("--role {:?}: one of {}", args.role, all.join(", "))
            })?;
            let tenant = args.tenant.as_deref().map(TenantId::new).transpose().context("--tenant")?;
            let expires = match &args.expires_in {
                Some(text) => {
                    Some(now.plus(duration::parse(text).map_err(anyhow::Error::msg).context("--expires-in")?))
                }
                None => None,
            };
            let key = hcp_gateway::keys::create(&store, tenant, role, &args.name, expires, &context)
                .await
                .map_err(anyhow::Error::msg)?;
            eprintln!("a {role} key (shown once; the store keeps its hash):");
            println!("{key}");
        }
        KeysCommand::Revoke(args) => {
            let repository: hcp_runtime::Repository<ApiKey, _> = hcp_runtime::Repository::new(Arc::clone(&store));
            let revoke = ApiKeyCommand::Revoke { from: now, reason: args.reason, at: now };
            repository.execute(&args.id, revoke, &context).await.with_context(|| format!("key {}", args.id))?;
            eprintln!("key {} revoked", args.id);
        }
        KeysCommand::List(args) => {
            let mut keys: BTreeMap<String, ApiKey> = BTreeMap::new();
            let mut from = 1;
            loop {
                let page = store.read_all(from, 4096).await?;
                let Some(last) = page.last() else { break };
                from = last.position + 1;
                for e in page.iter().filter(|e| e.stream.starts_with(ApiKey::STREAM_PREFIX)) {
                    let event = ApiKey::decode(e).map_err(anyhow::Error::msg)?;
                    let key = keys.entry(e.stream[ApiKey::STREAM_PREFIX.len()..].to_owned()).or_default();
                    *key = std::mem::take(key).evolve(&event);
                }
            }
            let mut out = std::io::stdout().lock();
            for (id, k) in &keys {
                let state = if k.valid_at(now) { "active" } else { "inactive" };
                let tenant = k.tenant.as_ref().map_or("-", |t| t.as_str());
                let role = k.role.map_or("-", |r| r.as_str());
                let line = if args.output.json {
                    serde_json::json!({"id": id, "tenant": k.tenant.as_ref().map(|t| t.as_str()), "role": role,
                        "name": k.name, "prefix": k.prefix, "state": state})
                    .to_string()
                } else {
                    format!("{id:<14} {tenant:<14} {role:<10} {state:<9} {}", k.name)
                };
                if !emit(&mut out, &line)? {
                    break;
                }
            }
        }
    }
    Ok(())
}

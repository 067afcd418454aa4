//! `hcp webhooks create|list|rotate|disable|enable|deliveries|replay|test|add-contact|contacts`:
//! a tenant's webhook endpoints (and email and SMS contacts) through the notifications
//! API. A new endpoint's secret (and a rotated one) is printed once.

use crate::commands::api::{channel, json, refused, request};
use crate::commands::billing::TenantArgs as Tenant;
use clap::{Args, Subcommand};
use hcp_proto::v1 as pb;
use hcp_proto::v1::notifications_client::NotificationsClient;
use hcp_runtime::config::Config;

/// One endpoint of a tenant's.
#[derive(Debug, Args)]
pub struct One {
    /// The endpoint's id (`ep_...`).
    pub id: String,
    /// The tenant.
    #[command(flatten)]
    pub tenant: Tenant,
}

/// `hcp webhooks ...`
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Subscribe an endpoint; its secret is printed this once.
    Create {
        /// Where deliveries are POSTed.
        url: String,
        /// Only these notification types (repeat; default: all).
        #[arg(long = "type")]
        types: Vec<String>,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        /// The tenant.
        #[command(flatten)]
        tenant: Tenant,
    },
    /// The tenant's endpoints.
    List(Tenant),
    /// A new secret (printed once); the old one signs beside it for the overlap.
    Rotate(One),
    /// Stop deliveries to an endpoint.
    Disable(One),
    /// Restart deliveries to an endpoint.
    Enable(One),
    /// An endpoint's deliveries and every attempt.
    Deliveries(One),
    /// Send every dead-lettered delivery again.
    Replay(One),
    /// Send a test notification.
    Test(One),
    /// Subscribe an email address or phone number (sealed under the tenant's key).
    AddContact {
        /// `email` or `sms`.
        #[arg(long)]
        channel: String,
        /// The address, or an E.164 number (`+15551234567`).
        address: String,
        /// Only these notification types (repeat; default: all).
        #[arg(long = "type")]
        types: Vec<String>,
        /// The tenant.
        #[command(flatten)]
        tenant: Tenant,
    },
    /// The tenant's email and SMS contacts, masked.
    Contacts(Tenant),
    /// Erase the tenant's key (crypto-shredding): its webhook secrets and contact addresses
    /// can never be read again and its endpoints are disabled; recorded with who and why.
    EraseSecrets {
        /// Why (kept in the log).
        #[arg(long)]
        reason: String,
        /// The tenant.
        #[command(flatten)]
        tenant: Tenant,
    },
}

fn endpoint_line(e: &pb::EndpointView) -> String {
    let state = if !e.readable {
        "erased".to_owned()
    } else if e.disabled {
        format!("disabled ({})", e.disabled_reason)
    } else {
        "enabled".to_owned()
    };
    let types = if e.types.is_empty() { "all".to_owned() } else { e.types.join(",") };
    format!("{:<36} {:<40} {:<28} {}", e.id, e.url, types, state)
}

/// Runs a webhooks command.
pub async fn run(command: WebhooksCommand, config: &Config) -> anyhow::Result<()> {
    let api = match &command {
        WebhooksCommand::Create { tenant, .. }
        | WebhooksCommand::List(tenant)
        | WebhooksCommand::AddContact { tenant, .. }
        | WebhooksCommand::Contacts(tenant)
        | WebhooksCommand::EraseSecrets { tenant, .. } => tenant.api.clone(),
        WebhooksCommand::Rotate(o)
        | WebhooksCommand::Disable(o)
        | WebhooksCommand::Enable(o)
        | WebhooksCommand::Deliveries(o)
        | WebhooksCommand::Replay(o)
        | WebhooksCommand::Test(o) => o.tenant.api.clone(),
    };
    let mut c = NotificationsClient::new(channel(config, "notifications", api.as_deref()).await?);
    let one = |o: &One| request(pb::EndpointRequest { tenant: o.tenant.tenant.clone(), id: o.id.clone() }, "operator");
    match command {
        WebhooksCommand::Create { url, types, description, tenant } => {
            let r = pb::CreateEndpointRequest { tenant: tenant.tenant, url, types, description };
            let created =
                c.create_endpoint(request(r, "operator")).await.map_err(|s| refused("create", s))?.into_inner();
            print_created(&created, tenant.output.json);
        }
        WebhooksCommand::List(t) => {
            let r = pb::ListEndpointsRequest { tenant: t.tenant };
            let list = c.list_endpoints(r).await.map_err(|s| refused("list", s))?.into_inner();
            for e in &list.endpoints {
                println!("{}", if t.output.json { json("hcp.v1.EndpointView", e) } else { endpoint_line(e) });
            }
        }
        WebhooksCommand::Rotate(o) => {
            let created = c.rotate_secret(one(&o)).await.map_err(|s| refused("rotate", s))?.into_inner();
            print_created(&created, o.tenant.output.json);
        }
        WebhooksCommand::Disable(o) => {
            let e = c.disable_endpoint(one(&o)).await.map_err(|s| refused("disable", s))?.into_inner();
            println!("{}", if o.tenant.output.json { json("hcp.v1.EndpointView", &e) } else { endpoint_line(&e) });
        }
        WebhooksCommand::Enable(o) => {
            let e = c.enable_endpoint(one(&o)).await.map_err(|s| refused("enable", s))?.into_inner();
            println!("{}", if o.tenant.output.json { json("hcp.v1.EndpointView", &e) } else { endpoint_line(&e) });
        }
        WebhooksCommand::Deliveries(o) => {
            let r = pb::ListDeliveriesRequest { tenant: o.tenant.tenant.clone(), id: o.id.clone() };
            let list = c.list_deliveries(r).await.map_err(|s| refused("deliveries", s))?.into_inner();
            for d in &list.deliveries {
                if o.tenant.output.json {
                    println!("{}", json("hcp.v1.DeliveryView", d));
                    continue;
                }
                println!("{} {} {} ({} attempts)", d.notification_id, d.r#type, d.state, d.attempts.len());
                for a in &d.attempts {
                    let answer = if a.status == 0 { a.error.clone() } else { a.status.to_string() };
                    println!(
                        "  round {} try {}: {answer} {} in {:.1} ms",
                        a.round, a.attempt, a.outcome, a.duration_ms
                    );
                }
            }
        }
        WebhooksCommand::Replay(o) => {
            let r = c.replay(one(&o)).await.map_err(|s| refused("replay", s))?.into_inner();
            println!("{} dead-lettered deliveries sent again", r.replayed);
        }
        WebhooksCommand::AddContact { channel, address, types, tenant } => {
            let r = pb::CreateContactRequest { tenant: tenant.tenant, channel, address, types };
            let c = c.create_contact(request(r, "operator")).await.map_err(|s| refused("add-contact", s))?.into_inner();
            println!("{}", if tenant.output.json { json("hcp.v1.ContactView", &c) } else { contact_line(&c) });
        }
        WebhooksCommand::Contacts(t) => {
            let r = pb::ListContactsRequest { tenant: t.tenant };
            let list = c.list_contacts(r).await.map_err(|s| refused("contacts", s))?.into_inner();
            for c in &list.contacts {
                println!("{}", if t.output.json { json("hcp.v1.ContactView", c) } else { contact_line(c) });
            }
        }
        WebhooksCommand::EraseSecrets { reason, tenant } => {
            let r = pb::EraseSecretsRequest { tenant: tenant.tenant.clone(), reason };
            let erased = c.erase_secrets(request(r, "operator")).await.map_err(|s| refused("erase", s))?.into_inner();
            if tenant.output.json {
                println!("{}", json("hcp.v1.SecretsErased", &erased));
            } else {
                let key =
                    if erased.had_key { "its key erased" } else { "it had no key (nothing sealed, or erased before)" };
                println!(
                    "{}: {key}; {} endpoints disabled {:?}",
                    erased.tenant,
                    erased.endpoints_disabled.len(),
                    erased.endpoints_disabled
                );
            }
        }
        WebhooksCommand::Test(o) => {
            let n = c.send_test(one(&o)).await.map_err(|s| refused("test", s))?.into_inner();
            println!(
                "{}",
                if o.tenant.output.json { json("hcp.v1.Notification", &n) } else { format!("sent {}", n.id) }
            );
        }
    }
    Ok(())
}

fn contact_line(c: &pb::ContactView) -> String {
    let address = if c.readable { c.address.clone() } else { "(erased)".to_owned() };
    let types = if c.types.is_empty() { "all".to_owned() } else { c.types.join(",") };
    format!("{:<36} {:<6} {:<24} {}", c.id, c.channel, address, types)
}

fn print_created(created: &pb::CreatedEndpoint, json_out: bool) {
    if json_out {
        println!("{}", json("hcp.v1.CreatedEndpoint", created));
        return;
    }
    if let Some(e) = &created.endpoint {
        println!("{}", endpoint_line(e));
    }
    println!("secret: {} (shown this once; verify deliveries with it)", created.secret);
}

//! `hcp invoices list|preview|issue|estimate`, `hcp ratecards get|set`, `hcp budgets
//! get|set` and `hcp usage amend`: billing through metering's API. Amounts are shown in dollars and cents as
//! invoices round them; `--json` gives the API's messages.

use crate::cli::Output;
use crate::commands::api::{channel, json, refused, request};
use anyhow::Context;
use clap::{Args, Subcommand};
use hcp_domain::units::{Money, Timestamp};
use hcp_proto::v1 as pb;
use hcp_proto::v1::metering_client::MeteringClient;
use hcp_runtime::config::Config;
use tonic::transport::Channel;

/// A tenant and where its service answers.
#[derive(Debug, Args)]
pub struct TenantArgs {
    /// The tenant (`platform` for the operators' alerts).
    #[arg(long)]
    pub tenant: String,
    /// The service's gRPC address (default: the configuration's).
    #[arg(long)]
    pub api: Option<String>,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// `hcp invoices ...`
#[derive(Debug, Subcommand)]
pub enum InvoicesCommand {
    /// A tenant's issued invoices, newest first.
    List(TenantArgs),
    /// The invoice the current period would get now.
    Preview(TenantArgs),
    /// Issue every invoice that is due now (metering also does this on its own).
    Issue {
        /// Metering's gRPC address (default: the configuration's).
        #[arg(long)]
        api: Option<String>,
        /// Output format.
        #[command(flatten)]
        output: Output,
    },
    /// What a workload of this shape would cost the tenant now.
    Estimate {
        /// The tenant, its rate card and its usage so far.
        #[command(flatten)]
        tenant: TenantArgs,
        /// The GPU model.
        #[arg(long, required_unless_present = "spec", conflicts_with = "spec")]
        gpu_model: Option<String>,
        /// How many GPUs.
        #[arg(long, conflicts_with = "spec")]
        gpus: Option<u32>,
        /// For how many hours.
        #[arg(long, required_unless_present = "spec", conflicts_with = "spec")]
        hours: Option<f64>,
        /// Instead of the three above: a workload spec as JSON, as `POST /v1/workloads`
        /// takes it (`-`: standard input), priced for its longest run time.
        #[arg(long, value_name = "FILE")]
        spec: Option<String>,
    },
}

/// `hcp ratecards ...`
#[derive(Debug, Subcommand)]
pub enum RatecardsCommand {
    /// A tenant's rate card (the configured default when it has none).
    Get(TenantArgs),
    /// Set a tenant's rate card.
    Set {
        /// The tenant.
        #[command(flatten)]
        tenant: TenantArgs,
        /// A model's price per GPU-hour, with tiers: `H100=2.50@100,2.00` (the first 100
        /// GPU-hours of a period at $2.50, the rest at $2.00); `*=2.50` prices every
        /// model without its own. Repeat for each model.
        #[arg(long = "price", required = true)]
        prices: Vec<String>,
        /// The committed-use discount, basis points (1500 = 15%).
        #[arg(long, default_value_t = 0)]
        commitment_discount_bps: u32,
        /// Tax, basis points (825 = 8.25%).
        #[arg(long, default_value_t = 0)]
        tax_bps: u32,
    },
}

/// `hcp budgets ...`
#[derive(Debug, Subcommand)]
pub enum BudgetsCommand {
    /// A tenant's budget and this period's spend against it.
    Get(TenantArgs),
    /// Set a tenant's budget per period in dollars (0: none); alerts at 50, 80 and 100%.
    Set {
        /// The tenant.
        #[command(flatten)]
        tenant: TenantArgs,
        /// Dollars per billing period.
        #[arg(long)]
        usd: f64,
    },
}

/// `hcp usage amend`
#[derive(Debug, Args)]
pub struct AmendArgs {
    /// The record's id (`hcp usage --records` shows it).
    pub record_id: String,
    /// The tenant.
    #[command(flatten)]
    pub tenant: TenantArgs,
    /// The corrected start (RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// The corrected end (RFC 3339); the start again takes all its GPU time back.
    #[arg(long)]
    pub to: Option<String>,
    /// The corrected GPU count.
    #[arg(long)]
    pub gpus: Option<u32>,
    /// Why (kept with the amendment).
    #[arg(long)]
    pub reason: String,
}

/// `text`, if given, as an instant (unix µs), or an error naming `flag`.
pub(crate) fn given(flag: &str, text: Option<&str>) -> anyhow::Result<Option<i64>> {
    text.map(|t| instant(flag, Some(t))).transpose()
}

/// Runs `hcp usage amend`.
pub async fn amend(a: AmendArgs, config: &Config) -> anyhow::Result<()> {
    let body = pb::AmendUsageRequest {
        tenant: a.tenant.tenant.clone(),
        record_id: a.record_id.clone(),
        from_unix_micros: given("--from", a.from.as_deref())?,
        to_unix_micros: given("--to", a.to.as_deref())?,
        gpus: a.gpus,
        reason: a.reason.clone(),
    };
    let mut c = client(config, a.tenant.api.as_deref()).await?;
    let view = c.amend_usage(request(body, "operator")).await.map_err(|s| refused("amend", s))?.into_inner();
    if a.tenant.output.json {
        println!("{}", json("hcp.v1.UsageRecordView", &view));
    } else if let Some(r) = &view.record {
        println!(
            "{} amended ({}x): {} GPUs {} .. {} {:.4} GPU-h",
            view.id,
            view.amendments,
            r.gpus,
            at(r.from_unix_micros),
            at(r.to_unix_micros),
            r.gpu_micros as f64 / 3.6e9
        );
    }
    Ok(())
}

fn dollars(micros: i64) -> String {
    let cents = Money::from_micros(micros).to_string();
    // Invoice amounts are whole cents: show them so.
    cents.strip_suffix("0000").map_or(cents.clone(), ToOwned::to_owned)
}

fn at(micros: i64) -> String {
    Timestamp::from_unix_micros(micros).to_string()
}

/// A price as `MODEL=USD[@UP_TO_HOURS][,USD[@UP_TO_HOURS]...]`.
pub fn parse_price(text: &str) -> anyhow::Result<pb::ModelPrice> {
    let (model, tiers) =
        text.split_once('=').with_context(|| format!("--price {text:?}: not MODEL=USD[@HOURS],..."))?;
    let tiers = tiers
        .split(',')
        .map(|t| {
            let (usd, up_to) = t.split_once('@').map_or((t, None), |(u, h)| (u, Some(h)));
            let usd: f64 = usd.trim().parse().with_context(|| format!("--price {text:?}: {usd:?} is not dollars"))?;
            let up_to_gpu_hours = match up_to {
                Some(h) => {
                    h.trim().parse().with_context(|| format!("--price {text:?}: {h:?} is not whole GPU-hours"))?
                }
                None => 0,
            };
            Ok(pb::PriceTier { up_to_gpu_hours, usd_micros_per_gpu_hour: (usd * 1e6).round() as i64 })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(pb::ModelPrice { model: model.trim().to_owned(), tiers })
}

async fn client(config: &Config, api: Option<&str>) -> anyhow::Result<MeteringClient<Channel>> {
    Ok(MeteringClient::new(channel(config, "metering", api).await?))
}

fn print_invoice(invoice: &pb::Invoice, status: &str) {
    println!(
        "invoice {} ({status}) for {}: {} .. {}",
        invoice.id,
        invoice.tenant,
        at(invoice.period_start_unix_micros),
        at(invoice.period_end_unix_micros)
    );
    for l in &invoice.lines {
        let hours = l.gpu_micros as f64 / 3.6e9;
        let quantity = if l.gpu_micros != 0 { format!("{hours:>12.4} GPU-h") } else { format!("{:>18}", "") };
        let unit =
            if l.unit_usd_micros != 0 { format!("@ {}/GPU-h", dollars(l.unit_usd_micros)) } else { String::new() };
        println!("  {:<11} {:<44} {quantity} {unit:<16} {:>12}", l.kind, l.description, dollars(l.amount_usd_micros));
    }
    println!("  {:<93} {:>12}", "subtotal", dollars(invoice.subtotal_usd_micros));
    println!("  {:<93} {:>12}", "tax", dollars(invoice.tax_usd_micros));
    println!("  {:<93} {:>12}", "total", dollars(invoice.total_usd_micros));
}

/// Runs an invoices command.
pub async fn invoices(command: InvoicesCommand, config: &Config) -> anyhow::Result<()> {
    match command {
        InvoicesCommand::List(a) => {
            let mut c = client(config, a.api.as_deref()).await?;
            let request = pb::ListInvoicesRequest { tenant: a.tenant.clone() };
            let list = c.list_invoices(request).await.map_err(|s| refused("list", s))?.into_inner();
            for i in &list.invoices {
                if a.output.json {
                    println!("{}", json("hcp.v1.Invoice", i));
                } else {
                    println!(
                        "{:<28} {} .. {} {:>3} lines {:>12}",
                        i.id,
                        at(i.period_start_unix_micros),
                        at(i.period_end_unix_micros),
                        i.lines.len(),
                        dollars(i.total_usd_micros)
                    );
                }
            }
            if list.invoices.is_empty() && !a.output.json {
                eprintln!("no invoices issued to {} yet (`hcp invoices preview` shows the period so far)", a.tenant);
            }
        }
        InvoicesCommand::Preview(a) => {
            let mut c = client(config, a.api.as_deref()).await?;
            let request = pb::PreviewInvoiceRequest { tenant: a.tenant.clone() };
            let view = c.preview_invoice(request).await.map_err(|s| refused("preview", s))?.into_inner();
            if a.output.json {
                println!("{}", json("hcp.v1.InvoiceView", &view));
            } else if let Some(invoice) = &view.invoice {
                print_invoice(invoice, &view.status);
            }
        }
        InvoicesCommand::Issue { api, output } => {
            let mut c = client(config, api.as_deref()).await?;
            let request = request(pb::IssueInvoicesRequest {}, "operator");
            let issued = c.issue_invoices(request).await.map_err(|s| refused("issue", s))?.into_inner();
            for i in &issued.issued {
                if output.json {
                    println!("{}", json("hcp.v1.Invoice", i));
                } else {
                    print_invoice(i, "issued");
                }
            }
            if issued.issued.is_empty() && issued.failed.is_empty() && !output.json {
                eprintln!("no invoice is due now");
            }
            if !issued.failed.is_empty() {
                let why: Vec<String> = issued.failed.iter().map(|f| format!("{}: {}", f.tenant, f.error)).collect();
                anyhow::bail!("the invoices due of {} tenant(s) were not issued: {}", why.len(), why.join("; "));
            }
        }
        InvoicesCommand::Estimate { tenant, gpu_model, gpus, hours, spec } => {
            let request = pb::EstimateRequest {
                tenant: tenant.tenant.clone(),
                gpu_model: gpu_model.unwrap_or_default(),
                gpus: gpus.unwrap_or(if spec.is_some() { 0 } else { 1 }),
                hours: hours.unwrap_or_default(),
                spec: spec.as_deref().map(read_spec).transpose()?,
            };
            let mut c = client(config, tenant.api.as_deref()).await?;
            let e = c.estimate(request).await.map_err(|s| refused("estimate", s))?.into_inner();
            if tenant.output.json {
                println!("{}", json("hcp.v1.EstimateResponse", &e));
            } else {
                println!(
                    "{:.4} GPU-h of {}: {} + {} tax = {} (this period so far: {:.4} GPU-h of {})",
                    e.gpu_micros as f64 / 3.6e9,
                    e.gpu_model,
                    dollars(e.subtotal_usd_micros),
                    dollars(e.tax_usd_micros),
                    dollars(e.total_usd_micros),
                    e.period_gpu_micros as f64 / 3.6e9,
                    e.gpu_model
                );
            }
        }
    }
    Ok(())
}

/// A workload spec from `path` (`-`: standard input), as JSON in the API's mapping.
fn read_spec(path: &str) -> anyhow::Result<pb::WorkloadSpec> {
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin()).context("--spec -: reading standard input")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("--spec {path}"))?
    };
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("--spec {path}: not JSON"))?;
    let bytes = hcp_proto::descriptors::json_to_message("hcp.v1.WorkloadSpec", &value)
        .map_err(|e| anyhow::anyhow!("--spec {path}: not a workload spec: {e}"))?;
    <pb::WorkloadSpec as prost::Message>::decode(bytes.as_slice()).with_context(|| format!("--spec {path}"))
}

fn print_card(view: &pb::RateCardView, json_out: bool) {
    if json_out {
        println!("{}", json("hcp.v1.RateCardView", view));
        return;
    }
    let Some(card) = &view.card else { return };
    let whose = if view.custom { format!("its own, version {}", view.version) } else { "the default".into() };
    println!("rate card of {} ({whose})", view.tenant);
    for p in &card.prices {
        let tiers: Vec<String> = p
            .tiers
            .iter()
            .map(|t| match t.up_to_gpu_hours {
                0 => format!("{}/GPU-h", dollars(t.usd_micros_per_gpu_hour)),
                n => format!("{}/GPU-h up to {n} GPU-h", dollars(t.usd_micros_per_gpu_hour)),
            })
            .collect();
        println!("  {:<10} {}", p.model, tiers.join(", then "));
    }
    println!("  committed-use discount {} bps, tax {} bps", card.commitment_discount_bps, card.tax_bps);
}

/// Runs a rate cards command.
pub async fn ratecards(command: RatecardsCommand, config: &Config) -> anyhow::Result<()> {
    match command {
        RatecardsCommand::Get(a) => {
            let mut c = client(config, a.api.as_deref()).await?;
            let view = c
                .get_rate_card(pb::GetRateCardRequest { tenant: a.tenant })
                .await
                .map_err(|s| refused("get", s))?
                .into_inner();
            print_card(&view, a.output.json);
        }
        RatecardsCommand::Set { tenant, prices, commitment_discount_bps, tax_bps } => {
            let prices = prices.iter().map(|p| parse_price(p)).collect::<anyhow::Result<_>>()?;
            let card = pb::RateCard { prices, commitment_discount_bps, tax_bps };
            let mut c = client(config, tenant.api.as_deref()).await?;
            let set = pb::SetRateCardRequest { tenant: tenant.tenant, card: Some(card) };
            let view = c.set_rate_card(request(set, "operator")).await.map_err(|s| refused("set", s))?.into_inner();
            print_card(&view, tenant.output.json);
        }
    }
    Ok(())
}

fn print_budget(view: &pb::BudgetView, json_out: bool) {
    if json_out {
        println!("{}", json("hcp.v1.BudgetView", view));
    } else if view.usd_micros_per_period == 0 {
        println!("{}: no budget; {} spent this period", view.tenant, dollars(view.spent_usd_micros));
    } else {
        let crossed: Vec<String> = view.crossed.iter().map(|p| format!("{p}%")).collect();
        println!(
            "{}: {} of {} this period (since {}); alerts sent at {}",
            view.tenant,
            dollars(view.spent_usd_micros),
            dollars(view.usd_micros_per_period),
            at(view.period_start_unix_micros),
            if crossed.is_empty() { "none yet".into() } else { crossed.join(", ") }
        );
    }
}

/// Runs a budgets command.
pub async fn budgets(command: BudgetsCommand, config: &Config) -> anyhow::Result<()> {
    match command {
        BudgetsCommand::Get(a) => {
            let mut c = client(config, a.api.as_deref()).await?;
            let view = c
                .get_budget(pb::GetBudgetRequest { tenant: a.tenant })
                .await
                .map_err(|s| refused("get", s))?
                .into_inner();
            print_budget(&view, a.output.json);
        }
        BudgetsCommand::Set { tenant, usd } => {
            if !(usd.is_finite() && usd >= 0.0) {
                anyhow::bail!("--usd {usd}: a budget is 0 (none) or more dollars");
            }
            let mut c = client(config, tenant.api.as_deref()).await?;
            let set = pb::SetBudgetRequest { tenant: tenant.tenant, usd_micros_per_period: (usd * 1e6).round() as i64 };
            let view = c.set_budget(request(set, "operator")).await.map_err(|s| refused("set", s))?.into_inner();
            print_budget(&view, tenant.output.json);
        }
    }
    Ok(())
}

/// `hcp margins`
#[derive(Debug, Args)]
pub struct MarginsArgs {
    /// Only this site.
    #[arg(long, default_value = "")]
    pub site: String,
    /// From this instant (RFC 3339; default: the beginning).
    #[arg(long)]
    pub since: Option<String>,
    /// Up to this instant (RFC 3339; default: now).
    #[arg(long)]
    pub until: Option<String>,
    /// Metering's gRPC address (default: the configuration's).
    #[arg(long)]
    pub api: Option<String>,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

fn instant(flag: &str, text: Option<&str>) -> anyhow::Result<i64> {
    text.map_or(Ok(0), |t| {
        Timestamp::parse_rfc3339(t)
            .map(Timestamp::unix_micros)
            .with_context(|| format!("{flag} {t:?}: not an RFC 3339 instant such as 2026-11-28T00:00:00Z"))
    })
}

/// Runs `hcp usage --group-by`: `tenant`'s GPU time in `window` (RFC 3339 instants, each
/// optional), grouped by `group_by`, from metering's API.
pub async fn grouped_usage(
    tenant: &str,
    window: (Option<&str>, Option<&str>),
    group_by: Vec<String>,
    api: Option<&str>,
    output: &Output,
    config: &Config,
) -> anyhow::Result<()> {
    let request = pb::UsageRequest {
        tenant: tenant.to_owned(),
        from_unix_micros: instant("--since", window.0)?,
        to_unix_micros: instant("--until", window.1)?,
        group_by,
    };
    let keys = request.group_by.clone();
    let mut c = client(config, api).await?;
    let usage = c.get_usage(request).await.map_err(|s| refused("usage", s))?.into_inner();
    if output.json {
        println!("{}", json("hcp.v1.UsageResponse", &usage));
        return Ok(());
    }
    for row in &usage.rows {
        let group: Vec<String> = keys
            .iter()
            .map(|k| {
                let value = row.group.get(k).map_or("", String::as_str);
                format!("{k}={}", if value.is_empty() { "-" } else { value })
            })
            .collect();
        println!("{:<60} {:>12.4} GPU-h in {} records", group.join(" "), row.gpu_hours, row.records);
    }
    println!("{:<60} {:>12.4} GPU-h", "total", usage.gpu_hours);
    Ok(())
}

/// Runs `hcp margins`: each site's mining revenue + AI revenue - power cost.
pub async fn margins(args: MarginsArgs, config: &Config) -> anyhow::Result<()> {
    let request = pb::SiteMarginsRequest {
        site: args.site,
        from_unix_micros: instant("--since", args.since.as_deref())?,
        to_unix_micros: instant("--until", args.until.as_deref())?,
    };
    let mut c = client(config, args.api.as_deref()).await?;
    let reply = c.get_site_margins(request).await.map_err(|s| refused("margins", s))?.into_inner();
    if !args.output.json {
        println!(
            "{:<14} {:>7} {:>11} {:>10} {:>12} {:>12} {:>10} {:>12} {:>12}",
            "SITE", "DEVICES", "ENERGY kWh", "POWER $", "TH", "MINING $", "GPU-h", "AI $", "MARGIN $"
        );
    }
    if reply.sites.is_empty() && !args.output.json {
        println!(
            "(nothing recorded in this window yet: a site's energy and mining are recorded as discovery closes each \
             device's telemetry summary, every `discovery.summary_seconds` (900 s by default), and its AI revenue as \
             usage is recorded)"
        );
    }
    for m in &reply.sites {
        if args.output.json {
            println!("{}", json("hcp.v1.SiteMargin", m));
        } else {
            println!(
                "{:<14} {:>7} {:>11.3} {:>10} {:>12.1} {:>12} {:>10.3} {:>12} {:>12}",
                if m.site.is_empty() { "(unplaced)" } else { &m.site },
                m.devices,
                m.energy_kwh,
                dollars(m.power_cost_usd_micros),
                m.terahashes,
                dollars(m.mining_usd_micros),
                m.ai_gpu_hours,
                dollars(m.ai_usd_micros),
                dollars(m.margin_usd_micros)
            );
        }
    }
    Ok(())
}

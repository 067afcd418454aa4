//! `hcp usage --tenant T [--since TIME] [--json]`: a tenant's metered GPU time, read from its
//! `usage-<tenant>` stream (metering's records, as amended), summed by GPU model; each
//! record, with its id, with `--records` (the log itself: it answers with metering down).
//! `hcp usage --tenant T --group-by site,model [--since] [--until]` asks metering's API
//! instead: GPU time cut at the window's edges and the periods' ends, grouped by any of
//! model, site, workload and period. `hcp usage amend ID ...` corrects a record through
//! metering's API.

use crate::cli::Output;
use crate::commands::events::emit;
use crate::settings;
use anyhow::Context;
use hcp_domain::units::Timestamp;
use hcp_eventstore::{Direction, EventStore};
use hcp_proto::v1 as pb;
use hcp_runtime::config::Config;
use prost::Message;
use std::collections::BTreeMap;

/// `hcp usage`
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct UsageArgs {
    /// Correct a record.
    #[command(subcommand)]
    pub command: Option<UsageCommand>,
    /// The tenant.
    #[arg(long, required = true)]
    pub tenant: Option<String>,
    /// Only spans that ended at or after this instant (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Each usage record, not only the sums.
    #[arg(long, conflicts_with = "group_by")]
    pub records: bool,
    /// Group by any of model, site, workload, period (comma-separated), asked of metering's
    /// API: GPU time cut at --since and --until and at the periods' ends.
    #[arg(long, value_delimiter = ',')]
    pub group_by: Vec<String>,
    /// With --group-by: only GPU time before this instant (RFC 3339).
    #[arg(long, requires = "group_by")]
    pub until: Option<String>,
    /// With --group-by: metering's gRPC address (default: the configuration's).
    #[arg(long, requires = "group_by")]
    pub api: Option<String>,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// `hcp usage ...`
#[derive(Debug, clap::Subcommand)]
pub enum UsageCommand {
    /// Correct a usage record (recorded as `usage.amended`, with the reason and who did it,
    /// never an edit): its span or GPU count as it should have been. Where its period was
    /// invoiced, the difference is an adjustment on the next invoice.
    Amend(crate::commands::billing::AmendArgs),
}

/// Runs the command.
pub async fn run(args: UsageArgs, config: &Config) -> anyhow::Result<()> {
    if let Some(UsageCommand::Amend(amend)) = args.command {
        return crate::commands::billing::amend(amend, config).await;
    }
    let tenant = args.tenant.context("--tenant: required")?;
    if !args.group_by.is_empty() {
        let window = (args.since.as_deref(), args.until.as_deref());
        return crate::commands::billing::grouped_usage(
            &tenant,
            window,
            args.group_by,
            args.api.as_deref(),
            &args.output,
            config,
        )
        .await;
    }
    let since = crate::commands::billing::given("--since", args.since.as_deref())?.unwrap_or(i64::MIN);
    let store = settings::open_existing(config).await?;
    let stream = hcp_metering::usage_stream(&tenant);
    let events = store.read_stream(&stream, 1, Direction::Forwards, usize::MAX).await?;
    let mut by_model: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    let mut out = std::io::stdout().lock();
    let standing = hcp_metering::amend::standing(&events).with_context(|| format!("{stream}: a record it holds"))?;
    for (id, r, amendments) in standing {
        if r.to_unix_micros < since {
            continue;
        }
        let entry = by_model.entry(r.gpu_model.clone()).or_default();
        entry.0 += r.gpu_micros;
        entry.1 += 1;
        if args.records {
            let line = if args.output.json {
                let view = pb::UsageRecordView { id: id.to_string(), record: Some(r), amendments };
                hcp_proto::descriptors::message_to_json("hcp.v1.UsageRecordView", &view.encode_to_vec())?.to_string()
            } else {
                format!(
                    "{id} {} {} {:>3} GPUs {} .. {} {:>10.4} GPU-h ({}{})",
                    r.workload_id,
                    r.gpu_model,
                    r.gpus,
                    Timestamp::from_unix_micros(r.from_unix_micros),
                    Timestamp::from_unix_micros(r.to_unix_micros),
                    r.gpu_micros as f64 / 3.6e9,
                    r.closed_by,
                    if amendments > 0 { format!(", amended {amendments}x") } else { String::new() }
                )
            };
            if !emit(&mut out, &line)? {
                return Ok(());
            }
        }
    }
    for (model, (micros, records)) in &by_model {
        let line = if args.output.json {
            serde_json::json!({"tenant": tenant, "gpu_model": model, "gpu_micros": micros,
                "gpu_hours": *micros as f64 / 3.6e9, "records": records})
            .to_string()
        } else {
            format!("{tenant} {model}: {:.4} GPU-hours in {records} records", *micros as f64 / 3.6e9)
        };
        if !emit(&mut out, &line)? {
            break;
        }
    }
    if by_model.is_empty() && !args.output.json {
        eprintln!("no usage recorded for {tenant} (metering records a span when it closes or its period is invoiced)");
    }
    Ok(())
}

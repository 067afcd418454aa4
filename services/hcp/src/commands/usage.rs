//! `hcp usage --tenant T [--since TIME] [--json]`: a tenant's metered GPU time, read from its
//! `usage-<tenant>` stream (metering's records), summed by GPU model; each record with
//! `--records`.

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
pub struct UsageArgs {
    /// The tenant.
    #[arg(long)]
    pub tenant: String,
    /// Only spans that ended at or after this instant (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Each usage record, not only the sums.
    #[arg(long)]
    pub records: bool,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// Runs the command.
pub async fn run(args: UsageArgs, config: &Config) -> anyhow::Result<()> {
    let since = match &args.since {
        Some(text) => Timestamp::parse_rfc3339(text)
            .with_context(|| format!("--since {text:?}: not an RFC 3339 instant such as 2026-11-28T00:00:00Z"))?
            .unix_micros(),
        None => i64::MIN,
    };
    let store = settings::open_existing(config).await?;
    let stream = hcp_metering::usage_stream(&args.tenant);
    let events = store.read_stream(&stream, 1, Direction::Forwards, usize::MAX).await?;
    let mut by_model: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    let mut out = std::io::stdout().lock();
    for e in events.iter().filter(|e| e.event_type == hcp_metering::USAGE_RECORDED) {
        let r = pb::UsageRecorded::decode(e.payload.as_ref()).with_context(|| format!("{stream} v{}", e.version))?;
        if r.to_unix_micros < since {
            continue;
        }
        let entry = by_model.entry(r.gpu_model.clone()).or_default();
        entry.0 += r.gpu_micros;
        entry.1 += 1;
        if args.records {
            let line = if args.output.json {
                hcp_proto::descriptors::message_to_json("hcp.v1.UsageRecorded", e.payload.as_ref())?.to_string()
            } else {
                format!(
                    "{} {} {:>3} GPUs {} .. {} {:>10.4} GPU-h ({})",
                    r.workload_id,
                    r.gpu_model,
                    r.gpus,
                    Timestamp::from_unix_micros(r.from_unix_micros),
                    Timestamp::from_unix_micros(r.to_unix_micros),
                    r.gpu_micros as f64 / 3.6e9,
                    r.closed_by
                )
            };
            if !emit(&mut out, &line)? {
                return Ok(());
            }
        }
    }
    for (model, (micros, records)) in &by_model {
        let line = if args.output.json {
            serde_json::json!({"tenant": args.tenant, "gpu_model": model, "gpu_micros": micros,
                "gpu_hours": *micros as f64 / 3.6e9, "records": records})
            .to_string()
        } else {
            format!("{} {model}: {:.4} GPU-hours in {records} records", args.tenant, *micros as f64 / 3.6e9)
        };
        if !emit(&mut out, &line)? {
            break;
        }
    }
    if by_model.is_empty() && !args.output.json {
        eprintln!("no usage recorded for {} (metering records a span when it closes)", args.tenant);
    }
    Ok(())
}

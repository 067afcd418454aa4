//! `hcp workloads state <id> --at <time>` and `hcp resources state <id> --at <time>`: an
//! aggregate as it stood at a past instant, folded from its stream's events up to then
//! (by the time each event happened), read straight from the store.

use crate::cli::Output;
use crate::settings;
use anyhow::Context;
use hcp_domain::Aggregate;
use hcp_domain::units::Timestamp;
use hcp_eventstore::{Direction, EventStore, RecordedEvent};
use hcp_runtime::config::Config;

/// `state` arguments.
#[derive(Debug, clap::Args)]
pub struct StateArgs {
    /// The id.
    pub id: String,
    /// The instant: RFC 3339 (`2026-11-28T01:30:00Z`, or with an offset) or `now`.
    #[arg(long, default_value = "now")]
    pub at: String,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// The instant `--at` names.
fn instant(at: &str) -> anyhow::Result<Timestamp> {
    if at == "now" {
        return Ok(Timestamp::from_unix_micros(hcp_runtime::clock::now_micros()));
    }
    Timestamp::parse_rfc3339(at)
        .with_context(|| format!("--at {at:?}: not an RFC 3339 instant such as 2026-11-28T01:30:00Z, nor `now`"))
}

/// The events of `stream` that happened at or before `at`, and how many came after.
async fn events_until(config: &Config, stream: &str, at: Timestamp) -> anyhow::Result<(Vec<RecordedEvent>, usize)> {
    let store = settings::open_existing(config).await?;
    let all = store.read_stream(stream, 1, Direction::Forwards, usize::MAX).await?;
    anyhow::ensure!(!all.is_empty(), "no {stream} in the store");
    let (before, after): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|e| e.metadata.time_unix_micros <= at.unix_micros());
    anyhow::ensure!(!before.is_empty(), "{stream} did not exist yet at {at}");
    Ok((before, after.len()))
}

/// Prints the state: JSON, or text with the instant and how many events came later.
fn print(json: serde_json::Value, output: &Output, what: &str, at: Timestamp, folded: usize, later: usize) {
    if output.json {
        println!("{json}");
    } else {
        eprintln!("{what} at {at}: {folded} events folded, {later} later");
        println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    }
}

/// `hcp workloads state`.
pub async fn workload(args: StateArgs, config: &Config) -> anyhow::Result<()> {
    let at = instant(&args.at)?;
    let stream = format!("workload-{}", args.id);
    let (events, later) = events_until(config, &stream, at).await?;
    let mut state = hcp_domain::workload::Workload::default();
    for e in &events {
        let when = Timestamp::from_unix_micros(e.metadata.time_unix_micros);
        let event = hcp_domain::codec::decode_workload_event(&e.event_type, &e.payload, when)
            .with_context(|| format!("{stream} v{}", e.version))?;
        state = state.evolve(&event);
    }
    let view = hcp_domain::codec::workload_to_pb(&state);
    let json = hcp_proto::descriptors::message_to_json("hcp.v1.WorkloadView", &prost::Message::encode_to_vec(&view))?;
    print(json, &args.output, &stream, at, events.len(), later);
    Ok(())
}

/// `hcp resources state`.
pub async fn resource(args: StateArgs, config: &Config) -> anyhow::Result<()> {
    let at = instant(&args.at)?;
    let stream = format!("resource-{}", args.id);
    let (events, later) = events_until(config, &stream, at).await?;
    let mut state = hcp_domain::resource::Resource::default();
    for e in &events {
        let when = Timestamp::from_unix_micros(e.metadata.time_unix_micros);
        let event = hcp_domain::codec::decode_resource_event(&e.event_type, &e.payload, when)
            .with_context(|| format!("{stream} v{}", e.version))?;
        state = state.evolve(&event);
    }
    let view = hcp_domain::codec::resource_to_pb(&state);
    let json = hcp_proto::descriptors::message_to_json("hcp.v1.Resource", &prost::Message::encode_to_vec(&view))?;
    print(json, &args.output, &stream, at, events.len(), later);
    Ok(())
}

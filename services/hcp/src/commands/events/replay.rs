//! `hcp events replay --from <position>`: every event from a position to the
//! current head, folded through the domain; the summary says what state the
//! log leaves each aggregate in.

use super::emit;
use crate::cli::ReplayArgs;
use crate::render;
use hcp_domain::aggregate::evolve_keyed;
use hcp_domain::codec::{decode_resource_event, decode_workload_event};
use hcp_domain::resource::Resource;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::Workload;
use hcp_eventstore::{AnyStore, EventStore, RecordedEvent};
use std::collections::{BTreeMap, HashMap};

const PAGE: usize = 4096;

/// Aggregate states folded from the replayed events.
#[derive(Default)]
struct Fold {
    workloads: HashMap<String, Workload>,
    resources: HashMap<String, Resource>,
    other: u64,
    undecodable: u64,
}

impl Fold {
    fn apply(&mut self, e: &RecordedEvent) {
        let at = Timestamp::from_unix_micros(e.metadata.time_unix_micros);
        if e.event_type.starts_with("workload.") {
            match decode_workload_event(&e.event_type, &e.payload, at) {
                Ok(ev) => evolve_keyed(&mut self.workloads, &e.stream, &ev),
                Err(_) => self.undecodable += 1,
            }
        } else if e.event_type.starts_with("resource.") {
            match decode_resource_event(&e.event_type, &e.payload, at) {
                Ok(ev) => evolve_keyed(&mut self.resources, &e.stream, &ev),
                Err(_) => self.undecodable += 1,
            }
        } else {
            self.other += 1;
        }
    }

    fn summary(&self, events: u64, last: Option<u64>) -> String {
        let mut by_status = BTreeMap::<String, usize>::new();
        for w in self.workloads.values() {
            *by_status.entry(w.status.to_string()).or_default() += 1;
        }
        let mut by_mode = BTreeMap::<String, usize>::new();
        for r in self.resources.values() {
            *by_mode.entry(format!("{}/{}", r.mode, r.health)).or_default() += 1;
        }
        let list =
            |m: &BTreeMap<String, usize>| m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
        format!(
            "replayed {events} events (last position {}); workloads: {} [{}]; resources: {} [{}]; other events: {}; undecodable: {}",
            last.map_or("-".into(), |p| p.to_string()),
            self.workloads.len(),
            list(&by_status),
            self.resources.len(),
            list(&by_mode),
            self.other,
            self.undecodable
        )
    }
}

pub(super) async fn run(store: &AnyStore, args: ReplayArgs) -> anyhow::Result<()> {
    let head = store.head().await?;
    let limit = args.limit.unwrap_or(u64::MAX);
    let mut fold = Fold::default();
    let mut from = args.from;
    let mut count = 0u64;
    let mut last = None;
    let mut out = std::io::stdout().lock();
    let mut printing = !args.quiet;
    'pages: while count < limit && from <= head {
        let page = store.read_all(from, PAGE).await?;
        let Some(tail) = page.last() else { break };
        from = tail.position + 1;
        for e in &page {
            if e.position > head || count == limit {
                break 'pages;
            }
            fold.apply(e);
            count += 1;
            last = Some(e.position);
            if printing {
                printing = emit(&mut out, &render::line(e, args.output.json))?;
            }
        }
    }
    eprintln!("{}", fold.summary(count, last));
    Ok(())
}

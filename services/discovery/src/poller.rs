//! Health polling: every interval, ask each known miner for `summary` and its boards,
//! judge the answer, keep the reading in the inventory and record a health change or an
//! observed mode (asleep: curtailed; hashing: mining) only when flap damping confirms it.

use crate::config::DiscoveryConfig;
use crate::health::{Damper, Verdict, judge, observed_mode};
use crate::inventory::Inventory;
use crate::recorder::Recorder;
use crate::scan::{ProbeError, probe};
use futures_util::StreamExt;
use hcp_domain::ids::ResourceId;
use hcp_domain::resource::{Health, Mode, ResourceCommand};
use hcp_eventstore::EventStore;
use hcp_minerapi::client::{self, ClientError};
use hcp_minerapi::{Firmware, Request, StatsReport, SummaryReport};
use hcp_proto::v1 as pb;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

/// A miner discovery polls.
#[derive(Debug, Clone)]
pub struct Polled {
    /// Where.
    pub addr: SocketAddr,
    /// Its firmware, once identified (decides the boards command).
    pub firmware: Option<Firmware>,
    /// Its stock hashrate, TH/s.
    pub nominal_ths: f64,
    /// Its health's damping state.
    pub damper: Damper,
    /// Its observed mode's damping state.
    pub mode: Damper<Mode>,
}

/// The miners being polled.
#[derive(Default)]
pub struct PollSet {
    miners: Mutex<HashMap<ResourceId, Polled>>,
}

impl PollSet {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ResourceId, Polled>> {
        self.miners.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a miner, or updates its address and firmware, keeping its damping state;
    /// `recorded` is its recorded health and mode.
    pub fn upsert(
        &self,
        id: ResourceId,
        addr: SocketAddr,
        firmware: Option<Firmware>,
        nominal_ths: f64,
        recorded: (Health, Mode),
    ) {
        let mut miners = self.lock();
        let entry = miners.entry(id).or_insert_with(|| Polled {
            addr,
            firmware: None,
            nominal_ths,
            damper: Damper::new(recorded.0),
            mode: Damper::new(recorded.1),
        });
        entry.addr = addr;
        if firmware.is_some() {
            entry.firmware = firmware;
        }
    }

    /// How many miners are polled.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

enum Outcome {
    Answered(Verdict, pb::Telemetry, Option<Firmware>, Option<Mode>),
    Missed(String),
}

/// Polls every miner once, `concurrency` at a time; returns how many health and mode
/// changes it recorded.
pub async fn poll_once<S: EventStore>(
    set: &PollSet,
    inventory: &Inventory,
    recorder: &Recorder<S>,
    config: &DiscoveryConfig,
) -> usize {
    let targets: Vec<(ResourceId, Polled)> = set.lock().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let polls = targets.into_iter().map(|(id, p)| poll_at(id, p, config.timeout));
    let mut polls = futures_util::stream::iter(polls).buffer_unordered(config.concurrency.max(1));
    let mut recorded = 0;
    while let Some((id, addr, outcome)) = polls.next().await {
        let (change, mode) = {
            let mut miners = set.lock();
            let Some(p) = miners.get_mut(&id) else { continue };
            match outcome {
                Outcome::Answered(verdict, telemetry, firmware, mode) => {
                    if firmware.is_some() {
                        p.firmware = firmware;
                    }
                    inventory.observe(id.as_str(), &addr.to_string(), telemetry);
                    let mode = mode.filter(|m| p.mode.observe(*m, config.confirm_after));
                    (p.damper.answered(verdict, config.confirm_after), mode)
                }
                Outcome::Missed(why) => (p.damper.missed(&why, config.offline_after), None),
            }
        };
        // Asleep or mining, however it got there (a plan, or someone by hand).
        if let Some(mode) = mode {
            match recorder.execute(&id, ResourceCommand::SetMode { mode, at: crate::clock::now() }).await {
                Ok(_) => recorded += 1,
                Err(e) => tracing::warn!(error = %e, "could not record an observed mode"),
            }
        }
        if let Some(v) = change {
            let command = ResourceCommand::ReportHealth { health: v.health, reason: v.reason, at: crate::clock::now() };
            match recorder.execute(&id, command).await {
                Ok(_) => recorded += 1,
                Err(e) => tracing::warn!(error = %e, "could not record a health change"),
            }
        }
    }
    recorded
}

async fn poll_at(id: ResourceId, p: Polled, timeout: Duration) -> (ResourceId, SocketAddr, Outcome) {
    let outcome = poll_one(&p, timeout).await;
    (id, p.addr, outcome)
}

async fn poll_one(p: &Polled, timeout: Duration) -> Outcome {
    let Some(firmware) = &p.firmware else {
        // Not identified since discovery started (found in the store, not by a scan).
        return match probe(p.addr, timeout).await {
            Ok((version, summary)) => {
                let verdict = Verdict { health: Health::Healthy, reason: "answering again".into() };
                let t = telemetry(&summary, &StatsReport::default(), version.firmware.name());
                Outcome::Answered(verdict, t, Some(version.firmware), observed_mode(&summary, &StatsReport::default()))
            }
            Err(ProbeError::Unidentified(why)) => unusable(why),
            Err(ProbeError::Silent) => Outcome::Missed("no reply in time".into()),
            Err(ProbeError::Nothing) => Outcome::Missed("connection refused".into()),
        };
    };
    let request = Request::new(&format!("summary+{}", firmware.boards_command()));
    match client::query(p.addr, &request, timeout).await {
        Ok(replies) => {
            let summary = replies.first().map(SummaryReport::from_reply);
            let boards = replies.get(1).map(StatsReport::from_reply);
            match (summary, boards) {
                (Some(Ok(s)), Some(Ok(b))) => {
                    let mode = observed_mode(&s, &b);
                    Outcome::Answered(judge(&s, &b, p.nominal_ths), telemetry(&s, &b, firmware.name()), None, mode)
                }
                (Some(Err(e)), _) | (_, Some(Err(e))) => unusable(e.to_string()),
                _ => unusable("short reply".into()),
            }
        }
        Err(e @ ClientError::Reply { .. }) | Err(e @ ClientError::TooLong { .. }) => unusable(e.to_string()),
        Err(e) => Outcome::Missed(e.to_string()),
    }
}

/// It answers, but not usefully: degraded (it is there; someone must look at it).
fn unusable(why: String) -> Outcome {
    let verdict = Verdict { health: Health::Degraded, reason: format!("unusable answer: {why}") };
    Outcome::Answered(
        verdict,
        pb::Telemetry { observed_unix_micros: crate::clock::now().unix_micros(), ..Default::default() },
        None,
        None,
    )
}

pub(crate) fn telemetry(s: &SummaryReport, b: &StatsReport, firmware: &str) -> pb::Telemetry {
    pb::Telemetry {
        observed_unix_micros: crate::clock::now().unix_micros(),
        hashrate_ths: s.hashrate_ths.unwrap_or(0.0),
        power_w: s.power_w.or(b.power_w).unwrap_or(0.0),
        max_temp_c: b.max_temp_c().or(s.temperature_c).unwrap_or(0.0),
        fans_rpm: if b.fans_rpm.is_empty() { s.fans_rpm.clone() } else { b.fans_rpm.clone() },
        boards_alive: b.alive_boards() as u32,
        boards_total: b.boards.len() as u32,
        firmware: firmware.to_owned(),
        utilization_pct: 0,
    }
}

//! `make bench` for miner control: execution its own process (`hcp serve execution`) on the
//! machine's JetStream; 1,000 LuxOS S21 simulated in this process at real speed (they shed
//! their load in ~5 s and regain it in ~10 s), registered as discovery would.
//!
//! - `miner_dispatch`: from a plan's target append (one miner each, 200 of them) to the
//!   miner receiving the command (the simulator's clock; the same machine).
//! - `site_curtail_1000`: from one target for all 1,000 to the last `miner.confirmed`
//!   (execution's own reads of each miner), beside the physical minimum: one miner told
//!   directly and read until asleep, with nothing of HCP between.
//! - `site_wake_1000`: the same back to hashing (confirmed once a miner hashes again; it
//!   reaches full rate ~10 s later), under a ramp limit of 1,000 kW/s (3.5 MW of miners
//!   cannot all start in the same second), beside the physical minimum and the ramp's own
//!   floor.

#[path = "../../services/hcp/benches/store/report.rs"]
#[allow(dead_code)] // figures and percentiles only
mod report;

use hcp_domain::catalogue::asic_model;
use hcp_domain::ids::{ResourceId, SiteId};
use hcp_domain::plan::{ALLOCATION_TARGETED, plans_stream};
use hcp_domain::resource::{Resource, ResourceCommand, ResourceKind, ResourceSpec};
use hcp_domain::units::Timestamp;
use hcp_e2e::Platform;
use hcp_e2e::platform::jetstream_url;
use hcp_eventstore::{AnyStore, EventStore, append_all_at_tail};
use hcp_minerapi::control::{self, Action, PowerState};
use hcp_proto::v1 as pb;
use hcp_runtime::clock::now_micros;
use hcp_runtime::{EventContext, Repository};
use hcp_simulator::{Fleet, FleetSpec, SimFirmware, SiteSpec};
use prost::Message;
use report::{figure, percentiles};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SITE: &str = "tx-south-1";
const MINERS: usize = 1000;
const SPARE: usize = 10;
const DISPATCHES: usize = 200;
const RAMP_KW_PER_S: f64 = 1000.0;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let (url, server) = jetstream_url("benchminers");
    let store = Arc::new(AnyStore::open(&url).await.map_err(|e| anyhow::anyhow!("JetStream at {server}: {e}"))?);
    let s21 = asic_model("Antminer S21").ok_or_else(|| anyhow::anyhow!("no S21 in the catalogue"))?;
    let mut spec = FleetSpec::uniform(1, MINERS + SPARE, 250);
    spec.sites[0] = SiteSpec {
        id: SITE.into(),
        octet: 250,
        miners: MINERS + SPARE,
        power_cap_w: 10_000_000,
        settlement_point: "HB_SOUTH".into(),
        mix: vec![(s21, SimFirmware::Luxos)],
    };
    let fleet = Fleet::start(spec).await?;
    let (sleep_min, wake_min) = physical_minimum(&fleet.miners[MINERS..]).await?;
    let ids: Vec<String> = fleet.miners[..MINERS].iter().map(|m| format!("asic-{}", m.addr.ip())).collect();
    let resources: Repository<Resource, AnyStore> = Repository::new(Arc::clone(&store));
    for id in &ids {
        let rid = ResourceId::new(id.clone())?;
        let kind = ResourceKind::AsicMiner {
            model: s21.name.into(),
            nominal_hashrate: s21.nominal_hashrate(),
            nominal_power: s21.nominal_power(),
        };
        let spec = ResourceSpec { site: SiteId::new(SITE)?, rack: None, kind };
        let command = ResourceCommand::Register { id: rid, spec, at: Timestamp::from_unix_micros(now_micros()) };
        resources.execute(id, command, &EventContext::new("discovery")).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let execution = format!("command_deadline_seconds = 60.0\nramp_kw_per_second = {RAMP_KW_PER_S}");
    let p = Platform::new(&url, 21551, &[("execution", &execution)]);
    let _execution = p.serve("execution");
    // Execution asks each miner's firmware once; let that settle before timing.
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Dispatch: a target for one awake miner to stay awake: a command, no change of state.
    let mut dispatch = Vec::with_capacity(DISPATCHES);
    for (k, id) in ids.iter().take(DISPATCHES).enumerate() {
        let at = target(&store, std::slice::from_ref(id), pb::ResourceMode::Mining).await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let received = loop {
            if let Some(t) = fleet.miners[k].last_commanded_unix_micros().filter(|t| *t >= at) {
                break t;
            }
            anyhow::ensure!(Instant::now() < deadline, "{id} received no command within 10 s");
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        dispatch.push(Duration::from_micros(u64::try_from(received - at).unwrap_or(0)));
    }
    percentiles("miner_dispatch", dispatch);

    let took = site(&store, &ids, pb::ResourceMode::Curtailed, "sleep").await?;
    figure("site_curtail_1000", took.as_secs_f64(), "s");
    figure("site_curtail_physical_minimum", sleep_min.as_secs_f64(), "s");
    figure("site_curtail_over_physical_minimum", took.as_secs_f64() / sleep_min.as_secs_f64(), "x");
    let took = site(&store, &ids, pb::ResourceMode::Mining, "wake").await?;
    // The ramp lets one second's worth go at once, then the limit each second.
    let total_kw = MINERS as f64 * s21.nominal_power().watts() as f64 / 1000.0;
    let floor = ((total_kw - RAMP_KW_PER_S) / RAMP_KW_PER_S).max(0.0);
    figure("site_wake_1000_ramp_1000kw_s", took.as_secs_f64(), "s");
    figure("site_wake_physical_minimum", wake_min.as_secs_f64(), "s");
    figure("site_wake_ramp_floor", floor, "s");
    Ok(())
}

/// Appends a plan's targets; returns the append's instant (µs since the epoch).
async fn target(store: &AnyStore, ids: &[String], mode: pb::ResourceMode) -> anyhow::Result<i64> {
    let targeted = pb::AllocationTargeted {
        plan_id: uuid::Uuid::now_v7().to_string(),
        site: SITE.into(),
        targets: ids.iter().map(|id| pb::Assignment { resource_id: id.clone(), mode: mode as i32 }).collect(),
    };
    let at = now_micros();
    let event = EventContext::new("optimization").event(0, ALLOCATION_TARGETED, targeted.encode_to_vec(), at);
    append_all_at_tail(store, &plans_stream(SITE), vec![event]).await?;
    Ok(at)
}

/// From one target for every miner to the last confirmation of `action` in the log.
async fn site(store: &AnyStore, ids: &[String], mode: pb::ResourceMode, action: &str) -> anyhow::Result<Duration> {
    let from = store.head().await?;
    let started = Instant::now();
    target(store, ids, mode).await?;
    let mut confirmed = std::collections::HashSet::new();
    let mut position = from;
    while confirmed.len() < ids.len() {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(120), "{} of {} confirmed", confirmed.len(), ids.len());
        let events = store.read_all(position, 4096).await?;
        if events.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        position = events.last().map_or(position, |e| e.position);
        for e in events.iter().filter(|e| e.event_type == "miner.confirmed") {
            let c = pb::MinerConfirmed::decode(e.payload.as_ref())?;
            if c.action == action {
                confirmed.insert(c.resource_id);
            }
        }
    }
    Ok(started.elapsed())
}

/// Median time for a miner told directly to be read asleep, then awake (nothing of HCP between).
async fn physical_minimum(miners: &[Arc<hcp_simulator::SimMiner>]) -> anyhow::Result<(Duration, Duration)> {
    let firmware = hcp_minerapi::Firmware::Luxminer;
    let timeout = Duration::from_secs(2);
    let mut times = [Vec::new(), Vec::new()];
    for m in miners {
        for (n, (action, state)) in
            [(Action::Sleep, PowerState::Asleep), (Action::Wake, PowerState::Hashing)].iter().enumerate()
        {
            let started = Instant::now();
            control::command(m.addr, &firmware, action, &Default::default(), timeout).await?;
            while control::power_state(m.addr, timeout).await?.0 != *state {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            times[n].push(started.elapsed());
        }
    }
    let median = |mut v: Vec<Duration>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let [sleep, wake] = times;
    Ok((median(sleep), median(wake)))
}

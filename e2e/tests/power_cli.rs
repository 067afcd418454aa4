//! GPUs and miners under one cap, every service its own process on the machine's
//! JetStream: the simulator (12 miners of four models at 5x), `hcp serve discovery|
//! optimization|routing|execution` and an `hcp-agent` with 8 simulated H100 at a site
//! whose 42 kW cap the miners nearly fill. A customer's 8-GPU workload makes exactly
//! enough miners sleep first (the least efficient: two stock S19j Pro, through their web
//! interface), and the site's power never exceeds the cap at any sample: the miners read
//! directly (stock Antminers, which report no power, by their stock draw scaled by their
//! hashrate), idle GPUs by their agent's telemetry, and the workload's GPUs at their full
//! limit from the moment execution starts it (simulated GPUs report idle power whatever
//! runs).

use hcp_e2e::platform::{jetstream_url, simulator};
use hcp_e2e::{Platform, eventually};
use hcp_eventstore::{AnyStore, Direction, EventStore};
use serde_json::Value;
use std::collections::HashSet;
use std::time::{Duration, Instant};

const SITE: &str = "tx-south-1";
const OCTET: u8 = 246;
const CAP_KW: f64 = 42.0;

/// The miners' draw now, kW, read from each miner itself (LuxOS `power`, Whatsminer
/// `summary`; stock Antminers, which report none, at their stock draw scaled by their
/// hashrate).
async fn miners_kw() -> f64 {
    use hcp_minerapi::Firmware;
    use hcp_minerapi::control::{draw_w, power_state};
    // The simulator's mix: LuxOS S21, stock S19j Pro (3,068 W, 104 TH/s), Whatsminer M60S, LuxOS S21 Pro.
    let family = [Firmware::Luxminer, Firmware::Bmminer, Firmware::Btminer, Firmware::Luxminer];
    let mut total = 0.0;
    for i in 0..12 {
        let addr = format!("127.{OCTET}.0.{}:4028", i + 1).parse().expect("addr");
        let timeout = Duration::from_secs(2);
        let watts = match draw_w(addr, &family[i % 4], timeout).await.expect("a miner answers") {
            Some(w) => w,
            None => {
                let (_, summary) = power_state(addr, timeout).await.expect("a miner answers");
                3068.0 * (summary.hashrate_ths.unwrap_or(0.0) / 104.0).min(1.5)
            }
        };
        total += watts / 1000.0;
    }
    total
}

/// The GPUs' draw now, kW: those in `held` at their limit, the others by their telemetry;
/// and how many GPUs report.
fn gpus_kw(p: &Platform, held: &HashSet<String>) -> (f64, usize) {
    let (mut total, mut counted) = (0.0, 0);
    for line in p.ok(&["resources", "list", "--json"]).lines() {
        let r: Value = serde_json::from_str(line).expect("a resource");
        let Some(gpu) = r["spec"].get("gpu") else { continue };
        let watts = if held.contains(r["id"].as_str().unwrap_or_default()) {
            gpu["powerLimitW"].as_u64().unwrap_or(700) as f64
        } else {
            r["telemetry"]["powerW"].as_f64().unwrap_or(0.0)
        };
        total += watts / 1000.0;
        counted += 1;
    }
    (total, counted)
}

/// The site's power now, kW.
async fn site_kw(p: &Platform, held: &HashSet<String>) -> f64 {
    miners_kw().await + gpus_kw(p, held).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_at_a_capped_site_sleeps_exactly_enough_miners_first_and_the_cap_holds() {
    let (url, server) = jetstream_url("e2epower");
    let store = AnyStore::open(&url)
        .await
        .unwrap_or_else(|e| panic!("NATS JetStream is required at {server} ({e}); `make nats` starts one"));
    let discovery = format!(
        "poll_seconds = 0.2\nagent_timeout_seconds = 30.0\n\n[[discovery.targets]]\nsite = \"{SITE}\"\nfirst = \"127.{OCTET}.0.1\"\nlast = \"127.{OCTET}.0.12\""
    );
    let p = Platform::new(
        &url,
        21651,
        &[
            ("discovery", &discovery),
            ("routing", "preemption_grace_seconds = 0.5\ncycle_seconds = 0.5"),
            ("execution", "command_deadline_seconds = 10.0"),
            ("[sites]", &format!("id = \"{SITE}\"\ncap_kw = {CAP_KW}")),
        ],
    );
    let _simulator = simulator(12, OCTET, 5.0);
    let _discovery = p.serve("discovery");
    let _optimization = p.serve("optimization");
    let _routing = p.serve("routing");
    let _execution = p.serve("execution");
    let _agent = p.agent("g1", SITE, 8, "simulated", &p.token);
    p.ok(&["tenants", "create", "acme", "--nominal-gpus", "8"]);
    eventually("8 GPUs reporting", Duration::from_secs(30), || async { gpus_kw(&p, &HashSet::new()).1 == 8 }).await;
    let before = site_kw(&p, &HashSet::new()).await;
    assert!(before < CAP_KW && before + 5.6 > CAP_KW, "the site is near its cap: {before:.1} kW");

    let id = p.submit("--tenant acme --kind training --gpu-model H100 --gpus 8 --duration 10m --site tx-south-1");
    let mut held = HashSet::new();
    let mut peak: f64 = 0.0;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut running_since = None;
    loop {
        let view = p.get(&id);
        // Its GPUs draw once told to start (placed, they wait idle for the miners).
        let started = view["status"] == "starting" || view["status"] == "running";
        if let Some(resources) = view["resources"].as_array().filter(|_| started) {
            held.extend(resources.iter().filter_map(|r| r.as_str()).map(str::to_owned));
        }
        let kw = site_kw(&p, &held).await;
        peak = peak.max(kw);
        assert!(kw <= CAP_KW, "the site at {kw:.2} kW, over its {CAP_KW} kW cap ({}): {view}", view["status"]);
        if view["status"] == "running" && running_since.is_none() {
            running_since = Some(Instant::now());
        }
        if running_since.is_some_and(|t| t.elapsed() > Duration::from_secs(3)) {
            break;
        }
        assert!(Instant::now() < deadline, "not running within 30 s: {view}");
    }
    assert_eq!(held.len(), 8, "the workload's eight GPUs");

    // Exactly enough miners slept first: the two least efficient.
    let curtailments =
        store.read_stream(&format!("curtailment-{SITE}"), 1, Direction::Forwards, 10).await.expect("read");
    assert_eq!(curtailments.len(), 1, "one curtailment for the workload");
    let json = hcp_proto::descriptors::payload_to_json("curtailment.started", &curtailments[0].payload).expect("json");
    let slept: Vec<&str> = json["miners"].as_array().expect("miners").iter().filter_map(|m| m.as_str()).collect();
    assert_eq!(slept.len(), 2, "{json}");
    let resources = p.ok(&["resources", "list", "--json"]);
    for miner in &slept {
        let r: Value = resources
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("json"))
            .find(|r| r["id"] == *miner)
            .expect("listed");
        assert_eq!(r["spec"]["asic"]["model"], "Antminer S19j Pro", "the least efficient first: {r}");
    }
    eprintln!("site power: {before:.2} kW before, peak {peak:.2} kW of {CAP_KW}");
}

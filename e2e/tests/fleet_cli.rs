//! Miner control end to end, every service its own process on the machine's JetStream:
//! the simulator (12 miners: LuxOS, stock Antminer, Whatsminer, at 5x), `hcp serve
//! discovery|execution|optimization|pricing`, prices replayed from a series with a spike.
//!
//! - The spike makes the plan curtail miners, and they really sleep, by their own
//!   replies (stock Antminers through their web interface). The spike ends and they wake,
//!   staggered by the ramp limit.
//! - An operator curtails the whole site (`hcp fleet curtail --all`, previewed first);
//!   execution is killed (SIGKILL) right after and started again: every targeted miner
//!   ends asleep, none commanded more often than its tries allow. `hcp fleet wake` brings
//!   them back.

use hcp_e2e::platform::{jetstream_url, simulator};
use hcp_e2e::{Platform, eventually};
use hcp_eventstore::{AnyStore, Direction, EventStore, RecordedEvent};
use hcp_minerapi::control::{PowerState, power_state};
use std::net::SocketAddr;
use std::time::Duration;

const SITE: &str = "tx-south-1";
const OCTET: u8 = 243;

/// 15-minute prices: $20/MWh, then $5,000/MWh for ten intervals, then $20 again.
fn prices(path: &std::path::Path) {
    let mut text = String::from("interval_start,hb_south_dam_usd_mwh,hb_south_rtm_usd_mwh\n");
    for i in 0..300 {
        let price = if (12..22).contains(&i) { 5000.0 } else { 20.0 };
        let (day, hour, minute) = (1 + i / 96, i % 96 / 4, i % 4 * 15);
        text.push_str(&format!("2024-06-{day:02} {hour:02}:{minute:02}:00,{price},{price}\n"));
    }
    std::fs::write(path, text).expect("write prices");
}

fn miner(i: usize) -> (String, SocketAddr) {
    let addr: SocketAddr = format!("127.{OCTET}.0.{}:4028", i + 1).parse().expect("addr");
    (format!("asic-{}", addr.ip()), addr)
}

/// The simulator's mix cycles LuxOS S21, stock S19j Pro, Whatsminer M60S, LuxOS S21 Pro.
fn stock(i: usize) -> bool {
    i % 4 == 1
}

async fn control(store: &AnyStore, id: &str) -> Vec<RecordedEvent> {
    store.read_stream(&format!("control-{id}"), 1, Direction::Forwards, usize::MAX).await.expect("read")
}

async fn all_in(miners: &[usize], state: PowerState) -> bool {
    for i in miners {
        match power_state(miner(*i).1, Duration::from_secs(1)).await {
            Ok((s, _)) if s == state => {}
            _ => return false,
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_and_operators_sleep_and_wake_real_miners_across_a_killed_execution() {
    let (url, server) = jetstream_url("e2efleet");
    let store = AnyStore::open(&url)
        .await
        .unwrap_or_else(|e| panic!("NATS JetStream is required at {server} ({e}); `make nats` starts one"));
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("prices.csv");
    prices(&csv);
    let discovery = format!(
        "poll_seconds = 0.5\n\n[[discovery.targets]]\nsite = \"{SITE}\"\nfirst = \"127.{OCTET}.0.1\"\nlast = \"127.{OCTET}.0.12\""
    );
    let pricing = format!("speed = 900.0\nprices = \"{}\"", csv.display());
    let p = Platform::new(
        &url,
        21451,
        &[
            ("discovery", &discovery),
            ("pricing", &pricing),
            ("execution", "command_deadline_seconds = 5.0\ncommand_attempts = 3\nramp_kw_per_second = 7.0"),
            ("[sites]", "id = \"tx-south-1\"\ncap_kw = 100000.0"),
        ],
    );
    let _simulator = simulator(12, OCTET, 5.0);
    let _discovery = p.serve("discovery");
    let mut execution = p.serve("execution");
    let _optimization = p.serve("optimization");
    let _pricing = p.serve("pricing");
    let controllable: Vec<usize> = (0..12).collect();

    // The spike: the plan curtails, and the miners say they sleep.
    eventually("controllable miners asleep in the spike", Duration::from_secs(40), || async {
        all_in(&controllable, PowerState::Asleep).await
    })
    .await;
    // Execution confirms by its own reads (every 250 ms), a moment after the miners say so.
    eventually("the stock Antminers confirmed asleep through their web interface", Duration::from_secs(10), || async {
        let mut all = true;
        for i in (0..12).filter(|i| stock(*i)) {
            let stream = control(&store, &miner(i).0).await;
            all &= stream.iter().any(|e| e.event_type == "miner.confirmed");
        }
        all
    })
    .await;
    eventually("discovery observed the sleep", Duration::from_secs(10), || async {
        let log = store.read_all(0, usize::MAX).await.expect("log");
        log.iter().any(|e| {
            e.event_type == "resource.mode_changed"
                && e.stream == format!("resource-{}", miner(0).0)
                && hcp_proto::descriptors::payload_to_json(&e.event_type, &e.payload)
                    .is_ok_and(|p| p["to"] == "RESOURCE_MODE_CURTAILED")
        })
    })
    .await;

    // The spike ends: they wake, staggered (7 kW/s for 12 miners of ~3.3 kW).
    eventually("awake after the spike", Duration::from_secs(40), || async {
        all_in(&controllable, PowerState::Hashing).await
    })
    .await;
    let mut wakes = Vec::new();
    for i in &controllable {
        let stream = control(&store, &miner(*i).0).await;
        let woke = stream.iter().rev().find(|e| e.event_type == "miner.commanded").expect("commanded");
        wakes.push(woke.metadata.time_unix_micros);
    }
    wakes.sort_unstable();
    let spread = (wakes[wakes.len() - 1] - wakes[0]) as f64 / 1e6;
    assert!(spread > 3.5, "twelve wakes within {spread:.2} s: not staggered");

    // An operator curtails the site: previewed, then in force; execution is killed at once.
    let preview = p.ok(&["fleet", "curtail", "--site", SITE, "--all", "--dry-run"]);
    assert!(preview.contains("preview") && preview.contains("12 miners") && !preview.contains("left out"), "{preview}");
    let before: Vec<usize> = {
        let mut n = Vec::new();
        for i in &controllable {
            n.push(control(&store, &miner(*i).0).await.len());
        }
        n
    };
    let out = p.ok(&["fleet", "curtail", "--site", SITE, "--all", "--reason", "utility event"]);
    assert!(out.starts_with("curtailment "), "{out}");
    execution.child.kill().expect("kill");
    execution.child.wait().expect("wait");
    let _execution = p.serve("execution");
    eventually("asleep by the operator's curtailment", Duration::from_secs(40), || async {
        all_in(&controllable, PowerState::Asleep).await
    })
    .await;
    for (i, seen) in controllable.iter().zip(&before) {
        let stream = control(&store, &miner(*i).0).await;
        let sent = stream[*seen..].iter().filter(|e| e.event_type == "miner.commanded").count();
        assert!((1..=3).contains(&sent), "{}: commanded {sent} times for one curtailment", miner(*i).0);
    }
    let status = p.ok(&["fleet", "status", "--site", SITE]);
    assert!(status.contains("curtailment ") && status.contains("utility event"), "{status}");

    // Woken by the operator: back to the plan, which wants them mining.
    p.ok(&["fleet", "wake", "--site", SITE]);
    eventually("awake after the operator's wake", Duration::from_secs(40), || async {
        all_in(&controllable, PowerState::Hashing).await
    })
    .await;
}

//! Hosts for maintenance and agents that go away, with every service a separate process
//! on the machine's JetStream (`hcp serve discovery|routing|execution`, `hcp-agent`s on
//! simulated GPUs at 60x):
//!
//! - a cordoned host takes no new work (a workload waits, naming the cordon), and takes it
//!   again once uncordoned; a drained host has its preemptible work preempted and re-queued;
//! - a workload pauses and resumes, keeping its GPUs;
//! - an agent killed (SIGKILL) mid-run: after `execution.agent_lost_seconds` its work is
//!   re-queued (`lost_agent = "requeue"`) and runs again once the agent is back, or fails
//!   (`lost_agent = "fail"`).

use hcp_e2e::platform::jetstream_url;
use hcp_e2e::{Platform, eventually};
use hcp_eventstore::AnyStore;
use std::time::Duration;

/// A platform whose agents are lost after 3 s, by `policy`; both hosts registered.
async fn platform(prefix: &str, base_port: u16, policy: &str) -> (Platform, Vec<hcp_e2e::Proc>) {
    let (url, server) = jetstream_url(prefix);
    AnyStore::open(&url)
        .await
        .unwrap_or_else(|e| panic!("NATS JetStream is required at {server} ({e}); `make nats` starts one"));
    let execution = format!("agent_lost_seconds = 3.0\nlost_agent = \"{policy}\"\n");
    let p = Platform::new(
        &url,
        base_port,
        &[
            ("routing", "preemption_grace_seconds = 0.5\ncycle_seconds = 0.5"),
            ("execution", &execution),
            ("discovery", "agent_timeout_seconds = 3.0"),
        ],
    );
    let services = vec![p.serve("discovery"), p.serve("routing"), p.serve("execution")];
    p.ok(&["tenants", "create", "acme", "--nominal-gpus", "8"]);
    (p, services)
}

async fn registered(p: &Platform, hosts: &[&str]) {
    eventually("hosts registered", Duration::from_secs(30), || async { hosts.iter().all(|h| p.host(h)["gpus"] == 4) })
        .await;
}

/// Whether `host` runs `id`, as routing's Hosts API says.
fn runs(p: &Platform, host: &str, id: &str) -> bool {
    p.host(host)["workloads"].as_array().is_some_and(|w| w.iter().any(|w| w == id))
}

const GANG: &str = "--tenant acme --kind training --gpu-model H100 --gpus 4 --duration 2h --locality host";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordon_drain_pause_and_a_lost_agent_requeued() {
    let (p, _services) = platform("e2ehosts", 21251, "requeue").await;
    let _h1 = p.agent("h1", "tx-south-1", 4, "simulated", &p.token);
    let mut h2 = p.agent("h2", "tx-south-1", 4, "simulated", &p.token);
    registered(&p, &["h1", "h2"]).await;

    // Cordoned: h1 takes no new work.
    p.ok(&["hosts", "cordon", "h1", "--reason", "firmware update"]);
    assert_eq!(p.host("h1")["state"], "cordoned");
    let w1 = p.submit(GANG);
    p.until(&w1, "running", Duration::from_secs(20)).await;
    assert!(runs(&p, "h2", &w1), "{}", p.host("h2"));
    let w2 = p.submit(GANG);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(p.get(&w2)["status"], "queued");
    let why = p.ok(&["workloads", "why", &w2]);
    assert!(why.contains("cordoned"), "the wait names the cordon: {why}");
    p.ok(&["hosts", "uncordon", "h1"]);
    p.until(&w2, "running", Duration::from_secs(20)).await;
    assert!(runs(&p, "h1", &w2), "{}", p.host("h1"));

    // Paused work keeps its GPUs and resumes.
    p.ok(&["workloads", "pause", &w1]);
    p.until(&w1, "paused", Duration::from_secs(10)).await;
    assert!(runs(&p, "h2", &w1), "a paused workload keeps its GPUs: {}", p.host("h2"));
    p.ok(&["workloads", "resume", &w1]);
    p.until(&w1, "running", Duration::from_secs(10)).await;

    // Drained: h1's preemptible work is preempted and waits (h2 is full).
    p.ok(&["hosts", "drain", "h1", "--reason", "PSU swap"]);
    let moved = p.until(&w2, "queued", Duration::from_secs(20)).await;
    assert_eq!(moved["attempts"], 2, "the next attempt: {moved}");
    assert_eq!(p.host("h1")["state"], "draining");
    eventually("h1 empty", Duration::from_secs(10), || async { p.host("h1")["busyGpus"].as_u64().unwrap_or(0) == 0 })
        .await;
    p.ok(&["hosts", "uncordon", "h1"]);
    let again = p.until(&w2, "running", Duration::from_secs(20)).await;
    assert_eq!(again["attempts"], 2, "{again}");

    // h2's agent is killed: after 3 s its work is re-queued, and runs when the agent is back.
    h2.child.kill().expect("kill");
    h2.child.wait().expect("wait");
    let lost = p.until(&w1, "queued", Duration::from_secs(20)).await;
    assert!(lost["reason"].as_str().is_some_and(|r| r.contains("agent was lost")), "{lost}");
    let _h2 = p.agent("h2", "tx-south-1", 4, "simulated", &p.token);
    let back = p.until(&w1, "running", Duration::from_secs(30)).await;
    assert_eq!(back["attempts"], 2, "{back}");
    let journal = p.journal("h2");
    assert!(journal.values().all(|n| *n == 1), "a run started twice: {journal:?}");
    assert!(journal.contains_key(&(w1.clone(), 2)), "{journal:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_agent_fails_its_work_by_policy() {
    let (p, _services) = platform("e2elost", 21291, "fail").await;
    let mut h1 = p.agent("h1", "tx-south-1", 4, "simulated", &p.token);
    registered(&p, &["h1"]).await;
    let w = p.submit(GANG);
    p.until(&w, "running", Duration::from_secs(20)).await;
    h1.child.kill().expect("kill");
    h1.child.wait().expect("wait");
    let failed = p.until(&w, "failed", Duration::from_secs(20)).await;
    assert!(failed["reason"].as_str().is_some_and(|r| r.contains("agent was lost")), "{failed}");
}

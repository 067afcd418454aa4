//! Notifications as its own process (`hcp serve notifications`) on the machine's
//! JetStream: an endpoint subscribed with the CLI (`hcp webhooks create`), a workload
//! that fails, deliveries to an endpoint that keeps failing; the service is killed
//! (SIGKILL) between two tries and started again: the delivery carries on from the try
//! the log says, to exactly eight tries and the dead letter, each verified by the
//! Standard Webhooks reference implementation; `hcp webhooks deliveries` shows them all;
//! `hcp webhooks erase-secrets` erases the tenant's key and disables its endpoint.

use hcp_domain::codec::encode_workload_event;
use hcp_domain::ids::{TenantId, WorkloadId};
use hcp_domain::units::Timestamp;
use hcp_domain::workload::{WorkloadEvent as E, WorkloadSpec};
use hcp_e2e::platform::{Platform, jetstream_url};
use hcp_e2e::{Proc, hcp_bin};
use hcp_eventstore::{AnyStore, EventStore, ExpectedVersion};
use hcp_runtime::EventContext;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn serve(platform: &Platform, data: &Path, speed: &str) -> Proc {
    let mut command = Command::new(hcp_bin());
    command.arg("--config").arg(&platform.config).args(["serve", "notifications"]);
    command.env("HCP_LOG", "warn").env("HCP_DATA_DIR", data).env("HCP_NOTIFICATIONS__SCHEDULE_SPEED", speed);
    let mut proc = Proc::spawn("notifications", command);
    proc.wait_for_line("ready: notifications");
    proc
}

fn deliveries(platform: &Platform, id: &str) -> Vec<Value> {
    let out = platform.ok(&[
        "webhooks",
        "deliveries",
        id,
        "--tenant",
        "acme",
        "--json",
        "--api",
        &platform.addr("notifications"),
    ]);
    out.lines().map(|l| serde_json::from_str(l).expect("json")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_notifications_resumes_its_retries_from_the_log() {
    let data = tempfile::tempdir().expect("tempdir");
    let secrets = data.path().join("secrets.json");
    let (receiver, port) = hcp_e2e::tools::webhook_receiver("receiver", &secrets);

    let (url, server) = jetstream_url("e2enotify");
    let store = AnyStore::open(&url)
        .await
        .unwrap_or_else(|e| panic!("NATS JetStream is required at {server} ({e}); `make nats` starts one"));
    let platform = Platform::new(&url, 22251, &[]);
    // At 3,600x the fourth try comes 2 s after the third: the kill falls between them.
    let mut serving = serve(&platform, data.path(), "3600");
    let created = platform.ok(&[
        "webhooks",
        "create",
        &format!("http://127.0.0.1:{port}/flaky"),
        "--tenant",
        "acme",
        "--type",
        "workload.failed",
        "--json",
        "--api",
        &platform.addr("notifications"),
    ]);
    let created: Value = serde_json::from_str(created.trim()).expect("json");
    let id = created["endpoint"]["id"].as_str().expect("id").to_owned();
    std::fs::write(&secrets, serde_json::json!({"/flaky": [created["secret"]]}).to_string()).expect("secrets");

    let workload = uuid::Uuid::now_v7().to_string();
    let now = Timestamp::from_unix_micros(hcp_runtime::clock::now_micros());
    let spec = WorkloadSpec::example(TenantId::new("acme").expect("tenant"), 1);
    let events = [
        E::Submitted { id: WorkloadId::parse(&workload).expect("id"), spec, at: now },
        E::Failed { reason: "exit 1".into(), at: now },
    ];
    let context = EventContext::new("e2e").with_tenant("acme");
    let batch = events
        .iter()
        .map(|e| {
            let (kind, payload) = encode_workload_event(e);
            context.event(0, kind, payload, now.unix_micros())
        })
        .collect();
    store.append(&format!("workload-{workload}"), ExpectedVersion::NoStream, batch).await.expect("append");

    let deadline = Instant::now() + Duration::from_secs(30);
    while deliveries(&platform, &id).first().and_then(|d| d["attempts"].as_array().map(Vec::len)).unwrap_or(0) < 3 {
        assert!(Instant::now() < deadline, "no third try:\n{}", serving.output());
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = serving.child.id().to_string();
    assert!(Command::new("kill").args(["-KILL", &pid]).status().expect("kill").success());
    serving.child.wait().expect("wait");

    let mut serving = serve(&platform, data.path(), "36000");
    let deadline = Instant::now() + Duration::from_secs(30);
    let dead = loop {
        let all = deliveries(&platform, &id);
        if let Some(d) = all.iter().find(|d| d["state"] == "dead_lettered") {
            break d.clone();
        }
        assert!(Instant::now() < deadline, "not dead-lettered: {all:?}\n{}", serving.output());
        std::thread::sleep(Duration::from_millis(50));
    };
    let tries: Vec<u64> =
        dead["attempts"].as_array().expect("attempts").iter().filter_map(|a| a["attempt"].as_u64()).collect();
    assert_eq!(tries, [1, 2, 3, 4, 5, 6, 7, 8], "{dead}");
    let got = || -> Vec<Value> { receiver.output().lines().filter_map(|l| serde_json::from_str(l).ok()).collect() };
    let deadline = Instant::now() + Duration::from_secs(5);
    while got().len() < 8 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let got = got();
    assert_eq!(got.len(), 8, "one request a try: {got:?}");
    assert!(
        got.iter().all(|r| r["verified"] == true && r["body"].as_str().is_some_and(|b| b.contains("exit 1"))),
        "{got:?}"
    );
    let text =
        platform.ok(&["webhooks", "deliveries", &id, "--tenant", "acme", "--api", &platform.addr("notifications")]);
    assert!(text.contains("dead_lettered (8 attempts)") && text.contains("round 1 try 8: 500"), "{text}");

    // The tenant's secrets erased through the CLI: its key gone, its endpoint disabled.
    let api = platform.addr("notifications");
    let erase = ["webhooks", "erase-secrets", "--tenant", "acme", "--reason", "the customer left", "--api", &api];
    let text = platform.ok(&erase);
    assert!(text.contains("acme: its key erased; 1 endpoints disabled") && text.contains(&id), "{text}");
    let listed = platform.ok(&["webhooks", "list", "--tenant", "acme", "--api", &api]);
    assert!(listed.contains(&id) && listed.contains("erased"), "{listed}");
    let (status, _) = serving.terminate();
    assert!(status.success(), "notifications stops cleanly: {}", serving.output());
}

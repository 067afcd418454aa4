//! `hcp events` against both real backends: events written through the domain
//! and the store come back out of the CLI as text and as JSON lines.

use hcp_domain::codec::{SCHEMA_VERSION, encode_resource_event, encode_workload_event};
use hcp_domain::ids::{ResourceId, SiteId, TenantId, WorkloadId};
use hcp_domain::resource::{Mode, ResourceEvent, ResourceKind, ResourceSpec};
use hcp_domain::units::{Hashrate, Power, Timestamp};
use hcp_domain::workload::{GpuModel, Priority, WorkloadEvent, WorkloadKind, WorkloadSpec};
use hcp_e2e::{hcp, hcp_bin, stdout_ok};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{AnyStore, EventMetadata, EventStore, ExpectedVersion, NewEvent};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use uuid::Uuid;

fn at(s: i64) -> Timestamp {
    Timestamp::from_unix_secs(1_730_000_000 + s)
}

fn new_event(t: &str, p: Vec<u8>, time: Timestamp) -> NewEvent {
    NewEvent::new(t, SCHEMA_VERSION, p).with_metadata(EventMetadata {
        time_unix_micros: time.unix_micros(),
        tenant: Some("acme".into()),
        actor: Some("e2e".into()),
        ..Default::default()
    })
}

/// Writes a workload's life and a miner's registration; returns the workload stream.
async fn seed(store: &AnyStore) -> String {
    let id = WorkloadId::from_uuid(Uuid::now_v7());
    let spec = WorkloadSpec {
        tenant: TenantId::new("acme").expect("valid"),
        kind: WorkloadKind::BatchInference,
        gpu_model: GpuModel::new("H100-SXM-80GB").expect("valid"),
        gpu_count: 1,
        memory_mib: 40_960,
        max_latency: None,
        priority: Priority::new(5).expect("valid"),
        preemptible: true,
        site: None,
        locality: hcp_domain::workload::Locality::Any,
        run: hcp_domain::workload::RunSpec::default(),
    };
    let history = [
        WorkloadEvent::Submitted { id, spec, at: at(0) },
        WorkloadEvent::Queued { attempt: 1, at: at(1) },
        WorkloadEvent::Scheduled { resources: vec![ResourceId::new("gpu-h1-0").expect("valid")], at: at(2) },
    ];
    let events = history.iter().map(|e| {
        let (t, p) = encode_workload_event(e);
        new_event(t, p, e.at())
    });
    store.append(&id.stream(), ExpectedVersion::NoStream, events.collect()).await.expect("append workload");

    // Unique per run, so that runs never collide on a shared server.
    let miner = ResourceId::new(format!("asic-s21-{}", &Uuid::new_v4().simple().to_string()[..12])).expect("valid");
    let reg = [
        ResourceEvent::Registered {
            id: miner.clone(),
            spec: ResourceSpec {
                site: SiteId::new("tx-south-1").expect("valid"),
                rack: None,
                kind: ResourceKind::AsicMiner {
                    model: "Antminer S21".into(),
                    nominal_hashrate: Hashrate::from_terahashes(200),
                    nominal_power: Power::from_watts(3_500),
                },
            },
            at: at(3),
        },
        ResourceEvent::ModeChanged { from: Mode::Idle, to: Mode::Mining, at: at(4) },
    ];
    let events = reg.iter().map(|e| {
        let (t, p) = encode_resource_event(e);
        new_event(t, p, e.at())
    });
    store.append(&miner.stream(), ExpectedVersion::NoStream, events.collect()).await.expect("append resource");
    id.stream()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

async fn check_cli(url: &str, store: &AnyStore) {
    let stream = seed(store).await;

    // read, as JSON lines, with payloads rendered as JSON.
    let lines = json_lines(&stdout_ok(&hcp(url, &["events", "read", &stream, "--json"])));
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["type"], "workload.submitted");
    assert_eq!(lines[0]["payload"]["spec"]["gpuModel"], "H100-SXM-80GB");
    assert_eq!(lines[0]["tenant"], "acme");
    assert_eq!(lines[2]["payload"]["resources"][0], "gpu-h1-0");
    assert_eq!(lines[2]["version"], 3);
    assert_eq!(lines[1]["time"], "2024-10-27T03:33:21.000000Z");

    // read backwards, as text.
    let text = stdout_ok(&hcp(url, &["events", "read", &stream, "--backwards", "--limit", "1"]));
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("workload.scheduled") && text.contains(&format!("{stream}@3")), "{text}");

    // tail: the newest two events of the whole log.
    let lines = json_lines(&stdout_ok(&hcp(url, &["events", "tail", "-n", "2", "--json"])));
    let types: Vec<_> = lines.iter().map(|l| l["type"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(types, ["resource.registered", "resource.mode_changed"]);

    // replay from the first resource event: folds into one mining resource.
    let from = lines[0]["position"].as_u64().expect("position").to_string();
    let out = hcp(url, &["events", "replay", "--from", &from, "--quiet"]);
    stdout_ok(&out);
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("replayed 2 events"), "{summary}");
    assert!(summary.contains("resources: 1 [mining/healthy=1]"), "{summary}");
    let out = hcp(url, &["events", "replay"]);
    assert_eq!(stdout_ok(&out).lines().count(), 5);
    assert!(String::from_utf8_lossy(&out.stderr).contains("workloads: 1 [scheduled=1]"));

    // tail --follow prints an event appended after it started.
    let mut child = Command::new(hcp_bin())
        .env("HCP_STORE", url)
        .args(["events", "tail", "-n", "0", "--follow", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn tail --follow");
    let stdout = child.stdout.take().expect("stdout");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let ev = WorkloadEvent::Starting { at: at(5) };
    let (t, p) = encode_workload_event(&ev);
    store.append(&stream, ExpectedVersion::Exact(3), vec![new_event(t, p, ev.at())]).await.expect("append");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("join")
    .expect("read a line");
    child.kill().expect("stop tail");
    let _ = child.wait();
    let v: Value = serde_json::from_str(&line).expect("JSON");
    assert_eq!((v["stream"].as_str(), v["type"].as_str()), (Some(stream.as_str()), Some("workload.starting")));

    // Bad input: a clear error, non-zero exit.
    let out = hcp(url, &["events", "read", "no spaces allowed"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid stream name"), "{:?}", out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cli_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("events.db");
    let store = AnyStore::Sqlite(SqliteStore::open_path(&path).await.expect("open"));
    check_cli(&format!("sqlite:{}", path.display()), &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cli_on_jetstream() {
    // A private namespace on the shared server (`?namespace=`), so the log holds only
    // what this test wrote and every check is exact; deleted afterwards.
    let server = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let url = format!("{server}?namespace=e2e{}", Uuid::new_v4().simple());
    let store = AnyStore::open(&url)
        .await
        .unwrap_or_else(|e| panic!("NATS JetStream is required at {server} ({e}); `make nats` starts one"));
    check_cli(&url, &store).await;
    let AnyStore::JetStream(js) = store else { unreachable!("a nats:// URL opens JetStream") };
    js.destroy().await.expect("delete the test namespace");
}

#[test]
fn a_bad_store_url_is_a_clear_error() {
    let out = hcp("postgres://nope", &["events", "tail"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("store.url") && err.contains("HCP_STORE") && err.contains("must start with sqlite:"), "{err}");
    let out = hcp("nats://127.0.0.1:4222?namespace=a.b", &["events", "tail"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be 1-64 letters"), "{:?}", out);
    let out = hcp("nats://127.0.0.1:1", &["events", "tail"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"), "{:?}", out);
}

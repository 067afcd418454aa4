//! A JetStream server that dies mid-stream and comes back: appends retried with the
//! same event ids land exactly once, and a live subscription sees every event exactly
//! once, in order, across the restart.
//!
//! The test runs its own nats-server (Debian's, as `make nats` installs it) on a free
//! port with its own store directory, so that it can kill and restart it. Without the
//! binary it fails, never skips.

use hcp_eventstore::jetstream::{JetStreamConfig, JetStreamStore};
use hcp_eventstore::{EventStore, ExpectedVersion, NewEvent};
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

const STREAMS: usize = 10;
const EVENTS_PER_STREAM: usize = 60;

fn server_binary() -> String {
    ["nats-server", "/usr/sbin/nats-server"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success()))
        .unwrap_or_else(|| panic!("nats-server is required (`make nats` installs it)"))
        .to_owned()
}

fn start(bin: &str, port: u16, dir: &Path) -> Child {
    let child = Command::new(bin)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nats-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not answer on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// Appends one event, retrying with the same id (and expected version) until the store
/// answers: what a client does when the broker goes away mid-append.
async fn append_until_it_lands(store: &JetStreamStore, stream: &str, version: u64, event: NewEvent) {
    let expected = if version == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(version) };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match store.append(stream, expected, vec![event.clone()]).await {
            Ok(r) => {
                assert_eq!(r.version, version + 1, "{stream}");
                return;
            }
            Err(e) => {
                assert!(Instant::now() < deadline, "{stream}@{}: still failing: {e}", version + 1);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_mid_stream_loses_and_repeats_nothing() {
    let bin = server_binary();
    let port = TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start(&bin, port, dir.path());
    let url = format!("nats://127.0.0.1:{port}");
    let store = JetStreamStore::connect(JetStreamConfig::new(&url)).await.expect("connect");

    // A live subscriber from the start, collecting every event it is given.
    let mut sub = store.subscribe(0).await.expect("subscribe");
    let total = STREAMS * EVENTS_PER_STREAM;
    let seen = tokio::spawn(async move {
        let mut seen = Vec::with_capacity(total);
        while seen.len() < total {
            match tokio::time::timeout(Duration::from_secs(60), sub.next()).await {
                Ok(Some(Ok(e))) => seen.push(e),
                Ok(Some(Err(e))) => panic!("the subscription failed after {} events: {e}", seen.len()),
                Ok(None) => panic!("the subscription ended after {} events", seen.len()),
                Err(_) => panic!("no event for 60 s after {} events", seen.len()),
            }
        }
        seen
    });

    // Writers: each stream's events in order; the broker is killed a third of the way
    // through and restarted a second later on the same port and store.
    let ids: Vec<Vec<Uuid>> = (0..STREAMS).map(|_| (0..EVENTS_PER_STREAM).map(|_| Uuid::now_v7()).collect()).collect();
    let writers: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(s, ids)| {
            let store = store.clone();
            let ids = ids.clone();
            tokio::spawn(async move {
                let stream = format!("restart-{s}");
                for (v, id) in ids.into_iter().enumerate() {
                    let event = NewEvent { id, ..NewEvent::new("test.happened", 1, format!("{s}/{v}").into_bytes()) };
                    append_until_it_lands(&store, &stream, v as u64, event).await;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(EVENTS_PER_STREAM as u64 * 5 / 3)).await;
    server.kill().expect("kill nats-server");
    server.wait().expect("reap nats-server");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut server = start(&bin, port, dir.path());
    for w in writers {
        w.await.expect("writer");
    }
    let seen = seen.await.expect("subscriber");

    // Every event exactly once, in global order, each stream's in version order.
    let mut count: HashMap<Uuid, usize> = HashMap::new();
    for e in &seen {
        *count.entry(e.id).or_default() += 1;
    }
    for (s, ids) in ids.iter().enumerate() {
        for (v, id) in ids.iter().enumerate() {
            assert_eq!(count.get(id), Some(&1), "restart-{s}@{}: seen {:?} times", v + 1, count.get(id));
        }
    }
    assert!(seen.windows(2).all(|w| w[0].position < w[1].position), "global order");
    let mut versions: HashMap<&str, u64> = HashMap::new();
    for e in &seen {
        let last = versions.entry(e.stream.as_str()).or_default();
        assert_eq!(e.version, *last + 1, "{} in version order", e.stream);
        *last = e.version;
    }
    // And the stored log says the same.
    let stored = store.read_all(0, total * 2).await.expect("read the log");
    assert_eq!(stored.len(), total, "nothing lost, nothing written twice");
    server.kill().expect("stop nats-server");
    let _ = server.wait();
}

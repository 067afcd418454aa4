//! Webhooks end to end on a real SQLite store, to a receiver (`receiver.py`) that checks
//! every delivery with the Standard Webhooks reference implementation from PyPI. On a
//! clock 36,000 times faster than real time (Svix's 28-hour schedule in under 3 s):
//! - a workload that failed is raised and delivered, signed, to every endpoint of its
//!   tenant; another tenant's delivery is not held up by an endpoint that hangs;
//! - an endpoint that keeps failing gets the eight tries at the schedule's spacing, then
//!   the dead letter; a replay delivers it;
//! - 429 with `Retry-After: 1` waits that second (not scaled); 410 disables the endpoint;
//! - every attempt is an event, listed with its status;
//! - a rotated secret signs beside the old one; no secret is ever in the log in clear;
//!   erasing the tenant's secrets (recorded, with why) deletes its key and disables its
//!   endpoints: nothing can be signed.

mod common;

use common::{deliveries, failed, received, until_state};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{Direction, EventStore};
use hcp_notifications::keys::Keys;
use hcp_notify::schedule::SCHEDULE;
use hcp_proto::v1 as pb;
use hcp_proto::v1::notifications_client::NotificationsClient;
use hcp_runtime::config::NotificationsConfig;
use hcp_runtime::{Host, Metrics};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SPEED: f64 = 36_000.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_retried_throttled_disabled_dead_lettered_and_replayed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secrets_file = dir.path().join("secrets.json");
    let (receiver, port) = common::receiver("receiver", &secrets_file);

    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let keys = Keys::new(dir.path().join("keys"));
    let config = NotificationsConfig {
        timeout_seconds: 0.5,
        schedule_speed: SPEED,
        repeat_seconds: 0.0,
        ..NotificationsConfig::default()
    };
    let addr = hcp_notifications::start(&host, &config, keys.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("notifications");
    let channel = hcp_proto::client::connect(&format!("http://{addr}")).await.expect("connect");
    let mut client = NotificationsClient::new(channel);

    // Endpoints: acme's five behaviours, globex's one.
    let mut ids: HashMap<(&str, &str), String> = HashMap::new();
    let mut secrets: HashMap<String, Vec<String>> = HashMap::new();
    for (tenant, path) in
        [("acme", "ok"), ("acme", "flaky"), ("acme", "slow"), ("acme", "throttle"), ("acme", "gone"), ("globex", "ok")]
    {
        let request = pb::CreateEndpointRequest {
            tenant: tenant.into(),
            url: format!("http://127.0.0.1:{port}/{path}"),
            types: vec!["workload.failed".into(), "test".into()],
            description: format!("{tenant} {path}"),
        };
        let created = client.create_endpoint(request).await.expect("create").into_inner();
        assert!(created.secret.starts_with("whsec_"));
        ids.insert((tenant, path), created.endpoint.expect("endpoint").id);
        secrets.entry(format!("/{path}")).or_default().push(created.secret);
    }
    std::fs::write(&secrets_file, serde_json::to_string(&secrets).expect("json")).expect("write secrets");
    let refused = client
        .create_endpoint(pb::CreateEndpointRequest {
            tenant: "acme".into(),
            url: "ftp://x".into(),
            ..Default::default()
        })
        .await
        .expect_err("not http");
    assert!(refused.message().starts_with("url:"), "{refused:?}");

    // acme's workload fails; its slow endpoint hangs; globex's fails a moment later and is
    // delivered at once all the same.
    failed(&store, "acme").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let raised = Instant::now();
    failed(&store, "globex").await;
    let globex = until_state(&mut client, "globex", &ids[&("globex", "ok")], "delivered").await;
    let waited = raised.elapsed();
    assert!(waited < Duration::from_millis(400), "globex waited {waited:?} behind acme's hanging endpoint");
    assert_eq!(globex.attempts.len(), 1);

    let ok = until_state(&mut client, "acme", &ids[&("acme", "ok")], "delivered").await;
    assert_eq!((ok.attempts.len(), ok.attempts[0].status, ok.r#type.as_str()), (1, 204, "workload.failed"));

    // 429 with Retry-After: 1 waits that second, then delivered.
    let throttle = until_state(&mut client, "acme", &ids[&("acme", "throttle")], "delivered").await;
    assert_eq!(throttle.attempts.iter().map(|a| a.status).collect::<Vec<_>>(), [429, 200]);
    let tries: Vec<f64> = received(&receiver)
        .iter()
        .filter(|r| r["path"] == "/throttle")
        .map(|r| r["t"].as_f64().expect("the receiver's time"))
        .collect();
    // The schedule's own next try is a few hundred microseconds away on this clock.
    assert!(tries.len() == 2 && tries[1] - tries[0] >= 0.95, "Retry-After: 1 waited for, unscaled: {tries:?}");

    // 410: gone, and the endpoint disabled.
    until_state(&mut client, "acme", &ids[&("acme", "gone")], "gone").await;
    let listed = client.list_endpoints(pb::ListEndpointsRequest { tenant: "acme".into() }).await.expect("list");
    let gone = listed.into_inner().endpoints.into_iter().find(|e| e.id == ids[&("acme", "gone")]).expect("gone");
    assert!(gone.disabled && gone.disabled_reason.contains("410"), "{gone:?}");

    // Eight tries at the schedule's spacing, then the dead letter; a replay delivers it.
    let flaky_id = ids[&("acme", "flaky")].clone();
    let dead = until_state(&mut client, "acme", &flaky_id, "dead_lettered").await;
    assert_eq!(dead.attempts.iter().map(|a| a.status).collect::<Vec<_>>(), [500; 8]);
    // The receiver's log lines come through a pipe: a moment behind its answers.
    let flaky_times = || -> Vec<f64> {
        received(&receiver).iter().filter(|r| r["path"] == "/flaky").filter_map(|r| r["t"].as_f64()).collect()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while flaky_times().len() < 8 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let times = flaky_times();
    assert_eq!(times.len(), 8);
    for (k, pair) in times.windows(2).enumerate() {
        let (gap, scheduled) = (pair[1] - pair[0], SCHEDULE[k + 1].as_secs_f64() / SPEED);
        assert!(gap >= 0.9 * scheduled && gap <= 1.1 * scheduled + 0.3, "gap {k}: {gap:.4} s for {scheduled:.4} s");
    }
    let replayed =
        client.replay(pb::EndpointRequest { tenant: "acme".into(), id: flaky_id.clone() }).await.expect("replay");
    assert_eq!(replayed.into_inner().replayed, 1);
    let again = until_state(&mut client, "acme", &flaky_id, "delivered").await;
    assert_eq!((again.attempts.len(), again.attempts[8].round, again.attempts[8].status), (9, 2, 204));

    // The hanging endpoint's tries time out (no status), and are recorded as such.
    let slow = deliveries(&mut client, "acme", &ids[&("acme", "slow")]).await;
    assert!(slow[0].attempts.first().is_some_and(|a| a.status == 0 && !a.error.is_empty()), "{slow:?}");

    // Every delivery the receiver got verified with the reference implementation.
    let got = received(&receiver);
    assert!(got.iter().all(|r| r["verified"] == true), "{got:?}");
    assert!(got.iter().any(|r| r["body"].as_str().is_some_and(|b| b.contains("out of memory"))), "{got:?}");

    // Rotation: both secrets sign; the receiver holding only the new one verifies.
    let ok_id = ids[&("acme", "ok")].clone();
    let rotated =
        client.rotate_secret(pb::EndpointRequest { tenant: "acme".into(), id: ok_id.clone() }).await.expect("rotate");
    let new_secret = rotated.into_inner().secret;
    secrets.insert("/ok".into(), vec![new_secret.clone()]);
    std::fs::write(&secrets_file, serde_json::to_string(&secrets).expect("json")).expect("write secrets");
    let test = client.send_test(pb::EndpointRequest { tenant: "acme".into(), id: ok_id.clone() }).await.expect("test");
    let test_id = test.into_inner().id;
    let deadline = Instant::now() + Duration::from_secs(10);
    let seen = loop {
        if let Some(r) = received(&receiver).into_iter().find(|r| r["id"] == test_id.as_str()) {
            break r;
        }
        assert!(Instant::now() < deadline, "the test notification never came");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((seen["signatures"].as_u64(), seen["verified"].as_bool()), (Some(2), Some(true)), "{seen}");

    // Crypto-shredding: no secret in the log in clear; the key erased, nothing can be sent.
    let all = store.read_all(0, usize::MAX).await.expect("read");
    for secret in secrets.values().flatten() {
        assert!(
            !all.iter().any(|e| e.payload.windows(secret.len()).any(|w| w == secret.as_bytes())),
            "a secret in the log"
        );
    }
    let erase = pb::EraseSecretsRequest { tenant: "acme".into(), reason: "the customer left".into() };
    let erased = client.erase_secrets(erase).await.expect("erase").into_inner();
    assert!(erased.had_key && erased.endpoints_disabled.contains(&ok_id), "{erased:?}");
    assert!(keys.get("acme").expect("key").is_none(), "the key file is gone");
    let recorded = store.read_stream("secrets-acme", 1, Direction::Forwards, 10).await.expect("read");
    assert_eq!(recorded.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["secrets.erased"]);
    let listed = client.list_endpoints(pb::ListEndpointsRequest { tenant: "acme".into() }).await.expect("list");
    let listed = listed.into_inner().endpoints;
    // Every endpoint disabled (the one gone before keeps its 410), none readable.
    let erasure =
        |e: &pb::EndpointView| e.disabled_reason.contains("erased") == erased.endpoints_disabled.contains(&e.id);
    assert!(listed.iter().all(|e| !e.readable && e.disabled && erasure(e)), "{listed:?}");
    assert_eq!(erased.endpoints_disabled.len(), listed.len() - 1, "all but the one gone: {erased:?}");
    let again = pb::EraseSecretsRequest { tenant: "acme".into(), reason: String::new() };
    let again = client.erase_secrets(again).await.expect("erase again").into_inner();
    assert!(!again.had_key && again.endpoints_disabled.is_empty(), "nothing left to erase: {again:?}");
    let before = received(&receiver).len();
    let after_erase = client.send_test(pb::EndpointRequest { tenant: "acme".into(), id: ok_id }).await.expect("test");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = after_erase.into_inner().id;
    assert!(received(&receiver)[before..].iter().all(|r| r["id"] != id.as_str()), "sent without a key");
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

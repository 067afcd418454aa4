//! A delivery in the middle of its retries survives the service stopping: started again
//! over the same log, notifications resumes it from its recorded attempts, at the try
//! and time they say, and it ends dead-lettered after exactly eight tries, none twice. An
//! endpoint disabled while a delivery waits holds it; enabled again, the delivery goes on.

mod common;

use common::{failed, received, until_state};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_notifications::keys::Keys;
use hcp_proto::v1 as pb;
use hcp_proto::v1::notifications_client::NotificationsClient;
use hcp_runtime::config::NotificationsConfig;
use hcp_runtime::{Host, Metrics};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

async fn serve(
    store: &Arc<SqliteStore>,
    keys: &Keys,
    speed: f64,
) -> (Arc<Host<SqliteStore>>, NotificationsClient<Channel>) {
    let host = Host::new(Arc::clone(store), Metrics::new(), "test");
    let config = NotificationsConfig { schedule_speed: speed, timeout_seconds: 2.0, ..NotificationsConfig::default() };
    let addr = hcp_notifications::start(&host, &config, keys.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("notifications");
    let channel = hcp_proto::client::connect(&format!("http://{addr}")).await.expect("connect");
    (host, NotificationsClient::new(channel))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_deliveries_resume_after_a_stop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secrets_file = dir.path().join("secrets.json");
    let (receiver, port) = common::receiver("receiver", &secrets_file);
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let keys = Keys::new(dir.path().join("keys"));

    // At 3,600x the fourth try comes 2 s after the third: stop in between.
    let (host, mut client) = serve(&store, &keys, 3_600.0).await;
    let request = pb::CreateEndpointRequest {
        tenant: "acme".into(),
        url: format!("http://127.0.0.1:{port}/flaky"),
        ..Default::default()
    };
    let created = client.create_endpoint(request).await.expect("create").into_inner();
    let id = created.endpoint.expect("endpoint").id;
    std::fs::write(&secrets_file, format!("{{\"/flaky\": [\"{}\"]}}", created.secret)).expect("secrets");
    failed(&store, "acme").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tried = common::deliveries(&mut client, "acme", &id).await.first().map_or(0, |d| d.attempts.len());
        if tried >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "no third try");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");

    // Started again, faster: it carries on from the fourth try.
    let (host, mut client) = serve(&store, &keys, 36_000.0).await;
    let dead = until_state(&mut client, "acme", &id, "dead_lettered").await;
    let tries: Vec<u32> = dead.attempts.iter().map(|a| a.attempt).collect();
    assert_eq!(tries, [1, 2, 3, 4, 5, 6, 7, 8], "{dead:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while received(&receiver).len() < 8 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = received(&receiver);
    assert_eq!(got.len(), 8, "each try reached the endpoint once: {got:?}");
    assert!(got.iter().all(|r| r["verified"] == true));

    // Disabled while a delivery waits for its next try, it waits; enabled, it goes on.
    let request = pb::CreateEndpointRequest {
        tenant: "globex".into(),
        url: format!("http://127.0.0.1:{port}/throttle"),
        ..Default::default()
    };
    let created = client.create_endpoint(request).await.expect("create").into_inner();
    let id = created.endpoint.expect("endpoint").id;
    let one = pb::EndpointRequest { tenant: "globex".into(), id: id.clone() };
    failed(&store, "globex").await;
    // The first try is throttled with Retry-After: 1; disabled meanwhile, then enabled.
    let deadline = Instant::now() + Duration::from_secs(10);
    while common::deliveries(&mut client, "globex", &id).await.first().is_none_or(|d| d.attempts.is_empty()) {
        assert!(Instant::now() < deadline, "no first try");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client.disable_endpoint(one.clone()).await.expect("disable");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(common::deliveries(&mut client, "globex", &id).await[0].state, "pending", "held while disabled");
    client.enable_endpoint(one).await.expect("enable");
    let delivered = until_state(&mut client, "globex", &id, "delivered").await;
    assert_eq!(delivered.attempts.iter().map(|a| a.status).collect::<Vec<_>>(), [429, 200]);
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

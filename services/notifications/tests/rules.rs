//! The rules on a real SQLite store: a flapping workload (preempted three times, twice
//! within the repeat interval) raises two notifications, not three; a device offline
//! raises one unless it was curtailed on purpose; a price above the level, a plan's margin
//! below its level, a curtailment, a miner command that failed, a demand-response signal
//! stale or missed and a budget threshold raise theirs, each for the right tenant, the
//! event's data in the body. A restart forgets none of it: what was raised before and what
//! was curtailed before still count.

use hcp_domain::codec::encode_workload_event;
use hcp_domain::ids::{TenantId, WorkloadId};
use hcp_domain::units::Timestamp;
use hcp_domain::workload::{WorkloadEvent as E, WorkloadSpec};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{Direction, EventStore, ExpectedVersion};
use hcp_notifications::rules::Rules;
use hcp_proto::v1 as pb;
use hcp_runtime::config::NotificationsConfig;
use hcp_runtime::{Durability, EventContext, Host, Metrics};
use prost::Message;
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_793_577_600_000_000;

async fn put(store: &SqliteStore, stream: &str, kind: &str, payload: Vec<u8>, seconds: i64) {
    let event = EventContext::new("test").with_tenant("acme").event(0, kind, payload, T0 + seconds * 1_000_000);
    store.append(stream, ExpectedVersion::Any, vec![event]).await.expect("append");
}

async fn raised(store: &SqliteStore, tenant: &str) -> Vec<pb::Notification> {
    let events =
        store.read_stream(&format!("notify-{tenant}"), 1, Direction::Forwards, usize::MAX).await.expect("read");
    events.iter().map(|e| pb::Notification::decode(e.payload.as_ref()).expect("notification")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_group_repeat_and_spare_what_was_curtailed_on_purpose() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let id = uuid::Uuid::now_v7().to_string();
    let workload = format!("workload-{id}");
    let spec = WorkloadSpec::example(TenantId::new("acme").expect("tenant"), 1);
    let at = |s: i64| Timestamp::from_unix_micros(T0 + s * 1_000_000);
    let lifecycle = [
        (E::Submitted { id: WorkloadId::parse(&id).expect("id"), spec, at: at(0) }, 0),
        (E::Preempted { reason: "realtime".into(), at: at(1) }, 1),
        (E::Preempted { reason: "realtime".into(), at: at(11) }, 11),
        (E::Preempted { reason: "realtime".into(), at: at(75) }, 75),
    ];
    for (e, s) in lifecycle {
        let (kind, payload) = encode_workload_event(&e);
        put(&store, &workload, kind, payload, s).await;
    }
    let mode =
        pb::ResourceModeChanged { from: pb::ResourceMode::Mining as i32, to: pb::ResourceMode::Curtailed as i32 };
    put(&store, "resource-m1", "resource.mode_changed", mode.encode_to_vec(), 2).await;
    let offline = pb::ResourceHealthChanged {
        from: pb::ResourceHealth::Healthy as i32,
        to: pb::ResourceHealth::Offline as i32,
        reason: "no answer".into(),
    };
    put(&store, "resource-m1", "resource.health_changed", offline.encode_to_vec(), 3).await;
    put(&store, "resource-m2", "resource.health_changed", offline.encode_to_vec(), 3).await;
    for (usd, s) in [(100.0, 4), (900.0, 5)] {
        let p = pb::PriceObserved { site: "tx-1".into(), real_time_usd_mwh: usd, ..Default::default() };
        put(&store, "prices-tx-1", "price.observed", p.encode_to_vec(), s).await;
    }
    let crossed = pb::BudgetThresholdCrossed { percent: 80, ..Default::default() };
    put(&store, "budget-acme", "budget.threshold_crossed", crossed.encode_to_vec(), 6).await;
    put(&store, "curtailment-c1", "curtailment.started", Vec::new(), 7).await;
    put(&store, "control-m3", "miner.command_failed", Vec::new(), 7).await;
    put(&store, "demand-tx-1", "demand_response.stale", Vec::new(), 8).await;
    put(&store, "demand-tx-1", "demand_response.missed", Vec::new(), 9).await;
    for (margin, s) in [(12.5, 8), (-3.0, 9)] {
        let plan = pb::AllocationPlanned { site: "tx-1".into(), margin_usd_per_hour: margin, ..Default::default() };
        put(&store, "plans-tx-1", "allocation.planned", plan.encode_to_vec(), s).await;
    }

    rules(&store).await;

    let acme = raised(&store, "acme").await;
    let kinds: Vec<(&str, i64)> =
        acme.iter().map(|n| (n.r#type.as_str(), (n.raised_unix_micros - T0) / 1_000_000)).collect();
    assert_eq!(kinds, [("workload.preempted", 1), ("workload.preempted", 75), ("budget.threshold_crossed", 6)]);
    assert!(acme[0].body.contains("realtime") && acme[0].subject == id, "{:?}", acme[0]);
    let platform = raised(&store, "platform").await;
    let about: Vec<(&str, &str)> = platform.iter().map(|n| (n.r#type.as_str(), n.subject.as_str())).collect();
    assert_eq!(
        about,
        [
            ("resource.health_changed", "resource-m2"),
            ("price.observed", "tx-1"),
            ("curtailment.started", "curtailment-c1"),
            ("miner.command_failed", "control-m3"),
            ("demand_response.stale", "demand-tx-1"),
            ("demand_response.missed", "demand-tx-1"),
            ("allocation.planned", "tx-1"),
        ]
    );
    assert!(platform[1].body.contains("900"), "{:?}", platform[1]);
    assert!(platform[6].body.contains("-3"), "{:?}", platform[6]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_forgets_neither_what_was_raised_nor_what_was_curtailed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let budget = |percent| pb::BudgetThresholdCrossed { percent, ..Default::default() }.encode_to_vec();
    let mode =
        pb::ResourceModeChanged { from: pb::ResourceMode::Mining as i32, to: pb::ResourceMode::Curtailed as i32 };
    let offline = pb::ResourceHealthChanged {
        from: pb::ResourceHealth::Healthy as i32,
        to: pb::ResourceHealth::Offline as i32,
        reason: "no answer".into(),
    };
    let back = pb::ResourceHealthChanged {
        from: pb::ResourceHealth::Offline as i32,
        to: pb::ResourceHealth::Healthy as i32,
        reason: "answers".into(),
    };
    put(&store, "budget-acme", "budget.threshold_crossed", budget(50), 1).await;
    put(&store, "resource-m1", "resource.mode_changed", mode.encode_to_vec(), 2).await;
    rules(&store).await;

    // After the restart: the same alert within the repeat interval, and the curtailed
    // device going offline, raise nothing; once the interval is past, and for a device
    // not curtailed, they do.
    put(&store, "budget-acme", "budget.threshold_crossed", budget(50), 30).await;
    put(&store, "resource-m1", "resource.health_changed", offline.encode_to_vec(), 31).await;
    put(&store, "resource-m2", "resource.health_changed", offline.encode_to_vec(), 31).await;
    put(&store, "budget-acme", "budget.threshold_crossed", budget(50), 90).await;
    rules(&store).await;

    let acme: Vec<i64> = raised(&store, "acme").await.iter().map(|n| (n.raised_unix_micros - T0) / 1_000_000).collect();
    assert_eq!(acme, [1, 90]);
    let platform: Vec<String> = raised(&store, "platform").await.into_iter().map(|n| n.subject).collect();
    assert_eq!(platform, ["resource-m2"]);

    // Back in service (mining again), the same device's going offline is an alert.
    let mining =
        pb::ResourceModeChanged { from: pb::ResourceMode::Curtailed as i32, to: pb::ResourceMode::Mining as i32 };
    put(&store, "resource-m1", "resource.mode_changed", mining.encode_to_vec(), 100).await;
    put(&store, "resource-m1", "resource.health_changed", back.encode_to_vec(), 101).await;
    put(&store, "resource-m1", "resource.health_changed", offline.encode_to_vec(), 102).await;
    rules(&store).await;
    let platform: Vec<String> = raised(&store, "platform").await.into_iter().map(|n| n.subject).collect();
    assert_eq!(platform, ["resource-m2", "resource-m1"]);
}

/// Runs the rules (a repeat interval of a minute, a price level of $500/MWh and a margin
/// level of $0/h) on the store until they have handled everything in it, then stops
/// them, as a restart would: the next run starts from their checkpoint with nothing in
/// memory.
async fn rules(store: &Arc<SqliteStore>) {
    let host = Host::new(Arc::clone(store), Metrics::new(), "test");
    let config = NotificationsConfig {
        repeat_seconds: 60.0,
        price_alert_usd_mwh: Some(500.0),
        margin_alert_usd_per_hour: Some(0.0),
        ..Default::default()
    };
    let watch =
        host.reactor("notifications", Arc::new(Rules::new(Arc::clone(store), &config)), Durability::Checkpointed);
    loop {
        let head = store.head().await.expect("head");
        tokio::time::timeout(Duration::from_secs(10), watch.caught_up(head)).await.expect("caught up");
        if store.head().await.expect("head") == head {
            break;
        }
    }
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

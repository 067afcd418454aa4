//! The runtime against a real SQLite store: reactors resume from their checkpoint and
//! commit it at shutdown, retry what can be retried and skip what cannot; the
//! repository retries a conflict; a host serves health and metrics and announces itself.

use hcp_domain::ids::{ResourceId, SiteId};
use hcp_domain::resource::{Resource, ResourceCommand, ResourceKind, ResourceSpec};
use hcp_domain::units::{Power, Timestamp};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{EventStore, ExpectedVersion, NewEvent, RecordedEvent};
use hcp_runtime::grpc::GrpcServices;
use hcp_runtime::{Durability, ErrorCode, EventContext, Handler, HandlerError, Host, Metrics, Repository};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open_path(dir.path().join("events.db")).await.expect("store");
    (dir, Arc::new(store))
}

async fn append(store: &SqliteStore, n: usize, event_type: &str) {
    for _ in 0..n {
        let e = NewEvent::new(event_type, 1, vec![1u8]);
        store.append("things-1", ExpectedVersion::Any, vec![e]).await.expect("append");
    }
}

/// Records what it saw; fails `flaky` times with a retryable error, and refuses `poison` events.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<u64>>,
    flaky: AtomicUsize,
}

impl Handler for Recorder {
    fn name(&self) -> &str {
        "test-recorder"
    }
    fn wants(&self, event: &RecordedEvent) -> bool {
        event.stream == "things-1"
    }
    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        if self.flaky.load(Ordering::SeqCst) > 0 {
            self.flaky.fetch_sub(1, Ordering::SeqCst);
            return Err(HandlerError::new(ErrorCode::Unavailable, "not yet"));
        }
        if event.event_type == "thing.poisoned" {
            return Err(HandlerError::new(ErrorCode::Internal, "cannot read this"));
        }
        self.seen.lock().expect("seen").push(event.position);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpointed_reactor_resumes_after_its_checkpoint_and_commits_it_at_shutdown() {
    let (_dir, store) = store().await;
    append(&store, 5, "thing.happened").await;
    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let first = Arc::new(Recorder::default());
    let watch = host.reactor("test", Arc::clone(&first), Durability::Checkpointed);
    assert!(watch.caught_up(store.head().await.expect("head")).await);
    host.shutdown(Duration::from_secs(5)).await.expect("within the grace period");
    assert_eq!(*first.seen.lock().expect("seen"), vec![1, 2, 3, 4, 5]);
    assert_eq!(store.load_checkpoint("test-recorder").await.expect("load"), Some(5));

    append(&store, 3, "thing.happened").await;
    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let second = Arc::new(Recorder::default());
    let watch = host.reactor("test", Arc::clone(&second), Durability::Checkpointed);
    assert!(watch.caught_up(8).await);
    assert_eq!(*second.seen.lock().expect("seen"), vec![6, 7, 8], "only what came after the checkpoint");
    host.shutdown(Duration::from_secs(5)).await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_failures_are_retried_and_poisoned_events_skipped_and_counted() {
    let (_dir, store) = store().await;
    append(&store, 2, "thing.happened").await;
    append(&store, 1, "thing.poisoned").await;
    append(&store, 1, "thing.happened").await;
    let metrics = Metrics::new();
    let host = Host::new(Arc::clone(&store), metrics.clone(), "test");
    let handler = Arc::new(Recorder { flaky: AtomicUsize::new(2), ..Recorder::default() });
    let watch = host.reactor("test", Arc::clone(&handler), Durability::InMemory);
    assert!(watch.caught_up(4).await);
    assert_eq!(*handler.seen.lock().expect("seen"), vec![1, 2, 4], "retried until it worked; the poisoned one skipped");
    let text = metrics.encode();
    assert!(text.contains("hcp_events_failed_total{projection=\"test-recorder\"} 1"), "{text}");
    assert!(text.contains("hcp_events_handled_total{projection=\"test-recorder\"}"), "{text}");
    host.shutdown(Duration::from_secs(5)).await.expect("stops");
    assert_eq!(store.load_checkpoint("test-recorder").await.expect("load"), None, "in memory: no checkpoint");
}

fn gpu(id: &str) -> ResourceCommand {
    let spec = ResourceSpec {
        site: SiteId::new("tx-south-1").expect("site"),
        rack: None,
        kind: ResourceKind::Gpu {
            model: "H100".into(),
            host: "h1".into(),
            memory_mib: 81_920,
            power_limit: Power::from_watts(700),
            uuid: None,
        },
    };
    ResourceCommand::Register {
        id: ResourceId::new(id).expect("id"),
        spec,
        at: Timestamp::from_unix_secs(1_700_000_000),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repository_decides_again_after_a_conflict_and_stamps_the_context() {
    let (_dir, store) = store().await;
    let a: Repository<Resource, SqliteStore> = Repository::new(Arc::clone(&store));
    let b: Repository<Resource, SqliteStore> = Repository::new(Arc::clone(&store));
    let ctx = EventContext::new("test").with_tenant("acme");
    a.execute("gpu-1", gpu("gpu-1"), &ctx).await.expect("register");
    b.load("gpu-1").await.expect("load");
    let retire =
        || ResourceCommand::Retire { reason: "end of life".into(), at: Timestamp::from_unix_secs(1_700_000_100) };
    // `a` holds a stale state once `b` has written: its next command conflicts, reloads and decides again.
    b.execute(
        "gpu-1",
        ResourceCommand::Retire { reason: "first".into(), at: Timestamp::from_unix_secs(1_700_000_050) },
        &ctx,
    )
    .await
    .expect("retire");
    let refused = a.execute("gpu-1", retire(), &ctx).await.expect_err("already retired");
    assert_eq!(hcp_runtime::HasErrorCode::code(&refused), ErrorCode::FailedPrecondition, "{refused}");
    let events = store.read_stream("resource-gpu-1", 1, hcp_eventstore::Direction::Forwards, 10).await.expect("read");
    assert_eq!(events.len(), 2);
    let m = &events[1].metadata;
    assert_eq!((m.actor.as_deref(), m.tenant.as_deref()), (Some("test"), Some("acme")));
    assert_eq!(m.correlation_id, Some(ctx.correlation_id));
    assert_eq!(events[1].schema_version, hcp_domain::codec::SCHEMA_VERSION);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_decided_on_a_stale_cache_is_decided_again_on_the_store() {
    use hcp_domain::workload::{
        GpuModel, Locality, Priority, RunSpec, Workload, WorkloadCommand as C, WorkloadKind, WorkloadSpec,
    };
    let (_dir, store) = store().await;
    let a: Repository<Workload, SqliteStore> = Repository::new(Arc::clone(&store));
    let b: Repository<Workload, SqliteStore> = Repository::new(Arc::clone(&store));
    let ctx = EventContext::new("test");
    let id = hcp_domain::ids::WorkloadId::from_uuid(uuid::Uuid::from_u128(7));
    let spec = WorkloadSpec {
        tenant: hcp_domain::ids::TenantId::new("acme").expect("id"),
        kind: WorkloadKind::Training,
        gpu_model: GpuModel::new("h100-sxm-80gb").expect("model"),
        gpu_count: 1,
        memory_mib: 1,
        max_latency: None,
        priority: Priority::new(0).expect("priority"),
        preemptible: true,
        site: None,
        locality: Locality::Any,
        run: RunSpec::default(),
    };
    let at = Timestamp::from_unix_secs(1_700_000_000);
    let key = id.to_string();
    a.execute(&key, C::Submit { id, spec, at }, &ctx).await.expect("submit");
    // `b` queues it; `a` still caches it as submitted, where scheduling is refused.
    b.execute(&key, C::Queue { at }, &ctx).await.expect("queue");
    let resources = vec![ResourceId::new("gpu-1").expect("id")];
    let done = a.execute(&key, C::Schedule { resources, at }, &ctx).await.expect("scheduled on the stored state");
    assert_eq!(done.version, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_serves_health_and_metrics_and_announces_its_start_and_stop() {
    let (_dir, store) = store().await;
    let host = Host::new(Arc::clone(&store), Metrics::new(), "serve");
    let http = host.serve_http("test", "127.0.0.1:0".parse().expect("addr")).await.expect("http");
    let grpc = host.serve("test", GrpcServices::default(), "127.0.0.1:0".parse().expect("addr")).await.expect("grpc");
    let channel = hcp_proto::client::connect(&format!("http://{grpc}")).await.expect("connect");
    let health = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
        .await
        .expect("health")
        .into_inner();
    assert_eq!(health.status(), tonic_health::pb::health_check_response::ServingStatus::Serving);
    let metrics = hcp_runtime::http::get(&http.to_string(), "/metrics", Duration::from_secs(2)).await.expect("metrics");
    assert!(
        metrics.contains(
            "hcp_grpc_server_requests_total{service=\"test\",method=\"/grpc.health.v1.Health/Check\",code=\"Ok\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("hcp_service_info{service=\"test\""), "{metrics}");
    host.shutdown(Duration::from_secs(5)).await.expect("stops");
    let announced = store.read_stream("service-test", 1, hcp_eventstore::Direction::Forwards, 10).await.expect("read");
    let types: Vec<&str> = announced.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["service.started", "service.stopped"]);
}

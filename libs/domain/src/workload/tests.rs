//! Given / when / then tests for every workload transition.

use super::*;
use crate::aggregate::testing::given;
use crate::ids::{ResourceId, TenantId, WorkloadId};
use crate::units::Timestamp;
use WorkloadCommand as C;
use WorkloadEvent as E;
use std::time::Duration;
use uuid::Uuid;

fn t(s: i64) -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_000 + s)
}

fn id() -> WorkloadId {
    WorkloadId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001))
}

fn spec(gpus: u32) -> WorkloadSpec {
    WorkloadSpec {
        tenant: TenantId::new("acme").unwrap(),
        kind: WorkloadKind::BatchInference,
        gpu_model: GpuModel::new("H100-SXM-80GB").unwrap(),
        gpu_count: gpus,
        memory_mib: 40_960,
        max_latency: None,
        priority: Priority::new(5).unwrap(),
        preemptible: true,
        site: None,
        locality: Locality::Any,
        run: RunSpec::default(),
    }
}

fn gpus(names: &[&str]) -> Vec<ResourceId> {
    names.iter().map(|n| ResourceId::new(*n).unwrap()).collect()
}

fn submitted() -> Vec<WorkloadEvent> {
    vec![E::Submitted { id: id(), spec: spec(2), at: t(0) }]
}
fn queued() -> Vec<WorkloadEvent> {
    let mut h = submitted();
    h.push(E::Queued { attempt: 1, at: t(1) });
    h
}
fn scheduled() -> Vec<WorkloadEvent> {
    let mut h = queued();
    h.push(E::Scheduled { resources: gpus(&["gpu-a", "gpu-b"]), at: t(2) });
    h
}
fn starting() -> Vec<WorkloadEvent> {
    let mut h = scheduled();
    h.push(E::Starting { at: t(3) });
    h
}
fn running() -> Vec<WorkloadEvent> {
    let mut h = starting();
    h.push(E::Started { endpoint: None, at: t(4) });
    h
}
fn paused() -> Vec<WorkloadEvent> {
    let mut h = running();
    h.push(E::Paused { reason: "price spike".into(), at: t(5) });
    h
}
fn preempted() -> Vec<WorkloadEvent> {
    let mut h = running();
    h.push(E::Preempted { reason: "higher priority".into(), at: t(5) });
    h
}
fn migrating() -> Vec<WorkloadEvent> {
    let mut h = running();
    h.push(E::MigrationStarted { to: gpus(&["gpu-c", "gpu-d"]), at: t(5) });
    h
}
fn completed() -> Vec<WorkloadEvent> {
    let mut h = running();
    h.push(E::Completed { at: t(9) });
    h
}

#[test]
fn submit_creates_the_workload() {
    let w = given::<Workload>([]).when(C::Submit { id: id(), spec: spec(2), at: t(0) }).then(submitted());
    assert_eq!(w.status, WorkloadStatus::Submitted);
    assert_eq!(w.version, 1);
}

#[test]
fn submit_twice_is_refused() {
    given::<Workload>(submitted())
        .when(C::Submit { id: id(), spec: spec(2), at: t(1) })
        .then_error(WorkloadError::AlreadyExists(id()));
}

#[test]
fn submit_validates_the_spec() {
    let mut s = spec(0);
    given::<Workload>([])
        .when(C::Submit { id: id(), spec: s.clone(), at: t(0) })
        .then_error(WorkloadError::InvalidSpec { field: "gpu_count", reason: "0 is outside 1..=1024".into() });
    s.gpu_count = 1;
    s.kind = WorkloadKind::RealtimeInference;
    given::<Workload>([]).when(C::Submit { id: id(), spec: s.clone(), at: t(0) }).then_error(
        WorkloadError::InvalidSpec { field: "max_latency", reason: "required for realtime inference".into() },
    );
    s.max_latency = Some(Duration::from_millis(50));
    given::<Workload>([])
        .when(C::Submit { id: id(), spec: s.clone(), at: t(0) })
        .then_error(WorkloadError::InvalidSpec { field: "port", reason: "required for realtime inference".into() });
    s.run.port = Some(8000);
    given::<Workload>([]).when(C::Submit { id: id(), spec: s, at: t(0) }).then([E::Submitted {
        id: id(),
        spec: WorkloadSpec { max_latency: Some(Duration::from_millis(50)), ..spec_rt() },
        at: t(0),
    }]);
    s = spec(1);
    s.memory_mib = 0;
    given::<Workload>([])
        .when(C::Submit { id: id(), spec: s, at: t(0) })
        .then_error(WorkloadError::InvalidSpec { field: "memory_mib", reason: "must be at least 1 MiB".into() });
}

fn spec_rt() -> WorkloadSpec {
    WorkloadSpec {
        kind: WorkloadKind::RealtimeInference,
        gpu_count: 1,
        run: RunSpec { port: Some(8000), ..RunSpec::default() },
        ..spec(1)
    }
}

#[test]
fn commands_on_a_missing_workload_are_refused() {
    given::<Workload>([]).when(C::Queue { at: t(0) }).then_error(WorkloadError::NotFound);
    given::<Workload>([]).when(C::Cancel { reason: "x".into(), at: t(0) }).then_error(WorkloadError::NotFound);
}

#[test]
fn queue_after_submit_then_schedule() {
    given::<Workload>(submitted()).when(C::Queue { at: t(1) }).then([E::Queued { attempt: 1, at: t(1) }]);
    let w = given::<Workload>(queued())
        .when(C::Schedule { resources: gpus(&["gpu-a", "gpu-b"]), at: t(2) })
        .then([E::Scheduled { resources: gpus(&["gpu-a", "gpu-b"]), at: t(2) }]);
    assert_eq!(w.resources.len(), 2);
}

#[test]
fn schedule_checks_the_resources() {
    given::<Workload>(queued())
        .when(C::Schedule { resources: gpus(&["gpu-a"]), at: t(2) })
        .then_error(WorkloadError::WrongResourceCount { needed: 2, got: 1 });
    given::<Workload>(queued())
        .when(C::Schedule { resources: gpus(&["gpu-a", "gpu-a"]), at: t(2) })
        .then_error(WorkloadError::DuplicateResource(ResourceId::new("gpu-a").unwrap()));
    given::<Workload>(submitted()).when(C::Schedule { resources: gpus(&["gpu-a", "gpu-b"]), at: t(2) }).then_error(
        WorkloadError::InvalidTransition { command: WorkloadCommandKind::Schedule, status: WorkloadStatus::Submitted },
    );
}

#[test]
fn start_and_confirm() {
    given::<Workload>(scheduled()).when(C::Start { at: t(3) }).then([E::Starting { at: t(3) }]);
    let w = given::<Workload>(starting())
        .when(C::ConfirmStarted { endpoint: None, at: t(4) })
        .then([E::Started { endpoint: None, at: t(4) }]);
    assert_eq!(w.status, WorkloadStatus::Running);
    given::<Workload>(queued()).when(C::Start { at: t(3) }).then_error(WorkloadError::InvalidTransition {
        command: WorkloadCommandKind::Start,
        status: WorkloadStatus::Queued,
    });
    given::<Workload>(scheduled()).when(C::ConfirmStarted { endpoint: None, at: t(3) }).then_error(
        WorkloadError::InvalidTransition {
            command: WorkloadCommandKind::ConfirmStarted,
            status: WorkloadStatus::Scheduled,
        },
    );
}

#[test]
fn pause_and_resume() {
    given::<Workload>(running())
        .when(C::Pause { reason: "price spike".into(), at: t(5) })
        .then([E::Paused { reason: "price spike".into(), at: t(5) }]);
    given::<Workload>(running())
        .when(C::Pause { reason: " ".into(), at: t(5) })
        .then_error(WorkloadError::ReasonRequired(WorkloadCommandKind::Pause));
    let w = given::<Workload>(paused()).when(C::Resume { at: t(6) }).then([E::Resumed { at: t(6) }]);
    assert_eq!(w.status, WorkloadStatus::Running);
    given::<Workload>(paused()).when(C::Pause { reason: "again".into(), at: t(6) }).then_error(
        WorkloadError::InvalidTransition { command: WorkloadCommandKind::Pause, status: WorkloadStatus::Paused },
    );
    given::<Workload>(running()).when(C::Resume { at: t(6) }).then_error(WorkloadError::InvalidTransition {
        command: WorkloadCommandKind::Resume,
        status: WorkloadStatus::Running,
    });
}

#[test]
fn preempted_goes_back_to_the_queue() {
    for history in [scheduled(), starting(), running(), paused(), migrating()] {
        let w = given::<Workload>(history)
            .when(C::Preempt { reason: "higher priority".into(), at: t(7) })
            .then([E::Preempted { reason: "higher priority".into(), at: t(7) }]);
        assert!(w.resources.is_empty());
    }
    let w = given::<Workload>(preempted()).when(C::Queue { at: t(6) }).then([E::Queued { attempt: 2, at: t(6) }]);
    assert_eq!(w.attempts, 2);
    given::<Workload>(queued()).when(C::Preempt { reason: "x".into(), at: t(2) }).then_error(
        WorkloadError::InvalidTransition { command: WorkloadCommandKind::Preempt, status: WorkloadStatus::Queued },
    );
}

#[test]
fn migrate_and_confirm() {
    given::<Workload>(running())
        .when(C::Migrate { to: gpus(&["gpu-c", "gpu-d"]), at: t(5) })
        .then([E::MigrationStarted { to: gpus(&["gpu-c", "gpu-d"]), at: t(5) }]);
    given::<Workload>(running())
        .when(C::Migrate { to: gpus(&["gpu-b", "gpu-a"]), at: t(5) })
        .then_error(WorkloadError::MigrationToSameResources);
    given::<Workload>(running())
        .when(C::Migrate { to: gpus(&["gpu-c"]), at: t(5) })
        .then_error(WorkloadError::WrongResourceCount { needed: 2, got: 1 });
    let w = given::<Workload>(migrating()).when(C::ConfirmMigrated { at: t(6) }).then([E::Migrated {
        from: gpus(&["gpu-a", "gpu-b"]),
        to: gpus(&["gpu-c", "gpu-d"]),
        at: t(6),
    }]);
    assert_eq!((w.status, w.resources), (WorkloadStatus::Running, gpus(&["gpu-c", "gpu-d"])));
    given::<Workload>(paused()).when(C::Migrate { to: gpus(&["gpu-c", "gpu-d"]), at: t(6) }).then_error(
        WorkloadError::InvalidTransition { command: WorkloadCommandKind::Migrate, status: WorkloadStatus::Paused },
    );
}

#[test]
fn complete_only_when_running() {
    let w = given::<Workload>(running()).when(C::Complete { at: t(9) }).then([E::Completed { at: t(9) }]);
    assert!(w.status.is_terminal() && w.resources.is_empty());
    given::<Workload>(paused()).when(C::Complete { at: t(9) }).then_error(WorkloadError::InvalidTransition {
        command: WorkloadCommandKind::Complete,
        status: WorkloadStatus::Paused,
    });
}

#[test]
fn fail_while_holding_resources() {
    for history in [scheduled(), starting(), running(), paused(), migrating()] {
        given::<Workload>(history)
            .when(C::Fail { reason: "xid 79".into(), at: t(8) })
            .then([E::Failed { reason: "xid 79".into(), at: t(8) }]);
    }
    given::<Workload>(queued()).when(C::Fail { reason: "x".into(), at: t(8) }).then_error(
        WorkloadError::InvalidTransition { command: WorkloadCommandKind::Fail, status: WorkloadStatus::Queued },
    );
}

#[test]
fn cancel_from_any_live_status_but_not_after_the_end() {
    for history in [submitted(), queued(), scheduled(), starting(), running(), paused(), preempted(), migrating()] {
        given::<Workload>(history)
            .when(C::Cancel { reason: "customer".into(), at: t(8) })
            .then([E::Cancelled { reason: "customer".into(), at: t(8) }]);
    }
    given::<Workload>(completed()).when(C::Cancel { reason: "late".into(), at: t(10) }).then_error(
        WorkloadError::InvalidTransition { command: WorkloadCommandKind::Cancel, status: WorkloadStatus::Completed },
    );
}

#[test]
fn errors_read_well() {
    let e = WorkloadError::InvalidTransition { command: WorkloadCommandKind::Resume, status: WorkloadStatus::Queued };
    assert_eq!(e.to_string(), "cannot resume a workload that is queued");
}

#[test]
fn checkpoints_survive_a_preemption_only_when_the_workload_checkpoints() {
    let w = given::<Workload>(running())
        .when(C::Checkpoint { progress: Duration::from_secs(60), at: t(5) })
        .then([E::Checkpointed { progress: Duration::from_secs(60), at: t(5) }]);
    assert_eq!(w.progress, Duration::from_secs(60));
    // An older checkpoint is not news.
    let mut h = running();
    h.push(E::Checkpointed { progress: Duration::from_secs(60), at: t(5) });
    given::<Workload>(h.clone()).when(C::Checkpoint { progress: Duration::from_secs(30), at: t(6) }).then([]);
    h.push(E::Preempted { reason: "realtime".into(), at: t(7) });
    let w = given::<Workload>(h.clone()).when(C::Queue { at: t(8) }).then([E::Queued { attempt: 2, at: t(8) }]);
    assert_eq!(w.progress, Duration::ZERO, "no checkpointing: it restarts from zero");
    let mut checkpointing = spec(2);
    checkpointing.run.checkpointing = true;
    h[0] = E::Submitted { id: id(), spec: checkpointing, at: t(0) };
    let w = given::<Workload>(h).when(C::Queue { at: t(8) }).then([E::Queued { attempt: 2, at: t(8) }]);
    assert_eq!(w.progress, Duration::from_secs(60), "it resumes from its checkpoint");
}

#[test]
fn run_spec_fields_are_validated_by_name() {
    let mut s = spec(1);
    s.run.max_run_time = Duration::ZERO;
    let field = |s: WorkloadSpec| match s.validate() {
        Err(WorkloadError::InvalidSpec { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(s.clone()), "max_run_time");
    s.run.max_run_time = Duration::from_secs(60);
    s.run.env.insert("1BAD".into(), "x".into());
    assert_eq!(field(s.clone()), "env");
    s.run.env.clear();
    s.run.command = vec!["python".into(), String::new()];
    assert_eq!(field(s.clone()), "command");
    s.run.command = vec!["python".into(), "train.py".into()];
    s.run.image = "bad image".into();
    assert_eq!(field(s.clone()), "image");
    s.run.image = "ghcr.io/acme/train:1".into();
    assert_eq!(s.validate(), Ok(()));
}

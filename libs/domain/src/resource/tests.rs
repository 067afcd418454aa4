//! Given / when / then tests for every resource transition.

use super::*;
use crate::aggregate::testing::given;
use crate::ids::{ResourceId, SiteId, WorkloadId};
use crate::units::{Hashrate, Power, Timestamp};
use ResourceCommand as C;
use ResourceEvent as E;
use uuid::Uuid;

fn t(s: i64) -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_000 + s)
}
fn rid(s: &str) -> ResourceId {
    ResourceId::new(s).unwrap()
}
fn wl(n: u128) -> WorkloadId {
    WorkloadId::from_uuid(Uuid::from_u128(n))
}
fn asic() -> ResourceSpec {
    ResourceSpec {
        site: SiteId::new("tx-south-1").unwrap(),
        rack: None,
        kind: ResourceKind::AsicMiner {
            model: "Antminer S21".into(),
            nominal_hashrate: Hashrate::from_terahashes(200),
            nominal_power: Power::from_watts(3_500),
        },
    }
}
fn gpu() -> ResourceSpec {
    ResourceSpec {
        site: SiteId::new("tx-south-1").unwrap(),
        rack: None,
        kind: ResourceKind::Gpu {
            model: "H100-SXM-80GB".into(),
            host: "gpu-host-1".into(),
            memory_mib: 81_920,
            power_limit: Power::from_watts(700),
            uuid: None,
        },
    }
}
fn registered_asic() -> Vec<ResourceEvent> {
    vec![E::Registered { id: rid("asic-1"), spec: asic(), at: t(0) }]
}
fn serving_gpu() -> Vec<ResourceEvent> {
    vec![
        E::Registered { id: rid("gpu-1"), spec: gpu(), at: t(0) },
        E::ModeChanged { from: Mode::Idle, to: Mode::ServingAi, at: t(1) },
    ]
}
fn assigned_gpu() -> Vec<ResourceEvent> {
    let mut h = serving_gpu();
    h.push(E::Assigned { workload: wl(7), at: t(2) });
    h
}

#[test]
fn register_once() {
    let r =
        given::<Resource>([]).when(C::Register { id: rid("asic-1"), spec: asic(), at: t(0) }).then(registered_asic());
    assert_eq!((r.mode, r.health), (Mode::Idle, Health::Healthy));
    given::<Resource>(registered_asic())
        .when(C::Register { id: rid("asic-1"), spec: asic(), at: t(1) })
        .then_error(ResourceError::AlreadyRegistered(rid("asic-1")));
}

#[test]
fn register_validates_the_spec() {
    let mut s = asic();
    s.kind = ResourceKind::AsicMiner {
        model: "S21".into(),
        nominal_hashrate: Hashrate::from_hashes_per_second(0),
        nominal_power: Power::from_watts(3_500),
    };
    given::<Resource>([])
        .when(C::Register { id: rid("asic-1"), spec: s, at: t(0) })
        .then_error(ResourceError::InvalidSpec { field: "nominal_hashrate", reason: "must be greater than zero" });
    let mut g = gpu();
    if let ResourceKind::Gpu { memory_mib, .. } = &mut g.kind {
        *memory_mib = 0;
    }
    given::<Resource>([])
        .when(C::Register { id: rid("gpu-1"), spec: g, at: t(0) })
        .then_error(ResourceError::InvalidSpec { field: "memory_mib", reason: "must be greater than zero" });
}

#[test]
fn unregistered_resources_refuse_commands() {
    given::<Resource>([]).when(C::SetMode { mode: Mode::Mining, at: t(0) }).then_error(ResourceError::NotRegistered);
}

#[test]
fn modes_follow_the_kind() {
    given::<Resource>(registered_asic()).when(C::SetMode { mode: Mode::Mining, at: t(1) }).then([E::ModeChanged {
        from: Mode::Idle,
        to: Mode::Mining,
        at: t(1),
    }]);
    given::<Resource>(registered_asic())
        .when(C::SetMode { mode: Mode::ServingAi, at: t(1) })
        .then_error(ResourceError::ModeNotSupported { kind: "ASIC miner", mode: Mode::ServingAi });
    given::<Resource>(serving_gpu())
        .when(C::SetMode { mode: Mode::Mining, at: t(2) })
        .then_error(ResourceError::ModeNotSupported { kind: "GPU", mode: Mode::Mining });
    given::<Resource>(serving_gpu()).when(C::SetMode { mode: Mode::Curtailed, at: t(2) }).then([E::ModeChanged {
        from: Mode::ServingAi,
        to: Mode::Curtailed,
        at: t(2),
    }]);
}

#[test]
fn setting_the_same_mode_changes_nothing() {
    given::<Resource>(serving_gpu()).when(C::SetMode { mode: Mode::ServingAi, at: t(3) }).then([]);
}

#[test]
fn offline_devices_do_not_work() {
    let mut h = registered_asic();
    h.push(E::HealthChanged { from: Health::Healthy, to: Health::Offline, reason: "3 polls missed".into(), at: t(1) });
    given::<Resource>(h.clone())
        .when(C::SetMode { mode: Mode::Mining, at: t(2) })
        .then_error(ResourceError::Unhealthy { command: ResourceCommandKind::SetMode, health: Health::Offline });
    given::<Resource>(h).when(C::SetMode { mode: Mode::Curtailed, at: t(2) }).then([E::ModeChanged {
        from: Mode::Idle,
        to: Mode::Curtailed,
        at: t(2),
    }]);
}

#[test]
fn health_changes_are_recorded_only_on_change() {
    given::<Resource>(registered_asic())
        .when(C::ReportHealth { health: Health::Healthy, reason: "ok".into(), at: t(1) })
        .then([]);
    given::<Resource>(registered_asic())
        .when(C::ReportHealth { health: Health::Degraded, reason: "board 2 down".into(), at: t(1) })
        .then([E::HealthChanged {
            from: Health::Healthy,
            to: Health::Degraded,
            reason: "board 2 down".into(),
            at: t(1),
        }]);
    given::<Resource>(registered_asic())
        .when(C::ReportHealth { health: Health::Retired, reason: "x".into(), at: t(1) })
        .then_error(ResourceError::HealthNotReportable(Health::Retired));
}

#[test]
fn assign_a_serving_gpu_to_one_workload() {
    given::<Resource>(serving_gpu())
        .when(C::Assign { workload: wl(7), at: t(2) })
        .then([E::Assigned { workload: wl(7), at: t(2) }]);
    given::<Resource>(assigned_gpu()).when(C::Assign { workload: wl(7), at: t(3) }).then([]);
    given::<Resource>(assigned_gpu())
        .when(C::Assign { workload: wl(8), at: t(3) })
        .then_error(ResourceError::AssignedTo(wl(7)));
    given::<Resource>(registered_asic())
        .when(C::Assign { workload: wl(7), at: t(1) })
        .then_error(ResourceError::NotAGpu);
    given::<Resource>(vec![E::Registered { id: rid("gpu-1"), spec: gpu(), at: t(0) }])
        .when(C::Assign { workload: wl(7), at: t(1) })
        .then_error(ResourceError::NotServing(Mode::Idle));
}

#[test]
fn an_assigned_gpu_keeps_serving() {
    given::<Resource>(assigned_gpu())
        .when(C::SetMode { mode: Mode::Curtailed, at: t(3) })
        .then_error(ResourceError::AssignedTo(wl(7)));
    given::<Resource>(assigned_gpu())
        .when(C::Retire { reason: "end of life".into(), at: t(3) })
        .then_error(ResourceError::AssignedTo(wl(7)));
}

#[test]
fn release_only_the_assigned_workload() {
    let r = given::<Resource>(assigned_gpu())
        .when(C::Release { workload: wl(7), at: t(3) })
        .then([E::Released { workload: wl(7), at: t(3) }]);
    assert_eq!(r.assignment, None);
    given::<Resource>(assigned_gpu())
        .when(C::Release { workload: wl(8), at: t(3) })
        .then_error(ResourceError::NotAssignedTo(wl(8)));
}

#[test]
fn retired_is_terminal() {
    let mut h = registered_asic();
    let r = given::<Resource>(h.clone())
        .when(C::Retire { reason: "fire damage".into(), at: t(1) })
        .then([E::Retired { reason: "fire damage".into(), at: t(1) }]);
    assert_eq!(r.health, Health::Retired);
    h.push(E::Retired { reason: "fire damage".into(), at: t(1) });
    given::<Resource>(h.clone())
        .when(C::SetMode { mode: Mode::Mining, at: t(2) })
        .then_error(ResourceError::Retired(ResourceCommandKind::SetMode));
    given::<Resource>(h)
        .when(C::ReportHealth { health: Health::Healthy, reason: "back".into(), at: t(2) })
        .then_error(ResourceError::Retired(ResourceCommandKind::ReportHealth));
    given::<Resource>(registered_asic())
        .when(C::Retire { reason: "".into(), at: t(1) })
        .then_error(ResourceError::ReasonRequired(ResourceCommandKind::Retire));
}

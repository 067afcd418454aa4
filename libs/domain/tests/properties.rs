//! Property tests: random command sequences never reach an invalid state, the
//! state folded from the emitted events equals the state the decider saw, and
//! every emitted event survives the protobuf codec unchanged.

use hcp_domain::Aggregate;
use hcp_domain::codec::{decode_resource_event, decode_workload_event, encode_resource_event, encode_workload_event};
use hcp_domain::ids::{ResourceId, SiteId, TenantId, WorkloadId};
use hcp_domain::resource::{Health, Mode, Resource, ResourceCommand, ResourceKind, ResourceSpec};
use hcp_domain::units::{Hashrate, Power, Timestamp};
use hcp_domain::workload::{GpuModel, Priority, Workload, WorkloadCommand, WorkloadKind, WorkloadSpec, WorkloadStatus};
use proptest::prelude::*;
use std::time::Duration;
use uuid::Uuid;

fn rid(n: u8) -> ResourceId {
    ResourceId::new(format!("gpu-{n}")).expect("valid id")
}

fn wid(n: u8) -> WorkloadId {
    WorkloadId::from_uuid(Uuid::from_u128(u128::from(n) + 1))
}

fn workload_spec(gpus: u32, kind: u8, latency: u64) -> WorkloadSpec {
    WorkloadSpec {
        tenant: TenantId::new("acme").expect("valid"),
        kind: [WorkloadKind::RealtimeInference, WorkloadKind::BatchInference, WorkloadKind::Training]
            [kind as usize % 3],
        gpu_model: GpuModel::new("H100-SXM-80GB").expect("valid"),
        gpu_count: gpus,
        memory_mib: 1024,
        max_latency: (latency > 0).then(|| Duration::from_millis(latency)),
        priority: Priority::new(3).expect("valid"),
        preemptible: true,
        site: None,
        locality: hcp_domain::workload::Locality::Any,
        run: hcp_domain::workload::RunSpec { port: Some(8000), ..Default::default() },
    }
}

fn workload_command() -> impl Strategy<Value = WorkloadCommand> {
    let at = (0i64..1_000_000).prop_map(Timestamp::from_unix_secs);
    let resources = prop::collection::vec(0u8..6, 0..4).prop_map(|v| v.into_iter().map(rid).collect::<Vec<_>>());
    let reason = prop_oneof![Just(String::new()), Just("operator".to_owned())];
    prop_oneof![
        (0u32..4, 0u8..3, 0u64..3, at.clone()).prop_map(|(g, k, l, at)| WorkloadCommand::Submit {
            id: wid(1),
            spec: workload_spec(g, k, l),
            at
        }),
        at.clone().prop_map(|at| WorkloadCommand::Queue { at }),
        (resources.clone(), at.clone()).prop_map(|(resources, at)| WorkloadCommand::Schedule { resources, at }),
        at.clone().prop_map(|at| WorkloadCommand::Start { at }),
        at.clone().prop_map(|at| WorkloadCommand::ConfirmStarted { endpoint: None, at }),
        (reason.clone(), at.clone()).prop_map(|(reason, at)| WorkloadCommand::Pause { reason, at }),
        at.clone().prop_map(|at| WorkloadCommand::Resume { at }),
        (reason.clone(), at.clone()).prop_map(|(reason, at)| WorkloadCommand::Preempt { reason, at }),
        (resources, at.clone()).prop_map(|(to, at)| WorkloadCommand::Migrate { to, at }),
        at.clone().prop_map(|at| WorkloadCommand::ConfirmMigrated { at }),
        at.clone().prop_map(|at| WorkloadCommand::Complete { at }),
        (reason.clone(), at.clone()).prop_map(|(reason, at)| WorkloadCommand::Fail { reason, at }),
        (reason, at).prop_map(|(reason, at)| WorkloadCommand::Cancel { reason, at }),
    ]
}

fn check_workload(w: &Workload) -> Result<(), TestCaseError> {
    use WorkloadStatus as S;
    prop_assert_eq!(w.status == S::New, w.spec.is_none());
    prop_assert_eq!(w.spec.is_some(), w.id.is_some());
    if w.status.holds_resources() {
        let gpus = w.spec.as_ref().map_or(0, |s| s.gpu_count) as usize;
        prop_assert_eq!(w.resources.len(), gpus, "holds exactly its GPU count");
    } else {
        prop_assert!(w.resources.is_empty(), "{:?} holds no resources", w.status);
    }
    prop_assert_eq!(w.status == S::Migrating, !w.migration_target.is_empty());
    if matches!(w.status, S::Queued | S::Preempted) || w.status.holds_resources() {
        prop_assert!(w.attempts >= 1, "was queued before");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn workload_command_sequences_keep_invariants(commands in prop::collection::vec(workload_command(), 1..40)) {
        let mut state = Workload::default();
        let mut history = Vec::new();
        for command in commands {
            let before = state.clone();
            match state.decide(command) {
                Ok(events) => {
                    prop_assert!(!before.status.is_terminal() || events.is_empty(), "terminal states absorb");
                    for e in &events {
                        let (t, bytes) = encode_workload_event(e);
                        prop_assert_eq!(&decode_workload_event(t, &bytes, e.at()).expect("decodes"), e);
                        state = state.evolve(e);
                    }
                    history.extend(events);
                }
                Err(_) => prop_assert_eq!(&state, &before, "a refused command changes nothing"),
            }
            check_workload(&state)?;
        }
        prop_assert_eq!(Workload::fold(&history), state);
    }
}

fn resource_command() -> impl Strategy<Value = ResourceCommand> {
    let at = (0i64..1_000_000).prop_map(Timestamp::from_unix_secs);
    let spec = prop_oneof![
        Just(ResourceSpec {
            site: SiteId::new("site-1").expect("valid"),
            rack: None,
            kind: ResourceKind::AsicMiner {
                model: "Antminer S21".into(),
                nominal_hashrate: Hashrate::from_terahashes(200),
                nominal_power: Power::from_watts(3_500),
            },
        }),
        Just(ResourceSpec {
            site: SiteId::new("site-1").expect("valid"),
            rack: None,
            kind: ResourceKind::Gpu {
                model: "H100-SXM-80GB".into(),
                host: "host-1".into(),
                memory_mib: 81_920,
                power_limit: Power::from_watts(700),
                uuid: Some("GPU-1".into()),
            },
        }),
    ];
    let mode = prop_oneof![Just(Mode::Idle), Just(Mode::Mining), Just(Mode::ServingAi), Just(Mode::Curtailed)];
    let health =
        prop_oneof![Just(Health::Healthy), Just(Health::Degraded), Just(Health::Offline), Just(Health::Retired)];
    prop_oneof![
        (spec, at.clone()).prop_map(|(spec, at)| ResourceCommand::Register { id: rid(1), spec, at }),
        (mode, at.clone()).prop_map(|(mode, at)| ResourceCommand::SetMode { mode, at }),
        (health, at.clone()).prop_map(|(health, at)| ResourceCommand::ReportHealth {
            health,
            reason: "poll".into(),
            at
        }),
        (0u8..2, at.clone()).prop_map(|(w, at)| ResourceCommand::Assign { workload: wid(w), at }),
        (0u8..2, at.clone()).prop_map(|(w, at)| ResourceCommand::Release { workload: wid(w), at }),
        at.prop_map(|at| ResourceCommand::Retire { reason: "end of life".into(), at }),
    ]
}

fn check_resource(r: &Resource) -> Result<(), TestCaseError> {
    let Some(spec) = &r.spec else {
        prop_assert_eq!(r.version, 0);
        return Ok(());
    };
    let gpu = spec.kind.is_gpu();
    prop_assert!(!(r.mode == Mode::Mining && gpu), "GPUs never mine");
    prop_assert!(r.mode != Mode::ServingAi || gpu, "ASICs never serve AI");
    if r.assignment.is_some() {
        prop_assert!(gpu, "only GPUs hold workloads");
        prop_assert_eq!(r.mode, Mode::ServingAi);
        prop_assert!(r.health != Health::Retired);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn resource_command_sequences_keep_invariants(commands in prop::collection::vec(resource_command(), 1..40)) {
        let mut state = Resource::default();
        let mut history = Vec::new();
        for command in commands {
            let before = state.clone();
            match state.decide(command) {
                Ok(events) => {
                    prop_assert!(before.health != Health::Retired || events.is_empty(), "retired absorbs");
                    for e in &events {
                        let (t, bytes) = encode_resource_event(e);
                        prop_assert_eq!(&decode_resource_event(t, &bytes, e.at()).expect("decodes"), e);
                        state = state.evolve(e);
                    }
                    history.extend(events);
                }
                Err(_) => prop_assert_eq!(&state, &before),
            }
            check_resource(&state)?;
        }
        prop_assert_eq!(Resource::fold(&history), state);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(t in prop_oneof![Just("workload.submitted"), Just("workload.migrated"), Just("resource.registered"), Just("resource.mode_changed")], bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let at = Timestamp::EPOCH;
        let _ = decode_workload_event(t, &bytes, at);
        let _ = decode_resource_event(t, &bytes, at);
    }
}

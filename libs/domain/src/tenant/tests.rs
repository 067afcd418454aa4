//! Given / when / then for the tenant.

use super::*;
use crate::aggregate::testing::given;

fn at(s: i64) -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_000 + s)
}

fn acme() -> TenantId {
    TenantId::new("acme").expect("id")
}

fn quota(nominal: u32) -> Quota {
    Quota { nominal_gpus: nominal, borrowing_limit_gpus: 8, weight: 1 }
}

fn created() -> TenantEvent {
    TenantEvent::Created { id: acme(), name: "Acme AI".into(), quota: quota(16), at: at(0) }
}

#[test]
fn a_tenant_may_train_and_batch_but_realtime_must_be_granted() {
    let create = TenantCommand::Create { id: acme(), name: "Acme AI".into(), quota: quota(16), at: at(0) };
    let tenant = given::<Tenant>([]).when(create.clone()).then([created()]);
    assert!(tenant.may_submit(WorkloadKind::Training) && tenant.may_submit(WorkloadKind::BatchInference));
    assert!(!tenant.may_submit(WorkloadKind::RealtimeInference));
    let grant = TenantCommand::Grant { class: WorkloadKind::RealtimeInference, at: at(1) };
    let tenant = given::<Tenant>([created()])
        .when(grant.clone())
        .then([TenantEvent::ClassGranted { class: WorkloadKind::RealtimeInference, at: at(1) }]);
    assert!(tenant.may_submit(WorkloadKind::RealtimeInference));
    given::<Tenant>([created(), TenantEvent::ClassGranted { class: WorkloadKind::RealtimeInference, at: at(1) }])
        .when(grant)
        .then([]);
    given::<Tenant>([created()]).when(create).then_error(TenantError::AlreadyExists(acme()));
}

#[test]
fn quotas_change_by_command_and_weights_are_positive() {
    let set = |q| TenantCommand::SetQuota { quota: q, at: at(2) };
    given::<Tenant>([created()]).when(set(quota(32))).then([TenantEvent::QuotaSet { quota: quota(32), at: at(2) }]);
    given::<Tenant>([created()]).when(set(quota(16))).then([]);
    given::<Tenant>([created()]).when(set(Quota { weight: 0, ..quota(4) })).then_error(TenantError::ZeroWeight);
    given::<Tenant>([]).when(set(quota(4))).then_error(TenantError::NotFound);
    let nameless = TenantCommand::Create { id: acme(), name: " ".into(), quota: quota(1), at: at(0) };
    given::<Tenant>([]).when(nameless).then_error(TenantError::InvalidName);
}

#[test]
fn revoking_a_class_stops_new_submissions() {
    let revoke = TenantCommand::Revoke { class: WorkloadKind::Training, at: at(3) };
    let tenant = given::<Tenant>([created()])
        .when(revoke.clone())
        .then([TenantEvent::ClassRevoked { class: WorkloadKind::Training, at: at(3) }]);
    assert!(!tenant.may_submit(WorkloadKind::Training));
    given::<Tenant>([created(), TenantEvent::ClassRevoked { class: WorkloadKind::Training, at: at(3) }])
        .when(revoke)
        .then([]);
}

//! Given / when / then for API keys.

use super::*;
use crate::Aggregate;
use crate::aggregate::testing::given;

fn at(s: i64) -> Timestamp {
    Timestamp::from_unix_secs(1_800_000_000 + s)
}

const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn create(tenant: Option<&str>, role: Role) -> ApiKeyCommand {
    ApiKeyCommand::Create {
        id: "k7f3a9c2e1".into(),
        tenant: tenant.map(|t| TenantId::new(t).expect("tenant")),
        role,
        name: "ci".into(),
        prefix: "hcp_k7f3".into(),
        secret_sha256: HASH.into(),
        expires_at: Some(at(3600)),
        at: at(0),
    }
}

fn created() -> ApiKeyEvent {
    ApiKeyEvent::Created {
        id: "k7f3a9c2e1".into(),
        tenant: Some(TenantId::new("acme").expect("tenant")),
        role: Role::Developer,
        name: "ci".into(),
        prefix: "hcp_k7f3".into(),
        secret_sha256: HASH.into(),
        expires_at: Some(at(3600)),
        at: at(0),
    }
}

#[test]
fn a_key_works_until_it_expires() {
    let key = given::<ApiKey>([]).when(create(Some("acme"), Role::Developer)).then([created()]);
    assert!(key.valid_at(at(1)) && !key.valid_at(at(3600)), "expired at its expiry");
    given::<ApiKey>([created()])
        .when(create(Some("acme"), Role::Developer))
        .then_error(ApiKeyError::AlreadyExists("k7f3a9c2e1".into()));
}

#[test]
fn roles_and_tenants_go_together() {
    given::<ApiKey>([]).when(create(None, Role::Viewer)).then_error(ApiKeyError::TenantRequired(Role::Viewer));
    given::<ApiKey>([])
        .when(create(Some("acme"), Role::Admin))
        .then_error(ApiKeyError::PlatformRoleWithTenant(Role::Admin));
    let events = ApiKey::default().decide(create(None, Role::Operator)).expect("an operator's key");
    let operator = events.iter().fold(ApiKey::default(), |k, e| k.evolve(e));
    assert!(operator.tenant.is_none() && operator.role == Some(Role::Operator) && operator.valid_at(at(1)));
    assert!(Role::ALL.iter().all(|r| Role::parse(r.as_str()) == Some(*r)));
}

#[test]
fn bad_ids_hashes_and_expiries_are_refused() {
    let mut bad = create(Some("acme"), Role::Viewer);
    if let ApiKeyCommand::Create { id, .. } = &mut bad {
        *id = "Short".into();
    }
    given::<ApiKey>([]).when(bad).then_error(ApiKeyError::InvalidId);
    let mut bad = create(Some("acme"), Role::Viewer);
    if let ApiKeyCommand::Create { secret_sha256, .. } = &mut bad {
        *secret_sha256 = "the secret itself".into();
    }
    given::<ApiKey>([]).when(bad).then_error(ApiKeyError::InvalidHash);
    let mut bad = create(Some("acme"), Role::Viewer);
    if let ApiKeyCommand::Create { expires_at, .. } = &mut bad {
        *expires_at = Some(at(0));
    }
    given::<ApiKey>([]).when(bad).then_error(ApiKeyError::ExpiresInThePast);
}

#[test]
fn a_rotation_overlaps_then_revocation_is_for_good() {
    // Rotated: the old key keeps working for ten minutes.
    let revoke = ApiKeyCommand::Revoke { from: at(600), reason: "rotated".into(), at: at(10) };
    let revoked = ApiKeyEvent::Revoked { from: at(600), reason: "rotated".into(), at: at(10) };
    let key = given::<ApiKey>([created()]).when(revoke).then([revoked.clone()]);
    assert!(key.valid_at(at(599)) && !key.valid_at(at(600)));
    // Revoked now, sooner than the overlap: the sooner wins.
    let now = ApiKeyCommand::Revoke { from: at(20), reason: "leaked".into(), at: at(20) };
    let sooner = ApiKeyEvent::Revoked { from: at(20), reason: "leaked".into(), at: at(20) };
    given::<ApiKey>([created(), revoked.clone()]).when(now).then([sooner.clone()]);
    // Once in effect, it stays revoked; revoking later again changes nothing.
    let again = ApiKeyCommand::Revoke { from: at(700), reason: "again".into(), at: at(700) };
    given::<ApiKey>([created(), revoked.clone()]).when(again).then([]);
    let back = ApiKeyCommand::Revoke { from: at(30), reason: "x".into(), at: at(5) };
    given::<ApiKey>([created()]).when(back.clone()).then([ApiKeyEvent::Revoked {
        from: at(30),
        reason: "x".into(),
        at: at(5),
    }]);
    let past = ApiKeyCommand::Revoke { from: at(1), reason: "x".into(), at: at(5) };
    given::<ApiKey>([created()]).when(past).then_error(ApiKeyError::RevokedInThePast);
    given::<ApiKey>([]).when(back).then_error(ApiKeyError::NotFound);
}

//! Given / when / then for the site.

use super::*;
use crate::Aggregate;
use crate::aggregate::testing::given;

fn at(s: i64) -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_000 + s)
}

fn policy() -> SitePolicy {
    SitePolicy {
        settlement_point: "HB_SOUTH".into(),
        min_dwell_seconds: 900.0,
        hysteresis_usd_mwh: 5.0,
        max_wake_kw: 1_900.0,
        gpu_usd_per_hour: 2.0,
        switch_cost_usd: 0.05,
    }
}

fn configured() -> SiteEvent {
    SiteEvent::Configured { id: "tx-south-1".into(), cap_kw: 1_900.0, policy: policy(), at: at(0) }
}

#[test]
fn a_site_is_configured_once_and_a_second_configure_changes_nothing() {
    let command = |cap_kw| SiteCommand::Configure { id: "tx-south-1".into(), cap_kw, policy: policy(), at: at(0) };
    given::<Site>([]).when(command(1_900.0)).then([configured()]);
    given::<Site>([configured()]).when(command(2_500.0)).then([]);
}

#[test]
fn a_cap_changes_with_a_reason_and_records_what_it_was() {
    let set = |cap_kw: f64, reason: &str| SiteCommand::SetCap { cap_kw, reason: reason.into(), at: at(5) };
    let site =
        given::<Site>([configured()]).when(set(1_500.0, "utility curtailment request")).then([SiteEvent::CapChanged {
            from_kw: 1_900.0,
            to_kw: 1_500.0,
            reason: "utility curtailment request".into(),
            at: at(5),
        }]);
    assert_eq!(site.cap_kw, 1_500.0);
    given::<Site>([configured()]).when(set(1_900.0, "same")).then([]);
    given::<Site>([configured()]).when(set(-5.0, "x")).then_error(SiteError::InvalidCap(-5.0));
    let nan = Site::fold(&[configured()]).decide(set(f64::NAN, "x"));
    assert!(matches!(nan, Err(SiteError::InvalidCap(c)) if c.is_nan()), "{nan:?}");
    given::<Site>([configured()]).when(set(1_000.0, " ")).then_error(SiteError::ReasonRequired);
    given::<Site>([]).when(set(1_000.0, "x")).then_error(SiteError::NotConfigured);
}

#[test]
fn bad_configuration_is_refused() {
    let configure = |id: &str, cap_kw, policy| SiteCommand::Configure { id: id.into(), cap_kw, policy, at: at(0) };
    given::<Site>([]).when(configure("TX 1", 1.0, policy())).then_error(SiteError::InvalidId("TX 1".into()));
    given::<Site>([]).when(configure("tx-1", 0.0, policy())).then_error(SiteError::InvalidCap(0.0));
    let bad = SitePolicy { hysteresis_usd_mwh: -1.0, ..policy() };
    given::<Site>([]).when(configure("tx-1", 1.0, bad)).then_error(SiteError::InvalidPolicy {
        field: "hysteresis_usd_mwh",
        value: -1.0,
        reason: "must be a number >= 0",
    });
}

//! The planner's own metrics, set as each plan is recorded: plans by site and outcome
//! (`hcp_plans_total`: the plan-failure alert), and each site's cap, planned power, price,
//! margin, mix and last plan time (the site dashboards, the over-cap and stale-plan alerts).

use crate::service::PlanError;
use hcp_proto::v1 as pb;
use hcp_runtime::Metrics;
use hcp_runtime::metrics::{Counter, Family, FloatGauge, Labels, labels};

/// The planner's families.
#[derive(Clone)]
pub struct PlanMetrics {
    plans: Family<Labels, Counter>,
    cap_kw: Family<Labels, FloatGauge>,
    planned_kw: Family<Labels, FloatGauge>,
    price: Family<Labels, FloatGauge>,
    margin: Family<Labels, FloatGauge>,
    devices: Family<Labels, FloatGauge>,
    last: Family<Labels, FloatGauge>,
}

impl PlanMetrics {
    /// Registers the families in `metrics`, the counters of `sites` at 0 (so `increase()`
    /// sees a site's first failure).
    pub fn register<'a>(metrics: &Metrics, sites: impl IntoIterator<Item = &'a str>) -> Self {
        let m = PlanMetrics {
            plans: metrics.counters(
                "plans",
                "plans tried, by site and outcome (planned; nothing: no prices or devices yet; infeasible; failed)",
            ),
            cap_kw: metrics.gauges("site_cap_kw", "a site's grid cap as its latest plan saw it, kW"),
            planned_kw: metrics.gauges("site_planned_kw", "the power a site's latest plan draws, kW"),
            price: metrics.gauges("site_price_usd_per_mwh", "the power price a site's latest plan expected, $/MWh"),
            margin: metrics.gauges("site_margin_usd_per_hour", "a site's latest plan's expected margin, $/h"),
            devices: metrics
                .gauges("site_devices", "a site's devices by allocation (mining, ai, curtailed) in its latest plan"),
            last: metrics.gauges(
                "site_last_plan_timestamp_seconds",
                "when a site was last planned (at first, when the planner started), Unix seconds",
            ),
        };
        // "Last planned" starts at the start, so a planner that never plans one alerts too.
        #[allow(clippy::cast_precision_loss)]
        let started = hcp_runtime::clock::now_micros() as f64 / 1e6;
        for site in sites {
            m.last.get_or_create(&labels(&[("site", site)])).set(started);
            for outcome in ["planned", "nothing", "infeasible", "failed"] {
                m.plans.get_or_create(&labels(&[("site", site), ("outcome", outcome)])).inc_by(0);
            }
        }
        m
    }

    /// A plan recorded.
    pub fn planned(&self, plan: &pb::AllocationPlanned) {
        let site = labels(&[("site", &plan.site)]);
        self.plans.get_or_create(&labels(&[("site", &plan.site), ("outcome", "planned")])).inc();
        self.cap_kw.get_or_create(&site).set(plan.cap_kw);
        self.planned_kw.get_or_create(&site).set(plan.planned_kw);
        self.price.get_or_create(&site).set(plan.price_usd_mwh);
        self.margin.get_or_create(&site).set(plan.margin_usd_per_hour);
        #[allow(clippy::cast_precision_loss)]
        self.last.get_or_create(&site).set(plan.planned_unix_micros as f64 / 1e6);
        let (mining, ai, curtailed) = crate::service::views::mix(plan);
        for (allocation, n) in [("mining", mining), ("ai", ai), ("curtailed", curtailed)] {
            self.devices.get_or_create(&labels(&[("site", &plan.site), ("allocation", allocation)])).set(f64::from(n));
        }
    }

    /// No plan for `site` this interval: nothing to plan yet (`nothing`), none that fits
    /// (`infeasible`), or the store refused (`failed`).
    pub fn missed(&self, site: &str, error: &PlanError) {
        let outcome = match error {
            PlanError::Store(_) => "failed",
            PlanError::Infeasible(_) => "infeasible",
            _ => "nothing",
        };
        self.plans.get_or_create(&labels(&[("site", site), ("outcome", outcome)])).inc();
    }
}

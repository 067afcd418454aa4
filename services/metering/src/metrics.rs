//! Metering's own metrics, for the alerts that say billing has stopped moving:
//! `hcp_invoices_issued_total`, `hcp_invoicing_failures_total` (a round of issuing the
//! invoices due or checking budgets that failed; it is tried again at the next),
//! `hcp_usage_published_total` (usage records and amendments the Kafka broker
//! acknowledged) and `hcp_usage_producer_renewals_total` (sends that failed, after which a
//! fresh producer sends them again). Each is exported from the start, at 0, whether or
//! not Kafka is configured, so an alert sees its first increase.

use hcp_runtime::Metrics;
use hcp_runtime::metrics::Counter;

/// Metering's counters (unregistered ones count for no one, as in tests).
#[derive(Clone, Debug, Default)]
pub struct MeteringMetrics {
    /// Invoices issued.
    pub invoices_issued: Counter,
    /// Rounds of the invoicer that failed.
    pub invoicing_failures: Counter,
    /// Records the broker acknowledged.
    pub published: Counter,
    /// Producers replaced after failed sends.
    pub producer_renewals: Counter,
}

impl MeteringMetrics {
    /// Metering's counters, registered in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let m = MeteringMetrics::default();
        metrics.register("invoices_issued", "invoices issued", m.invoices_issued.clone());
        metrics.register(
            "invoicing_failures",
            "rounds of issuing the invoices due or checking budgets that failed (tried again at the next)",
            m.invoicing_failures.clone(),
        );
        metrics.register("usage_published", "usage records and amendments Kafka acknowledged", m.published.clone());
        metrics.register(
            "usage_producer_renewals",
            "Kafka producers replaced after failed sends (their records sent again)",
            m.producer_renewals.clone(),
        );
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every counter is exported at 0 before anything happens, under its `hcp_` name.
    #[test]
    fn every_counter_is_exported_from_the_start() {
        let metrics = Metrics::new();
        let m = MeteringMetrics::register(&metrics);
        m.invoices_issued.inc_by(2);
        let text = metrics.encode();
        for line in [
            "hcp_invoices_issued_total 2",
            "hcp_invoicing_failures_total 0",
            "hcp_usage_published_total 0",
            "hcp_usage_producer_renewals_total 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
    }
}

//! Metering and billing on the service runtime (issue 14): a durable reactor that turns
//! workloads' lifecycles into usage records (`usage.recorded` on `usage-<tenant>`) as
//! each billed span closes, cut at the billing periods' ends, through the pure metering
//! core (`hcp-billing`); the ledger
//! that prices them into invoices, previews, estimates and budgets; and the Metering
//! gRPC API.
//!
//! Exactly once: the reactor resumes from its checkpoint after a crash, and a record's
//! event id derives from the lifecycle event that closed its span (or, for a piece that
//! ended with its period, from the piece: see [`pieces`]), so handling that event again
//! appends nothing new. A tenant's usage is always what a recomputation from
//! the workloads' streams gives, and an invoice's id derives from its tenant and period,
//! so it is issued once however many times it is reached.

#![forbid(unsafe_code)]

pub mod amend;
pub mod energy;
pub mod grpc;
pub mod kept;
pub mod ledger;
pub mod metrics;
pub mod pieces;
pub mod publisher;
pub mod ratecards;
pub mod recorder;
pub mod shape;
pub mod start;
pub mod view;

pub use ledger::{INVOICE_ISSUED, Ledger, LedgerError, Round};
pub use recorder::{USAGE_AMENDED, USAGE_PERIOD_CLOSED, USAGE_RECORDED, UsageRecorder, usage_stream};
pub use start::start;

/// The recorder's durable consumer name.
pub const CONSUMER: &str = "metering-usage";

#[cfg(test)]
mod tests {
    /// `hcp events read` renders every event this service writes.
    #[test]
    fn every_event_type_names_its_message() {
        use crate::ledger::{BUDGET_SET, BUDGET_THRESHOLD_CROSSED, INVOICE_ISSUED};
        let types = [
            crate::USAGE_RECORDED,
            crate::USAGE_AMENDED,
            crate::USAGE_PERIOD_CLOSED,
            crate::energy::ENERGY_RECORDED,
            INVOICE_ISSUED,
            BUDGET_SET,
            BUDGET_THRESHOLD_CROSSED,
            crate::ratecards::RATECARD_SET,
        ];
        for t in types {
            assert!(hcp_proto::descriptors::descriptor_for(t).is_some(), "{t}");
        }
    }
}

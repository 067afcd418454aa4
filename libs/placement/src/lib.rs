//! The placement core: one scheduling cycle as a pure function of the GPU inventory,
//! the running set, the queue and the tenants' quotas ([`schedule`]). No IO, no clock
//! (the cycle's instant comes in with its input), no randomness: the same input gives
//! the same decision, so routing can record it as events and a replay reaches it again.
//!
//! - [`model`]: the inputs and the decision.
//! - [`order`]: the queue's order: priority class, then aging, then weighted fair share
//!   between tenants, then arrival.
//! - [`capacity`]: free GPUs by host and rack; gang placement that best-fits a host (so
//!   whole hosts stay free for large jobs), a rack, or the fewest hosts.
//! - [`quota`]: nominal quota and borrowing of idle quota up to a limit (as Kueue's cohorts).
//! - [`preempt`]: the least costly victims of lower classes that free what a workload needs.
//! - [`reason`]: why a workload waits, in words users know, with counts per filter.
//! - [`cycle`]: the cycle itself; work of one shape that cannot fit is not tried again in
//!   the same cycle, which is what keeps a 100,000-workload queue fast.

#![forbid(unsafe_code)]

pub mod capacity;
pub mod cycle;
mod fnv;
pub mod model;
pub mod order;
pub mod preempt;
pub mod quota;
pub mod reason;

pub use cycle::schedule;
pub use model::{
    Class, Decision, Gpu, Input, Locality, Pending, PendingReason, Placement, Preemption, Reason, Running, Shape,
    TenantQuota,
};

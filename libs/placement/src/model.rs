//! What a scheduling cycle takes and what it decides.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Priority classes, highest first: realtime inference preempts the others, batch
/// inference preempts training. Whether a workload may be preempted is its own flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Training (lowest).
    Training,
    /// Batch inference.
    BatchInference,
    /// Realtime inference (highest).
    RealtimeInference,
}

/// One GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gpu {
    /// Its id.
    pub id: String,
    /// Its canonical model id, e.g. `h100-sxm-80gb`.
    pub model: String,
    /// Device memory, MiB.
    pub memory_mib: u64,
    /// Its site.
    pub site: String,
    /// Its rack.
    pub rack: String,
    /// Its host.
    pub host: String,
    /// Whether it can take work (healthy and not retired).
    pub healthy: bool,
    /// Whether its host is cordoned (no new work).
    pub cordoned: bool,
}

/// Where a gang's GPUs must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Locality {
    /// Anywhere (fewest hosts preferred).
    Any,
    /// All in one rack.
    Rack,
    /// All on one host.
    Host,
}

/// What a workload needs: all of it at once, or nothing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shape {
    /// This GPU model only (any when `None`).
    pub model: Option<String>,
    /// How many GPUs.
    pub count: u32,
    /// At least this much memory per GPU, MiB.
    pub min_memory_mib: u64,
    /// At this site only.
    pub site: Option<String>,
    /// Where the gang must be.
    pub locality: Locality,
}

/// A tenant's share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantQuota {
    /// GPUs it is guaranteed.
    pub nominal_gpus: u32,
    /// GPUs it may borrow beyond that while others' quota is idle.
    pub borrowing_limit_gpus: u32,
    /// Its weight in fair share (> 0).
    pub weight: u32,
}

/// A workload waiting to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its id (shared: the decision names it without copying it).
    pub id: Arc<str>,
    /// Its tenant.
    pub tenant: String,
    /// Its class.
    pub class: Class,
    /// What it needs.
    pub shape: Shape,
    /// When it was submitted, µs.
    pub submitted_unix_micros: i64,
}

/// A workload holding GPUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// Its id.
    pub id: String,
    /// Its tenant.
    pub tenant: String,
    /// Its class.
    pub class: Class,
    /// Whether it may be preempted.
    pub preemptible: bool,
    /// The GPUs it holds (ids).
    pub gpus: Vec<String>,
    /// When it started, µs.
    pub started_unix_micros: i64,
    /// Whether it is being preempted already (its GPUs free after the grace period).
    pub preempting: bool,
}

/// One cycle's input.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Every GPU.
    pub gpus: Vec<Gpu>,
    /// What runs.
    pub running: Vec<Running>,
    /// What waits, in any order.
    pub queue: Vec<Pending>,
    /// Quotas by tenant; a tenant without one has no quota.
    pub tenants: BTreeMap<String, TenantQuota>,
    /// The cycle's instant, µs.
    pub now_unix_micros: i64,
    /// Waiting this long raises a workload one class in the order (not in preemption), µs;
    /// 0 turns aging off.
    pub aging_micros: i64,
}

/// A workload placed on GPUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The workload.
    pub workload: Arc<str>,
    /// Its GPUs (ids), all of the gang.
    pub gpus: Vec<String>,
    /// GPUs of it beyond its tenant's nominal quota (borrowed).
    pub borrowed: u32,
}

/// A running workload to stop so that a higher class can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preemption {
    /// The victim.
    pub victim: String,
    /// For whom.
    pub for_workload: Arc<str>,
}

/// Why a workload waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Its tenant's quota (with what it may borrow) is used.
    WaitingForQuota,
    /// It would borrow more than its tenant may.
    BorrowingLimitReached,
    /// Not enough free GPUs of its shape now.
    Resources,
    /// GPUs are being freed for it (preempted workloads in their grace period).
    WaitingForPreemptedWorkloads,
    /// Workloads ahead of it in the queue take what is free.
    Priority,
    /// No GPU in the fleet matches it, however much is free.
    NoMatchingResources,
    /// Its tenant has no quota at all.
    Misconfigured,
}

impl Reason {
    /// The reason's name, as users know it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Reason::WaitingForQuota => "WaitingForQuota",
            Reason::BorrowingLimitReached => "BorrowingLimitReached",
            Reason::Resources => "Resources",
            Reason::WaitingForPreemptedWorkloads => "WaitingForPreemptedWorkloads",
            Reason::Priority => "Priority",
            Reason::NoMatchingResources => "NoMatchingResources",
            Reason::Misconfigured => "Misconfigured",
        }
    }
}

/// A waiting workload's reason, message and place in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReason {
    /// The workload.
    pub workload: Arc<str>,
    /// Why.
    pub reason: Reason,
    /// The same in words, with counts per filter (shared by the workloads that wait for
    /// the same reason).
    pub message: Arc<str>,
    /// Its place in the cycle's order (1 = next).
    pub position: usize,
}

/// What one cycle decides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    /// Workloads to start, in order.
    pub placements: Vec<Placement>,
    /// Workloads to preempt.
    pub preemptions: Vec<Preemption>,
    /// Every workload still waiting, with why.
    pub pending: Vec<PendingReason>,
}

//! The tenant aggregate: a customer account's GPU quota (nominal, and what it may borrow
//! of others' idle quota), its weight in fair share, and the workload classes an operator
//! has granted it. A tenant cannot grant itself a class: realtime inference preempts
//! other work, so only an operator's command grants it. Its stream is `tenant-<id>`.

mod decide;
#[cfg(test)]
mod tests;

use crate::ids::TenantId;
use crate::units::Timestamp;
use crate::workload::WorkloadKind;
use std::collections::BTreeSet;

/// A tenant's share of the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quota {
    /// GPUs it is guaranteed.
    pub nominal_gpus: u32,
    /// GPUs it may borrow beyond that while others' quota is idle.
    pub borrowing_limit_gpus: u32,
    /// Its weight in fair share (1 or more).
    pub weight: u32,
}

/// A tenant's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tenant {
    /// Its id, once created.
    pub id: Option<TenantId>,
    /// Its display name.
    pub name: String,
    /// Its quota.
    pub quota: Quota,
    /// The classes it may submit.
    pub classes: BTreeSet<ClassName>,
    /// How many events it has.
    pub version: u64,
}

/// A workload class as a set member (ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClassName {
    /// Training.
    Training,
    /// Batch inference.
    BatchInference,
    /// Realtime inference.
    RealtimeInference,
}

impl From<WorkloadKind> for ClassName {
    fn from(k: WorkloadKind) -> Self {
        match k {
            WorkloadKind::Training => ClassName::Training,
            WorkloadKind::BatchInference => ClassName::BatchInference,
            WorkloadKind::RealtimeInference => ClassName::RealtimeInference,
        }
    }
}

impl From<ClassName> for WorkloadKind {
    fn from(c: ClassName) -> Self {
        match c {
            ClassName::Training => WorkloadKind::Training,
            ClassName::BatchInference => WorkloadKind::BatchInference,
            ClassName::RealtimeInference => WorkloadKind::RealtimeInference,
        }
    }
}

impl Tenant {
    /// Whether it may submit work of `kind`.
    pub fn may_submit(&self, kind: WorkloadKind) -> bool {
        self.classes.contains(&kind.into())
    }
}

/// What an operator may ask of a tenant.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantCommand {
    /// Creates it with a quota; it may submit training and batch inference.
    Create {
        /// Its id.
        id: TenantId,
        /// Its display name.
        name: String,
        /// Its quota.
        quota: Quota,
        /// When.
        at: Timestamp,
    },
    /// Changes its quota.
    SetQuota {
        /// The new quota.
        quota: Quota,
        /// When.
        at: Timestamp,
    },
    /// Lets it submit a class.
    Grant {
        /// The class.
        class: WorkloadKind,
        /// When.
        at: Timestamp,
    },
    /// Stops it submitting a class (what runs keeps running).
    Revoke {
        /// The class.
        class: WorkloadKind,
        /// When.
        at: Timestamp,
    },
}

/// What a tenant records.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantEvent {
    /// Created.
    Created {
        /// Its id.
        id: TenantId,
        /// Its display name.
        name: String,
        /// Its quota.
        quota: Quota,
        /// When.
        at: Timestamp,
    },
    /// Its quota changed.
    QuotaSet {
        /// The new quota.
        quota: Quota,
        /// When.
        at: Timestamp,
    },
    /// A class was granted.
    ClassGranted {
        /// The class.
        class: WorkloadKind,
        /// When.
        at: Timestamp,
    },
    /// A class was revoked.
    ClassRevoked {
        /// The class.
        class: WorkloadKind,
        /// When.
        at: Timestamp,
    },
}

impl TenantEvent {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            TenantEvent::Created { at, .. }
            | TenantEvent::QuotaSet { at, .. }
            | TenantEvent::ClassGranted { at, .. }
            | TenantEvent::ClassRevoked { at, .. } => *at,
        }
    }

    /// Its type name.
    pub fn event_type(&self) -> &'static str {
        match self {
            TenantEvent::Created { .. } => "tenant.created",
            TenantEvent::QuotaSet { .. } => "tenant.quota_set",
            TenantEvent::ClassGranted { .. } => "tenant.class_granted",
            TenantEvent::ClassRevoked { .. } => "tenant.class_revoked",
        }
    }
}

/// Why a tenant command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    /// It exists already.
    #[error("tenant {0} exists already")]
    AlreadyExists(TenantId),
    /// It does not exist.
    #[error("no such tenant")]
    NotFound,
    /// A weight of 0 would never be served.
    #[error("weight must be 1 or more")]
    ZeroWeight,
    /// A name is 1-100 characters.
    #[error("name must be 1-100 characters")]
    InvalidName,
}

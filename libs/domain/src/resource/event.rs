//! What happens to a device, in the past tense.

use super::{Health, Mode, ResourceSpec};
use crate::ids::{ResourceId, WorkloadId};
use crate::units::Timestamp;
use serde::{Deserialize, Serialize};

/// A fact about a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // the fields say what they are
pub enum ResourceEvent {
    Registered { id: ResourceId, spec: ResourceSpec, at: Timestamp },
    ModeChanged { from: Mode, to: Mode, at: Timestamp },
    HealthChanged { from: Health, to: Health, reason: String, at: Timestamp },
    Assigned { workload: WorkloadId, at: Timestamp },
    Released { workload: WorkloadId, at: Timestamp },
    Retired { reason: String, at: Timestamp },
}

impl ResourceEvent {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        use ResourceEvent as E;
        match self {
            E::Registered { at, .. }
            | E::ModeChanged { at, .. }
            | E::HealthChanged { at, .. }
            | E::Assigned { at, .. }
            | E::Released { at, .. }
            | E::Retired { at, .. } => *at,
        }
    }

    /// The stored event type, e.g. `resource.mode_changed`.
    pub fn event_type(&self) -> &'static str {
        use ResourceEvent as E;
        match self {
            E::Registered { .. } => "resource.registered",
            E::ModeChanged { .. } => "resource.mode_changed",
            E::HealthChanged { .. } => "resource.health_changed",
            E::Assigned { .. } => "resource.assigned",
            E::Released { .. } => "resource.released",
            E::Retired { .. } => "resource.retired",
        }
    }
}

//! What a customer asks for, validated.

use super::WorkloadError;
use crate::ids::TenantId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The kind of AI work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WorkloadKind {
    /// Latency-bound serving: needs a `max_latency`.
    RealtimeInference,
    /// Throughput-bound inference.
    BatchInference,
    /// Long-running training.
    Training,
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WorkloadKind::RealtimeInference => "realtime-inference",
            WorkloadKind::BatchInference => "batch-inference",
            WorkloadKind::Training => "training",
        })
    }
}

/// A GPU model name, e.g. `H100-SXM-80GB`: 1-64 chars of `[A-Za-z0-9-_.]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GpuModel(String);

impl GpuModel {
    /// Validates and wraps.
    pub fn new(s: impl Into<String>) -> Result<Self, WorkloadError> {
        let s = s.into();
        let ok = !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if ok {
            Ok(GpuModel(s))
        } else {
            Err(WorkloadError::InvalidSpec {
                field: "gpu_model",
                reason: format!("{s:?} is not a GPU model name (1-64 letters, digits, - _ .)"),
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Scheduling priority, 0 (lowest) to 9 (highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Priority(u8);

impl Priority {
    /// The highest priority.
    pub const MAX: Priority = Priority(9);

    /// Validates and wraps.
    pub fn new(p: u32) -> Result<Self, WorkloadError> {
        u8::try_from(p)
            .ok()
            .filter(|p| *p <= 9)
            .map(Priority)
            .ok_or_else(|| WorkloadError::InvalidSpec { field: "priority", reason: format!("{p} is outside 0..=9") })
    }

    /// The number.
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// A workload's requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    /// Who pays.
    pub tenant: TenantId,
    /// What kind of work.
    pub kind: WorkloadKind,
    /// Which GPU it needs.
    pub gpu_model: GpuModel,
    /// How many GPUs (1-1024).
    pub gpu_count: u32,
    /// Device memory per GPU, in MiB.
    pub memory_mib: u64,
    /// Largest acceptable latency (required for realtime inference).
    pub max_latency: Option<Duration>,
    /// Scheduling priority.
    pub priority: Priority,
}

/// Most GPUs one workload may ask for.
pub const MAX_GPU_COUNT: u32 = 1024;

impl WorkloadSpec {
    /// Checks the rules no single field can check alone.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        let invalid = |field, reason: &str| Err(WorkloadError::InvalidSpec { field, reason: reason.to_owned() });
        if self.gpu_count == 0 || self.gpu_count > MAX_GPU_COUNT {
            return invalid("gpu_count", &format!("{} is outside 1..={MAX_GPU_COUNT}", self.gpu_count));
        }
        if self.memory_mib == 0 {
            return invalid("memory_mib", "must be at least 1 MiB");
        }
        match (self.kind, self.max_latency) {
            (WorkloadKind::RealtimeInference, None) => invalid("max_latency", "required for realtime inference"),
            (_, Some(d)) if d.is_zero() => invalid("max_latency", "must be greater than zero"),
            _ => Ok(()),
        }
    }
}

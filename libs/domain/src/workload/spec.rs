//! What a customer asks for, validated.

use super::WorkloadError;
use crate::ids::{SiteId, TenantId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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

/// Where a gang's GPUs must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Locality {
    /// Anywhere (the scheduler still prefers the fewest hosts).
    #[default]
    Any,
    /// All in one rack.
    Rack,
    /// All on one host.
    Host,
}

impl fmt::Display for Locality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Locality::Any => "any",
            Locality::Rack => "rack",
            Locality::Host => "host",
        })
    }
}

/// What to run and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSpec {
    /// A container image, e.g. `ghcr.io/acme/train:1.4` (empty: run `command` on the host).
    pub image: String,
    /// The program and its arguments (empty with no image: hold the GPUs for the run time).
    pub command: Vec<String>,
    /// Environment for the process.
    pub env: BTreeMap<String, String>,
    /// Longest it may run (as Slurm's `--time`); it is stopped and failed beyond it.
    pub max_run_time: Duration,
    /// Whether it checkpoints: preempted, it resumes from its last checkpoint, else from zero.
    pub checkpointing: bool,
    /// The port a realtime inference server listens on (required for realtime inference).
    pub port: Option<u16>,
}

impl Default for RunSpec {
    fn default() -> Self {
        RunSpec {
            image: String::new(),
            command: Vec::new(),
            env: BTreeMap::new(),
            max_run_time: Duration::from_secs(3600),
            checkpointing: false,
            port: None,
        }
    }
}

/// Longest maximum run time a workload may ask for (30 days).
pub const MAX_RUN_TIME: Duration = Duration::from_secs(30 * 24 * 3600);

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
    /// Scheduling priority within its class.
    pub priority: Priority,
    /// Whether a higher class may preempt it (apart from its class, as KAI-Scheduler).
    pub preemptible: bool,
    /// At this site only.
    pub site: Option<SiteId>,
    /// Where its GPUs must be.
    pub locality: Locality,
    /// What to run.
    pub run: RunSpec,
}

/// Most GPUs one workload may ask for.
pub const MAX_GPU_COUNT: u32 = 1024;

impl WorkloadSpec {
    /// The plainest valid spec: `tenant`'s preemptible training on `gpus` H100 SXM 80 GB,
    /// priority 5, 1 MiB a GPU, at any site, running nothing in particular. What examples,
    /// tests and benchmarks start from.
    pub fn example(tenant: TenantId, gpus: u32) -> WorkloadSpec {
        WorkloadSpec {
            tenant,
            kind: WorkloadKind::Training,
            gpu_model: GpuModel("h100-sxm-80gb".to_owned()),
            gpu_count: gpus,
            memory_mib: 1,
            max_latency: None,
            priority: Priority(5),
            preemptible: true,
            site: None,
            locality: Locality::Any,
            run: RunSpec::default(),
        }
    }

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
            (WorkloadKind::RealtimeInference, None) => {
                return invalid("max_latency", "required for realtime inference");
            }
            (_, Some(d)) if d.is_zero() => return invalid("max_latency", "must be greater than zero"),
            _ => {}
        }
        self.run.validate(self.kind)
    }
}

impl RunSpec {
    fn validate(&self, kind: WorkloadKind) -> Result<(), WorkloadError> {
        let invalid = |field, reason: String| Err(WorkloadError::InvalidSpec { field, reason });
        if self.max_run_time.is_zero() || self.max_run_time > MAX_RUN_TIME {
            return invalid("max_run_time", format!("{:?} is outside 1 s..=30 days", self.max_run_time));
        }
        if self.command.iter().any(String::is_empty) {
            return invalid("command", "an argument is empty".to_owned());
        }
        if self.image.len() > 512 || self.image.chars().any(char::is_whitespace) {
            return invalid("image", format!("{:?} is not an image reference", self.image));
        }
        if let Some(key) = self.env.keys().find(|k| !valid_env_name(k)) {
            return invalid("env", format!("{key:?} is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"));
        }
        match (kind, self.port) {
            (WorkloadKind::RealtimeInference, None) => invalid("port", "required for realtime inference".to_owned()),
            (_, Some(0)) => invalid("port", "0 is not a port".to_owned()),
            _ => Ok(()),
        }
    }
}

fn valid_env_name(k: &str) -> bool {
    let mut bytes = k.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

//! Admission: a submitted spec is checked field by field, against its tenant (it exists,
//! it was granted the class) and against the fleet (some site could ever run it: the
//! model exists, the memory fits, the gang fits one host or one rack when it asks for
//! one, the fleet when it does not). A refusal names the field and records nothing.
//!
//! The workload's id derives from the tenant and the idempotency key, so a retried
//! submit finds the workload its first try recorded.

use crate::board::Inner;
use hcp_domain::catalogue::{GPU_MODELS, canonical_gpu_model, gpu_model};
use hcp_domain::codec::{CodecError, spec_from_pb};
use hcp_domain::ids::WorkloadId;
use hcp_domain::workload::{Locality, WorkloadSpec};
use hcp_proto::v1 as pb;
use hcp_runtime::{ErrorCode, HasErrorCode};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Why a submit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A field is wrong, or no site could ever run the spec.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, e.g. `spec.gpu_count`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The tenant was not granted the class.
    #[error("spec.kind: tenant {tenant} may not submit {kind} (an operator grants it: `hcp tenants grant`)")]
    NotGranted {
        /// The tenant.
        tenant: String,
        /// The class.
        kind: String,
    },
    /// The idempotency key was used for another spec.
    #[error("request_id: {0:?} was already used by this tenant for a different spec")]
    KeyReused(String),
}

impl HasErrorCode for Refusal {
    fn code(&self) -> ErrorCode {
        match self {
            Refusal::Invalid { .. } => ErrorCode::InvalidArgument,
            Refusal::NotGranted { .. } => ErrorCode::PermissionDenied,
            Refusal::KeyReused(_) => ErrorCode::AlreadyExists,
        }
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> Refusal {
    Refusal::Invalid { field: field.to_owned(), reason: reason.into() }
}

/// Checks a request; returns the workload's id and its spec (with the canonical model id).
pub fn admit(board: &Inner, request: pb::SubmitWorkloadRequest) -> Result<(WorkloadId, WorkloadSpec), Refusal> {
    let mut raw = request.spec.ok_or_else(|| invalid("spec", "required"))?;
    if raw.gpu_model.trim().is_empty() {
        return Err(invalid("spec.gpu_model", "required (e.g. H100)"));
    }
    raw.gpu_model = canonical_gpu_model(&raw.gpu_model);
    let spec = spec_from_pb("submit", raw).map_err(|e| match e {
        CodecError::Invalid { field, reason, .. } => invalid(&format!("spec.{field}"), reason),
        other => invalid("spec", other.to_string()),
    })?;
    let tenant = board
        .tenants
        .get(spec.tenant.as_str())
        .filter(|t| t.id.is_some())
        .ok_or_else(|| invalid("spec.tenant", format!("unknown tenant {:?}", spec.tenant.as_str())))?;
    if !tenant.may_submit(spec.kind) {
        return Err(Refusal::NotGranted { tenant: spec.tenant.as_str().to_owned(), kind: spec.kind.to_string() });
    }
    feasible(board, &spec)?;
    let id = workload_id(spec.tenant.as_str(), &request.request_id)?;
    Ok((id, spec))
}

/// Whether some site could ever run `spec`, whatever runs now.
fn feasible(board: &Inner, spec: &WorkloadSpec) -> Result<(), Refusal> {
    let model = spec.gpu_model.as_str();
    let of_model: Vec<_> = board.gpus().filter(|g| g.model == model).collect();
    if of_model.is_empty() {
        let known: Vec<&str> = GPU_MODELS.iter().map(|m| m.id).collect();
        let reason = if gpu_model(model).is_some() {
            format!("no {model} GPU is in the fleet")
        } else {
            format!("unknown GPU model {model:?} (known: {})", known.join(", "))
        };
        return Err(invalid("spec.gpu_model", reason));
    }
    let largest = of_model.iter().map(|g| g.memory_mib).max().unwrap_or(0);
    if spec.memory_mib > largest {
        return Err(invalid(
            "spec.memory_mib",
            format!("{} MiB is more than any {model} has ({largest} MiB)", spec.memory_mib),
        ));
    }
    let site = spec.site.as_ref().map(|s| s.as_str());
    let fits: Vec<_> =
        of_model.iter().filter(|g| g.memory_mib >= spec.memory_mib && site.is_none_or(|s| g.site == s)).collect();
    if fits.is_empty() {
        return Err(invalid("spec.site", format!("no {model} GPU is at site {:?}", site.unwrap_or_default())));
    }
    let most = |key: &dyn Fn(&hcp_placement::Gpu) -> String| {
        let mut groups: BTreeMap<String, u32> = BTreeMap::new();
        for g in &fits {
            *groups.entry(key(g)).or_default() += 1;
        }
        groups.into_values().max().unwrap_or(0)
    };
    let (available, scope) = match spec.locality {
        Locality::Host => (most(&|g| g.host.clone()), "one host"),
        Locality::Rack => (most(&|g| format!("{}/{}", g.site, g.rack)), "one rack"),
        Locality::Any => (fits.len() as u32, "the fleet"),
    };
    if spec.gpu_count > available {
        return Err(invalid(
            "spec.gpu_count",
            format!("{} {model} GPUs is more than {scope} has ({available})", spec.gpu_count),
        ));
    }
    Ok(())
}

/// The id of a tenant's submit: from its idempotency key when it gives one (the same key
/// gives the same workload), else a fresh UUIDv7.
pub fn workload_id(tenant: &str, key: &str) -> Result<WorkloadId, Refusal> {
    if key.is_empty() {
        return Ok(WorkloadId::from_uuid(Uuid::now_v7()));
    }
    if key.len() > 128 || key.chars().any(char::is_control) {
        return Err(invalid("request_id", "must be 1-128 printable characters"));
    }
    // FNV-1a, 128-bit, over tenant NUL key: stable across versions and machines.
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in tenant.bytes().chain([0]).chain(key.bytes()) {
        hash ^= u128::from(b);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    Ok(WorkloadId::from_uuid(uuid::Builder::from_custom_bytes(hash.to_be_bytes()).into_uuid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_gives_the_same_id_per_tenant() {
        let a = workload_id("acme", "job-1").expect("id");
        assert_eq!(a, workload_id("acme", "job-1").expect("id"));
        assert_ne!(a, workload_id("globex", "job-1").expect("id"));
        assert_ne!(a, workload_id("acme", "job-2").expect("id"));
        assert_eq!(a.uuid().get_version_num(), 8);
        assert!(workload_id("acme", "bad\nkey").is_err());
    }
}

//! What an estimate prices: a workload's shape given field by field (GPU model, GPU count,
//! hours), or the spec it would be submitted with, checked as a submission is and priced
//! for its longest run time (`max_run_time_seconds`), the most it can cost.

use crate::ledger::LedgerError;
use hcp_domain::catalogue::canonical_gpu_model;
use hcp_domain::codec::{CodecError, spec_from_pb};
use hcp_proto::v1 as pb;

/// A shape to price: the canonical GPU model, the GPUs and the hours.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// The GPU model, canonical.
    pub model: String,
    /// GPUs held.
    pub gpus: u32,
    /// Hours run.
    pub hours: f64,
}

/// The shape `request` asks to price for `tenant`.
pub fn of(tenant: &str, request: pb::EstimateRequest) -> Result<Shape, LedgerError> {
    let invalid = |field: &str, reason: &dyn std::fmt::Display| LedgerError::Invalid(format!("{field}: {reason}"));
    let Some(mut spec) = request.spec else {
        if request.gpu_model.trim().is_empty() {
            return Err(invalid("gpu_model", &"required (or a spec)"));
        }
        return Ok(Shape { model: canonical_gpu_model(&request.gpu_model), gpus: request.gpus, hours: request.hours });
    };
    if !request.gpu_model.is_empty() || request.gpus != 0 || request.hours != 0.0 {
        return Err(invalid("spec", &"give a spec or gpu_model, gpus and hours, not both"));
    }
    if !spec.tenant.is_empty() && spec.tenant != tenant {
        return Err(invalid("spec.tenant", &format!("{:?} is not the request's tenant {tenant:?}", spec.tenant)));
    }
    if spec.gpu_model.trim().is_empty() {
        return Err(invalid("spec.gpu_model", &"required (e.g. H100)"));
    }
    spec.tenant = tenant.to_owned();
    spec.gpu_model = canonical_gpu_model(&spec.gpu_model);
    let spec = spec_from_pb("estimate", spec).map_err(|e| match e {
        CodecError::Invalid { field, reason, .. } => invalid(&format!("spec.{field}"), &reason),
        other => invalid("spec", &other),
    })?;
    Ok(Shape {
        model: spec.gpu_model.as_str().to_owned(),
        gpus: spec.gpu_count,
        hours: spec.run.max_run_time.as_secs_f64() / 3600.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> pb::WorkloadSpec {
        pb::WorkloadSpec {
            kind: pb::WorkloadKind::Training.into(),
            gpu_model: "H100".into(),
            gpu_count: 8,
            memory_mib: 81_920,
            max_run_time_seconds: 5_400,
            ..Default::default()
        }
    }

    fn request(spec: pb::WorkloadSpec) -> pb::EstimateRequest {
        pb::EstimateRequest { tenant: "acme".into(), spec: Some(spec), ..Default::default() }
    }

    /// A spec is priced at its model and GPUs for its longest run time.
    #[test]
    fn a_spec_is_priced_for_its_longest_run() {
        let shape = of("acme", request(spec())).expect("shape");
        assert_eq!(shape, Shape { model: canonical_gpu_model("H100"), gpus: 8, hours: 1.5 });
        let named = pb::WorkloadSpec { tenant: "acme".into(), ..spec() };
        assert_eq!(of("acme", request(named)).expect("its own tenant"), shape);
        let fields =
            pb::EstimateRequest { tenant: "acme".into(), gpu_model: "h100".into(), gpus: 8, hours: 1.5, spec: None };
        assert_eq!(of("acme", fields).expect("fields"), shape);
    }

    /// A spec that could not be submitted is refused as a submission is, naming the field;
    /// so are one for another tenant, one beside the fields, and neither.
    #[test]
    fn what_cannot_be_priced_is_refused_by_name() {
        let refused = |tenant: &str, r: pb::EstimateRequest| of(tenant, r).expect_err("refused").to_string();
        let no_time = pb::WorkloadSpec { max_run_time_seconds: 0, ..spec() };
        assert!(
            refused("acme", request(no_time)).starts_with("spec.max_run_time"),
            "{}",
            refused("acme", request(spec()))
        );
        let no_gpus = pb::WorkloadSpec { gpu_count: 0, ..spec() };
        assert!(refused("acme", request(no_gpus)).starts_with("spec.gpu_count"));
        let other = pb::WorkloadSpec { tenant: "globex".into(), ..spec() };
        assert!(refused("acme", request(other)).starts_with("spec.tenant:"));
        let both = pb::EstimateRequest { gpus: 2, ..request(spec()) };
        assert!(refused("acme", both).starts_with("spec: give a spec or"));
        let no_model = pb::WorkloadSpec { gpu_model: " ".into(), ..spec() };
        assert!(refused("acme", request(no_model)).starts_with("spec.gpu_model:"));
        let neither = pb::EstimateRequest { tenant: "acme".into(), ..Default::default() };
        assert!(refused("acme", neither).starts_with("gpu_model: required"));
    }
}

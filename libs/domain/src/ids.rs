//! Identifiers: typed so that a workload id cannot be passed where a resource id
//! is wanted, and validated once at the edge.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Why an identifier was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct InvalidId {
    /// What kind of identifier it was.
    pub kind: &'static str,
    /// The rejected text.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A workload's id: a UUID (v7 when HCP mints it, so ids sort by submission time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WorkloadId(Uuid);

impl WorkloadId {
    /// Wraps a UUID minted by the caller (the domain has no randomness).
    pub const fn from_uuid(u: Uuid) -> Self {
        WorkloadId(u)
    }

    /// The UUID.
    pub const fn uuid(self) -> Uuid {
        self.0
    }

    /// Parses the canonical text form.
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        Uuid::parse_str(s).map(WorkloadId).map_err(|_| InvalidId {
            kind: "workload id",
            value: s.to_owned(),
            reason: "not a UUID",
        })
    }

    /// The event stream of this workload: `workload-<uuid>`.
    pub fn stream(self) -> String {
        format!("workload-{}", self.0)
    }
}

impl fmt::Display for WorkloadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Defines a string id newtype: 1-128 chars of `[A-Za-z0-9._:-]`.
macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps.
            pub fn new(s: impl Into<String>) -> Result<Self, InvalidId> {
                let s = s.into();
                validate_token($kind, &s)?;
                Ok($name(s))
            }

            /// The text form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                $name::new(s)
            }
        }
    };
}

string_id!(
    /// A device's id, stable across rediscovery: e.g. `asic-s21-0a1b2c3d4e5f` or `gpu-GPU-<nvml uuid>`.
    ResourceId,
    "resource id"
);
string_id!(
    /// A customer tenant.
    TenantId,
    "tenant id"
);
string_id!(
    /// A power-constrained site.
    SiteId,
    "site id"
);
string_id!(
    /// A rack within a site.
    RackId,
    "rack id"
);

impl ResourceId {
    /// The event stream of this resource: `resource-<id>`.
    pub fn stream(&self) -> String {
        format!("resource-{}", self.0)
    }
}

fn validate_token(kind: &'static str, s: &str) -> Result<(), InvalidId> {
    let reason = if s.is_empty() {
        Some("must not be empty")
    } else if s.len() > 128 {
        Some("longer than 128 characters")
    } else if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b)) {
        Some("only letters, digits and . _ : - are allowed")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(InvalidId { kind, value: s.to_owned(), reason }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_validate_and_name_the_problem() {
        assert!(ResourceId::new("asic-s21-0a1b2c").is_ok());
        let err = ResourceId::new("bad id").unwrap_err();
        assert_eq!(err.to_string(), "invalid resource id \"bad id\": only letters, digits and . _ : - are allowed");
        assert!(TenantId::new("").is_err());
        assert!(SiteId::new("x".repeat(129)).is_err());
        assert!(WorkloadId::parse("not-a-uuid").is_err());
    }

    #[test]
    fn streams_are_named_by_aggregate() {
        let id = WorkloadId::from_uuid(Uuid::nil());
        assert_eq!(id.stream(), "workload-00000000-0000-0000-0000-000000000000");
        assert_eq!(ResourceId::new("gpu-7").map(|r| r.stream()), Ok("resource-gpu-7".to_owned()));
    }
}

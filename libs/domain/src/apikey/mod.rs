//! The API key aggregate: a credential for the public gateway (issue 13's first step).
//!
//! The secret is shown once, when the key is created; only its SHA-256 (hex) is recorded,
//! with a short prefix to recognise the key by. A key acts for a tenant, in one of the
//! tenant roles (viewer, developer, billing), or for the platform (operator, admin),
//! never both. It may expire, and is revoked for good; a rotation creates a new key and
//! revokes the old one from a later instant, so both work during the overlap. Its stream
//! is `apikey-<id>`.

mod decide;
#[cfg(test)]
mod tests;

use crate::ids::TenantId;
use crate::units::Timestamp;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A tenant's: read its workloads, usage and invoices.
    Viewer,
    /// A tenant's: also submit and control its workloads.
    Developer,
    /// A tenant's: read usage and invoices, manage budgets.
    Billing,
    /// The platform's: the fleet, plans, curtailments, hosts.
    Operator,
    /// The platform's: everything, tenants and keys included.
    Admin,
}

impl Role {
    /// Every role, in order.
    pub const ALL: [Role; 5] = [Role::Viewer, Role::Developer, Role::Billing, Role::Operator, Role::Admin];

    /// Its name as users write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::Billing => "billing",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// A role by its name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Whether it is the platform's (operators and admins), not a tenant's.
    pub fn is_platform(self) -> bool {
        matches!(self, Role::Operator | Role::Admin)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiKey {
    /// Its id (the public part of the key), once created.
    pub id: Option<String>,
    /// The tenant it acts for (none for platform roles).
    pub tenant: Option<TenantId>,
    /// What it may do.
    pub role: Option<Role>,
    /// What its owner calls it.
    pub name: String,
    /// The first characters of the key, to recognise it by.
    pub prefix: String,
    /// SHA-256 of the secret, lowercase hex.
    pub secret_sha256: String,
    /// When it stops working by itself.
    pub expires_at: Option<Timestamp>,
    /// When it stops working because it was revoked (later than the revocation during a rotation's overlap).
    pub revoked_from: Option<Timestamp>,
    /// Why it was revoked.
    pub revoked_reason: Option<String>,
    /// How many events it has.
    pub version: u64,
}

impl ApiKey {
    /// Whether it works at `now`: created, not expired, not revoked.
    pub fn valid_at(&self, now: Timestamp) -> bool {
        self.id.is_some() && self.expires_at.is_none_or(|e| now < e) && self.revoked_from.is_none_or(|r| now < r)
    }
}

/// What may be asked of a key.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiKeyCommand {
    /// Creates it.
    Create {
        /// Its id.
        id: String,
        /// The tenant it acts for (required for tenant roles, absent for platform roles).
        tenant: Option<TenantId>,
        /// What it may do.
        role: Role,
        /// What its owner calls it.
        name: String,
        /// The first characters of the key.
        prefix: String,
        /// SHA-256 of the secret, lowercase hex.
        secret_sha256: String,
        /// When it stops working by itself.
        expires_at: Option<Timestamp>,
        /// When.
        at: Timestamp,
    },
    /// Revokes it from `from` (now, or later to overlap a rotation).
    Revoke {
        /// From when it stops working (not before `at`).
        from: Timestamp,
        /// Why.
        reason: String,
        /// When.
        at: Timestamp,
    },
}

/// What a key records.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiKeyEvent {
    /// Created.
    Created {
        /// Its id.
        id: String,
        /// The tenant it acts for.
        tenant: Option<TenantId>,
        /// What it may do.
        role: Role,
        /// What its owner calls it.
        name: String,
        /// The first characters of the key.
        prefix: String,
        /// SHA-256 of the secret, lowercase hex.
        secret_sha256: String,
        /// When it stops working by itself.
        expires_at: Option<Timestamp>,
        /// When.
        at: Timestamp,
    },
    /// Revoked.
    Revoked {
        /// From when it stops working.
        from: Timestamp,
        /// Why.
        reason: String,
        /// When.
        at: Timestamp,
    },
}

impl ApiKeyEvent {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            ApiKeyEvent::Created { at, .. } | ApiKeyEvent::Revoked { at, .. } => *at,
        }
    }

    /// Its type name.
    pub fn event_type(&self) -> &'static str {
        match self {
            ApiKeyEvent::Created { .. } => "api_key.created",
            ApiKeyEvent::Revoked { .. } => "api_key.revoked",
        }
    }
}

/// Why a key command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    /// It exists already.
    #[error("key {0} exists already")]
    AlreadyExists(String),
    /// It does not exist.
    #[error("no such key")]
    NotFound,
    /// A tenant role needs a tenant.
    #[error("role {0} acts for a tenant: name one")]
    TenantRequired(Role),
    /// A platform role acts for no tenant.
    #[error("role {0} is the platform's: it acts for no tenant")]
    PlatformRoleWithTenant(Role),
    /// The id is 8-64 characters of a-z, 0-9.
    #[error("id must be 8-64 characters of a-z and 0-9")]
    InvalidId,
    /// The secret's hash is 64 lowercase hex digits.
    #[error("secret_sha256 must be 64 lowercase hex digits")]
    InvalidHash,
    /// It would expire before it is created.
    #[error("expires_at must be after the key is created")]
    ExpiresInThePast,
    /// A revocation cannot take effect before it is made.
    #[error("a revocation takes effect at or after it is made")]
    RevokedInThePast,
    /// It is revoked already.
    #[error("key is revoked already")]
    AlreadyRevoked,
}

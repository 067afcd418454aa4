//! The API key's decider and its fold.

use super::{ApiKey, ApiKeyCommand, ApiKeyError, ApiKeyEvent};
use crate::Aggregate;

fn valid_id(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn valid_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Aggregate for ApiKey {
    type Command = ApiKeyCommand;
    type Event = ApiKeyEvent;
    type Error = ApiKeyError;

    fn decide(&self, command: ApiKeyCommand) -> Result<Vec<ApiKeyEvent>, ApiKeyError> {
        match command {
            ApiKeyCommand::Create { id, tenant, role, name, prefix, secret_sha256, expires_at, at } => {
                if let Some(existing) = &self.id {
                    return Err(ApiKeyError::AlreadyExists(existing.clone()));
                }
                if !valid_id(&id) {
                    return Err(ApiKeyError::InvalidId);
                }
                if !valid_hash(&secret_sha256) {
                    return Err(ApiKeyError::InvalidHash);
                }
                match (role.is_platform(), &tenant) {
                    (true, Some(_)) => return Err(ApiKeyError::PlatformRoleWithTenant(role)),
                    (false, None) => return Err(ApiKeyError::TenantRequired(role)),
                    _ => {}
                }
                if expires_at.is_some_and(|e| e <= at) {
                    return Err(ApiKeyError::ExpiresInThePast);
                }
                Ok(vec![ApiKeyEvent::Created { id, tenant, role, name, prefix, secret_sha256, expires_at, at }])
            }
            ApiKeyCommand::Revoke { from, reason, at } => {
                if self.id.is_none() {
                    return Err(ApiKeyError::NotFound);
                }
                if from < at {
                    return Err(ApiKeyError::RevokedInThePast);
                }
                match self.revoked_from {
                    // Revoking again takes effect no later: the sooner wins; the same is a no-op.
                    Some(r) if r <= from => Ok(Vec::new()),
                    Some(r) if r <= at => Err(ApiKeyError::AlreadyRevoked),
                    _ => Ok(vec![ApiKeyEvent::Revoked { from, reason, at }]),
                }
            }
        }
    }

    fn evolve(mut self, event: &ApiKeyEvent) -> ApiKey {
        match event {
            ApiKeyEvent::Created { id, tenant, role, name, prefix, secret_sha256, expires_at, .. } => {
                self.id = Some(id.clone());
                self.tenant.clone_from(tenant);
                self.role = Some(*role);
                self.name.clone_from(name);
                self.prefix.clone_from(prefix);
                self.secret_sha256.clone_from(secret_sha256);
                self.expires_at = *expires_at;
            }
            ApiKeyEvent::Revoked { from, reason, .. } => {
                self.revoked_from = Some(*from);
                self.revoked_reason = Some(reason.clone());
            }
        }
        self.version += 1;
        self
    }
}

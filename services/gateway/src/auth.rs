//! Who calls: the `Authorization: Bearer hcp_<id>_<secret>` header checked against the
//! recorded keys, in one place. No key or a key that does not work is 401 (with the
//! reason); a working key whose role may not do the thing is 403.

use crate::keys::Principal;
use crate::problem::Problem;
use crate::state::Gateway;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hcp_domain::apikey::Role;
use hcp_domain::units::Timestamp;
use std::sync::Arc;

/// The caller of a request, authenticated.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// 403 unless its role is one of `roles`.
    pub fn may(&self, roles: &[Role]) -> Result<(), Problem> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(Problem::forbidden(format!("a {} key may not do this (it takes {})", self.0.role, allowed.join(", "))))
        }
    }
}

impl FromRequestParts<Arc<Gateway>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, g: &Arc<Gateway>) -> Result<Self, Problem> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| Problem::unauthenticated("an API key is required: Authorization: Bearer hcp_..."))?;
        let presented = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| Problem::unauthenticated("Authorization must be `Bearer <key>`"))?;
        let now = Timestamp::from_unix_micros(hcp_runtime::clock::now_micros());
        g.keys.check(presented.trim(), now).map(Caller).map_err(|e| Problem::unauthenticated(e.to_string()))
    }
}

//! JWT bearer tokens from an OpenID Connect issuer (Keycloak, Auth0, ...), beside API
//! keys: a token is taken when a key of the issuer's JWKS (fetched from `jwks_url`,
//! again every `refresh_seconds`, and at once, at most every 2 s, when a token names a
//! key it does not know) signed it with RS256/384/512, PS256/384/512, ES256/384 or EdDSA
//! (never `none`, nor a symmetric algorithm), its `iss` is the issuer, its `aud` the
//! audience when one is configured, and it has not expired. The tenant and roles come
//! from the configured claims: a token with a tenant acts for it in its tenant roles, one
//! without acts for the platform in its platform roles.

use crate::keys::Principal;
use hcp_domain::apikey::Role;
use hcp_domain::ids::TenantId;
use hcp_runtime::config::JwtConfig;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// The least time between two fetches of the keys when a token names an unknown one.
const MIN_REFETCH: Duration = Duration::from_secs(2);
/// How long a fetch of the keys may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a token is refused (each answers 401, with the reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts with a known algorithm.
    #[error("the token is malformed: {0}")]
    Malformed(String),
    /// An algorithm HCP does not take.
    #[error("the token's algorithm {0:?} is not accepted")]
    Algorithm(String),
    /// No key of the issuer has its `kid`.
    #[error("the token was signed by a key the issuer does not publish ({0})")]
    UnknownKey(String),
    /// The signature, issuer, audience or expiry is wrong.
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// The issuer's keys could not be fetched.
    #[error("the issuer's keys are unavailable: {0}")]
    Unavailable(String),
}

struct KeySet {
    keys: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
}

/// The issuer's keys, and how its tokens are checked.
pub struct Issuer {
    config: JwtConfig,
    keys: RwLock<KeySet>,
    fetching: tokio::sync::Mutex<()>,
}

impl Issuer {
    /// An issuer whose keys are fetched when first needed.
    pub fn new(config: JwtConfig) -> Self {
        Issuer {
            config,
            keys: RwLock::new(KeySet { keys: HashMap::new(), fetched: None }),
            fetching: Default::default(),
        }
    }

    /// The issuer its tokens must name.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// Whether `presented` looks like a JWT (three dot-separated parts) rather than a key.
    pub fn looks_like_token(presented: &str) -> bool {
        presented.split('.').count() == 3
    }

    /// Checks `token`; answers who it acts as.
    pub async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        let accepted = [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ];
        if !accepted.contains(&header.alg) {
            return Err(TokenError::Algorithm(format!("{:?}", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| TokenError::Malformed("no kid in its header".into()))?;
        let key = match self.key(&kid) {
            Some(key) => key,
            None => {
                self.refresh(true).await?;
                self.key(&kid).ok_or_else(|| TokenError::UnknownKey(kid.clone()))?
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.config.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        match &self.config.audience {
            Some(audience) => validation.set_audience(&[audience.as_str()]),
            None => validation.validate_aud = false,
        }
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?
            .claims;
        Ok(self.principal(&claims))
    }

    /// Who the claims name.
    fn principal(&self, claims: &Value) -> Principal {
        let subject = claims["sub"].as_str().unwrap_or_default();
        let tenant = claims[&self.config.tenant_claim].as_str().and_then(|t| TenantId::new(t).ok());
        let named: Vec<&str> = match &claims[&self.config.roles_claim] {
            Value::String(s) => s.split([' ', ',']).filter(|r| !r.is_empty()).collect(),
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        // A tenant's token holds its tenant roles only; the platform's its platform roles only.
        let roles = named.into_iter().filter_map(Role::parse).filter(|r| r.is_platform() == tenant.is_none()).collect();
        Principal { id: format!("user:{subject}"), tenant, roles }
    }

    fn key(&self, kid: &str) -> Option<DecodingKey> {
        let set = self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let stale = set.fetched.is_none_or(|f| f.elapsed().as_secs_f64() > self.config.refresh_seconds);
        if stale { None } else { set.keys.get(kid).cloned() }
    }

    /// Fetches the keys (when `urgent`, at most every [`MIN_REFETCH`]).
    async fn refresh(&self, urgent: bool) -> Result<(), TokenError> {
        let _one = self.fetching.lock().await;
        let last = self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner).fetched;
        if urgent && last.is_some_and(|f| f.elapsed() < MIN_REFETCH) {
            return Ok(());
        }
        let (status, body) = hcp_runtime::fetch::get(&self.config.jwks_url, FETCH_TIMEOUT)
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        if status != 200 {
            return Err(TokenError::Unavailable(format!("GET {}: HTTP {status}", self.config.jwks_url)));
        }
        let set: JwkSet = serde_json::from_slice(&body)
            .map_err(|e| TokenError::Unavailable(format!("{}: not a JWK set: {e}", self.config.jwks_url)))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            // Keys without an id, or of a kind not taken, are skipped.
            if let (Some(kid), Ok(key)) = (&jwk.common.key_id, DecodingKey::from_jwk(jwk)) {
                keys.insert(kid.clone(), key);
            }
        }
        tracing::info!(issuer = %self.config.issuer, keys = keys.len(), "issuer keys fetched");
        *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            KeySet { keys, fetched: Some(Instant::now()) };
        Ok(())
    }
}

//! Standard Webhooks: secrets and signatures.
//!
//! The signed content is `{webhook-id}.{webhook-timestamp}.{body}`, the key the secret's
//! bytes (base64 after `whsec_`), the signature `v1,` + base64 of its HMAC-SHA256. While a
//! secret is rotated, each delivery carries a signature by the old and the new secret,
//! space-separated; a receiver accepts any one that matches.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// The prefix of a secret's text.
pub const SECRET_PREFIX: &str = "whsec_";
/// The secret's bytes when one is made (Svix's size).
pub const SECRET_BYTES: usize = 24;
/// How far a receiver lets a timestamp be from its clock, seconds (the spec's 5 minutes).
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a secret or a signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Not `whsec_` + base64 of at least 16 bytes.
    #[error("secret: {0}")]
    Secret(String),
    /// A header is missing or is not what the spec says.
    #[error("{0}")]
    Header(String),
    /// The timestamp is outside the tolerance.
    #[error("webhook-timestamp {timestamp} is {off} s from now, beyond the tolerance of {TOLERANCE_SECONDS} s")]
    Stale {
        /// The header's value.
        timestamp: i64,
        /// How far from now.
        off: i64,
    },
    /// No signature matches.
    #[error("no signature in webhook-signature matches")]
    Mismatch,
}

/// A signing secret. Its bytes never print.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(whsec_…)")
    }
}

impl Secret {
    /// A new random secret.
    pub fn generate() -> Secret {
        let mut bytes = vec![0; SECRET_BYTES];
        SystemRandom::new().fill(&mut bytes).expect("the system's randomness");
        Secret(bytes)
    }

    /// From its text: `whsec_` + base64 (padded or not).
    pub fn parse(text: &str) -> Result<Secret, WebhookError> {
        let body = text.trim().strip_prefix(SECRET_PREFIX).ok_or_else(|| {
            WebhookError::Secret(format!("must start with {SECRET_PREFIX} (a Standard Webhooks secret)"))
        })?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(body.trim_end_matches('='))
            .map_err(|e| WebhookError::Secret(format!("not base64 after {SECRET_PREFIX}: {e}")))?;
        if bytes.len() < 16 {
            return Err(WebhookError::Secret(format!("{} bytes; at least 16", bytes.len())));
        }
        Ok(Secret(bytes))
    }

    /// Its text, `whsec_` + base64.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    fn key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, &self.0)
    }

    /// The `v1,<base64>` signature of a message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = hmac::sign(&self.key(), &signed_content(id, timestamp, body));
        format!("v1,{}", STANDARD.encode(tag.as_ref()))
    }

    /// Whether `signature` (one `v1,<base64>`) is this secret's for the message, compared
    /// in constant time.
    pub fn signed(&self, id: &str, timestamp: i64, body: &[u8], signature: &str) -> bool {
        let Some(tag) = signature.strip_prefix("v1,").and_then(|b| STANDARD.decode(b).ok()) else { return false };
        hmac::verify(&self.key(), &signed_content(id, timestamp, body), &tag).is_ok()
    }
}

/// `{id}.{timestamp}.{body}`.
fn signed_content(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    content
}

/// The three headers of a delivery, in order: `webhook-id`, `webhook-timestamp` and
/// `webhook-signature` (one signature per secret, space-separated).
pub fn headers(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> [(&'static str, String); 3] {
    let signature = secrets.iter().map(|s| s.sign(id, timestamp, body)).collect::<Vec<_>>().join(" ");
    [("webhook-id", id.to_owned()), ("webhook-timestamp", timestamp.to_string()), ("webhook-signature", signature)]
}

/// Verifies a delivery as a receiver does: `now` within the tolerance of its timestamp,
/// and one of its signatures by `secret`.
pub fn verify(
    secret: &Secret,
    id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> Result<(), WebhookError> {
    if id.is_empty() {
        return Err(WebhookError::Header("webhook-id: missing".into()));
    }
    let timestamp: i64 = timestamp
        .parse()
        .map_err(|_| WebhookError::Header(format!("webhook-timestamp: {timestamp:?} is not Unix seconds")))?;
    let off = (now - timestamp).abs();
    if off > TOLERANCE_SECONDS {
        return Err(WebhookError::Stale { timestamp, off });
    }
    if signature.split(' ').any(|s| secret.signed(id, timestamp, body, s)) {
        Ok(())
    } else {
        Err(WebhookError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's own example.
    #[test]
    fn the_specifications_example_signs_as_published() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let body = br#"{"test": 2432232314}"#;
        let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(verify(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", &signature, body, 1614265330), Ok(()));
    }

    #[test]
    fn rotation_carries_both_signatures_and_either_verifies() {
        let (old, new) = (Secret::generate(), Secret::generate());
        let [_, (_, ts), (_, signature)] = headers(&[old.clone(), new.clone()], "msg_1", 1_800_000_000, b"{}");
        assert_eq!(signature.split(' ').count(), 2);
        for s in [&old, &new] {
            assert_eq!(verify(s, "msg_1", &ts, &signature, b"{}", 1_800_000_010), Ok(()));
        }
        let other = Secret::generate();
        assert_eq!(verify(&other, "msg_1", &ts, &signature, b"{}", 1_800_000_010), Err(WebhookError::Mismatch));
        assert_eq!(verify(&old, "msg_1", &ts, &signature, b"{ }", 1_800_000_010), Err(WebhookError::Mismatch));
        assert!(matches!(
            verify(&old, "msg_1", &ts, &signature, b"{}", 1_800_000_301),
            Err(WebhookError::Stale { .. })
        ));
    }

    #[test]
    fn secrets_round_trip_and_bad_ones_are_named() {
        let s = Secret::generate();
        assert_eq!(Secret::parse(&s.expose()), Ok(s.clone()));
        assert!(!format!("{s:?}").contains(&s.expose()[6..]), "a secret never prints");
        for bad in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_c2hvcnQ="] {
            let e = Secret::parse(bad).expect_err(bad);
            assert!(e.to_string().starts_with("secret:"), "{e}");
        }
    }
}

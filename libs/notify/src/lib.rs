//! The notifications core, pure (no I/O but the system's randomness):
//! - [`webhook`]: the Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`), `whsec_`
//!   secrets, two signatures while a secret is rotated, and verification as receivers do
//!   it (a tolerance on the timestamp);
//! - [`schedule`]: what an endpoint's answer means (2xx delivered, 410 gone, 429/502/504
//!   throttled with `Retry-After` honoured, anything else failed) and when to try next:
//!   Svix's schedule (0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) with jitter, on a
//!   clock a test may scale, then the dead letter;
//! - [`vault`]: contact details and secrets sealed (AES-256-GCM) under a tenant's key,
//!   which is kept outside the log: deleting the key erases them (crypto-shredding).

#![forbid(unsafe_code)]

pub mod schedule;
pub mod vault;
pub mod webhook;

//! Sealing what must not be in the log in clear (webhook secrets, email addresses,
//! phone numbers) under a tenant's key: AES-256-GCM with a random nonce, the tenant as
//! associated data (a value sealed for one tenant does not open as another's). The key
//! is kept outside the log; deleting it erases every value sealed under it, while the
//! events that carry them stay (crypto-shredding).
//!
//! A sealed value is text: `v1.` + base64 of nonce, ciphertext and tag.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The key's length in bytes.
pub const KEY_BYTES: usize = 32;
const PREFIX: &str = "v1.";

/// Why a value does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// Not a sealed value.
    #[error("not a sealed value (v1.<base64>)")]
    Malformed,
    /// The wrong key or tenant, or the value was changed.
    #[error("the value does not open with this tenant's key")]
    Refused,
    /// A key that is not 32 bytes.
    #[error("a tenant key is {KEY_BYTES} bytes, not {0}")]
    KeyLength(usize),
}

/// A tenant's key. Its bytes never print.
#[derive(Clone, PartialEq, Eq)]
pub struct TenantKey([u8; KEY_BYTES]);

impl std::fmt::Debug for TenantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenantKey(…)")
    }
}

impl TenantKey {
    /// A new random key.
    pub fn generate() -> TenantKey {
        let mut bytes = [0; KEY_BYTES];
        SystemRandom::new().fill(&mut bytes).expect("the system's randomness");
        TenantKey(bytes)
    }

    /// From its bytes (as kept in the key store).
    pub fn from_bytes(bytes: &[u8]) -> Result<TenantKey, VaultError> {
        <[u8; KEY_BYTES]>::try_from(bytes).map(TenantKey).map_err(|_| VaultError::KeyLength(bytes.len()))
    }

    /// Its bytes, for the key store.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).expect("a 32-byte key"))
    }

    /// `plain` sealed for `tenant`.
    pub fn seal(&self, tenant: &str, plain: &[u8]) -> String {
        let mut nonce = [0; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).expect("the system's randomness");
        let mut sealed = plain.to_vec();
        self.aead()
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(tenant.as_bytes()), &mut sealed)
            .expect("sealing a short value");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{PREFIX}{}", STANDARD_NO_PAD.encode(out))
    }

    /// The value `sealed` for `tenant`, opened.
    pub fn open(&self, tenant: &str, sealed: &str) -> Result<Vec<u8>, VaultError> {
        let body = sealed.strip_prefix(PREFIX).ok_or(VaultError::Malformed)?;
        let mut bytes = STANDARD_NO_PAD.decode(body).map_err(|_| VaultError::Malformed)?;
        if bytes.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(VaultError::Malformed);
        }
        let mut in_out = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| VaultError::Malformed)?;
        let plain = self
            .aead()
            .open_in_place(nonce, Aad::from(tenant.as_bytes()), &mut in_out)
            .map_err(|_| VaultError::Refused)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_for_its_tenant_and_key_only() {
        let key = TenantKey::generate();
        let sealed = key.seal("acme", b"ops@acme.example");
        assert!(!sealed.contains("acme.example"));
        assert_eq!(key.open("acme", &sealed).as_deref(), Ok(&b"ops@acme.example"[..]));
        assert_ne!(key.seal("acme", b"ops@acme.example"), sealed, "a fresh nonce each time");
        assert_eq!(key.open("globex", &sealed), Err(VaultError::Refused));
        assert_eq!(TenantKey::generate().open("acme", &sealed), Err(VaultError::Refused), "the key erased: gone");
        // One character in the middle changed (the last may carry padding bits only).
        let mut changed: Vec<char> = sealed.chars().collect();
        changed[20] = if changed[20] == 'A' { 'B' } else { 'A' };
        let changed: String = changed.into_iter().collect();
        assert_eq!(key.open("acme", &changed), Err(VaultError::Refused));
        assert_eq!(key.open("acme", "ops@acme.example"), Err(VaultError::Malformed));
        assert_eq!(TenantKey::from_bytes(key.bytes()), Ok(key));
        assert_eq!(TenantKey::from_bytes(&[0; 7]), Err(VaultError::KeyLength(7)));
    }
}

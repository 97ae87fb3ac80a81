//! Stateless nonces: HMAC-signed timestamps that every node holding the key can check.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::AuthError;

/// Domain separation for the nonce MAC, so the key cannot be abused to sign
/// anything else.
const NONCE_DOMAIN: &[u8] = b"hotline-sip digest nonce v1\0";
/// How far in the future a nonce timestamp may be (clock skew between nodes).
const MAX_CLOCK_SKEW_SECS: u64 = 60;

/// Secret for stateless nonces (RFC 7616 §3.3 suggests a time stamp plus a
/// keyed hash of it). A nonce is `hex(timestamp ‖ 8 random bytes) "."
/// hex(HMAC-SHA256(key, …)[..16])`, so nodes holding the same key verify each
/// other's nonces without shared state. `Debug` does not print the secret.
#[derive(Clone)]
pub struct NonceKey([u8; 32]);

impl fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NonceKey(..)")
    }
}

/// What [`NonceKey::check`] found out about a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceStatus {
    /// Issued by a node with this key and younger than the maximum age.
    Valid,
    /// Genuine but too old: re-challenge with `stale=true` (RFC 7616 §3.3).
    Stale,
    /// Forged, garbled, from another key, or implausibly far in the future.
    Invalid,
}

impl NonceKey {
    /// A fresh random key, for a single node (nonces die with the process).
    pub fn random() -> Result<Self, AuthError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|_| AuthError::Rng)?;
        Ok(Self(key))
    }

    /// A key from configuration, shared by all nodes of a cluster.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, body: &[u8; 16]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC accepts keys of any length");
        mac.update(NONCE_DOMAIN);
        mac.update(body);
        mac
    }

    /// Issues a nonce stamped with `now_secs` (e.g. UNIX seconds). Eight
    /// random bytes make nonces issued in the same second differ.
    ///
    /// # Panics
    /// If the OS random number generator fails.
    pub fn issue(&self, now_secs: u64) -> String {
        let mut body = [0u8; 16];
        body[..8].copy_from_slice(&now_secs.to_be_bytes());
        getrandom::fill(&mut body[8..]).expect("OS random number generator failed");
        let tag = self.mac(&body).finalize().into_bytes();
        format!("{}.{}", hex::encode(body), hex::encode(&tag[..16]))
    }

    /// Checks a nonce's MAC (in constant time) and its age against `now_secs`.
    pub fn check(&self, nonce: &str, now_secs: u64, max_age_secs: u64) -> NonceStatus {
        let (mut body, mut tag) = ([0u8; 16], [0u8; 16]);
        let Some((body_hex, tag_hex)) = nonce.split_once('.') else {
            return NonceStatus::Invalid;
        };
        if hex::decode_to_slice(body_hex, &mut body).is_err()
            || hex::decode_to_slice(tag_hex, &mut tag).is_err()
            || self.mac(&body).verify_truncated_left(&tag).is_err()
        {
            return NonceStatus::Invalid;
        }
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&body[..8]);
        let issued = u64::from_be_bytes(ts);
        if issued > now_secs.saturating_add(MAX_CLOCK_SKEW_SECS) {
            NonceStatus::Invalid
        } else if now_secs.saturating_sub(issued) > max_age_secs {
            NonceStatus::Stale
        } else {
            NonceStatus::Valid
        }
    }
}

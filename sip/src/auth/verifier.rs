//! The whole UAS-side check of a request's credentials and the verdict it leads to.

use super::{
    Algorithm, AuthError, Credentials, NonceKey, NonceStatus, challenge, expected_response,
};

/// Equality whose running time depends only on the lengths, so a response
/// cannot be guessed byte by byte from timing.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && std::hint::black_box(a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y))) == 0
}

/// Outcome of [`Verifier::verify`], mapped to what the server does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Authenticated.
    Ok,
    /// Password right, nonce expired or unknown (e.g. a node restarted with a
    /// new random key): re-challenge with `stale=true`; not a failure.
    Stale,
    /// The response does not match: 401 again, and count a failure.
    BadPassword,
    /// Unusable credentials (wrong realm, unsupported qop…): re-challenge
    /// without counting a failure, since no password was tested.
    Malformed(AuthError),
}

/// The whole UAS-side check (RFC 3261 §22.4, RFC 7616 §3.4): realm, response,
/// then nonce. The response is checked first so that only a client that knows
/// the password is told `stale` (RFC 7616 §3.3). Nonce replay within the
/// nonce lifetime is not detected (stateless nonces, RFC 7616 §5.5), and
/// `creds.uri` is not compared with the Request-URI; the caller may do so.
#[derive(Debug, Clone)]
pub struct Verifier {
    key: NonceKey,
    realm: String,
    nonce_max_age_secs: u64,
}

impl Verifier {
    /// A verifier for `realm` whose nonces go stale after `nonce_max_age_secs`.
    pub fn new(key: NonceKey, realm: impl Into<String>, nonce_max_age_secs: u64) -> Self {
        Self {
            key,
            realm: realm.into(),
            nonce_max_age_secs,
        }
    }

    /// The realm challenged for; HA1 lookups use it.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The `WWW-Authenticate` values of a 401, one header per algorithm (RFC 8760 §2.3),
    /// sharing one fresh nonce, in the order given. RFC 8760 prefers SHA-256 first, but many
    /// deployed phones (and SIPp 3.6) read only the first challenge and know only MD5, so the
    /// registrar decides the order.
    pub fn challenges(&self, now_secs: u64, stale: bool, order: [Algorithm; 2]) -> [String; 2] {
        let nonce = self.key.issue(now_secs);
        order.map(|a| challenge(&self.realm, a, &nonce, None, stale))
    }

    /// Verifies `creds` for a request with `method`, given the stored HA1 for
    /// `(creds.username, creds.realm, creds.algorithm)`. For unknown users
    /// call it with a random HA1 and treat the result as `BadPassword`, so
    /// that unknown and known accounts look alike.
    pub fn verify(
        &self,
        creds: &Credentials,
        method: &str,
        ha1_for_alg: &str,
        now_secs: u64,
    ) -> Verdict {
        if creds.realm != self.realm {
            return Verdict::Malformed(AuthError::WrongRealm);
        }
        let expected = match expected_response(creds.algorithm, ha1_for_alg, method, creds) {
            Ok(e) => e,
            Err(e) => return Verdict::Malformed(e),
        };
        let got = creds.response.to_ascii_lowercase();
        if !ct_eq(expected.as_bytes(), got.as_bytes()) {
            return Verdict::BadPassword;
        }
        let max_age = self.nonce_max_age_secs;
        match self.key.check(&creds.nonce, now_secs, max_age) {
            NonceStatus::Valid => Verdict::Ok,
            NonceStatus::Stale | NonceStatus::Invalid => Verdict::Stale,
        }
    }
}

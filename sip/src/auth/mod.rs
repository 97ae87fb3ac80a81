//! HTTP Digest authentication for SIP, server side: RFC 3261 §22 as updated by
//! RFC 8760 (SHA-256, mandatory `qop`), with the computations of RFC 7616.
//!
//! Sans-IO: nothing here reads a clock, a socket or the account store. The
//! caller passes the time in and looks up the stored HA1. A typical UAS flow:
//!
//! 1. Request without credentials: answer 401 with [`Verifier::challenges`]
//!    (one `WWW-Authenticate` per algorithm, RFC 8760 §2.3).
//! 2. Request with credentials: [`FailureThrottle::is_blocked`] → 403 at once;
//!    otherwise [`parse_credentials`], look up HA1 for `(username, realm,
//!    algorithm)`, then [`Verifier::verify`] and act on the [`Verdict`].
//!
//! Nonces are stateless (HMAC-signed timestamps), so nodes sharing a
//! [`NonceKey`] accept each other's nonces. The price is that a captured
//! request can be replayed until its nonce goes stale (RFC 7616 §5.5), so keep
//! the nonce lifetime short (a few minutes) and run SIP over TLS where possible.

mod credentials;
mod digest;
mod nonce;
mod params;
mod throttle;
mod verifier;

use std::fmt;
use std::str::FromStr;

use md5::Md5;
use sha2::{Digest, Sha256};

pub use credentials::{Credentials, parse_credentials};
pub use digest::{answer_challenge, challenge, expected_response, ha1};
pub use nonce::{NonceKey, NonceStatus};
pub use throttle::{DEFAULT_MAX_ENTRIES, FailureThrottle};
pub use verifier::{Verdict, Verifier};

/// Why a Digest header could not be used. Variants carry at most the name of
/// the offending parameter, never header contents, so errors can be logged
/// without leaking user names, nonces or responses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The scheme is not `Digest` (e.g. `Basic`, which SIP forbids, RFC 3261 §22.1).
    #[error("authentication scheme is not Digest")]
    NotDigest,
    /// The parameter list does not follow the auth-param grammar (RFC 7616 §3.4).
    #[error("malformed Digest parameter list")]
    Syntax,
    /// A parameter required by RFC 7616 §3.4 is absent.
    #[error("missing Digest parameter `{0}`")]
    MissingParam(&'static str),
    /// A known parameter appears twice; ambiguous input is rejected outright.
    #[error("duplicate Digest parameter `{0}`")]
    DuplicateParam(&'static str),
    /// A parameter is present but its value is not acceptable.
    #[error("invalid value for Digest parameter `{0}`")]
    InvalidParam(&'static str),
    /// `algorithm` names something other than MD5 or SHA-256 (including the
    /// `-sess` variants, which SIP deployments do not use).
    #[error("unsupported Digest algorithm")]
    UnsupportedAlgorithm,
    /// `qop` is not `auth` (`auth-int` is not supported).
    #[error("unsupported qop (only `auth` is supported)")]
    UnsupportedQop,
    /// The credentials were computed for another realm than ours.
    #[error("credentials are for another realm")]
    WrongRealm,
    /// The operating system's random number generator failed.
    #[error("OS random number generator failed")]
    Rng,
}

/// Digest hash algorithm (RFC 7616 §3.3 `algorithm`, RFC 8760 §2.1). SHA-256 is preferred;
/// MD5 remains for phones that know nothing else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5`, the default when `algorithm` is absent (RFC 7616 §3.3).
    #[default]
    Md5,
    /// `SHA-256`.
    Sha256,
}

impl Algorithm {
    /// The token used in the `algorithm` parameter.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// Length of a digest in lowercase hex (RFC 8760 §2.2).
    const fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha256 => 64,
        }
    }

    /// `H(p1:p2:...)` as lowercase hex.
    fn hash(self, parts: &[&str]) -> String {
        let data = parts.join(":");
        match self {
            Algorithm::Md5 => hex::encode(Md5::digest(data)),
            Algorithm::Sha256 => hex::encode(Sha256::digest(data)),
        }
    }
}

impl FromStr for Algorithm {
    type Err = AuthError;
    /// Case-insensitive, as the algorithm token is (RFC 7616 §3.3).
    fn from_str(s: &str) -> Result<Self, AuthError> {
        [Algorithm::Md5, Algorithm::Sha256]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or(AuthError::UnsupportedAlgorithm)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;

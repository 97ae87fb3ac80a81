//! The client's `Authorization` / `Proxy-Authorization` value: parsing it and writing it back.

use std::fmt;

use super::params::{Quoted, algorithm_param, param, parse_params};
use super::{Algorithm, AuthError};

/// A parsed `Authorization` / `Proxy-Authorization` value (RFC 7616 §3.4,
/// RFC 3261 §22.2/§22.3). `Display` renders it back as a header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Account name; selects the stored HA1.
    pub username: String,
    /// Protection space the client computed HA1 for.
    pub realm: String,
    /// The server nonce being answered.
    pub nonce: String,
    /// The `digest-uri`, hashed into HA2 (normally the Request-URI).
    pub uri: String,
    /// The client's response, lowercase hex of the algorithm's length.
    pub response: String,
    /// Hash algorithm; MD5 when the parameter is absent.
    pub algorithm: Algorithm,
    /// Client nonce; required with `qop`.
    pub cnonce: Option<String>,
    /// Opaque value echoed from the challenge.
    pub opaque: Option<String>,
    /// Quality of protection; only `auth` is accepted. `None` is RFC 2069 mode.
    pub qop: Option<String>,
    /// Nonce count, 8 hex digits; required with `qop`.
    pub nc: Option<String>,
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Digest username={}, realm={}, nonce={}, uri={}, response={}, algorithm={}",
            Quoted(&self.username),
            Quoted(&self.realm),
            Quoted(&self.nonce),
            Quoted(&self.uri),
            Quoted(&self.response),
            self.algorithm
        )?;
        if let Some(c) = &self.cnonce {
            write!(f, ", cnonce={}", Quoted(c))?;
        }
        if let Some(q) = &self.qop {
            write!(f, ", qop={q}")?;
        }
        if let Some(nc) = &self.nc {
            write!(f, ", nc={nc}")?;
        }
        if let Some(o) = &self.opaque {
            write!(f, ", opaque={}", Quoted(o))?;
        }
        Ok(())
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parses an `Authorization` / `Proxy-Authorization` header value (RFC 7616
/// §3.4) and checks what can be checked without the account: required
/// parameters, algorithm, `qop=auth` with its `cnonce` and `nc`, and the
/// shape of `nc` and `response`. `userhash` (§3.4.4) is not supported.
pub fn parse_credentials(header_value: &str) -> Result<Credentials, AuthError> {
    let p = parse_params(header_value)?;
    let need = |name| param(&p, name)?.ok_or(AuthError::MissingParam(name));
    let c = Credentials {
        username: need("username")?,
        realm: need("realm")?,
        nonce: need("nonce")?,
        uri: need("uri")?,
        response: need("response")?.to_ascii_lowercase(),
        algorithm: algorithm_param(&p)?,
        cnonce: param(&p, "cnonce")?,
        opaque: param(&p, "opaque")?,
        qop: param(&p, "qop")?,
        nc: param(&p, "nc")?,
    };
    if !is_hex(&c.response, c.algorithm.hex_len()) {
        return Err(AuthError::InvalidParam("response"));
    }
    if c.nc.as_deref().is_some_and(|nc| !is_hex(nc, 8)) {
        return Err(AuthError::InvalidParam("nc"));
    }
    match c.qop.as_deref() {
        Some(q) if !q.eq_ignore_ascii_case("auth") => Err(AuthError::UnsupportedQop),
        Some(_) if c.cnonce.is_none() => Err(AuthError::MissingParam("cnonce")),
        Some(_) if c.nc.is_none() => Err(AuthError::MissingParam("nc")),
        _ => Ok(c),
    }
}

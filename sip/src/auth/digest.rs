//! The Digest computations (RFC 7616 §3.4): HA1 and the expected `response`, plus building a
//! challenge (server side) and answering one (client side).

use std::fmt::Write as _;

#[cfg(doc)]
use super::Verifier;
use super::params::{Quoted, algorithm_param, param, parse_params};
use super::{Algorithm, AuthError, Credentials};

/// HA1 = H(username:realm:password) (RFC 7616 §3.4.2), lowercase hex. The
/// account store keeps this, one per algorithm, instead of the password
/// (RFC 7616 §5.2); it is still password-equivalent for this realm.
pub fn ha1(alg: Algorithm, username: &str, realm: &str, password: &str) -> String {
    alg.hash(&[username, realm, password])
}

/// The `response` a client knowing `ha1_hex` must send (RFC 7616 §3.4.1):
/// `H(HA1:nonce:nc:cnonce:qop:HA2)` with `qop=auth`, or `H(HA1:nonce:HA2)` in
/// RFC 2069 mode (no `qop`), where HA2 = `H(method:uri)` (§3.4.3). `alg` must
/// equal `creds.algorithm`: it names the algorithm `ha1_hex` was made with.
pub fn expected_response(
    alg: Algorithm,
    ha1_hex: &str,
    method: &str,
    creds: &Credentials,
) -> Result<String, AuthError> {
    if alg != creds.algorithm {
        return Err(AuthError::InvalidParam("algorithm"));
    }
    let ha2 = alg.hash(&[method, &creds.uri]);
    let Some(qop) = creds.qop.as_deref() else {
        return Ok(alg.hash(&[ha1_hex, &creds.nonce, &ha2]));
    };
    if !qop.eq_ignore_ascii_case("auth") {
        return Err(AuthError::UnsupportedQop);
    }
    let missing = AuthError::MissingParam;
    let cnonce = creds.cnonce.as_deref().ok_or(missing("cnonce"))?;
    let nc = creds.nc.as_deref().ok_or(missing("nc"))?;
    Ok(alg.hash(&[ha1_hex, &creds.nonce, nc, cnonce, qop, &ha2]))
}

/// Builds one `WWW-Authenticate` / `Proxy-Authenticate` value (RFC 7616
/// §3.3). Always offers `qop="auth"`, which RFC 8760 §2 makes mandatory.
/// `stale=true` tells the client its password was right and only the nonce
/// expired, so it retries without prompting the user. To offer several
/// algorithms send one header per algorithm, SHA-256 first (RFC 8760 §2.3);
/// [`Verifier::challenges`] does that.
pub fn challenge(
    realm: &str,
    alg: Algorithm,
    nonce: &str,
    opaque: Option<&str>,
    stale: bool,
) -> String {
    let mut s = format!(
        "Digest realm={}, nonce={}, algorithm={alg}, qop=\"auth\"",
        Quoted(realm),
        Quoted(nonce)
    );
    if stale {
        s.push_str(", stale=true");
    }
    if let Some(o) = opaque {
        let _ = write!(s, ", opaque={}", Quoted(o));
    }
    s
}

/// Client side (outgoing requests, tests): answers one `WWW-Authenticate` /
/// `Proxy-Authenticate` value with an `Authorization` value (RFC 7616 §3.4).
/// Uses `qop=auth` when offered and RFC 2069 mode when no `qop` is offered.
/// `nc` counts the requests made with this nonce, starting at 1.
pub fn answer_challenge(
    www_authenticate: &str,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> Result<String, AuthError> {
    for (name, v) in [("username", username), ("uri", uri), ("cnonce", cnonce)] {
        if v.chars().any(char::is_control) {
            return Err(AuthError::InvalidParam(name));
        }
    }
    let p = parse_params(www_authenticate)?;
    let offers_auth = |l: &str| l.split(',').any(|q| q.trim().eq_ignore_ascii_case("auth"));
    let with_qop = match param(&p, "qop")? {
        Some(list) if !offers_auth(&list) => return Err(AuthError::UnsupportedQop),
        offered => offered.is_some(),
    };
    let mut creds = Credentials {
        username: username.to_owned(),
        realm: param(&p, "realm")?.ok_or(AuthError::MissingParam("realm"))?,
        nonce: param(&p, "nonce")?.ok_or(AuthError::MissingParam("nonce"))?,
        uri: uri.to_owned(),
        response: String::new(),
        algorithm: algorithm_param(&p)?,
        cnonce: with_qop.then(|| cnonce.to_owned()),
        opaque: param(&p, "opaque")?,
        qop: with_qop.then(|| "auth".to_owned()),
        nc: with_qop.then(|| format!("{nc:08x}")),
    };
    let algorithm = creds.algorithm;
    let ha1 = ha1(algorithm, username, &creds.realm, password);
    creds.response = expected_response(algorithm, &ha1, method, &creds)?;
    Ok(creds.to_string())
}

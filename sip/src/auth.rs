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

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::str::FromStr;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

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

/// Renders a quoted-string, escaping `"` and `\` and dropping control
/// characters, so no value can break out of its parameter or the header line.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars().filter(|c| !c.is_control()) {
            if c == '"' || c == '\\' {
                f.write_char('\\')?;
            }
            f.write_char(c)?;
        }
        f.write_char('"')
    }
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// RFC 7230 `tchar`: the characters allowed in a parameter name.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Splits `Digest name=value, name="value", ...` into lowercase names and
/// unescaped values. Empty list elements are tolerated (RFC 7230 §7);
/// unquoted values run to the next comma or whitespace.
fn parse_params(input: &str) -> Result<Vec<(String, String)>, AuthError> {
    let s = input.trim_start_matches(is_ws);
    let mut rest = match s.get(..6) {
        Some(scheme) if scheme.eq_ignore_ascii_case("digest") => &s[6..],
        _ => return Err(AuthError::NotDigest),
    };
    if !rest.is_empty() && !rest.starts_with(is_ws) {
        return Err(AuthError::NotDigest);
    }
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c| is_ws(c) || c == ',');
        if rest.is_empty() {
            return Ok(out);
        }
        let name_len = rest.find(|c| !is_tchar(c)).unwrap_or(rest.len());
        let name = rest[..name_len].to_ascii_lowercase();
        rest = rest[name_len..].trim_start_matches(is_ws);
        rest = match rest.strip_prefix('=') {
            Some(r) if !name.is_empty() => r.trim_start_matches(is_ws),
            _ => return Err(AuthError::Syntax),
        };
        let mut value = String::new();
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next().ok_or(AuthError::Syntax)? {
                    (i, '"') => break i + 1,
                    (_, '\\') => value.push(chars.next().ok_or(AuthError::Syntax)?.1),
                    (_, c) => value.push(c),
                }
            };
            rest = &quoted[end..];
        } else {
            let len = rest.find(|c| is_ws(c) || c == ',' || c == '"');
            let (token, tail) = rest.split_at(len.unwrap_or(rest.len()));
            if token.is_empty() {
                return Err(AuthError::Syntax);
            }
            (value, rest) = (token.to_owned(), tail);
        }
        rest = rest.trim_start_matches(is_ws);
        if !rest.is_empty() && !rest.starts_with(',') {
            return Err(AuthError::Syntax);
        }
        out.push((name, value));
    }
}

/// The value of the known parameter `name`, rejecting duplicates (ambiguous
/// input). Parameters nobody asks for are thereby ignored.
fn param(params: &[(String, String)], name: &'static str) -> Result<Option<String>, AuthError> {
    let mut found = params.iter().filter(|(n, _)| n == name).map(|(_, v)| v);
    match (found.next(), found.next()) {
        (_, Some(_)) => Err(AuthError::DuplicateParam(name)),
        (v, None) => Ok(v.cloned()),
    }
}

fn algorithm_param(params: &[(String, String)]) -> Result<Algorithm, AuthError> {
    param(params, "algorithm")?.map_or(Ok(Algorithm::Md5), |a| a.parse())
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

/// Equality whose running time depends only on the lengths, so a response
/// cannot be guessed byte by byte from timing.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && std::hint::black_box(a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y))) == 0
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

/// Default cap on the number of sources [`FailureThrottle`] tracks.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// Minimum time between two sweeps of a full [`FailureThrottle`] table.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Per-source state: failures counted since `since`, or blocked since `since`.
#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    since: Instant,
    blocked: bool,
}

/// Counts failed authentications per source IP against online password
/// guessing (RFC 7616 §5.7): after `max_failures` within `window` (counted
/// from the first failure) the source is blocked for `block_for`, and a
/// blocked source gets 403 at once. Memory is bounded: expired entries are
/// dropped on access and by [`prune`](Self::prune), and the table is capped.
#[derive(Debug)]
pub struct FailureThrottle {
    max_failures: u32,
    window: Duration,
    block_for: Duration,
    max_entries: usize,
    entries: HashMap<IpAddr, Entry>,
    last_sweep: Option<Instant>,
}

impl FailureThrottle {
    /// A throttle with the [`DEFAULT_MAX_ENTRIES`] cap (`max_failures` ≥ 1).
    pub fn new(max_failures: u32, window: Duration, block_for: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            block_for,
            max_entries: DEFAULT_MAX_ENTRIES,
            entries: HashMap::new(),
            last_sweep: None,
        }
    }

    /// Changes the cap on tracked sources (at least 1).
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries.max(1);
        self
    }

    fn full(&self) -> bool {
        self.entries.len() >= self.max_entries
    }

    /// Whether `e` still matters at `now` (window or block not yet over).
    fn live(&self, e: &Entry, now: Instant) -> bool {
        let span = if e.blocked {
            self.block_for
        } else {
            self.window
        };
        now.saturating_duration_since(e.since) < span
    }

    /// Whether `ip` is blocked now; forgets its entry if that has expired.
    pub fn is_blocked(&mut self, ip: IpAddr, now: Instant) -> bool {
        match self.entries.get(&ip).copied() {
            Some(e) if self.live(&e, now) => e.blocked,
            Some(_) => {
                self.entries.remove(&ip);
                false
            }
            None => false,
        }
    }

    /// Counts a failure (a [`Verdict::BadPassword`]) from `ip`. Failures while
    /// blocked do not extend the block. When the table is full, a sweep
    /// (at most one per second, so a flood of new sources cannot make every
    /// call O(n)) drops expired entries, then sources that are merely
    /// counting; if no room is left the new source is not tracked.
    pub fn record_failure(&mut self, ip: IpAddr, now: Instant) {
        if !self.entries.contains_key(&ip) && self.full() {
            let due = |t: Instant| now.saturating_duration_since(t) >= SWEEP_INTERVAL;
            if self.last_sweep.is_none_or(due) {
                self.last_sweep = Some(now);
                self.prune(now);
                if self.full() {
                    self.entries.retain(|_, e| e.blocked);
                }
            }
            if self.full() {
                return;
            }
        }
        let fresh = Entry {
            failures: 0,
            since: now,
            blocked: false,
        };
        let mut e = self.entries.get(&ip).copied().unwrap_or(fresh);
        if !self.live(&e, now) {
            e = fresh;
        } else if e.blocked {
            return;
        }
        e.failures = e.failures.saturating_add(1);
        if e.failures >= self.max_failures {
            (e.blocked, e.since) = (true, now);
        }
        self.entries.insert(ip, e);
    }

    /// Clears the failure count of `ip` after a successful authentication.
    /// An active block stays (a blocked source should not have got this far).
    pub fn record_success(&mut self, ip: IpAddr) {
        if self.entries.get(&ip).is_some_and(|e| !e.blocked) {
            self.entries.remove(&ip);
        }
    }

    /// Drops every expired entry; call periodically to return memory.
    pub fn prune(&mut self, now: Instant) {
        let mut entries = std::mem::take(&mut self.entries);
        entries.retain(|_, e| self.live(e, now));
        self.entries = entries;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Algorithm::{Md5, Sha256};
    use AuthError as E;

    const SEC: Duration = Duration::from_secs(1);
    const RFC7616: &str = r#"Digest realm="http-auth@example.org", qop="auth, auth-int",
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe""#;
    const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    fn parse(hdr: &str) -> Result<Credentials, AuthError> {
        parse_credentials(hdr)
    }

    #[test]
    fn rfc2617_md5_vector() {
        let c = parse(
            r#"Digest username="Mufasa", realm="testrealm@host.com", qop=auth, nc=00000001,
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", cnonce="0a4f113b",
            response="6629fae49393a05397450978507c4ef1""#,
        );
        let h = ha1(Md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
        let r = expected_response(Md5, &h, "GET", &c.unwrap());
        assert_eq!(r.unwrap(), "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn rfc7616_vectors_server_and_client() {
        let sha = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1";
        let md5 = "8ca523f5e9506fed4657c9700eebdbec";
        for (alg, want) in [(Sha256, sha), (Md5, md5)] {
            let chal = format!("{RFC7616}, algorithm={alg}");
            let (user, pw) = ("Mufasa", "Circle of Life");
            let hdr = answer_challenge(&chal, "GET", "/dir/index.html", user, pw, CNONCE, 1);
            let c = parse(&hdr.unwrap()).unwrap();
            assert_eq!((c.algorithm, c.response.as_str()), (alg, want));
            let (nc, opaque) = (c.nc.as_deref(), c.opaque.as_deref());
            assert_eq!((nc, opaque), (Some("00000001"), Some("FQhe")));
            let h = ha1(alg, user, "http-auth@example.org", pw);
            assert_eq!(expected_response(alg, &h, "GET", &c).unwrap(), want);
        }
    }

    #[test]
    fn algorithm_names() {
        assert_eq!("sha-256".parse(), Ok(Sha256));
        assert_eq!("Md5".parse(), Ok(Md5));
        assert_eq!((Md5.as_str(), Sha256.as_str()), ("MD5", "SHA-256"));
        for bad in ["MD5-sess", "SHA-256-sess", "SHA-512-256", ""] {
            assert_eq!(bad.parse::<Algorithm>(), Err(E::UnsupportedAlgorithm));
        }
    }

    #[test]
    fn parse_quoting_whitespace_and_case() {
        let c = parse(
            "  dIgEsT\tUserName = \"a,b \\\"q\\\" \\\\ \\x é\" ,, REALM=\"r, s\",nonce=n1 ,\
             uri = \"sip:x@y;transport=tcp\", response=\"0123456789ABCDEF0123456789abcdef\", \
             foo=\"bar, \\\"baz\", bar=tok, Algorithm=md5, QOP=\"auth\", NC=0000000A, cnonce=c",
        );
        let c = c.unwrap();
        assert_eq!(c.username, "a,b \"q\" \\ x é");
        assert_eq!((c.realm.as_str(), c.nonce.as_str()), ("r, s", "n1"));
        assert_eq!(c.uri, "sip:x@y;transport=tcp");
        assert_eq!(c.response, "0123456789abcdef0123456789abcdef");
        assert_eq!(c.nc.as_deref(), Some("0000000A"));
        assert_eq!(parse(&c.to_string()).unwrap(), c, "Display round trip");
    }

    #[test]
    fn parse_missing_and_invalid_params() {
        let full = r#"Digest username="u", realm="r", nonce="n", uri="sip:a", qop=auth,
            nc=00000001, cnonce="c", response="0123456789abcdef0123456789abcdef""#;
        assert!(parse(full).is_ok());
        for name in [
            "username", "realm", "nonce", "uri", "response", "cnonce", "nc",
        ] {
            let hdr = full.replace(&format!(" {name}="), " x-other=");
            assert_eq!(parse(&hdr), Err(E::MissingParam(name)));
        }
        let cases = [
            ("qop=auth", "qop=auth-int", E::UnsupportedQop),
            ("nc=00000001", "nc=1", E::InvalidParam("nc")),
            (
                "auth,",
                "auth, algorithm=SHA-256,",
                E::InvalidParam("response"),
            ),
            (
                "auth,",
                "auth, algorithm=MD5-sess,",
                E::UnsupportedAlgorithm,
            ),
            (
                "nonce=\"n\"",
                "nonce=\"n\", Nonce=m",
                E::DuplicateParam("nonce"),
            ),
        ];
        for (from, to, err) in cases {
            assert_eq!(parse(&full.replace(from, to)), Err(err), "{to}");
        }
    }

    #[test]
    fn parse_garbage() {
        for hdr in [
            "",
            "Basic QWxhZGRpbjpvcGVu",
            "Digestusername=u",
            "Dig",
            "ééé",
        ] {
            assert_eq!(parse(hdr), Err(E::NotDigest), "{hdr}");
        }
        assert_eq!(parse("Digest"), Err(E::MissingParam("username")));
        let syntax = [
            "Digest username",
            "Digest username=",
            "Digest username=\"unterminated",
            "Digest username=\"trailing\\",
            "Digest username=a b=c",
            "Digest username=\"a\"x",
            "Digest =x",
            "Digest @=1",
        ];
        for hdr in syntax {
            assert_eq!(parse(hdr), Err(E::Syntax), "{hdr}");
        }
    }

    #[test]
    fn errors_carry_no_header_data() {
        let hdr = r#"Digest username="secret", realm="r", nonce="n", uri="u", response="zz""#;
        let err = parse(hdr).unwrap_err();
        assert_eq!(err, E::InvalidParam("response"));
        let text = format!("{err} {err:?}");
        assert!(!text.contains("secret") && !text.contains("zz"), "{text}");
    }

    #[test]
    fn nonce_valid_stale_tampered_wrong_key_garbage() {
        let key = NonceKey::from_bytes([7; 32]);
        let n = key.issue(1_000);
        assert_eq!(key.check(&n, 1_300, 300), NonceStatus::Valid);
        assert_eq!(key.check(&n, 1_301, 300), NonceStatus::Stale);
        assert_eq!(
            key.check(&n, 950, 300),
            NonceStatus::Valid,
            "small clock skew"
        );
        assert_eq!(
            key.check(&n, 900, 300),
            NonceStatus::Invalid,
            "from the future"
        );
        let other = NonceKey::from_bytes([8; 32]);
        assert_eq!(other.check(&n, 1_000, 300), NonceStatus::Invalid);
        let flip = if n.as_bytes()[15] == b'0' { "1" } else { "0" };
        let tampered = format!("{}{flip}{}", &n[..15], &n[16..]);
        let cut = &n[..n.len() - 2];
        let (long, no_dot) = (format!("{n}00"), n.replace('.', ""));
        for bad in ["", ".", "abc", "zz.zz", cut, &long, &no_dot, &tampered] {
            assert_eq!(key.check(bad, 1_000, 300), NonceStatus::Invalid, "{bad}");
        }
        assert_ne!(key.issue(1_000), key.issue(1_000), "same second, new nonce");
        assert_eq!(format!("{key:?}"), "NonceKey(..)");
        let random = NonceKey::random().unwrap();
        assert_eq!(random.check(&random.issue(5), 5, 1), NonceStatus::Valid);
    }

    #[test]
    fn challenge_format() {
        let c = challenge("hot\"line", Sha256, "abc", Some("o"), true);
        let want = r#"Digest realm="hot\"line", nonce="abc", algorithm=SHA-256, qop="auth""#;
        assert_eq!(c, format!("{want}, stale=true, opaque=\"o\""));
        let c = challenge("r\r\n", Md5, "abc", None, false);
        assert_eq!(
            c,
            want.replace("hot\\\"line", "r").replace("SHA-256", "MD5")
        );
    }

    fn login(chal: &str, method: &str, password: &str) -> Credentials {
        let uri = "sip:hotline.example";
        let hdr = answer_challenge(chal, method, uri, "lawyer1", password, "cn", 1);
        parse(&hdr.unwrap()).unwrap()
    }

    #[test]
    fn verifier_ok_wrong_password_stale() {
        let v = Verifier::new(NonceKey::from_bytes([1; 32]), "hotline", 300);
        let [sha, md5] = v.challenges(10_000, false, [Algorithm::Sha256, Algorithm::Md5]);
        for (chal, alg) in [(&sha, Sha256), (&md5, Md5)] {
            assert!(chal.contains(&format!("algorithm={alg},")));
            let stored = ha1(alg, "lawyer1", v.realm(), "pw");
            let good = login(chal, "REGISTER", "pw");
            let bad = login(chal, "REGISTER", "nope");
            let verify = |c, method, now| v.verify(c, method, &stored, now);
            assert_eq!(verify(&good, "REGISTER", 10_100), Verdict::Ok);
            assert_eq!(verify(&good, "INVITE", 10_100), Verdict::BadPassword);
            assert_eq!(verify(&bad, "REGISTER", 10_100), Verdict::BadPassword);
            assert_eq!(verify(&good, "REGISTER", 10_301), Verdict::Stale);
            assert_eq!(verify(&bad, "REGISTER", 10_301), Verdict::BadPassword);
        }
    }

    #[test]
    fn verifier_wrong_realm_forged_nonce_rfc2069() {
        let key = NonceKey::from_bytes([1; 32]);
        let v = Verifier::new(key.clone(), "hotline", 300);
        let stored = ha1(Md5, "lawyer1", "hotline", "pw");
        let verify = |c: &Credentials| v.verify(c, "BYE", &stored, 1);
        let other = challenge("other", Md5, &key.issue(0), None, false);
        let wrong_realm = Verdict::Malformed(E::WrongRealm);
        assert_eq!(verify(&login(&other, "BYE", "pw")), wrong_realm);
        let forged = NonceKey::from_bytes([2; 32]).issue(0);
        let chal = challenge("hotline", Md5, &forged, None, false);
        assert_eq!(verify(&login(&chal, "BYE", "pw")), Verdict::Stale);
        assert_eq!(verify(&login(&chal, "BYE", "x")), Verdict::BadPassword);
        let rfc2069 = format!("Digest realm=hotline, nonce=\"{}\"", key.issue(0));
        let c = login(&rfc2069, "BYE", "pw");
        assert_eq!((&c.qop, &c.cnonce, &c.nc), (&None, &None, &None));
        assert_eq!(verify(&c), Verdict::Ok, "RFC 2069 mode");
        let only_int = "Digest realm=\"hotline\", nonce=\"n\", qop=\"auth-int\"";
        let r = answer_challenge(only_int, "BYE", "sip:h", "u", "p", "c", 1);
        assert_eq!(r, Err(E::UnsupportedQop));
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn throttle_blocks_then_unblocks() {
        let t0 = Instant::now();
        let mut t = FailureThrottle::new(3, 60 * SEC, 300 * SEC);
        for i in 0..3 {
            assert!(!t.is_blocked(ip(1), t0 + i * SEC));
            t.record_failure(ip(1), t0 + i * SEC);
        }
        assert!(t.is_blocked(ip(1), t0 + 2 * SEC));
        assert!(!t.is_blocked(ip(2), t0 + 2 * SEC));
        t.record_failure(ip(1), t0 + 200 * SEC);
        assert!(t.is_blocked(ip(1), t0 + 301 * SEC), "block not extended");
        assert!(!t.is_blocked(ip(1), t0 + 302 * SEC));
        assert!(t.entries.is_empty(), "expired entry forgotten on access");
        t.record_failure(ip(1), t0 + 303 * SEC);
        assert!(!t.is_blocked(ip(1), t0 + 303 * SEC), "count restarts");
    }

    #[test]
    fn throttle_window_and_success() {
        let t0 = Instant::now();
        let mut t = FailureThrottle::new(3, 60 * SEC, 300 * SEC);
        for s in [0, 1, 61, 62] {
            t.record_failure(ip(1), t0 + s * SEC);
        }
        assert!(
            !t.is_blocked(ip(1), t0 + 62 * SEC),
            "old failures forgotten"
        );
        t.record_success(ip(1));
        for s in [63, 64] {
            t.record_failure(ip(1), t0 + s * SEC);
        }
        assert!(!t.is_blocked(ip(1), t0 + 64 * SEC), "success cleared count");
        t.record_failure(ip(1), t0 + 65 * SEC);
        t.record_success(ip(1));
        assert!(t.is_blocked(ip(1), t0 + 66 * SEC), "success keeps a block");
        t.prune(t0 + 1_000 * SEC);
        assert!(t.entries.is_empty());
    }

    #[test]
    fn throttle_memory_cap() {
        let t0 = Instant::now();
        let mut t = FailureThrottle::new(2, 60 * SEC, 300 * SEC).with_max_entries(3);
        for n in 0..50 {
            t.record_failure(ip(n), t0);
            assert!(t.entries.len() <= 3);
        }
        let mut t = FailureThrottle::new(1, 60 * SEC, 300 * SEC).with_max_entries(2);
        for n in 1..=3 {
            t.record_failure(ip(n), t0);
        }
        assert!(
            t.is_blocked(ip(1), t0) && t.is_blocked(ip(2), t0),
            "blocks kept"
        );
        assert!(!t.is_blocked(ip(3), t0), "table full of blocked sources");
        t.record_failure(ip(3), t0 + 400 * SEC);
        assert_eq!(t.entries.len(), 1, "expired blocks pruned to make room");
        assert!(t.is_blocked(ip(3), t0 + 400 * SEC));
    }
}

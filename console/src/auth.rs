//! Logging in, sessions and the guard every `/api` request passes. The guard looks the
//! matched route up in [`crate::routes::ROUTES`], refuses a missing session (401), a role the
//! route does not list (403) and a state-changing request without the session's CSRF token
//! (403); handlers then read the [`Auth`] it leaves in the request for their scope checks.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hotline_cases::{ConsoleUser, Role, unix_now_ms};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiJson, ApiResult};
use crate::{AppState, routes};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "hotline_session";
/// Sessions end after this long without a request.
pub const SESSION_IDLE_MS: i64 = 12 * 3_600_000;
/// Login attempts per username per minute before 429 (a success clears the count).
const MAX_FAILURES: usize = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&bytes).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random 256-bit token, hex.
fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the OS random source");
    hex::encode(b)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The logged-in user of a request, put there by [`guard`].
#[derive(Debug, Clone)]
pub struct Auth {
    /// The user.
    pub user: ConsoleUser,
    /// The session's CSRF token.
    pub csrf: String,
    /// The session token's hash (for logout).
    token_hash: String,
}

impl Auth {
    /// The user's role.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// The roster lawyer id of a lawyer user; a lawyer account without one can do nothing.
    pub fn lawyer_id(&self) -> ApiResult<&str> {
        self.user
            .lawyer_id
            .as_deref()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| ApiError::Forbidden("this account is not linked to a lawyer".into()))
    }

    /// An [`Auth`] without a session, for unit tests of handlers' helpers.
    #[cfg(test)]
    pub fn for_test(user: ConsoleUser) -> Auth {
        Auth {
            user,
            csrf: String::new(),
            token_hash: String::new(),
        }
    }

    /// Whether the session still exists (a long-lived WebSocket re-checks after logout).
    pub async fn still_valid(&self, state: &AppState) -> bool {
        matches!(
            state
                .store
                .session(&self.token_hash, unix_now_ms(), SESSION_IDLE_MS)
                .await,
            Ok(Some(_))
        )
    }

    /// Whether the user acts as supervisor or admin.
    pub fn is_supervisor(&self) -> bool {
        matches!(self.user.role, Role::Supervisor | Role::Admin)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Auth>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("not logged in".into()))
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE_NAME)
        .map(|(_, v)| v.to_owned())
}

/// The middleware of every `/api` route (see the module docs).
pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match check(&state, &mut req).await {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, req: &mut Request) -> ApiResult<()> {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let Some(rule) = routes::find(req.method().as_str(), &path) else {
        // A route without a rule is a bug; refuse rather than serve it unguarded.
        return Err(ApiError::Forbidden(format!("no access rule for {path}")));
    };
    if rule.roles.is_empty() {
        return Ok(());
    }
    let token = cookie_token(req.headers())
        .ok_or_else(|| ApiError::Unauthorized("not logged in".into()))?;
    let hash = token_hash(&token);
    let (session, user) = state
        .store
        .session(&hash, unix_now_ms(), SESSION_IDLE_MS)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("session expired; log in again".into()))?;
    if !rule.roles.contains(&user.role) {
        return Err(ApiError::Forbidden(format!(
            "the {} role may not use {} {}",
            user.role, rule.method, rule.path
        )));
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
            return Err(ApiError::Forbidden("missing or wrong X-CSRF-Token".into()));
        }
    }
    req.extensions_mut().insert(Auth {
        user,
        csrf: session.csrf_token,
        token_hash: hash,
    });
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Failed logins per username, for the 5-per-minute limit (per node).
#[derive(Debug, Default)]
pub struct LoginLimiter(std::sync::Mutex<HashMap<String, Vec<Instant>>>);

impl LoginLimiter {
    /// Counts one login attempt for `user` and says whether it may go ahead: refused once
    /// [`MAX_FAILURES`] attempts are in the window. Checking and counting under one lock,
    /// before the password is verified, means concurrent guesses cannot all slip past the
    /// check while the (slow) verifications run; a successful login [`clear`](Self::clear)s.
    fn attempt(&self, user: &str) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.retain(|_, v| {
            v.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
            !v.is_empty()
        });
        let tries = map.entry(user.to_owned()).or_default();
        if tries.len() >= MAX_FAILURES {
            return false;
        }
        tries.push(now);
        true
    }

    /// Forgets `user`'s attempts after a successful login.
    fn clear(&self, user: &str) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(user);
    }
}

/// Password verifications allowed at once. Argon2 takes tens of milliseconds of CPU and
/// memory each; the runtime's workers also carry SIP signalling, so verification runs on the
/// blocking pool and a login flood queues here instead of occupying every core.
pub(crate) const VERIFY_PERMITS: usize = 2;

/// Verifies `password` against `phc` (or the dummy hash for an unknown user, so timing does
/// not tell them apart) on the blocking pool, at most [`VERIFY_PERMITS`] at a time.
async fn verify_off_runtime(
    state: &AppState,
    password: String,
    phc: Option<String>,
) -> ApiResult<bool> {
    let permit = state
        .login_verify
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        // The permit moves in so it is held until the hash is done, even when the client
        // hangs up and the request future is dropped.
        let _permit = permit;
        match phc {
            Some(phc) => verify_password(&password, &phc),
            None => {
                let _ = verify_password(&password, dummy_hash());
                false
            }
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("password check: {e}")))
}

/// Login request.
#[derive(Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
}

/// What login and `/api/me` answer.
#[derive(Serialize)]
pub struct MeBody {
    username: String,
    name: String,
    role: &'static str,
    lawyer_id: Option<String>,
    region: String,
    lang: String,
    csrf_token: String,
}

fn me_body(u: &ConsoleUser, csrf: &str) -> MeBody {
    MeBody {
        username: u.username.clone(),
        name: u.name.clone(),
        role: u.role.as_str(),
        lawyer_id: u.lawyer_id.clone(),
        region: u.region.clone(),
        lang: u.lang.clone(),
        csrf_token: csrf.to_owned(),
    }
}

/// `POST /api/login`.
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Response> {
    let name = body.username.trim().to_owned();
    if !state.limiter.attempt(&name) {
        return Err(ApiError::TooMany(
            "too many failed logins; wait a minute".into(),
        ));
    }
    let user = state.store.user(&name).await?;
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let ok = verify_off_runtime(&state, body.password, phc).await?;
    let Some(user) = user.filter(|_| ok) else {
        tracing::info!(username = %name, "console login refused");
        return Err(ApiError::Unauthorized("wrong username or password".into()));
    };
    state.limiter.clear(&name);
    let token = random_token();
    let csrf = random_token();
    state
        .store
        .create_session(
            &token_hash(&token),
            &user.username,
            &csrf,
            unix_now_ms(),
            SESSION_IDLE_MS,
        )
        .await?;
    tracing::info!(username = %user.username, role = %user.role, "console login");
    let secure = if state.settings.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    // A browser-session cookie: the store ends the session after 12 h idle (a fixed Max-Age
    // would log out a lawyer who is active at the 12th hour).
    let cookie = format!("{COOKIE_NAME}={token}; HttpOnly; SameSite=Strict; Path=/{secure}");
    let mut resp = Json(me_body(&user, &csrf)).into_response();
    resp.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(resp)
}

fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not a password").unwrap_or_default())
}

/// `POST /api/logout`.
pub async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<Response> {
    state.store.delete_session(&auth.token_hash).await?;
    let secure = if state.settings.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!("{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}");
    let mut resp = Json(serde_json::json!({ "ok": true })).into_response();
    resp.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(resp)
}

/// `GET /api/me`.
pub async fn me(auth: Auth) -> Json<MeBody> {
    Json(me_body(&auth.user, &auth.csrf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("s3cret words").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("s3cret words", &h));
        assert!(!verify_password("s3cret word", &h));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(h, hash_password("s3cret words").unwrap(), "salted");
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; hotline_session=abc; b=2"),
        );
        assert_eq!(cookie_token(&h).as_deref(), Some("abc"));
    }
}

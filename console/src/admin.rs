//! Administration: console users and the duty roster. A roster edit is checked exactly like
//! `hotline dialplan check` (the dialplan loaded from a temporary copy of its directory with
//! the new roster.toml) and only then replaces the file atomically; the running hotline picks
//! it up with its usual hot reload.

use std::path::{Path, PathBuf};

use axum::Json;
use axum::extract::{Path as UrlPath, State};
use hotline_cases::{ConsoleUser, Role, unix_now_ms};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::{Auth, hash_password};
use crate::error::{ApiError, ApiJson, ApiResult};

/// Shortest password accepted for a console user.
pub const MIN_PASSWORD_LEN: usize = 10;

fn user_json(u: &ConsoleUser) -> Value {
    json!({ "username": u.username, "role": u.role.as_str(), "lawyer_id": u.lawyer_id,
            "region": u.region, "name": u.name, "lang": u.lang, "created_at": u.created_at })
}

/// `GET /api/users`.
pub async fn users(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let list: Vec<Value> = s.store.users().await?.iter().map(user_json).collect();
    Ok(Json(json!({ "users": list })))
}

/// A user to create (API and `hotline user add`).
#[derive(Debug, Deserialize)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Plain password (hashed here, never stored).
    pub password: String,
    /// `lawyer`, `supervisor` or `admin`.
    pub role: String,
    /// Roster lawyer id (required for lawyers).
    pub lawyer_id: Option<String>,
    /// Supervisor scope region.
    pub region: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// `zh` or `en`.
    pub lang: Option<String>,
}

/// Checks a new user against the dialplan (lawyer on the roster, region in the hierarchy)
/// and hashes its password: the one path for the API and the command line.
pub fn prepare_user(u: NewUser, plan: &hotline_ivr::Dialplan) -> Result<ConsoleUser, String> {
    let role: Role = u
        .role
        .parse()
        .map_err(|_| format!("unknown role {:?} (lawyer, supervisor, admin)", u.role))?;
    let username = u.username.trim().to_owned();
    if username.is_empty() || username.len() > 64 || username.chars().any(char::is_whitespace) {
        return Err("username must be 1 to 64 characters without spaces".into());
    }
    if u.password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!(
            "password must have at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    let lawyer_id = u
        .lawyer_id
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    match (&lawyer_id, role) {
        (None, Role::Lawyer) => return Err("a lawyer user needs --lawyer (roster id)".into()),
        (Some(l), _)
            if plan
                .roster
                .lawyer(&hotline_ivr::LawyerId::new(l.clone()))
                .is_none() =>
        {
            return Err(format!("no lawyer {l:?} in roster.toml"));
        }
        _ => {}
    }
    let region = u.region.map(|r| r.trim().to_owned()).unwrap_or_default();
    if !region.is_empty()
        && !plan
            .hierarchy
            .contains(&hotline_ivr::RegionId::new(region.clone()))
    {
        return Err(format!("no region {region:?} in hierarchy.toml"));
    }
    let lang = u.lang.unwrap_or_else(|| "zh".into());
    if !matches!(lang.as_str(), "zh" | "en") {
        return Err(format!("language {lang:?} (zh or en)"));
    }
    let name = match u.name.filter(|n| !n.trim().is_empty()) {
        Some(n) => n.trim().to_owned(),
        None => lawyer_id
            .as_ref()
            .and_then(|l| plan.roster.lawyer(&hotline_ivr::LawyerId::new(l.clone())))
            .map(|l| l.name.clone())
            .unwrap_or_else(|| username.clone()),
    };
    Ok(ConsoleUser {
        password_hash: hash_password(&u.password)?,
        username,
        role,
        lawyer_id,
        region,
        name,
        lang,
        created_at: unix_now_ms(),
    })
}

/// `POST /api/users`.
pub async fn add_user(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(u): ApiJson<NewUser>,
) -> ApiResult<Json<Value>> {
    let plan = s.center.plan();
    let user = tokio::task::spawn_blocking(move || prepare_user(u, &plan))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::BadRequest)?;
    s.store.create_user(&user).await?;
    tracing::info!(by = %auth.user.username, username = %user.username, role = %user.role, "console user added");
    Ok(Json(user_json(&user)))
}

/// `DELETE /api/users/{username}`; an admin cannot delete themselves.
pub async fn delete_user(
    State(s): State<AppState>,
    auth: Auth,
    UrlPath(name): UrlPath<String>,
) -> ApiResult<Json<Value>> {
    if name == auth.user.username {
        return Err(ApiError::Conflict(
            "you cannot delete your own account".into(),
        ));
    }
    if !s.store.delete_user(&name).await? {
        return Err(ApiError::NotFound(format!("user {name} not found")));
    }
    tracing::info!(by = %auth.user.username, username = %name, "console user deleted");
    Ok(Json(json!({ "ok": true })))
}

/// The dialplan files an admin may edit from the console (prompts and the flow stay with
/// the operators' tools).
pub const EDITABLE: &[&str] = &[
    "roster.toml",
    "hierarchy.toml",
    "regions.toml",
    "hours.toml",
];

fn editable(file: &str) -> ApiResult<&'static str> {
    EDITABLE
        .iter()
        .copied()
        .find(|f| *f == file)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "{file} is not editable here ({})",
                EDITABLE.join(", ")
            ))
        })
}

async fn read_file(s: &AppState, file: &str) -> ApiResult<Json<Value>> {
    let path = s.center.plan().dir.join(file);
    let toml = tokio::fs::read_to_string(&path)
        .await
        .map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))?;
    Ok(Json(json!({ "file": file, "toml": toml })))
}

/// Checks `text` as the new `file` of the running dialplan and, if the whole dialplan still
/// loads, replaces the file atomically (write then rename).
async fn write_file(
    s: &AppState,
    auth: &Auth,
    file: &'static str,
    text: String,
) -> ApiResult<Json<Value>> {
    let dir = s.center.plan().dir.clone();
    let _edit = s.roster_edit.lock().await;
    let problems = tokio::task::spawn_blocking({
        let dir = dir.clone();
        let text = text.clone();
        move || check_edit(&dir, file, &text)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::Internal)?;
    if !problems.is_empty() {
        return Err(ApiError::Invalid {
            message: format!(
                "{file} has {} problem(s); nothing was changed",
                problems.len()
            ),
            problems,
        });
    }
    let tmp = dir.join(format!(".{file}.new"));
    std::fs::write(&tmp, &text).map_err(|e| ApiError::Internal(e.to_string()))?;
    std::fs::rename(&tmp, dir.join(file)).map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(by = %auth.user.username, file, "dialplan file replaced from the console");
    Ok(Json(json!({ "ok": true })))
}

/// `GET /api/admin/roster`.
pub async fn roster(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    read_file(&s, "roster.toml").await
}

/// `PUT /api/admin/roster` and `PUT /api/admin/dialplan/{file}` body.
#[derive(Deserialize)]
pub struct FileBody {
    toml: String,
}

/// `PUT /api/admin/roster`.
pub async fn put_roster(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<FileBody>,
) -> ApiResult<Json<Value>> {
    write_file(&s, &auth, "roster.toml", b.toml).await
}

/// `GET /api/admin/dialplan/{file}`.
pub async fn dialplan_file(
    State(s): State<AppState>,
    UrlPath(file): UrlPath<String>,
) -> ApiResult<Json<Value>> {
    read_file(&s, editable(&file)?).await
}

/// `PUT /api/admin/dialplan/{file}`.
pub async fn put_dialplan_file(
    State(s): State<AppState>,
    auth: Auth,
    UrlPath(file): UrlPath<String>,
    ApiJson(b): ApiJson<FileBody>,
) -> ApiResult<Json<Value>> {
    write_file(&s, &auth, editable(&file)?, b.toml).await
}

/// Loads the dialplan in `dir` with `text` as its `file` from a temporary copy (files copied,
/// subdirectories such as prompts/ linked) and returns the problems as `file:line: message`
/// with paths relative to the dialplan directory: what `hotline dialplan check` would say.
pub fn check_edit(dir: &Path, file: &str, text: &str) -> Result<Vec<String>, String> {
    let tmp = temp_dir();
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let result = (|| {
        for e in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
            let target = tmp.join(e.file_name());
            let path = e.path();
            if path.is_dir() {
                link_dir(
                    &std::fs::canonicalize(&path).map_err(|e| e.to_string())?,
                    &target,
                )?;
            } else if path.is_file() {
                std::fs::copy(&path, &target).map_err(|e| e.to_string())?;
            }
        }
        std::fs::write(tmp.join(file), text).map_err(|e| e.to_string())?;
        Ok(match hotline_ivr::load(&tmp) {
            Ok(_) => Vec::new(),
            Err(problems) => problems
                .iter()
                .map(|d| {
                    let file = d.file.strip_prefix(&tmp).unwrap_or(&d.file);
                    format!("{}:{}: {}", file.display(), d.line, d.message)
                })
                .collect(),
        })
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn temp_dir() -> PathBuf {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    std::env::temp_dir().join(format!("hotline-roster-check-{}", hex::encode(b)))
}

#[cfg(unix)]
fn link_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::os::unix::fs::symlink(from, to).map_err(|e| e.to_string())
}

#[cfg(not(unix))]
fn link_dir(_from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| e.to_string())
}

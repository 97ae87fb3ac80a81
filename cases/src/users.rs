//! The console's users and their sessions. Passwords arrive here already hashed (argon2id,
//! done by the console) and session tokens only as their SHA-256, so nothing stored here lets
//! anyone log in. Sessions live in the store, not in a node's memory, so any hotline node
//! behind a load balancer accepts a session another node opened.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Store, StoreError, parse_col, text_enum};

text_enum! {
    /// What a console user may do.
    pub enum Role {
        /// Answers calls: their own desk, calls, tickets and tasks.
        Lawyer = "lawyer",
        /// Watches a region (and the regions below it): wallboard, reviews, QA, statistics.
        Supervisor = "supervisor",
        /// Manages users and the roster, and sees everything.
        Admin = "admin",
    }
}

/// A console user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleUser {
    /// Login name.
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// What they may do.
    pub role: Role,
    /// The roster lawyer id (role lawyer).
    pub lawyer_id: Option<String>,
    /// Scope region for supervisors; empty = everything.
    pub region: String,
    /// Display name.
    pub name: String,
    /// UI language, `zh` or `en`.
    pub lang: String,
    /// Created (unix ms).
    pub created_at: i64,
}

/// A session row: who, its CSRF token and its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// SHA-256 (hex) of the cookie's token.
    pub token_hash: String,
    /// The user.
    pub username: String,
    /// The token every state-changing request must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// Expiry (unix ms), pushed forward on use.
    pub expires_at: i64,
}

const USER_COLUMNS: &str =
    "username, password_hash, role, lawyer_id, region, name, lang, created_at";

fn user_from_row(r: &AnyRow) -> Result<ConsoleUser, StoreError> {
    Ok(ConsoleUser {
        username: r.try_get("username")?,
        password_hash: r.try_get("password_hash")?,
        role: parse_col(r, "role")?,
        lawyer_id: r.try_get("lawyer_id")?,
        region: r.try_get("region")?,
        name: r.try_get("name")?,
        lang: r.try_get("lang")?,
        created_at: r.try_get("created_at")?,
    })
}

/// How often a session's expiry is pushed forward at most (fewer writes per request).
const TOUCH_EVERY_MS: i64 = 60_000;

impl Store {
    /// Adds a console user; [`StoreError::Duplicate`] when the name is taken.
    pub async fn create_user(&self, u: &ConsoleUser) -> Result<(), StoreError> {
        if !matches!(u.lang.as_str(), "zh" | "en") {
            return Err(StoreError::Invalid(format!(
                "language {:?} (zh or en)",
                u.lang
            )));
        }
        if u.username.trim().is_empty() || u.username.len() > 64 {
            return Err(StoreError::Invalid(
                "username must be 1 to 64 characters".into(),
            ));
        }
        let done = sqlx::query(
            "INSERT INTO console_users (username, password_hash, role, lawyer_id, region, name, lang, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (username) DO NOTHING",
        )
        .bind(&u.username)
        .bind(&u.password_hash)
        .bind(u.role.as_str())
        .bind(&u.lawyer_id)
        .bind(&u.region)
        .bind(&u.name)
        .bind(&u.lang)
        .bind(u.created_at)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Duplicate);
        }
        Ok(())
    }

    /// A user by name.
    pub async fn user(&self, username: &str) -> Result<Option<ConsoleUser>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM console_users WHERE username = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<ConsoleUser>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM console_users ORDER BY username");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// How many users exist (0 on a first start: the operator is told how to add one).
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM console_users")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Removes a user and their sessions; `false` if there was no such user.
    pub async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM console_sessions WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM console_users WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Replaces a user's password hash and ends their sessions (a reset locks out whoever
    /// knew the old password); `false` if there is no such user.
    pub async fn set_user_password(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE console_users SET password_hash = $2 WHERE username = $1")
            .bind(username)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM console_sessions WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Opens a session valid for `ttl_ms` of inactivity.
    pub async fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        csrf_token: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, username, csrf_token, created_at, last_seen, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(token_hash)
        .bind(username)
        .bind(csrf_token)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live session with this token hash and its user; expired sessions are `None` (and
    /// deleted). Use pushes the expiry to `now + ttl_ms` (at most once a minute).
    pub async fn session(
        &self,
        token_hash: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<Option<(ConsoleSession, ConsoleUser)>, StoreError> {
        let row = sqlx::query(
            "SELECT token_hash, username, csrf_token, last_seen, expires_at FROM console_sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut s = ConsoleSession {
            token_hash: row.try_get("token_hash")?,
            username: row.try_get("username")?,
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
        };
        if s.expires_at <= now {
            self.delete_session(token_hash).await?;
            return Ok(None);
        }
        let last_seen: i64 = row.try_get("last_seen")?;
        if now - last_seen >= TOUCH_EVERY_MS {
            s.expires_at = now + ttl_ms;
            sqlx::query(
                "UPDATE console_sessions SET last_seen = $2, expires_at = $3 WHERE token_hash = $1",
            )
            .bind(token_hash)
            .bind(now)
            .bind(s.expires_at)
            .execute(&self.pool)
            .await?;
        }
        let Some(user) = self.user(&s.username).await? else {
            return Ok(None);
        };
        Ok(Some((s, user)))
    }

    /// Ends a session (logout).
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes every expired session; returns how many.
    pub async fn purge_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

//! The hotline's store. Everything several hotline nodes must share (phone accounts and their
//! registrations now; calls, tickets and transcription jobs as they arrive) lives here, on an
//! embedded SQLite file by default or on PostgreSQL, through one portable schema and sqlx `Any`.

mod accounts;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use accounts::{BindingUpdate, PhoneAccount, StoredBinding};

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a query.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A migration failed to apply.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names a backend we do not support.
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    /// An account with that username already exists.
    #[error("an account with that username already exists")]
    Duplicate,
}

/// A connection pool plus the queries the hotline runs.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
}

impl Store {
    /// Opens (creating if needed) the database and applies migrations. SQLite gets WAL mode and
    /// a busy timeout so concurrent calls do not fail on a locked file.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        if !sqlite && !url.starts_with("postgres") {
            return Err(StoreError::UnsupportedUrl);
        }
        if sqlite {
            // Create the file (sqlx Any has no create_if_missing switch of its own).
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
            let pool = sqlx::SqlitePool::connect_with(opts).await?;
            pool.close().await;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// Closes the pool, waiting for queries in flight (clean shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Current unix time in seconds; stored times are unix seconds so both backends agree.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

//! The hotline's store. Everything several hotline nodes must share (phone accounts and their
//! registrations, calls, case tickets, follow-up tasks and the audit log; transcription jobs
//! as they arrive) lives here, on an embedded SQLite file by default or on PostgreSQL, through
//! one portable schema and sqlx `Any`.
//!
//! Times in the case tables are unix milliseconds ([`unix_now_ms`]); every write that takes a
//! time takes it as a parameter (`now`, `at`) so the SLA logic can be tested with fake time.

mod accounts;
mod audit;
mod calls;
mod clock;
mod directory;
mod filing;
mod listing;
mod review;
mod sla;
mod stats;
mod tasks;
mod tickets;
mod transcripts;
mod users;

#[cfg(test)]
mod tests;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use accounts::{BindingUpdate, PhoneAccount, StoredBinding};
pub use audit::AuditEntry;
pub use calls::{CallEnd, CallFiled, CallRecord, SurveyValue};
pub use clock::{HOUR_MS, unix_now_ms};
pub use directory::{Caller, Lawyer, LawyerStatus};
pub use filing::{CallTicket, TicketLink};
pub use listing::{CallFilter, TicketFilter};
pub use review::{DEFAULT_SAMPLE_PERCENT, QaEvaluation, ReviewItem, ReviewReason};
pub use sla::{SlaBreach, SlaKind, SlaReport};
pub use stats::{
    CategoryCount, DayStats, HourStats, RegionCount, TodayStats, beijing_day, beijing_day_start,
};
pub use tasks::{NewTask, SUPERVISORS, Task, TaskKind, TaskStatus};
pub use tickets::{Category, Ticket, TicketStatus};
pub use transcripts::{
    NewTranscript, NewTranscriptAlert, Speaker, TRANSCRIPTION_LEASE_MS, TRANSCRIPTION_MAX_ATTEMPTS,
    Transcript, TranscriptAlert, TranscriptSegment, TranscriptionJob, TranscriptionStatus,
};
pub use users::{ConsoleSession, ConsoleUser, Role};

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
    /// The ticket, task or call does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A status change the workflow does not allow (e.g. open → closed, or a task done twice).
    #[error("cannot go from {from} to {to}")]
    InvalidTransition {
        /// The current status.
        from: String,
        /// The status asked for.
        to: String,
    },
    /// Reopening would give the caller two open tickets; the newer one is named.
    #[error("the caller already has an open ticket ({0})")]
    CallerHasOpenTicket(String),
    /// A value the store cannot take or a stored value it cannot read.
    #[error("invalid value: {0}")]
    Invalid(String),
}

impl StoreError {
    /// Whether the error is a unique-constraint violation (a lost race that a retry resolves).
    fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// A connection pool plus the queries the hotline runs.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// SQLite serialises writers; its write transactions start with `BEGIN IMMEDIATE`.
    sqlite: bool,
    /// This hotline node's name, stamped on the calls it records (see [`Store::with_node`]).
    node: String,
    /// Percent of answered calls sampled into the review queue (see `review.rs`).
    review_sample_percent: u32,
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
        Ok(Store {
            pool,
            sqlite,
            node: String::new(),
            review_sample_percent: review::DEFAULT_SAMPLE_PERCENT,
        })
    }

    /// The same store for a named hotline node: calls it records carry the name, and
    /// [`Store::mark_cut_off_calls`] only touches that node's calls, so a node restarting
    /// behind a shared PostgreSQL does not cut off its neighbours' live calls. A single node
    /// can keep the default empty name.
    pub fn with_node(mut self, node: impl Into<String>) -> Store {
        self.node = node.into();
        self
    }

    /// Closes the pool, waiting for queries in flight (clean shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads and then writes can fail with "database
    /// is locked" without waiting, while `IMMEDIATE` waits its turn under the busy timeout. On
    /// PostgreSQL it is a plain READ COMMITTED transaction; row locks order concurrent writers.
    async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(if self.sqlite {
            self.pool.begin_with("BEGIN IMMEDIATE").await?
        } else {
            self.pool.begin().await?
        })
    }
}

/// Current unix time in seconds; the SIP tables (accounts, bindings) store unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A new row id: time-ordered (unix ms), then a per-process counter (so ids made in the same
/// millisecond by one node sort in creation order), then 48 random bits (so two nodes never
/// collide). 31 hex digits; the schema's ids are TEXT generated here, never by the database.
fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher, RandomState};
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // RandomState is seeded from the OS once per thread and stepped per instance.
    let mut h = RandomState::new().build_hasher();
    h.write_u32(n);
    let random = h.finish() & 0xffff_ffff_ffff;
    format!("{:011x}{n:08x}{random:012x}", unix_now_ms().max(0))
}

/// Defines a closed set of values stored as TEXT (`as_str`, `FromStr`, `Display`, `ALL`).
macro_rules! text_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant,)+ }

        impl $name {
            /// Every value, in workflow order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The text stored in the database and shown in the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::StoreError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::StoreError::Invalid(format!(
                        concat!("unknown ", stringify!($name), " {:?}"), s
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

/// Reads a TEXT column holding a [`text_enum!`] value.
fn parse_col<T: FromStr<Err = StoreError>>(
    row: &sqlx::any::AnyRow,
    col: &str,
) -> Result<T, StoreError> {
    use sqlx::Row;
    row.try_get::<String, _>(col)?.parse()
}

/// Reads an optional TEXT column holding a [`text_enum!`] value.
fn parse_opt_col<T: FromStr<Err = StoreError>>(
    row: &sqlx::any::AnyRow,
    col: &str,
) -> Result<Option<T>, StoreError> {
    use sqlx::Row;
    row.try_get::<Option<String>, _>(col)?
        .map(|s| s.parse())
        .transpose()
}

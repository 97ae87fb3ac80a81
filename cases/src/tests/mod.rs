//! Store tests. Every test runs on SQLite (a fresh temp file) and, when `HOTLINE_TEST_PG_URL`
//! names a PostgreSQL server (`postgres://user@host:port/db`; `scripts/test.sh` starts a
//! throwaway one), also on PostgreSQL in a fresh database created on that server and dropped
//! afterwards. [`on_both!`] turns `async fn name(store: Store)` into `name::sqlite` and
//! `name::postgres` tests.

mod accounts;
mod calls;
mod concurrency;
mod console;
mod sla;
mod tasks;
mod tickets;
mod transcripts;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

use crate::{CallEnd, Store};

/// 2026-01-01T00:00:00Z (08:00 in Beijing): the tests' fake "now".
pub const T0: i64 = 1_767_225_600_000;
/// One minute in ms.
pub const MIN: i64 = 60_000;

/// A fresh database for one test.
pub struct TestDb {
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

fn unique_suffix() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        crate::unix_now_ms() % 1_000_000
    )
}

/// `url` with its database name replaced by `db` (query parameters kept).
fn with_database(url: &str, db: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, format!("?{q}")),
        None => (url, String::new()),
    };
    let host_start = main.find("://").map_or(0, |i| i + 3);
    let base = match main[host_start..].find('/') {
        Some(i) => &main[..host_start + i],
        None => main,
    };
    format!("{base}/{db}{query}")
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("hotline-store-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/t.db", dir.display());
        let store = Store::open(&url).await.unwrap();
        TestDb {
            store,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// `None` when `HOTLINE_TEST_PG_URL` is unset; panics when it is set but unusable, so a
    /// broken PostgreSQL setup fails the run instead of silently skipping.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var("HOTLINE_TEST_PG_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("hotline_test_{}", unique_suffix());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("HOTLINE_TEST_PG_URL: cannot connect: {e}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let store = Store::open(&with_database(&admin_url, &name))
            .await
            .unwrap();
        Some(TestDb {
            store,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    pub async fn finish(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .unwrap();
                admin.close().await.unwrap();
            }
        }
    }
}

/// Runs each named `async fn(Store)` as a `sqlite` and a `postgres` test.
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = crate::tests::TestDb::sqlite().await;
                super::$name(db.store.clone()).await;
                db.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(db) = crate::tests::TestDb::postgres().await else {
                    eprintln!("HOTLINE_TEST_PG_URL is not set: PostgreSQL run skipped");
                    return;
                };
                super::$name(db.store.clone()).await;
                db.finish().await;
            }
        }
    )+};
}
pub(crate) use on_both;

/// A finished call with nothing special: arrived at `at`, ended a minute later, abandoned.
pub fn ended(call_id: &str, caller: &str, at: i64) -> CallEnd {
    CallEnd {
        call_id: call_id.into(),
        caller: caller.into(),
        arrived_at: at,
        answered_at: None,
        ended_at: at + MIN,
        language: Some("zh".into()),
        category: None,
        region: None,
        lawyer_id: None,
        queue_wait_secs: None,
        overflow_steps: 0,
        disposition: "abandoned".into(),
        ivr_path: "[]".into(),
        recording_path: None,
        message_path: None,
        callback: false,
        survey: None,
    }
}

#[test]
fn database_names_replace_the_path() {
    assert_eq!(
        with_database("postgres://u:p@127.0.0.1:55432/postgres", "x"),
        "postgres://u:p@127.0.0.1:55432/x"
    );
    assert_eq!(
        with_database("postgres://u@h:1/db?sslmode=disable", "x"),
        "postgres://u@h:1/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

//! Who calls and who answers: the callers seen so far (by number) and the lawyers, mirrored
//! from the roster for reports and ticket assignment.

use sqlx::{AnyConnection, Row};

use crate::{Store, StoreError, parse_col, text_enum};

/// A caller, by number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The number as signalled.
    pub number: String,
    /// The region last resolved for it.
    pub region: Option<String>,
    /// First call (unix ms).
    pub first_seen: i64,
    /// Latest call (unix ms).
    pub last_seen: i64,
}

text_enum! {
    /// Whether a lawyer takes cases.
    pub enum LawyerStatus {
        /// On the roster.
        Active = "active",
        /// Left or suspended; kept for the history of their tickets.
        Inactive = "inactive",
    }
}

/// A lawyer as the store keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lawyer {
    /// The roster's lawyer id (what calls and tickets name).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The phone account they register with.
    pub sip_user: Option<String>,
    /// Region ids they are on duty for.
    pub regions: Vec<String>,
    /// Categories they handle (`consultation`, `legal_aid`, ...).
    pub skills: Vec<String>,
    /// Active or not.
    pub status: LawyerStatus,
}

/// The number a ticket is keyed on, or `None` for an anonymous caller (no digit at all:
/// `anonymous`, `unknown`, an empty user part), whose calls must not be linked together.
pub(crate) fn caller_key(caller: &str) -> Option<&str> {
    let c = caller.trim();
    c.bytes().any(|b| b.is_ascii_digit()).then_some(c)
}

/// Records a call from `number` at `at`, keeping the earliest and latest times and the newest
/// known region. On PostgreSQL the upsert also locks the caller's row until commit, which
/// queues concurrent calls from one number behind each other while their ticket is filed.
pub(crate) async fn touch_caller(
    conn: &mut AnyConnection,
    number: &str,
    region: Option<&str>,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO callers (number, region, first_seen, last_seen) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (number) DO UPDATE SET \
         region = COALESCE(excluded.region, callers.region), \
         first_seen = CASE WHEN callers.first_seen > excluded.first_seen THEN excluded.first_seen ELSE callers.first_seen END, \
         last_seen = CASE WHEN callers.last_seen < excluded.last_seen THEN excluded.last_seen ELSE callers.last_seen END",
    )
    .bind(number)
    .bind(region)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Joins a list for a comma-list column, refusing items that would not survive the round trip.
fn join_list(what: &str, items: &[String]) -> Result<String, StoreError> {
    if let Some(bad) = items
        .iter()
        .find(|i| i.contains(',') || i.trim() != i.as_str() || i.is_empty())
    {
        return Err(StoreError::Invalid(format!("{what} item {bad:?}")));
    }
    Ok(items.join(","))
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|i| !i.is_empty())
        .map(str::to_owned)
        .collect()
}

fn lawyer_from_row(r: &sqlx::any::AnyRow) -> Result<Lawyer, StoreError> {
    Ok(Lawyer {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        sip_user: r.try_get("sip_user")?,
        regions: split_list(&r.try_get::<String, _>("regions")?),
        skills: split_list(&r.try_get::<String, _>("skills")?),
        status: parse_col(r, "status")?,
    })
}

impl Store {
    /// A caller's record: when they first and last called and their region.
    pub async fn caller(&self, number: &str) -> Result<Option<Caller>, StoreError> {
        let row = sqlx::query(
            "SELECT number, region, first_seen, last_seen FROM callers WHERE number = $1",
        )
        .bind(number.trim())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Caller {
                number: r.try_get(0)?,
                region: r.try_get(1)?,
                first_seen: r.try_get(2)?,
                last_seen: r.try_get(3)?,
            })
        })
        .transpose()
    }

    /// Creates or replaces a lawyer (the roster is loaded into the store at start and on
    /// reload, so tickets and reports can name lawyers).
    pub async fn upsert_lawyer(&self, lawyer: &Lawyer, now: i64) -> Result<(), StoreError> {
        let regions = join_list("region", &lawyer.regions)?;
        let skills = join_list("skill", &lawyer.skills)?;
        sqlx::query(
            "INSERT INTO lawyers (id, name, sip_user, regions, skills, status, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, sip_user = excluded.sip_user, regions = excluded.regions, \
             skills = excluded.skills, status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(&lawyer.id)
        .bind(&lawyer.name)
        .bind(&lawyer.sip_user)
        .bind(regions)
        .bind(skills)
        .bind(lawyer.status.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A lawyer by id.
    pub async fn lawyer(&self, id: &str) -> Result<Option<Lawyer>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, sip_user, regions, skills, status FROM lawyers WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(lawyer_from_row).transpose()
    }

    /// Every lawyer, by id: the console's assignment list.
    pub async fn lawyers(&self) -> Result<Vec<Lawyer>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, sip_user, regions, skills, status FROM lawyers ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(lawyer_from_row).collect()
    }
}

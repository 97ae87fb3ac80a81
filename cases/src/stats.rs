//! Statistics for the supervisors' pages and wallboard, computed in SQL from the calls,
//! tickets and survey tables. Days and hours are Beijing civil time (UTC+8, no DST): a unix-ms
//! instant `t` is in Beijing day `(t + 8 h) / 24 h`, and both SQLite and PostgreSQL divide
//! BIGINTs as integers, so the grouping is the same on both.

use sqlx::Row;

use crate::clock::{self, HOUR_MS};
use crate::{Store, StoreError};

const DAY_MS: i64 = 24 * HOUR_MS;
const OFFSET_MS: i64 = 8 * HOUR_MS;

/// Calls in one Beijing hour of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourStats {
    /// 0..=23.
    pub hour: u32,
    /// Calls that arrived.
    pub calls: i64,
    /// Of those, answered by a lawyer.
    pub answered: i64,
}

/// One Beijing day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayStats {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Calls that arrived.
    pub calls: i64,
    /// Of those, answered.
    pub answered: i64,
    /// Survey answers of that day's calls.
    pub satisfied: i64,
    /// 基本满意.
    pub basically_satisfied: i64,
    /// 不满意.
    pub unsatisfied: i64,
}

/// Calls per category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryCount {
    /// The category (`other` for calls without one).
    pub category: String,
    /// Calls.
    pub calls: i64,
}

/// Calls per region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCount {
    /// The region id (empty: unknown).
    pub region: String,
    /// Calls.
    pub calls: i64,
}

/// Today's figures for the wallboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TodayStats {
    /// Calls arrived today (Beijing).
    pub calls: i64,
    /// Of those, answered.
    pub answered: i64,
    /// Of those, overflowed at least once.
    pub overflowed: i64,
    /// Tickets not closed with a missed SLA deadline.
    pub sla_breaches: i64,
    /// Tickets not resolved with the red-alert flag.
    pub red_alerts_open: i64,
}

/// The Beijing day index of a unix-ms instant.
pub fn beijing_day(ms: i64) -> i64 {
    (ms + OFFSET_MS).div_euclid(DAY_MS)
}

/// The unix-ms start of a Beijing day index.
pub fn beijing_day_start(day: i64) -> i64 {
    day * DAY_MS - OFFSET_MS
}

fn day_label(day: i64) -> String {
    let c = clock::beijing(beijing_day_start(day));
    format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
}

/// `AND column IN ('a', 'b')` for a scope, with the ids checked to be plain identifiers (the
/// hierarchy's id syntax), so they can be inlined.
fn scope_sql(column: &str, regions: Option<&[String]>) -> Result<String, StoreError> {
    let Some(list) = regions else {
        return Ok(String::new());
    };
    if list.is_empty() {
        return Ok(" AND 1 = 0".into());
    }
    let mut out = Vec::with_capacity(list.len());
    for r in list {
        if r.is_empty()
            || !r
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(StoreError::Invalid(format!("region id {r:?}")));
        }
        out.push(format!("'{r}'"));
    }
    Ok(format!(" AND {column} IN ({})", out.join(", ")))
}

/// `COALESCE(CAST(SUM(CASE WHEN cond THEN 1 ELSE 0 END) AS BIGINT), 0)`: PostgreSQL sums
/// BIGINTs to NUMERIC, which the portable driver cannot read.
macro_rules! count_if {
    ($cond:literal) => {
        concat!(
            "COALESCE(CAST(SUM(CASE WHEN ",
            $cond,
            " THEN 1 ELSE 0 END) AS BIGINT), 0)"
        )
    };
}

impl Store {
    /// Calls per Beijing hour of the Beijing day starting at `day_start` (24 entries).
    pub async fn stats_hourly(
        &self,
        day_start: i64,
        regions: Option<&[String]>,
    ) -> Result<Vec<HourStats>, StoreError> {
        let sql = format!(
            "SELECT (arrived_at - $1) / {HOUR_MS} AS h, COUNT(*) AS calls, {} AS answered \
             FROM calls WHERE arrived_at >= $1 AND arrived_at < $2{} GROUP BY (arrived_at - $1) / {HOUR_MS}",
            count_if!("answered_at IS NOT NULL"),
            scope_sql("region", regions)?
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(day_start)
            .bind(day_start + DAY_MS)
            .fetch_all(&self.pool)
            .await?;
        let mut out: Vec<HourStats> = (0..24)
            .map(|hour| HourStats {
                hour,
                calls: 0,
                answered: 0,
            })
            .collect();
        for r in &rows {
            let h: i64 = r.try_get("h")?;
            if let Some(slot) = out.get_mut(h as usize) {
                slot.calls = r.try_get("calls")?;
                slot.answered = r.try_get("answered")?;
            }
        }
        Ok(out)
    }

    /// One entry per Beijing day from the day of `from` to the day before `to`'s, oldest
    /// first, days without calls included.
    pub async fn stats_daily(
        &self,
        from: i64,
        to: i64,
        regions: Option<&[String]>,
    ) -> Result<Vec<DayStats>, StoreError> {
        let sql = format!(
            "SELECT (c.arrived_at + {OFFSET_MS}) / {DAY_MS} AS d, COUNT(*) AS calls, {} AS answered, \
             {} AS sat, {} AS basic, {} AS unsat \
             FROM calls c LEFT JOIN survey_results s ON s.call_id = c.id \
             WHERE c.arrived_at >= $1 AND c.arrived_at < $2{} GROUP BY (c.arrived_at + {OFFSET_MS}) / {DAY_MS}",
            count_if!("c.answered_at IS NOT NULL"),
            count_if!("s.value = 'satisfied'"),
            count_if!("s.value = 'basically_satisfied'"),
            count_if!("s.value = 'unsatisfied'"),
            scope_sql("c.region", regions)?
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
        let (first, last) = (beijing_day(from), beijing_day(to - 1));
        let mut out: Vec<DayStats> = (first..=last)
            .map(|d| DayStats {
                day: day_label(d),
                calls: 0,
                answered: 0,
                satisfied: 0,
                basically_satisfied: 0,
                unsatisfied: 0,
            })
            .collect();
        for r in &rows {
            let d: i64 = r.try_get("d")?;
            if let Some(slot) = out.get_mut((d - first) as usize) {
                slot.calls = r.try_get("calls")?;
                slot.answered = r.try_get("answered")?;
                slot.satisfied = r.try_get("sat")?;
                slot.basically_satisfied = r.try_get("basic")?;
                slot.unsatisfied = r.try_get("unsat")?;
            }
        }
        Ok(out)
    }

    /// Calls per category in `[from, to)`, most first.
    pub async fn stats_categories(
        &self,
        from: i64,
        to: i64,
        regions: Option<&[String]>,
    ) -> Result<Vec<CategoryCount>, StoreError> {
        let counts = self
            .count_calls_by("category", "other", from, to, regions)
            .await?;
        Ok(counts
            .into_iter()
            .map(|(category, calls)| CategoryCount { category, calls })
            .collect())
    }

    /// Calls per region in `[from, to)`, most first.
    pub async fn stats_regions(
        &self,
        from: i64,
        to: i64,
        regions: Option<&[String]>,
    ) -> Result<Vec<RegionCount>, StoreError> {
        let counts = self.count_calls_by("region", "", from, to, regions).await?;
        Ok(counts
            .into_iter()
            .map(|(region, calls)| RegionCount { region, calls })
            .collect())
    }

    /// Calls in `[from, to)` grouped by `column` of `calls` (a name from this file, never
    /// user input), NULL counted as `missing`; most first, then by value.
    async fn count_calls_by(
        &self,
        column: &'static str,
        missing: &'static str,
        from: i64,
        to: i64,
        regions: Option<&[String]>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let key = format!("COALESCE({column}, '{missing}')");
        let sql = format!(
            "SELECT {key} AS k, COUNT(*) AS n FROM calls \
             WHERE arrived_at >= $1 AND arrived_at < $2{} GROUP BY {key} ORDER BY n DESC, k",
            scope_sql("region", regions)?
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("k")?, r.try_get("n")?)))
            .collect()
    }

    /// The wallboard's figures for the Beijing day containing `now`.
    pub async fn stats_today(
        &self,
        now: i64,
        regions: Option<&[String]>,
    ) -> Result<TodayStats, StoreError> {
        let scope = scope_sql("region", regions)?;
        let from = beijing_day_start(beijing_day(now));
        let sql = format!(
            "SELECT COUNT(*) AS calls, {} AS answered, {} AS overflowed FROM calls WHERE arrived_at >= $1{scope}",
            count_if!("answered_at IS NOT NULL"),
            count_if!("overflow_steps > 0"),
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(from)
            .fetch_one(&self.pool)
            .await?;
        let sql = format!(
            "SELECT {} AS breaches, {} AS red FROM tickets WHERE status <> 'closed'{scope}",
            count_if!(
                "(review_breached_at IS NOT NULL OR assign_breached_at IS NOT NULL OR return_visit_breached_at IS NOT NULL)"
            ),
            count_if!("red_alert = 1 AND status IN ('open', 'in_progress')"),
        );
        let t = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await?;
        Ok(TodayStats {
            calls: r.try_get("calls")?,
            answered: r.try_get("answered")?,
            overflowed: r.try_get("overflowed")?,
            sla_breaches: t.try_get("breaches")?,
            red_alerts_open: t.try_get("red")?,
        })
    }
}

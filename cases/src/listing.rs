//! Filtered lists for the console: tickets, calls and tasks as a role may see them (a lawyer
//! their own, a supervisor their regions, an admin everything). The filters are plain data so
//! the console's single scope check builds them and the store applies them in SQL.

use sqlx::AssertSqlSafe;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Arguments};

use crate::tasks::task_columns;
use crate::tickets::ticket_columns;
use crate::{CallRecord, Store, StoreError, Task, Ticket};

/// Which tickets to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    /// Only this status (`open`, `in_progress`, `resolved`, `closed`).
    pub status: Option<String>,
    /// Only this caller's number.
    pub caller: Option<String>,
    /// Only tickets assigned to this lawyer or with a call they answered.
    pub lawyer: Option<String>,
    /// Only tickets in these regions (`None` = any region, including unknown).
    pub regions: Option<Vec<String>>,
    /// Page size (capped at 500).
    pub limit: i64,
    /// Page start.
    pub offset: i64,
}

/// Which calls to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFilter {
    /// Arrived at or after (unix ms).
    pub from: i64,
    /// Arrived before (unix ms).
    pub to: i64,
    /// Only calls this lawyer answered.
    pub lawyer: Option<String>,
    /// Only calls from these regions (`None` = any).
    pub regions: Option<Vec<String>>,
    /// Page size (capped at 1000).
    pub limit: i64,
}

/// A WHERE clause under construction with its bound values, numbered `$1..` for PostgreSQL.
/// Crate-visible so other listings (the review queue) filter the same way.
pub(crate) struct Where {
    pub(crate) sql: String,
    args: Vec<Bound>,
}

/// A value bound to a placeholder.
#[derive(Clone)]
enum Bound {
    Text(String),
    Int(i64),
}

impl Where {
    pub(crate) fn new() -> Where {
        Where {
            sql: String::from(" WHERE 1 = 1"),
            args: Vec::new(),
        }
    }

    /// Adds `AND <clause>` where each `?` becomes the next placeholder for the next value.
    pub(crate) fn and(&mut self, clause: &str, values: &[&str]) {
        self.sql.push_str(" AND ");
        let mut values = values.iter();
        for ch in clause.chars() {
            if ch == '?' {
                self.args.push(Bound::Text(
                    (*values.next().expect("one value per ?")).to_owned(),
                ));
                self.sql.push_str(&format!("${}", self.args.len()));
            } else {
                self.sql.push(ch);
            }
        }
    }

    /// `AND <column> <op> <integer>`.
    fn and_int(&mut self, column: &str, op: &str, value: i64) {
        self.args.push(Bound::Int(value));
        self.sql
            .push_str(&format!(" AND {column} {op} ${}", self.args.len()));
    }

    /// `AND <column> IN (...)`; an empty list matches nothing.
    pub(crate) fn in_list(&mut self, column: &str, list: &[String]) {
        if list.is_empty() {
            self.sql.push_str(" AND 1 = 0");
            return;
        }
        let marks = vec!["?"; list.len()].join(", ");
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        self.and(&format!("{column} IN ({marks})"), &refs);
    }

    pub(crate) fn bind(self, sql: String) -> Query<'static, Any, AnyArguments> {
        let mut args = AnyArguments::default();
        for a in self.args {
            match a {
                Bound::Text(t) => args.add(t).expect("text binds"),
                Bound::Int(i) => args.add(i).expect("integer binds"),
            }
        }
        sqlx::query_with(AssertSqlSafe(sql), args)
    }
}

impl Store {
    /// Tickets matching `f`, newest first.
    pub async fn list_tickets(&self, f: &TicketFilter) -> Result<Vec<Ticket>, StoreError> {
        let mut w = Where::new();
        if let Some(s) = &f.status {
            w.and("status = ?", &[s]);
        }
        if let Some(c) = &f.caller {
            w.and("caller = ?", &[c.trim()]);
        }
        if let Some(l) = &f.lawyer {
            w.and(
                "(lawyer_id = ? OR id IN (SELECT tc.ticket_id FROM ticket_calls tc JOIN calls c ON c.id = tc.call_id WHERE c.lawyer_id = ?))",
                &[l, l],
            );
        }
        if let Some(r) = &f.regions {
            w.in_list("region", r);
        }
        let sql = format!(
            "SELECT {} FROM tickets{} ORDER BY created_at DESC, id DESC LIMIT {} OFFSET {}",
            ticket_columns!(),
            w.sql,
            f.limit.clamp(1, 500),
            f.offset.max(0)
        );
        let rows = w.bind(sql).fetch_all(&self.pool).await?;
        rows.iter().map(crate::tickets::from_row).collect()
    }

    /// Calls matching `f`, newest first.
    pub async fn list_calls(&self, f: &CallFilter) -> Result<Vec<CallRecord>, StoreError> {
        let mut w = Where::new();
        w.and_int("arrived_at", ">=", f.from);
        w.and_int("arrived_at", "<", f.to);
        if let Some(l) = &f.lawyer {
            w.and("lawyer_id = ?", &[l]);
        }
        if let Some(r) = &f.regions {
            w.in_list("region", r);
        }
        let sql = format!(
            "SELECT {} FROM calls{} ORDER BY arrived_at DESC, id DESC LIMIT {}",
            crate::calls::call_columns!(),
            w.sql,
            f.limit.clamp(1, 1000)
        );
        let rows = w.bind(sql).fetch_all(&self.pool).await?;
        rows.iter().map(crate::calls::from_row).collect()
    }

    /// Tasks of a kind and status (`None` = any), assigned to one of `assignees` (`None` =
    /// anyone), on tickets of `regions` (`None` = any), soonest due first, at most 500.
    pub async fn list_tasks(
        &self,
        kind: Option<&str>,
        status: Option<&str>,
        assignees: Option<&[String]>,
        regions: Option<&[String]>,
    ) -> Result<Vec<Task>, StoreError> {
        let mut w = Where::new();
        if let Some(k) = kind {
            w.and("kind = ?", &[k]);
        }
        if let Some(s) = status {
            w.and("status = ?", &[s]);
        }
        if let Some(a) = assignees {
            w.in_list("assigned_to", a);
        }
        if let Some(r) = regions {
            if r.is_empty() {
                w.sql.push_str(" AND 1 = 0");
            } else {
                let marks = vec!["?"; r.len()].join(", ");
                let refs: Vec<&str> = r.iter().map(String::as_str).collect();
                w.and(
                    &format!("ticket_id IN (SELECT id FROM tickets WHERE region IN ({marks}))"),
                    &refs,
                );
            }
        }
        let sql = format!(
            "SELECT {} FROM tasks{} ORDER BY due_at, id LIMIT 500",
            task_columns!(),
            w.sql
        );
        let rows = w.bind(sql).fetch_all(&self.pool).await?;
        rows.iter().map(crate::tasks::from_row).collect()
    }

    /// The ticket a call is filed on, if it is filed yet.
    pub async fn ticket_id_of_call(&self, call_id: &str) -> Result<Option<String>, StoreError> {
        use sqlx::Row;
        let row = sqlx::query("SELECT ticket_id FROM ticket_calls WHERE call_id = $1")
            .bind(call_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }
}

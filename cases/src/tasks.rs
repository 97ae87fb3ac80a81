//! Follow-up tasks with a deadline: call a caller back (they asked, left a message, or were cut
//! off) or make a return visit (after resolution, or after an "unsatisfied" survey answer).
//! The console lists open tasks by due time; completing a return visit meets the ticket's
//! return-visit deadline.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit;
use crate::tickets::{self, TicketStatus};
use crate::{Store, StoreError, parse_col, text_enum};

/// The `assigned_to` of tasks for the supervisors' shared queue (return visits), rather than a
/// person.
pub const SUPERVISORS: &str = "supervisors";

text_enum! {
    /// What kind of follow-up.
    pub enum TaskKind {
        /// Call the caller back.
        Callback = "callback",
        /// Ask the caller how it went (回访).
        ReturnVisit = "return_visit",
    }
}

text_enum! {
    /// Whether the task still needs doing.
    pub enum TaskStatus {
        /// To do.
        Open = "open",
        /// Done.
        Done = "done",
    }
}

/// A task to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// Callback or return visit.
    pub kind: TaskKind,
    /// Why it exists: `callback_request`, `voicemail`, `cut_off`, `unsatisfied_survey`,
    /// `resolved`, or what the console user typed.
    pub reason: String,
    /// The ticket it belongs to.
    pub ticket_id: Option<String>,
    /// The number to call.
    pub caller: Option<String>,
    /// The call that caused it (at most one task of a kind per call).
    pub call_id: Option<String>,
    /// Deadline (unix ms).
    pub due_at: i64,
    /// Who does it: a lawyer id, [`SUPERVISORS`], or nobody yet.
    pub assigned_to: Option<String>,
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Row id.
    pub id: String,
    /// Callback or return visit.
    pub kind: TaskKind,
    /// Why it exists (see [`NewTask::reason`]).
    pub reason: String,
    /// The ticket it belongs to.
    pub ticket_id: Option<String>,
    /// The number to call.
    pub caller: Option<String>,
    /// The call that caused it.
    pub call_id: Option<String>,
    /// Deadline (unix ms).
    pub due_at: i64,
    /// Who does it.
    pub assigned_to: Option<String>,
    /// Open or done.
    pub status: TaskStatus,
    /// Created (unix ms).
    pub created_at: i64,
    /// Done (unix ms).
    pub done_at: Option<i64>,
    /// Who did it.
    pub done_by: Option<String>,
}

macro_rules! task_columns {
    () => {
        "id, kind, reason, ticket_id, caller, call_id, due_at, assigned_to, status, created_at, done_at, done_by"
    };
}
pub(crate) use task_columns;

/// Reads a task row selected with [`task_columns`].
pub(crate) fn from_row(r: &AnyRow) -> Result<Task, StoreError> {
    Ok(Task {
        id: r.try_get("id")?,
        kind: parse_col(r, "kind")?,
        reason: r.try_get("reason")?,
        ticket_id: r.try_get("ticket_id")?,
        caller: r.try_get("caller")?,
        call_id: r.try_get("call_id")?,
        due_at: r.try_get("due_at")?,
        assigned_to: r.try_get("assigned_to")?,
        status: parse_col(r, "status")?,
        created_at: r.try_get("created_at")?,
        done_at: r.try_get("done_at")?,
        done_by: r.try_get("done_by")?,
    })
}

/// Inserts a task inside the caller's transaction and audits it. Returns its id, or `None`
/// when the call already has a task of that kind (a retried call end).
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    task: &NewTask,
    actor: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let id = crate::new_id();
    let done = sqlx::query(concat!(
        "INSERT INTO tasks (",
        task_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, NULL, NULL) ON CONFLICT DO NOTHING"
    ))
    .bind(&id)
    .bind(task.kind.as_str())
    .bind(&task.reason)
    .bind(&task.ticket_id)
    .bind(&task.caller)
    .bind(&task.call_id)
    .bind(task.due_at)
    .bind(&task.assigned_to)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let detail = serde_json::json!({
        "kind": task.kind.as_str(),
        "reason": task.reason,
        "ticket_id": task.ticket_id,
        "due_at": task.due_at,
        "assigned_to": task.assigned_to,
    });
    audit::record(conn, now, actor, "created", "task", &id, detail).await?;
    Ok(Some(id))
}

async fn fetch(conn: &mut AnyConnection, id: &str) -> Result<Task, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        task_columns!(),
        " FROM tasks WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("task {id}")))?;
    from_row(&row)
}

impl Store {
    /// Creates a task by hand (a lawyer promising to call back, a supervisor scheduling a
    /// visit). Audited as `created`.
    pub async fn create_task(
        &self,
        task: &NewTask,
        actor: &str,
        now: i64,
    ) -> Result<Task, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert(&mut tx, task, actor, now).await?.ok_or_else(|| {
            StoreError::Invalid("that call already has a task of this kind".into())
        })?;
        let t = fetch(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(t)
    }

    /// A task by id.
    pub async fn task(&self, id: &str) -> Result<Option<Task>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Open tasks due before `due_before` (all open tasks with `i64::MAX`), soonest first: the
    /// work list of the callback desk and the supervisors.
    pub async fn open_tasks(&self, due_before: i64) -> Result<Vec<Task>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE status = 'open' AND due_at < $1 ORDER BY due_at, id"
        ))
        .bind(due_before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Every task of a ticket, oldest first.
    pub async fn tasks_of_ticket(&self, ticket_id: &str) -> Result<Vec<Task>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE ticket_id = $1 ORDER BY created_at, id"
        ))
        .bind(ticket_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Gives an open task to someone. Audited as `assigned` with old and new.
    pub async fn assign_task(
        &self,
        id: &str,
        to: &str,
        actor: &str,
        now: i64,
    ) -> Result<Task, StoreError> {
        let mut tx = self.begin_write().await?;
        // Lock the row (a write) before reading the old assignee for the audit.
        sqlx::query("UPDATE tasks SET assigned_to = assigned_to WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let mut t = fetch(&mut tx, id).await?;
        if t.status == TaskStatus::Done {
            return Err(StoreError::InvalidTransition {
                from: "done".into(),
                to: "assigned".into(),
            });
        }
        let from = t.assigned_to.replace(to.to_owned());
        sqlx::query("UPDATE tasks SET assigned_to = $2 WHERE id = $1")
            .bind(id)
            .bind(to)
            .execute(&mut *tx)
            .await?;
        let detail = serde_json::json!({ "from": from, "to": to });
        audit::record(&mut tx, now, actor, "assigned", "task", id, detail).await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Marks an open task done (a second completion is [`StoreError::InvalidTransition`]). A
    /// return visit on a resolved ticket also records the ticket's return visit (meeting, or
    /// late-flagging, its 1 h deadline). Audited as `done`.
    pub async fn complete_task(&self, id: &str, actor: &str, now: i64) -> Result<Task, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE tasks SET status = 'done', done_at = $2, done_by = $3 WHERE id = $1 AND status = 'open'",
        )
        .bind(id)
        .bind(now)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        let t = fetch(&mut tx, id).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::InvalidTransition {
                from: t.status.to_string(),
                to: "done".into(),
            });
        }
        audit::record(
            &mut tx,
            now,
            actor,
            "done",
            "task",
            id,
            serde_json::json!({}),
        )
        .await?;
        if let (TaskKind::ReturnVisit, Some(ticket_id)) = (t.kind, &t.ticket_id) {
            let mut ticket = tickets::lock(&mut tx, ticket_id, now).await?;
            if matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed) {
                let before = ticket.return_visited_at;
                let late = ticket.mark_return_visited(now);
                if ticket.return_visited_at != before {
                    tickets::save(&mut tx, &ticket).await?;
                    let detail = serde_json::json!({ "task_id": id });
                    audit::record(
                        &mut tx,
                        now,
                        actor,
                        "return_visited",
                        "ticket",
                        ticket_id,
                        detail,
                    )
                    .await?;
                    tickets::audit_late(&mut tx, &ticket, late, now).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(t)
    }
}

//! Case tickets: what the hotline owes a caller after a call. This file holds the ticket type,
//! its workflow (open → in_progress → resolved → closed, resolved → in_progress to reopen) and
//! the edits the console makes; tickets are created from calls in `filing.rs`.
//!
//! Every edit runs in one write transaction that first locks the ticket row ([`lock`]), reads
//! it, changes it in Rust and writes it back with an audit row: two consoles editing the same
//! ticket queue behind each other and neither change is lost.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, SYSTEM};
use crate::clock::{self, HOUR_MS};
use crate::tasks::{self, NewTask, SUPERVISORS, TaskKind};
use crate::{Store, StoreError, parse_col, text_enum};

text_enum! {
    /// What a case is about, as the IVR's service menu and the justice bureau's statistics
    /// divide them.
    pub enum Category {
        /// Legal consultation (法律咨询).
        Consultation = "consultation",
        /// Legal aid application or question (法律援助).
        LegalAid = "legal_aid",
        /// People's mediation (人民调解).
        Mediation = "mediation",
        /// A complaint about a legal service (投诉).
        Complaint = "complaint",
        /// Anything else, and calls that ended before the caller chose.
        Other = "other",
    }
}

impl Category {
    /// The category for the IVR's `category` variable; values the store does not know (a
    /// dialplan may invent its own) file as [`Category::Other`] rather than losing the call.
    pub fn from_ivr(value: &str) -> Category {
        value.parse().unwrap_or(Category::Other)
    }
}

text_enum! {
    /// Where a ticket is in its workflow.
    pub enum TicketStatus {
        /// Created, waiting for review and assignment.
        Open = "open",
        /// Someone works on it.
        InProgress = "in_progress",
        /// Answered or handled; a return visit is due within an hour.
        Resolved = "resolved",
        /// Done for good.
        Closed = "closed",
    }
}

impl TicketStatus {
    /// Whether the workflow allows `self → to`: open → in_progress → resolved → closed, and
    /// resolved → in_progress (reopen, e.g. after an unhappy return visit).
    pub fn can_become(self, to: TicketStatus) -> bool {
        use TicketStatus::*;
        matches!(
            (self, to),
            (Open, InProgress)
                | (InProgress, Resolved)
                | (Resolved, Closed)
                | (Resolved, InProgress)
        )
    }

    /// Whether a repeat call links to a ticket in this status.
    pub fn is_open(self) -> bool {
        matches!(self, TicketStatus::Open | TicketStatus::InProgress)
    }
}

/// A case ticket as stored. Times are unix ms. The calls that belong to it (with their
/// recordings and waits) are [`Store::calls_of_ticket`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Row id.
    pub id: String,
    /// The number told to callers: `12348-2026-000123`, sequential per Beijing year.
    pub number: String,
    /// What the case is about.
    pub category: Category,
    /// The caller's region, if known.
    pub region: Option<String>,
    /// The caller's number; `None` for anonymous callers (each of their calls gets its own
    /// ticket, as nothing links them).
    pub caller: Option<String>,
    /// The lawyer handling it.
    pub lawyer_id: Option<String>,
    /// Workflow status.
    pub status: TicketStatus,
    /// Notes, appended one paragraph per [`Store::add_ticket_note`].
    pub notes: String,
    /// The wrap-up (outcome) code.
    pub outcome: Option<String>,
    /// Flagged for urgent attention (a threat to life, a mass dispute, ...).
    pub red_alert: bool,
    /// When the ticket was created.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// When a supervisor reviewed it (or work started).
    pub reviewed_at: Option<i64>,
    /// When a lawyer was assigned (creation time when the call was answered by one).
    pub assigned_at: Option<i64>,
    /// When it was resolved (cleared on reopen).
    pub resolved_at: Option<i64>,
    /// When it was closed.
    pub closed_at: Option<i64>,
    /// When the return visit after resolution was made.
    pub return_visited_at: Option<i64>,
    /// Review deadline: creation + 1 h.
    pub review_due: i64,
    /// Assignment deadline: creation + 1 h.
    pub assign_due: i64,
    /// Return-visit deadline: resolution + 1 h (`None` until resolved).
    pub return_visit_due: Option<i64>,
    /// The review deadline, if it was missed.
    pub review_breached_at: Option<i64>,
    /// The assignment deadline, if it was missed.
    pub assign_breached_at: Option<i64>,
    /// The return-visit deadline, if it was missed.
    pub return_visit_breached_at: Option<i64>,
}

/// The columns [`from_row`] reads, in `SELECT` form (a macro so queries stay `&'static str`).
macro_rules! ticket_columns {
    () => {
        "id, number, category, region, caller, lawyer_id, status, notes, outcome, red_alert, created_at, updated_at, reviewed_at, assigned_at, resolved_at, closed_at, return_visited_at, review_due, assign_due, return_visit_due, review_breached_at, assign_breached_at, return_visit_breached_at"
    };
}
pub(crate) use ticket_columns;

/// Reads a ticket row selected with [`COLUMNS`].
pub(crate) fn from_row(r: &AnyRow) -> Result<Ticket, StoreError> {
    Ok(Ticket {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        category: parse_col(r, "category")?,
        region: r.try_get("region")?,
        caller: r.try_get("caller")?,
        lawyer_id: r.try_get("lawyer_id")?,
        status: parse_col(r, "status")?,
        notes: r.try_get("notes")?,
        outcome: r.try_get("outcome")?,
        red_alert: r.try_get::<i64, _>("red_alert")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        reviewed_at: r.try_get("reviewed_at")?,
        assigned_at: r.try_get("assigned_at")?,
        resolved_at: r.try_get("resolved_at")?,
        closed_at: r.try_get("closed_at")?,
        return_visited_at: r.try_get("return_visited_at")?,
        review_due: r.try_get("review_due")?,
        assign_due: r.try_get("assign_due")?,
        return_visit_due: r.try_get("return_visit_due")?,
        review_breached_at: r.try_get("review_breached_at")?,
        assign_breached_at: r.try_get("assign_breached_at")?,
        return_visit_breached_at: r.try_get("return_visit_breached_at")?,
    })
}

/// Inserts a new ticket row.
pub(crate) async fn insert(conn: &mut AnyConnection, t: &Ticket) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "INSERT INTO tickets (",
        ticket_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
    ))
    .bind(&t.id)
    .bind(&t.number)
    .bind(t.category.as_str())
    .bind(&t.region)
    .bind(&t.caller)
    .bind(&t.lawyer_id)
    .bind(t.status.as_str())
    .bind(&t.notes)
    .bind(&t.outcome)
    .bind(i64::from(t.red_alert))
    .bind(t.created_at)
    .bind(t.updated_at)
    .bind(t.reviewed_at)
    .bind(t.assigned_at)
    .bind(t.resolved_at)
    .bind(t.closed_at)
    .bind(t.return_visited_at)
    .bind(t.review_due)
    .bind(t.assign_due)
    .bind(t.return_visit_due)
    .bind(t.review_breached_at)
    .bind(t.assign_breached_at)
    .bind(t.return_visit_breached_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks a ticket row for the rest of the transaction and reads it. The lock is a write
/// (`updated_at` moves forward to `now`): portable, where `SELECT ... FOR UPDATE` is
/// PostgreSQL only; on SQLite the `BEGIN IMMEDIATE` transaction already excludes writers.
pub(crate) async fn lock(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<Ticket, StoreError> {
    let done = sqlx::query(
        "UPDATE tickets SET updated_at = CASE WHEN updated_at < $2 THEN $2 ELSE updated_at END WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("ticket {id}")));
    }
    let row = sqlx::query(concat!(
        "SELECT ",
        ticket_columns!(),
        " FROM tickets WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

/// Writes back every field an edit can change.
pub(crate) async fn save(conn: &mut AnyConnection, t: &Ticket) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE tickets SET category = $2, region = $3, lawyer_id = $4, status = $5, notes = $6, outcome = $7, red_alert = $8, updated_at = $9, reviewed_at = $10, assigned_at = $11, resolved_at = $12, closed_at = $13, return_visited_at = $14, return_visit_due = $15, review_breached_at = $16, assign_breached_at = $17, return_visit_breached_at = $18 WHERE id = $1",
    )
    .bind(&t.id)
    .bind(t.category.as_str())
    .bind(&t.region)
    .bind(&t.lawyer_id)
    .bind(t.status.as_str())
    .bind(&t.notes)
    .bind(&t.outcome)
    .bind(i64::from(t.red_alert))
    .bind(t.updated_at)
    .bind(t.reviewed_at)
    .bind(t.assigned_at)
    .bind(t.resolved_at)
    .bind(t.closed_at)
    .bind(t.return_visited_at)
    .bind(t.return_visit_due)
    .bind(t.review_breached_at)
    .bind(t.assign_breached_at)
    .bind(t.return_visit_breached_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Audits the SLA deadline an action just met too late (see `sla.rs`).
pub(crate) async fn audit_late(
    conn: &mut AnyConnection,
    t: &Ticket,
    late: Option<crate::SlaKind>,
    now: i64,
) -> Result<(), StoreError> {
    if let Some(kind) = late {
        let detail = serde_json::json!({ "kind": kind.as_str(), "late": true });
        audit::record(conn, now, SYSTEM, "sla_breach", "ticket", &t.id, detail).await?;
    }
    Ok(())
}

impl Store {
    /// A ticket by id.
    pub async fn ticket(&self, id: &str) -> Result<Option<Ticket>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// A ticket by the number the caller quotes on the phone.
    pub async fn ticket_by_number(&self, number: &str) -> Result<Option<Ticket>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE number = $1"
        ))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The caller's open (open or in-progress) ticket, if any: the one a repeat call joins,
    /// and what the lawyer's screen shows when the caller rings.
    pub async fn open_ticket_for_caller(&self, caller: &str) -> Result<Option<Ticket>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE caller = $1 AND status IN ('open', 'in_progress')"
        ))
        .bind(caller.trim())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every ticket of a caller, newest first: the case history on the lawyer's screen.
    pub async fn tickets_of_caller(&self, caller: &str) -> Result<Vec<Ticket>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE caller = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(caller.trim())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Moves a ticket along its workflow (see [`TicketStatus::can_become`]); anything else is
    /// [`StoreError::InvalidTransition`]. Starting work counts as the review; resolving starts
    /// the return-visit clock (1 h) and opens a return-visit task for the supervisors unless
    /// one is open; reopening clears the resolution. Audited as `status`.
    pub async fn set_ticket_status(
        &self,
        id: &str,
        to: TicketStatus,
        actor: &str,
        now: i64,
    ) -> Result<Ticket, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut t = lock(&mut tx, id, now).await?;
        let from = t.status;
        if !from.can_become(to) {
            return Err(StoreError::InvalidTransition {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        let mut late = None;
        match to {
            TicketStatus::InProgress if from == TicketStatus::Resolved => {
                if let Some(caller) = &t.caller {
                    let other = sqlx::query(
                        "SELECT number FROM tickets WHERE caller = $1 AND status IN ('open', 'in_progress') AND id <> $2",
                    )
                    .bind(caller)
                    .bind(&t.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(other) = other {
                        return Err(StoreError::CallerHasOpenTicket(other.try_get(0)?));
                    }
                }
                t.resolved_at = None;
                t.return_visit_due = None;
                t.return_visited_at = None;
            }
            TicketStatus::InProgress => late = t.mark_reviewed(now),
            TicketStatus::Resolved => {
                t.resolved_at = Some(now);
                t.return_visit_due = Some(now + HOUR_MS);
            }
            TicketStatus::Closed => t.closed_at = Some(now),
            TicketStatus::Open => {}
        }
        t.status = to;
        t.updated_at = t.updated_at.max(now);
        if let Err(e) = save(&mut tx, &t).await {
            return Err(if e.is_unique_violation() {
                StoreError::CallerHasOpenTicket("created meanwhile".into())
            } else {
                e
            });
        }
        let detail = serde_json::json!({ "from": from.as_str(), "to": to.as_str() });
        audit::record(&mut tx, now, actor, "status", "ticket", &t.id, detail).await?;
        audit_late(&mut tx, &t, late, now).await?;
        if to == TicketStatus::Resolved {
            let open_visit = sqlx::query(
                "SELECT id FROM tasks WHERE ticket_id = $1 AND kind = 'return_visit' AND status = 'open'",
            )
            .bind(&t.id)
            .fetch_optional(&mut *tx)
            .await?;
            if open_visit.is_none() {
                let task = NewTask {
                    kind: TaskKind::ReturnVisit,
                    reason: "resolved".into(),
                    ticket_id: Some(t.id.clone()),
                    caller: t.caller.clone(),
                    call_id: None,
                    due_at: now + HOUR_MS,
                    assigned_to: Some(SUPERVISORS.into()),
                };
                tasks::insert(&mut tx, &task, SYSTEM, now).await?;
            }
        }
        tx.commit().await?;
        Ok(t)
    }

    /// Assigns (or reassigns) the ticket to a lawyer; the first assignment meets the 1 h
    /// assignment deadline (late ones are flagged). Audited as `assigned` with old and new.
    pub async fn assign_ticket(
        &self,
        id: &str,
        lawyer_id: &str,
        actor: &str,
        now: i64,
    ) -> Result<Ticket, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut t = lock(&mut tx, id, now).await?;
        if t.status == TicketStatus::Closed {
            return Err(StoreError::InvalidTransition {
                from: t.status.to_string(),
                to: "assigned".into(),
            });
        }
        let from = t.lawyer_id.replace(lawyer_id.to_owned());
        let late = t.mark_assigned(now);
        t.updated_at = t.updated_at.max(now);
        save(&mut tx, &t).await?;
        let detail = serde_json::json!({ "from": from, "to": lawyer_id });
        audit::record(&mut tx, now, actor, "assigned", "ticket", &t.id, detail).await?;
        audit_late(&mut tx, &t, late, now).await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Records the supervisor's review (meets the 1 h review deadline), optionally correcting
    /// the category the caller chose. Audited as `reviewed`.
    pub async fn review_ticket(
        &self,
        id: &str,
        category: Option<Category>,
        actor: &str,
        now: i64,
    ) -> Result<Ticket, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut t = lock(&mut tx, id, now).await?;
        let from = t.category;
        if let Some(c) = category {
            t.category = c;
        }
        let late = t.mark_reviewed(now);
        t.updated_at = t.updated_at.max(now);
        save(&mut tx, &t).await?;
        let detail =
            serde_json::json!({ "category_from": from.as_str(), "category": t.category.as_str() });
        audit::record(&mut tx, now, actor, "reviewed", "ticket", &t.id, detail).await?;
        audit_late(&mut tx, &t, late, now).await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Changes the category without recording a review: the lawyer on the call corrects it,
    /// but the 1 h review deadline is the supervisor's and stays open (see
    /// [`Store::review_ticket`]). Audited as `category` with old and new.
    pub async fn set_ticket_category(
        &self,
        id: &str,
        category: Category,
        actor: &str,
        now: i64,
    ) -> Result<Ticket, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut t = lock(&mut tx, id, now).await?;
        let from = t.category;
        t.category = category;
        t.updated_at = t.updated_at.max(now);
        save(&mut tx, &t).await?;
        let detail = serde_json::json!({ "from": from.as_str(), "to": category.as_str() });
        audit::record(&mut tx, now, actor, "category", "ticket", &t.id, detail).await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Appends a note (a paragraph headed with the author and Beijing time); appending under
    /// the row lock means two people writing notes at once both keep theirs. Audited as
    /// `note` with the text.
    pub async fn add_ticket_note(
        &self,
        id: &str,
        actor: &str,
        note: &str,
        now: i64,
    ) -> Result<Ticket, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut t = lock(&mut tx, id, now).await?;
        if !t.notes.is_empty() {
            t.notes.push('\n');
        }
        t.notes.push_str(&format!(
            "[{} {actor}] {}\n",
            clock::beijing(now),
            note.trim()
        ));
        t.updated_at = t.updated_at.max(now);
        save(&mut tx, &t).await?;
        let detail = serde_json::json!({ "note": note.trim() });
        audit::record(&mut tx, now, actor, "note", "ticket", &t.id, detail).await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Sets the wrap-up (outcome) code the lawyer chose. Audited as `outcome` with old and new.
    pub async fn set_ticket_outcome(
        &self,
        id: &str,
        outcome: &str,
        actor: &str,
        now: i64,
    ) -> Result<Ticket, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut t = lock(&mut tx, id, now).await?;
        let from = t.outcome.replace(outcome.to_owned());
        t.updated_at = t.updated_at.max(now);
        save(&mut tx, &t).await?;
        let detail = serde_json::json!({ "from": from, "to": outcome });
        audit::record(&mut tx, now, actor, "outcome", "ticket", &t.id, detail).await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Raises or clears the red-alert flag (urgent cases shown first to supervisors).
    /// Audited as `red_alert`.
    pub async fn set_red_alert(
        &self,
        id: &str,
        on: bool,
        actor: &str,
        now: i64,
    ) -> Result<Ticket, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut t = lock(&mut tx, id, now).await?;
        let from = t.red_alert;
        t.red_alert = on;
        t.updated_at = t.updated_at.max(now);
        save(&mut tx, &t).await?;
        let detail = serde_json::json!({ "from": from, "to": on });
        audit::record(&mut tx, now, actor, "red_alert", "ticket", &t.id, detail).await?;
        tx.commit().await?;
        Ok(t)
    }
}

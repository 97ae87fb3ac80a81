//! SLA timers after the "six one-hours" (六个一小时) practice of the 12348 hotlines: a ticket is
//! reviewed within an hour of creation, assigned within an hour, and the caller gets a return
//! visit within an hour of resolution; callbacks asked for are due within an hour.
//!
//! A missed deadline is flagged once, on the ticket, with the deadline itself as the breach
//! time: by [`Store::sla_breaches`] while it is still pending, or by the action that meets it
//! late. Either way an `sla_breach` audit row records it.

use sqlx::Row;

use crate::audit::{self, SYSTEM};
use crate::{Store, StoreError, Ticket, text_enum};

text_enum! {
    /// Which deadline was missed.
    pub enum SlaKind {
        /// Review within 1 h of creation.
        Review = "review",
        /// Assignment within 1 h of creation.
        Assign = "assign",
        /// Return visit within 1 h of resolution.
        ReturnVisit = "return_visit",
    }
}

impl SlaKind {
    /// The sweep's statement for this kind: flag pending deadlines past `$1` (the predicate
    /// matches the partial index `tickets_*_pending`).
    fn sweep(self) -> &'static str {
        macro_rules! sweep {
            ($due:literal, $met:literal, $breached:literal) => {
                concat!(
                    "UPDATE tickets SET ",
                    $breached,
                    " = ",
                    $due,
                    " WHERE ",
                    $met,
                    " IS NULL AND ",
                    $breached,
                    " IS NULL AND ",
                    $due,
                    " < $1 RETURNING id, number, ",
                    $due
                )
            };
        }
        match self {
            SlaKind::Review => sweep!("review_due", "reviewed_at", "review_breached_at"),
            SlaKind::Assign => sweep!("assign_due", "assigned_at", "assign_breached_at"),
            SlaKind::ReturnVisit => sweep!(
                "return_visit_due",
                "return_visited_at",
                "return_visit_breached_at"
            ),
        }
    }
}

/// One deadline newly found missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaBreach {
    /// The ticket.
    pub ticket_id: String,
    /// Its number.
    pub number: String,
    /// Which deadline.
    pub kind: SlaKind,
    /// The deadline (unix ms), also stored as the breach time.
    pub due: i64,
}

/// What one SLA sweep found: for the supervisors' dashboard and alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaReport {
    /// Deadlines this sweep flagged (each is flagged once).
    pub newly_flagged: Vec<SlaBreach>,
    /// Tickets ever flagged for a late review.
    pub review_breaches: i64,
    /// Tickets ever flagged for a late assignment.
    pub assign_breaches: i64,
    /// Tickets ever flagged for a late return visit.
    pub return_visit_breaches: i64,
    /// Open callback tasks past their due time now.
    pub overdue_callbacks: i64,
    /// Open return-visit tasks past their due time now.
    pub overdue_return_visits: i64,
}

impl Ticket {
    /// Records the review at `now` (first one only); returns the deadline kind if it was late
    /// and not flagged yet, flagging it.
    pub(crate) fn mark_reviewed(&mut self, now: i64) -> Option<SlaKind> {
        if self.reviewed_at.is_some() {
            return None;
        }
        self.reviewed_at = Some(now);
        late(now, self.review_due, &mut self.review_breached_at).then_some(SlaKind::Review)
    }

    /// Records the first assignment at `now`; like [`Ticket::mark_reviewed`].
    pub(crate) fn mark_assigned(&mut self, now: i64) -> Option<SlaKind> {
        if self.assigned_at.is_some() {
            return None;
        }
        self.assigned_at = Some(now);
        late(now, self.assign_due, &mut self.assign_breached_at).then_some(SlaKind::Assign)
    }

    /// Records the return visit at `now` if the ticket is resolved (or closed) and has none
    /// yet; like [`Ticket::mark_reviewed`].
    pub(crate) fn mark_return_visited(&mut self, now: i64) -> Option<SlaKind> {
        let due = self.return_visit_due?;
        if self.return_visited_at.is_some() {
            return None;
        }
        self.return_visited_at = Some(now);
        late(now, due, &mut self.return_visit_breached_at).then_some(SlaKind::ReturnVisit)
    }
}

/// Flags `breached` with `due` if `now` is past it and it is not flagged yet.
fn late(now: i64, due: i64, breached: &mut Option<i64>) -> bool {
    if now > due && breached.is_none() {
        *breached = Some(due);
        true
    } else {
        false
    }
}

impl Store {
    /// The SLA sweep (run every minute or so): flags every ticket whose review, assignment or
    /// return visit is still not done at `now` past its deadline, audits each, and counts
    /// breaches and overdue tasks. A deadline is flagged once, so the sweep can run as often
    /// as wanted and from several nodes.
    pub async fn sla_breaches(&self, now: i64) -> Result<SlaReport, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut report = SlaReport::default();
        for kind in SlaKind::ALL {
            let rows = sqlx::query(kind.sweep())
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
            for r in rows {
                let b = SlaBreach {
                    ticket_id: r.try_get(0)?,
                    number: r.try_get(1)?,
                    kind: *kind,
                    due: r.try_get(2)?,
                };
                let detail = serde_json::json!({ "kind": kind.as_str(), "due": b.due });
                audit::record(
                    &mut tx,
                    now,
                    SYSTEM,
                    "sla_breach",
                    "ticket",
                    &b.ticket_id,
                    detail,
                )
                .await?;
                report.newly_flagged.push(b);
            }
        }
        let counts = sqlx::query(
            "SELECT \
             (SELECT COUNT(*) FROM tickets WHERE review_breached_at IS NOT NULL), \
             (SELECT COUNT(*) FROM tickets WHERE assign_breached_at IS NOT NULL), \
             (SELECT COUNT(*) FROM tickets WHERE return_visit_breached_at IS NOT NULL), \
             (SELECT COUNT(*) FROM tasks WHERE status = 'open' AND kind = 'callback' AND due_at < $1), \
             (SELECT COUNT(*) FROM tasks WHERE status = 'open' AND kind = 'return_visit' AND due_at < $1)",
        )
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        report.review_breaches = counts.try_get(0)?;
        report.assign_breaches = counts.try_get(1)?;
        report.return_visit_breaches = counts.try_get(2)?;
        report.overdue_callbacks = counts.try_get(3)?;
        report.overdue_return_visits = counts.try_get(4)?;
        tx.commit().await?;
        Ok(report)
    }
}

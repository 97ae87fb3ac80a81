//! Filing a call on a ticket: every call ends up on exactly one ticket. The first time a call
//! is filed (when the caller picks a category, or at hangup as `other`) it joins the caller's
//! open ticket if there is one, else a new ticket is created with the next number of the
//! year; filing the same call again only fills in what became known (category, region,
//! lawyer).
//!
//! Race-freedom: everything happens in one write transaction. On SQLite that transaction holds
//! the database's write lock from its first statement. On PostgreSQL the caller's row in
//! `callers` is upserted first, which locks it until commit, so concurrent calls from one
//! number file one after another and the later ones see the ticket the first created; the
//! unique partial index `tickets_open_per_caller` backs this up (a violation is retried).
//! Ticket numbers come from an upsert on `ticket_sequences` that locks the year's row, so
//! they are unique and, as a failed transaction rolls its increment back, gap-free.

use sqlx::{AnyConnection, Row};

use crate::audit::{self, SYSTEM};
use crate::clock::{self, HOUR_MS};
use crate::directory::{caller_key, touch_caller};
use crate::tickets::{self, ticket_columns};
use crate::{Category, Store, StoreError, Ticket, TicketStatus};

/// What filing a call needs to know, as far as it is known yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallTicket<'a> {
    /// The call's id (SIP Call-ID).
    pub call_id: &'a str,
    /// The caller's number as signalled.
    pub caller: &'a str,
    /// The category the caller chose; `None` files as `other` (a later filing with a
    /// category replaces `other`).
    pub category: Option<Category>,
    /// The caller's region, if resolved.
    pub region: Option<&'a str>,
    /// The lawyer who answered, if one did (assigns the ticket if it has nobody yet).
    pub lawyer_id: Option<&'a str>,
    /// Now (unix ms): a new ticket's creation time, from which its SLA clocks run.
    pub at: i64,
}

/// Which ticket a call was filed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketLink {
    /// The ticket's id.
    pub ticket_id: String,
    /// Its number (to tell the caller).
    pub number: String,
    /// Whether this filing created it (false: a repeat caller's open ticket, or the call
    /// was filed before).
    pub created: bool,
}

impl Store {
    /// Files a call on a ticket (see the module docs): call it as soon as the caller's category
    /// is known; [`Store::record_call_ended`] files every call again at hangup, so calls that
    /// never got that far get a ticket too. Idempotent per call.
    pub async fn ticket_for_call(&self, call: &CallTicket<'_>) -> Result<TicketLink, StoreError> {
        let mut attempt = 0;
        loop {
            let mut tx = self.begin_write().await?;
            match file_call(&mut tx, &self.node, call).await {
                Ok(link) => {
                    tx.commit().await?;
                    return Ok(link);
                }
                Err(e) if e.is_unique_violation() && attempt < 3 => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Files `call` inside the caller's write transaction (see the module docs).
pub(crate) async fn file_call(
    conn: &mut AnyConnection,
    node: &str,
    call: &CallTicket<'_>,
) -> Result<TicketLink, StoreError> {
    let caller = caller_key(call.caller);
    if let Some(number) = caller {
        touch_caller(conn, number, call.region, call.at).await?;
    }
    sqlx::query(
        "INSERT INTO calls (id, node, caller, arrived_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(call.call_id)
    .bind(node)
    .bind(call.caller)
    .bind(call.at)
    .execute(&mut *conn)
    .await?;

    let linked = sqlx::query("SELECT ticket_id FROM ticket_calls WHERE call_id = $1")
        .bind(call.call_id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(row) = linked {
        let id: String = row.try_get(0)?;
        let mut t = tickets::lock(conn, &id, call.at).await?;
        fill_in(conn, &mut t, call).await?;
        return Ok(TicketLink {
            ticket_id: t.id,
            number: t.number,
            created: false,
        });
    }

    if let Some(number) = caller {
        // Lock-and-check in one statement: a ticket resolved meanwhile no longer matches.
        let touched = sqlx::query(
            "UPDATE tickets SET updated_at = CASE WHEN updated_at < $2 THEN $2 ELSE updated_at END WHERE caller = $1 AND status IN ('open', 'in_progress')",
        )
        .bind(number)
        .bind(call.at)
        .execute(&mut *conn)
        .await?;
        if touched.rows_affected() > 0 {
            let row = sqlx::query(concat!(
                "SELECT ",
                ticket_columns!(),
                " FROM tickets WHERE caller = $1 AND status IN ('open', 'in_progress')"
            ))
            .bind(number)
            .fetch_one(&mut *conn)
            .await?;
            let mut t = tickets::from_row(&row)?;
            link(conn, &t.id, call.call_id, call.at).await?;
            let detail = serde_json::json!({ "call_id": call.call_id });
            audit::record(
                conn,
                call.at,
                SYSTEM,
                "call_linked",
                "ticket",
                &t.id,
                detail,
            )
            .await?;
            fill_in(conn, &mut t, call).await?;
            return Ok(TicketLink {
                ticket_id: t.id,
                number: t.number,
                created: false,
            });
        }
    }

    let t = create(conn, call, caller).await?;
    Ok(TicketLink {
        ticket_id: t.id,
        number: t.number,
        created: true,
    })
}

/// Creates a ticket for `call` with the year's next number and links the call.
async fn create(
    conn: &mut AnyConnection,
    call: &CallTicket<'_>,
    caller: Option<&str>,
) -> Result<Ticket, StoreError> {
    let year = clock::beijing(call.at).year;
    let seq: i64 = sqlx::query(
        "INSERT INTO ticket_sequences (year, last_seq) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last_seq = ticket_sequences.last_seq + 1 RETURNING last_seq",
    )
    .bind(year)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    let t = Ticket {
        id: crate::new_id(),
        number: format!("12348-{year}-{seq:06}"),
        category: call.category.unwrap_or(Category::Other),
        region: call.region.map(str::to_owned),
        caller: caller.map(str::to_owned),
        lawyer_id: call.lawyer_id.map(str::to_owned),
        status: TicketStatus::Open,
        notes: String::new(),
        outcome: None,
        red_alert: false,
        created_at: call.at,
        updated_at: call.at,
        reviewed_at: None,
        assigned_at: call.lawyer_id.map(|_| call.at),
        resolved_at: None,
        closed_at: None,
        return_visited_at: None,
        review_due: call.at + HOUR_MS,
        assign_due: call.at + HOUR_MS,
        return_visit_due: None,
        review_breached_at: None,
        assign_breached_at: None,
        return_visit_breached_at: None,
    };
    tickets::insert(conn, &t).await?;
    link(conn, &t.id, call.call_id, call.at).await?;
    let detail = serde_json::json!({
        "number": t.number,
        "call_id": call.call_id,
        "category": t.category.as_str(),
        "lawyer_id": t.lawyer_id,
    });
    audit::record(conn, call.at, SYSTEM, "created", "ticket", &t.id, detail).await?;
    Ok(t)
}

async fn link(
    conn: &mut AnyConnection,
    ticket_id: &str,
    call_id: &str,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO ticket_calls (call_id, ticket_id, linked_at) VALUES ($1, $2, $3)")
        .bind(call_id)
        .bind(ticket_id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Fills in what a later filing of a call knows and the (locked) ticket lacks: a category for
/// `other`, a region, a lawyer (which is the ticket's assignment). Audits each change.
async fn fill_in(
    conn: &mut AnyConnection,
    t: &mut Ticket,
    call: &CallTicket<'_>,
) -> Result<(), StoreError> {
    let mut changed = false;
    if let Some(c) = call.category.filter(|c| *c != Category::Other)
        && t.category == Category::Other
    {
        let detail = serde_json::json!({ "from": t.category.as_str(), "to": c.as_str(), "call_id": call.call_id });
        audit::record(conn, call.at, SYSTEM, "category", "ticket", &t.id, detail).await?;
        t.category = c;
        changed = true;
    }
    if t.region.is_none()
        && let Some(r) = call.region
    {
        t.region = Some(r.to_owned());
        changed = true;
    }
    if t.lawyer_id.is_none()
        && let Some(l) = call.lawyer_id
    {
        t.lawyer_id = Some(l.to_owned());
        let late = t.mark_assigned(call.at);
        let detail = serde_json::json!({ "from": null, "to": l, "call_id": call.call_id });
        audit::record(conn, call.at, SYSTEM, "assigned", "ticket", &t.id, detail).await?;
        tickets::audit_late(conn, t, late, call.at).await?;
        changed = true;
    }
    if changed {
        t.updated_at = t.updated_at.max(call.at);
        tickets::save(conn, t).await?;
    }
    Ok(())
}

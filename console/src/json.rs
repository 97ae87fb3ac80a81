//! The API's JSON shapes of store records (see the console contract).

use hotline_cases::{CallRecord, QaEvaluation, Task, Ticket};
use serde_json::{Value, json};

/// A ticket.
pub fn ticket(t: &Ticket) -> Value {
    let mut breaches = Vec::new();
    for (kind, at) in [
        ("review", t.review_breached_at),
        ("assign", t.assign_breached_at),
        ("return_visit", t.return_visit_breached_at),
    ] {
        if let Some(at) = at {
            breaches.push(json!({ "kind": kind, "due": at }));
        }
    }
    json!({
        "id": t.id, "number": t.number, "category": t.category.as_str(), "region": t.region,
        "caller": t.caller, "lawyer_id": t.lawyer_id, "status": t.status.as_str(),
        "notes": t.notes, "outcome": t.outcome, "red_alert": t.red_alert,
        "created_at": t.created_at, "updated_at": t.updated_at, "reviewed_at": t.reviewed_at,
        "assigned_at": t.assigned_at, "resolved_at": t.resolved_at, "closed_at": t.closed_at,
        "review_due": t.review_due, "assign_due": t.assign_due,
        "return_visit_due": t.return_visit_due, "sla_breaches": breaches,
    })
}

/// A call; `ticket_id` and `survey` come from other tables.
pub fn call(c: &CallRecord, ticket_id: Option<&str>, survey: Option<&str>) -> Value {
    json!({
        "id": c.id, "caller": c.caller, "region": c.region, "language": c.language,
        "category": c.category.map(|c| c.as_str()), "arrived_at": c.arrived_at,
        "answered_at": c.answered_at, "ended_at": c.ended_at,
        "queue_wait_secs": c.queue_wait_secs, "overflow_steps": c.overflow_steps,
        "disposition": c.disposition, "lawyer_id": c.lawyer_id, "cut_off": c.cut_off,
        "callback": c.callback, "survey": survey, "ticket_id": ticket_id,
        "has_recording": c.recording_path.as_deref().is_some_and(|p| std::path::Path::new(p).is_file()),
    })
}

/// A task (`assignee` is `assigned_to` under the name the front-end uses).
pub fn task(t: &Task) -> Value {
    json!({
        "id": t.id, "kind": t.kind.as_str(), "reason": t.reason, "ticket_id": t.ticket_id,
        "caller": t.caller, "call_id": t.call_id, "due_at": t.due_at,
        "assigned_to": t.assigned_to, "assignee": t.assigned_to, "status": t.status.as_str(),
        "created_at": t.created_at, "done_at": t.done_at, "done_by": t.done_by,
    })
}

/// A QA evaluation.
pub fn qa(e: &QaEvaluation) -> Value {
    let answers: Value = serde_json::from_str(&e.answers).unwrap_or(Value::Null);
    json!({
        "id": e.id, "call_id": e.call_id, "ticket_id": e.ticket_id, "by": e.evaluator,
        "answers": answers, "comment": e.comment, "score": e.score, "created_at": e.created_at,
    })
}

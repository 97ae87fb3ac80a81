//! SLA deadlines ("six one-hours") with a fake clock.

use super::{MIN, T0, ended, on_both};
use crate::{CallTicket, Category, HOUR_MS, SlaKind, Store, TicketStatus};

fn call<'a>(call_id: &'a str, caller: &'a str, at: i64) -> CallTicket<'a> {
    CallTicket {
        call_id,
        caller,
        category: Some(Category::Consultation),
        region: None,
        lawyer_id: None,
        at,
    }
}

async fn review_and_assignment_breaches_are_flagged_once(s: Store) {
    let a = s
        .ticket_for_call(&call("c1", "13800000001", T0))
        .await
        .unwrap();
    let b = s
        .ticket_for_call(&call("c2", "13800000002", T0))
        .await
        .unwrap();
    // b is handled in time: reviewed and assigned within the hour.
    s.review_ticket(&b.ticket_id, None, "sup", T0 + 30 * MIN)
        .await
        .unwrap();
    s.assign_ticket(&b.ticket_id, "lawyer-a", "sup", T0 + 40 * MIN)
        .await
        .unwrap();

    let r = s.sla_breaches(T0 + 59 * MIN).await.unwrap();
    assert!(r.newly_flagged.is_empty());
    assert_eq!((r.review_breaches, r.assign_breaches), (0, 0));
    let r = s.sla_breaches(T0 + HOUR_MS).await.unwrap();
    assert!(
        r.newly_flagged.is_empty(),
        "exactly at the deadline is still in time"
    );

    let r = s.sla_breaches(T0 + 61 * MIN).await.unwrap();
    let mut kinds: Vec<_> = r
        .newly_flagged
        .iter()
        .map(|b| (b.kind, b.ticket_id.clone(), b.due))
        .collect();
    kinds.sort_by_key(|k| k.0.as_str());
    assert_eq!(
        kinds,
        [
            (SlaKind::Assign, a.ticket_id.clone(), T0 + HOUR_MS),
            (SlaKind::Review, a.ticket_id.clone(), T0 + HOUR_MS),
        ]
    );
    assert_eq!(r.newly_flagged[0].number, a.number);
    assert_eq!(
        (
            r.review_breaches,
            r.assign_breaches,
            r.return_visit_breaches
        ),
        (1, 1, 0)
    );
    let t = s.ticket(&a.ticket_id).await.unwrap().unwrap();
    assert_eq!(
        (t.review_breached_at, t.assign_breached_at),
        (Some(T0 + HOUR_MS), Some(T0 + HOUR_MS))
    );

    // Flagged once: later sweeps and the late actions add nothing.
    let r = s.sla_breaches(T0 + 2 * HOUR_MS).await.unwrap();
    assert!(r.newly_flagged.is_empty());
    assert_eq!((r.review_breaches, r.assign_breaches), (1, 1));
    s.review_ticket(&a.ticket_id, None, "sup", T0 + 3 * HOUR_MS)
        .await
        .unwrap();
    let breaches = s
        .audit_entries("ticket", &a.ticket_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "sla_breach")
        .count();
    assert_eq!(breaches, 2);
}

async fn late_actions_are_flagged_without_a_sweep(s: Store) {
    let a = s
        .ticket_for_call(&call("c1", "13800000001", T0))
        .await
        .unwrap();
    let t = s
        .review_ticket(&a.ticket_id, None, "sup", T0 + 90 * MIN)
        .await
        .unwrap();
    assert_eq!(t.review_breached_at, Some(T0 + HOUR_MS));
    let t = s
        .assign_ticket(&a.ticket_id, "l", "sup", T0 + 30 * MIN)
        .await
        .unwrap();
    assert_eq!(t.assign_breached_at, None, "an action's own time decides");
    let r = s.sla_breaches(T0 + 10 * HOUR_MS).await.unwrap();
    assert!(r.newly_flagged.is_empty());
    assert_eq!((r.review_breaches, r.assign_breaches), (1, 0));
}

async fn return_visit_due_an_hour_after_resolution(s: Store) {
    let a = s
        .ticket_for_call(&CallTicket {
            lawyer_id: Some("l"),
            ..call("c1", "13800000001", T0)
        })
        .await
        .unwrap();
    let b = s
        .ticket_for_call(&CallTicket {
            lawyer_id: Some("l"),
            ..call("c2", "13800000002", T0)
        })
        .await
        .unwrap();
    for id in [&a.ticket_id, &b.ticket_id] {
        s.set_ticket_status(id, TicketStatus::InProgress, "l", T0 + 10 * MIN)
            .await
            .unwrap();
        s.set_ticket_status(id, TicketStatus::Resolved, "l", T0 + 20 * MIN)
            .await
            .unwrap();
    }
    // a's return visit is made in time (completing its task); b's never.
    let task = &s.tasks_of_ticket(&a.ticket_id).await.unwrap()[0];
    s.complete_task(&task.id, "sup", T0 + 50 * MIN)
        .await
        .unwrap();
    let t = s.ticket(&a.ticket_id).await.unwrap().unwrap();
    assert_eq!(t.return_visited_at, Some(T0 + 50 * MIN));

    let r = s.sla_breaches(T0 + 20 * MIN + HOUR_MS).await.unwrap();
    assert!(r.newly_flagged.is_empty());
    let r = s.sla_breaches(T0 + 21 * MIN + HOUR_MS).await.unwrap();
    assert_eq!(r.newly_flagged.len(), 1);
    assert_eq!(
        (
            r.newly_flagged[0].kind,
            r.newly_flagged[0].ticket_id.as_str()
        ),
        (SlaKind::ReturnVisit, b.ticket_id.as_str())
    );
    assert_eq!(
        (
            r.review_breaches,
            r.assign_breaches,
            r.return_visit_breaches
        ),
        (0, 0, 1)
    );
    assert_eq!(
        r.overdue_return_visits, 1,
        "b's return-visit task is overdue"
    );
    let t = s.ticket(&b.ticket_id).await.unwrap().unwrap();
    assert_eq!(t.return_visit_breached_at, Some(T0 + 20 * MIN + HOUR_MS));
}

async fn overdue_callbacks_are_counted(s: Store) {
    let mut cb = ended("c1", "13800000001", T0);
    cb.callback = true;
    let filed = s.record_call_ended(&cb).await.unwrap();
    let due = T0 + MIN + HOUR_MS;
    assert_eq!(s.sla_breaches(due).await.unwrap().overdue_callbacks, 0);
    assert_eq!(s.sla_breaches(due + 1).await.unwrap().overdue_callbacks, 1);
    s.complete_task(&filed.callback_task.unwrap(), "desk", due + 2)
        .await
        .unwrap();
    assert_eq!(s.sla_breaches(due + 3).await.unwrap().overdue_callbacks, 0);
}

on_both!(
    review_and_assignment_breaches_are_flagged_once,
    late_actions_are_flagged_without_a_sweep,
    return_visit_due_an_hour_after_resolution,
    overdue_callbacks_are_counted,
);

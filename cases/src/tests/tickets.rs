//! Tickets: automatic filing, repeat callers, numbering, workflow and audit.

use super::{MIN, T0, ended, on_both};
use crate::{CallTicket, Category, HOUR_MS, Store, StoreError, TaskKind, TicketStatus};

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

async fn ticket_is_filed_when_the_category_is_known_and_filled_in_at_hangup(s: Store) {
    s.record_call_started("c1", "13800000001", T0)
        .await
        .unwrap();
    let link = s
        .ticket_for_call(&call("c1", "13800000001", T0 + 30_000))
        .await
        .unwrap();
    assert!(link.created);
    let t = s.ticket(&link.ticket_id).await.unwrap().unwrap();
    assert_eq!(
        (t.category, t.lawyer_id.clone(), t.assigned_at),
        (Category::Consultation, None, None)
    );
    // Filing the same call again is a no-op.
    let again = s
        .ticket_for_call(&call("c1", "13800000001", T0 + 31_000))
        .await
        .unwrap();
    assert_eq!(
        (again.ticket_id.as_str(), again.created),
        (link.ticket_id.as_str(), false)
    );

    let mut end = ended("c1", "13800000001", T0);
    end.category = Some(Category::Consultation);
    end.region = Some("shicheng".into());
    end.lawyer_id = Some("lai-zhiming".into());
    end.disposition = "answered".into();
    let filed = s.record_call_ended(&end).await.unwrap();
    assert_eq!(
        (filed.ticket.ticket_id.as_str(), filed.ticket.created),
        (link.ticket_id.as_str(), false)
    );
    let t = s.ticket(&link.ticket_id).await.unwrap().unwrap();
    assert_eq!(t.lawyer_id.as_deref(), Some("lai-zhiming"));
    assert_eq!(t.region.as_deref(), Some("shicheng"));
    assert_eq!(t.assigned_at, Some(T0 + MIN));
    let actions: Vec<_> = s
        .audit_entries("ticket", &t.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, ["created", "assigned"]);
}

async fn repeat_caller_joins_the_open_ticket(s: Store) {
    let first = s
        .record_call_ended(&ended("c1", "13800000001", T0))
        .await
        .unwrap();
    assert!(first.ticket.created);
    let t = s.ticket(&first.ticket.ticket_id).await.unwrap().unwrap();
    assert_eq!(t.category, Category::Other, "hung up before choosing");

    // Second call: same number, chooses legal aid → same ticket, category now known.
    let link = s
        .ticket_for_call(&CallTicket {
            category: Some(Category::LegalAid),
            ..call("c2", "13800000001", T0 + HOUR_MS)
        })
        .await
        .unwrap();
    assert_eq!(
        (link.ticket_id.as_str(), link.created),
        (t.id.as_str(), false)
    );
    let t = s.ticket(&t.id).await.unwrap().unwrap();
    assert_eq!(t.category, Category::LegalAid);
    assert_eq!(s.calls_of_ticket(&t.id).await.unwrap().len(), 2);
    let actions: Vec<_> = s
        .audit_entries("ticket", &t.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, ["created", "call_linked", "category"]);

    // Other callers get their own tickets.
    let other = s
        .record_call_ended(&ended("c3", "13800000002", T0))
        .await
        .unwrap();
    assert!(other.ticket.created);
    assert_eq!(other.ticket.number, "12348-2026-000002");

    // Once resolved, the next call opens a new ticket.
    s.set_ticket_status(&t.id, TicketStatus::InProgress, "sup", T0 + HOUR_MS)
        .await
        .unwrap();
    let mid = s
        .ticket_for_call(&call("c4", "13800000001", T0 + HOUR_MS))
        .await
        .unwrap();
    assert_eq!(mid.ticket_id, t.id, "in progress still counts as open");
    s.set_ticket_status(&t.id, TicketStatus::Resolved, "sup", T0 + 2 * HOUR_MS)
        .await
        .unwrap();
    let new = s
        .ticket_for_call(&call("c5", "13800000001", T0 + 3 * HOUR_MS))
        .await
        .unwrap();
    assert!(new.created);
    assert_eq!(new.number, "12348-2026-000003");
    assert_eq!(s.tickets_of_caller("13800000001").await.unwrap().len(), 2);
    assert_eq!(
        s.open_ticket_for_caller("13800000001")
            .await
            .unwrap()
            .unwrap()
            .id,
        new.ticket_id
    );
}

async fn anonymous_callers_are_never_linked(s: Store) {
    let a = s
        .record_call_ended(&ended("c1", "anonymous", T0))
        .await
        .unwrap();
    let b = s
        .record_call_ended(&ended("c2", "anonymous", T0))
        .await
        .unwrap();
    let c = s.record_call_ended(&ended("c3", "", T0)).await.unwrap();
    assert!(a.ticket.created && b.ticket.created && c.ticket.created);
    assert_ne!(a.ticket.ticket_id, b.ticket.ticket_id);
    let t = s.ticket(&a.ticket.ticket_id).await.unwrap().unwrap();
    assert_eq!(t.caller, None);
    assert_eq!(s.caller("anonymous").await.unwrap(), None);
}

async fn ticket_numbers_follow_the_beijing_year(s: Store) {
    // 2025-12-31 23:59 Beijing, then 2026-01-01 00:00 Beijing (= 2025-12-31T16:00Z).
    let new_year = T0 - 8 * HOUR_MS;
    let a = s
        .ticket_for_call(&call("c1", "13800000001", new_year - MIN))
        .await
        .unwrap();
    let b = s
        .ticket_for_call(&call("c2", "13800000002", new_year))
        .await
        .unwrap();
    let c = s
        .ticket_for_call(&call("c3", "13800000003", new_year + 1))
        .await
        .unwrap();
    assert_eq!(a.number, "12348-2025-000001");
    assert_eq!(b.number, "12348-2026-000001");
    assert_eq!(c.number, "12348-2026-000002");
}

async fn status_transitions_are_validated_and_audited(s: Store) {
    let link = s
        .ticket_for_call(&call("c1", "13800000001", T0))
        .await
        .unwrap();
    let id = link.ticket_id.as_str();
    use TicketStatus::*;
    for (to, ok) in [
        (Resolved, false),
        (Closed, false),
        (Open, false),
        (InProgress, true),
    ] {
        let r = s.set_ticket_status(id, to, "sup1", T0 + MIN).await;
        assert_eq!(r.is_ok(), ok, "open → {to}: {r:?}");
        if !ok {
            assert!(matches!(r, Err(StoreError::InvalidTransition { .. })));
        }
    }
    let t = s.ticket(id).await.unwrap().unwrap();
    assert_eq!(
        t.reviewed_at,
        Some(T0 + MIN),
        "starting work counts as the review"
    );
    assert!(matches!(
        s.set_ticket_status(id, Closed, "sup1", T0 + 2 * MIN).await,
        Err(StoreError::InvalidTransition { .. })
    ));
    let t = s
        .set_ticket_status(id, Resolved, "lawyer1", T0 + 3 * MIN)
        .await
        .unwrap();
    assert_eq!(t.resolved_at, Some(T0 + 3 * MIN));
    assert_eq!(t.return_visit_due, Some(T0 + 3 * MIN + HOUR_MS));
    let visits = s.tasks_of_ticket(id).await.unwrap();
    assert_eq!(visits.len(), 1);
    assert_eq!(
        (visits[0].kind, visits[0].reason.as_str()),
        (TaskKind::ReturnVisit, "resolved")
    );
    // reopen, resolve again (no second return-visit task while one is open), close
    let t = s
        .set_ticket_status(id, InProgress, "sup1", T0 + 4 * MIN)
        .await
        .unwrap();
    assert_eq!((t.resolved_at, t.return_visit_due), (None, None));
    s.set_ticket_status(id, Resolved, "lawyer1", T0 + 5 * MIN)
        .await
        .unwrap();
    assert_eq!(s.tasks_of_ticket(id).await.unwrap().len(), 1);
    let t = s
        .set_ticket_status(id, Closed, "sup1", T0 + 6 * MIN)
        .await
        .unwrap();
    assert_eq!(t.closed_at, Some(T0 + 6 * MIN));
    for to in TicketStatus::ALL {
        assert!(
            s.set_ticket_status(id, *to, "sup1", T0 + 7 * MIN)
                .await
                .is_err()
        );
    }
    assert!(matches!(
        s.set_ticket_status("nope", InProgress, "x", T0).await,
        Err(StoreError::NotFound(_))
    ));

    let audit = s.audit_entries("ticket", id).await.unwrap();
    let statuses: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "status")
        .map(|a| (a.actor.as_str(), a.detail.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("sup1", r#"{"from":"open","to":"in_progress"}"#),
            ("lawyer1", r#"{"from":"in_progress","to":"resolved"}"#),
            ("sup1", r#"{"from":"resolved","to":"in_progress"}"#),
            ("lawyer1", r#"{"from":"in_progress","to":"resolved"}"#),
            ("sup1", r#"{"from":"resolved","to":"closed"}"#),
        ]
    );
}

async fn reopening_refused_when_the_caller_has_a_newer_open_ticket(s: Store) {
    let old = s
        .ticket_for_call(&call("c1", "13800000001", T0))
        .await
        .unwrap();
    s.set_ticket_status(&old.ticket_id, TicketStatus::InProgress, "a", T0)
        .await
        .unwrap();
    s.set_ticket_status(&old.ticket_id, TicketStatus::Resolved, "a", T0)
        .await
        .unwrap();
    let new = s
        .ticket_for_call(&call("c2", "13800000001", T0 + MIN))
        .await
        .unwrap();
    assert!(new.created);
    let r = s
        .set_ticket_status(&old.ticket_id, TicketStatus::InProgress, "a", T0 + 2 * MIN)
        .await;
    assert!(
        matches!(&r, Err(StoreError::CallerHasOpenTicket(n)) if *n == new.number),
        "{r:?}"
    );
    let t = s.ticket(&old.ticket_id).await.unwrap().unwrap();
    assert_eq!(
        t.status,
        TicketStatus::Resolved,
        "refused change left nothing behind"
    );
}

async fn edits_assign_review_note_outcome_red_alert(s: Store) {
    let link = s
        .ticket_for_call(&call("c1", "13800000001", T0))
        .await
        .unwrap();
    let id = link.ticket_id.as_str();
    let t = s
        .review_ticket(id, Some(Category::Mediation), "sup1", T0 + MIN)
        .await
        .unwrap();
    assert_eq!(
        (t.category, t.reviewed_at),
        (Category::Mediation, Some(T0 + MIN))
    );
    let t = s
        .assign_ticket(id, "lawyer-a", "sup1", T0 + 2 * MIN)
        .await
        .unwrap();
    assert_eq!(
        (t.lawyer_id.as_deref(), t.assigned_at),
        (Some("lawyer-a"), Some(T0 + 2 * MIN))
    );
    let t = s
        .assign_ticket(id, "lawyer-b", "sup1", T0 + 3 * MIN)
        .await
        .unwrap();
    assert_eq!(
        t.assigned_at,
        Some(T0 + 2 * MIN),
        "reassignment keeps the first time"
    );
    s.add_ticket_note(id, "lawyer-b", "首次来电，咨询劳动合同纠纷。", T0 + 4 * MIN)
        .await
        .unwrap();
    let t = s
        .add_ticket_note(id, "lawyer-b", "Said \"thanks\"", T0 + 5 * MIN)
        .await
        .unwrap();
    assert_eq!(
        t.notes,
        "[2026-01-01 08:04 lawyer-b] 首次来电，咨询劳动合同纠纷。\n\n[2026-01-01 08:05 lawyer-b] Said \"thanks\"\n"
    );
    let t = s
        .set_ticket_outcome(id, "advice_given", "lawyer-b", T0 + 6 * MIN)
        .await
        .unwrap();
    assert_eq!(t.outcome.as_deref(), Some("advice_given"));
    let t = s
        .set_red_alert(id, true, "sup1", T0 + 7 * MIN)
        .await
        .unwrap();
    assert!(t.red_alert);
    assert_eq!(t.updated_at, T0 + 7 * MIN);
    assert_eq!(s.ticket(id).await.unwrap().unwrap(), t);

    let audit = s.audit_entries("ticket", id).await.unwrap();
    let got: Vec<_> = audit
        .iter()
        .map(|a| (a.action.as_str(), a.actor.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("created", "system"),
            ("reviewed", "sup1"),
            ("assigned", "sup1"),
            ("assigned", "sup1"),
            ("note", "lawyer-b"),
            ("note", "lawyer-b"),
            ("outcome", "lawyer-b"),
            ("red_alert", "sup1"),
        ]
    );
    assert_eq!(audit[3].detail, r#"{"from":"lawyer-a","to":"lawyer-b"}"#);
    assert_eq!(audit[5].detail, r#"{"note":"Said \"thanks\""}"#);
    assert_eq!(audit[7].at, T0 + 7 * MIN);
}

on_both!(
    ticket_is_filed_when_the_category_is_known_and_filled_in_at_hangup,
    repeat_caller_joins_the_open_ticket,
    anonymous_callers_are_never_linked,
    ticket_numbers_follow_the_beijing_year,
    status_transitions_are_validated_and_audited,
    reopening_refused_when_the_caller_has_a_newer_open_ticket,
    edits_assign_review_note_outcome_red_alert,
);

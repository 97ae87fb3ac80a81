//! Tasks by hand: create, list by due time, assign, complete once; lawyers in the directory.

use super::{MIN, T0, on_both};
use crate::{CallTicket, Lawyer, LawyerStatus, NewTask, Store, StoreError, TaskKind, TaskStatus};

async fn tasks_are_listed_by_due_time_assigned_and_completed_once(s: Store) {
    let link = s
        .ticket_for_call(&CallTicket {
            call_id: "c1",
            caller: "13800000001",
            category: None,
            region: None,
            lawyer_id: None,
            at: T0,
        })
        .await
        .unwrap();
    let mk = |due_at, reason: &str| NewTask {
        kind: TaskKind::Callback,
        reason: reason.into(),
        ticket_id: Some(link.ticket_id.clone()),
        caller: Some("13800000001".into()),
        call_id: None,
        due_at,
        assigned_to: None,
    };
    let late = s
        .create_task(&mk(T0 + 30 * MIN, "promised"), "lawyer-a", T0)
        .await
        .unwrap();
    let soon = s
        .create_task(&mk(T0 + 10 * MIN, "promised"), "lawyer-a", T0)
        .await
        .unwrap();
    assert_eq!(late.status, TaskStatus::Open);
    let all: Vec<_> = s
        .open_tasks(i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(all, [soon.id.clone(), late.id.clone()]);
    let due: Vec<_> = s
        .open_tasks(T0 + 20 * MIN)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(due, std::slice::from_ref(&soon.id));

    let t = s
        .assign_task(&soon.id, "lawyer-b", "sup", T0 + MIN)
        .await
        .unwrap();
    assert_eq!(t.assigned_to.as_deref(), Some("lawyer-b"));
    let t = s
        .complete_task(&soon.id, "lawyer-b", T0 + 5 * MIN)
        .await
        .unwrap();
    assert_eq!(
        (t.status, t.done_at, t.done_by.as_deref()),
        (TaskStatus::Done, Some(T0 + 5 * MIN), Some("lawyer-b"))
    );
    assert!(matches!(
        s.complete_task(&soon.id, "lawyer-b", T0 + 6 * MIN).await,
        Err(StoreError::InvalidTransition { .. })
    ));
    assert!(matches!(
        s.assign_task(&soon.id, "x", "sup", T0 + 6 * MIN).await,
        Err(StoreError::InvalidTransition { .. })
    ));
    assert!(matches!(
        s.complete_task("nope", "x", T0).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.open_tasks(i64::MAX).await.unwrap().len(), 1);
    let actions: Vec<_> = s
        .audit_entries("task", &soon.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.action, a.actor))
        .collect();
    assert_eq!(
        actions,
        [
            ("created".to_string(), "lawyer-a".to_string()),
            ("assigned".into(), "sup".into()),
            ("done".into(), "lawyer-b".into()),
        ]
    );
}

async fn lawyers_round_trip(s: Store) {
    let mut l = Lawyer {
        id: "lai-zhiming".into(),
        name: "赖志明".into(),
        sip_user: Some("lawyer1".into()),
        regions: vec!["shicheng".into(), "ganzhou".into()],
        skills: vec!["consultation".into(), "legal_aid".into()],
        status: LawyerStatus::Active,
    };
    s.upsert_lawyer(&l, T0).await.unwrap();
    assert_eq!(s.lawyer(&l.id).await.unwrap(), Some(l.clone()));
    l.status = LawyerStatus::Inactive;
    l.skills.clear();
    s.upsert_lawyer(&l, T0 + 1).await.unwrap();
    assert_eq!(s.lawyers().await.unwrap(), [l.clone()]);
    l.regions.push("a,b".into());
    assert!(matches!(
        s.upsert_lawyer(&l, T0).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(s.lawyer("nobody").await.unwrap(), None);
}

on_both!(
    tasks_are_listed_by_due_time_assigned_and_completed_once,
    lawyers_round_trip
);

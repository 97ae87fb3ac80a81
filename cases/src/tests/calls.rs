//! Call records: written on arrival, completed at hangup, cut off at start-up; the follow-ups
//! a call end creates.

use super::{MIN, T0, ended, on_both};
use crate::{
    CallEnd, Category, HOUR_MS, SUPERVISORS, Store, SurveyValue, TaskKind, TaskStatus, TicketStatus,
};

fn answered(call_id: &str, caller: &str, at: i64) -> CallEnd {
    CallEnd {
        answered_at: Some(at + 20_000),
        ended_at: at + 5 * MIN,
        category: Some(Category::LegalAid),
        region: Some("shicheng".into()),
        lawyer_id: Some("lai-zhiming".into()),
        queue_wait_secs: Some(17),
        overflow_steps: 1,
        disposition: "answered".into(),
        ivr_path: r#"[{"event":"menu_choice","node":"service","key":"2"}]"#.into(),
        recording_path: Some(format!("/data/recordings/{call_id}.wav")),
        ..ended(call_id, caller, at)
    }
}

async fn call_is_recorded_on_arrival_and_completed_at_hangup(s: Store) {
    s.record_call_started("c1", "13800000001", T0)
        .await
        .unwrap();
    let c = s.call("c1").await.unwrap().unwrap();
    assert_eq!((c.caller.as_str(), c.arrived_at), ("13800000001", T0));
    assert_eq!((c.ended_at, c.disposition, c.cut_off), (None, None, false));
    let caller = s.caller("13800000001").await.unwrap().unwrap();
    assert_eq!(
        (caller.first_seen, caller.last_seen, caller.region),
        (T0, T0, None)
    );

    let filed = s
        .record_call_ended(&answered("c1", "13800000001", T0))
        .await
        .unwrap();
    assert!(filed.ticket.created);
    assert_eq!(filed.ticket.number, "12348-2026-000001");
    assert_eq!((filed.callback_task, filed.return_visit_task), (None, None));

    let c = s.call("c1").await.unwrap().unwrap();
    assert_eq!(c.ended_at, Some(T0 + 5 * MIN));
    assert_eq!(c.answered_at, Some(T0 + 20_000));
    assert_eq!(c.disposition.as_deref(), Some("answered"));
    assert_eq!(c.category, Some(Category::LegalAid));
    assert_eq!(c.queue_wait_secs, Some(17));
    assert_eq!(c.overflow_steps, 1);
    assert!(c.ivr_path.unwrap().contains("menu_choice"));
    assert_eq!(c.lawyer_id.as_deref(), Some("lai-zhiming"));

    let t = s.ticket(&filed.ticket.ticket_id).await.unwrap().unwrap();
    assert_eq!(t.category, Category::LegalAid);
    assert_eq!(t.region.as_deref(), Some("shicheng"));
    assert_eq!(t.caller.as_deref(), Some("13800000001"));
    assert_eq!(t.lawyer_id.as_deref(), Some("lai-zhiming"));
    assert_eq!(t.status, TicketStatus::Open);
    assert_eq!(t.created_at, T0 + 5 * MIN);
    assert_eq!(
        t.assigned_at,
        Some(T0 + 5 * MIN),
        "answered by a lawyer: assigned"
    );
    assert_eq!(t.review_due, T0 + 5 * MIN + HOUR_MS);
    let calls = s.calls_of_ticket(&t.id).await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].recording_path.as_deref(),
        Some("/data/recordings/c1.wav")
    );
    // filed with its recording: the transcription job was queued in the same transaction
    let job = s.transcript_of_call("c1").await.unwrap().expect("a job");
    assert_eq!(job.status, crate::TranscriptionStatus::Queued);
    assert_eq!(job.created_at, T0 + 5 * MIN);
    assert_eq!(
        s.ticket_by_number("12348-2026-000001").await.unwrap(),
        Some(t)
    );
    let caller = s.caller("13800000001").await.unwrap().unwrap();
    assert_eq!(caller.region.as_deref(), Some("shicheng"));

    let between = s.calls_arrived_between(T0, T0 + 1).await.unwrap();
    assert_eq!(between.len(), 1);
    assert!(
        s.calls_arrived_between(T0 + 1, T0 + HOUR_MS)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn call_end_without_recorded_start_and_retried_end(s: Store) {
    // The start was never recorded (store briefly unreachable): the end creates the row.
    let mut end = ended("c1", "13800000001", T0);
    end.callback = true;
    end.disposition = "callback".into();
    let first = s.record_call_ended(&end).await.unwrap();
    assert!(first.callback_task.is_some());
    // A retried end files nothing twice.
    let again = s.record_call_ended(&end).await.unwrap();
    assert_eq!(again.ticket.ticket_id, first.ticket.ticket_id);
    assert!(!again.ticket.created);
    assert_eq!(again.callback_task, None);
    let tasks = s.tasks_of_ticket(&first.ticket.ticket_id).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        s.calls_of_ticket(&first.ticket.ticket_id)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn callback_request_and_voicemail_create_callback_tasks_due_in_an_hour(s: Store) {
    let mut cb = ended("c1", "13800000001", T0);
    cb.callback = true;
    cb.disposition = "callback".into();
    let filed = s.record_call_ended(&cb).await.unwrap();
    let task = s
        .task(&filed.callback_task.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(task.kind, TaskKind::Callback);
    assert_eq!(task.reason, "callback_request");
    assert_eq!(task.due_at, T0 + MIN + HOUR_MS);
    assert_eq!(task.caller.as_deref(), Some("13800000001"));
    assert_eq!(
        task.ticket_id.as_deref(),
        Some(filed.ticket.ticket_id.as_str())
    );
    assert_eq!(task.call_id.as_deref(), Some("c1"));
    assert_eq!(task.status, TaskStatus::Open);

    let mut vm = ended("c2", "13800000002", T0);
    vm.disposition = "after_hours".into();
    vm.message_path = Some("/data/messages/c2.wav".into());
    let filed = s.record_call_ended(&vm).await.unwrap();
    let task = s
        .task(&filed.callback_task.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (task.kind, task.reason.as_str()),
        (TaskKind::Callback, "voicemail")
    );
    assert_eq!(task.due_at, T0 + MIN + HOUR_MS);

    let plain = s
        .record_call_ended(&answered("c3", "13800000003", T0))
        .await
        .unwrap();
    assert_eq!(plain.callback_task, None);
    let open = s.open_tasks(i64::MAX).await.unwrap();
    assert_eq!(open.len(), 2);
    let audit = s.audit_entries("task", &open[0].id).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].action.as_str(), audit[0].actor.as_str()),
        ("created", "system")
    );
}

async fn unsatisfied_survey_creates_a_return_visit_task(s: Store) {
    let mut end = answered("c1", "13800000001", T0);
    end.survey = Some(SurveyValue::Unsatisfied);
    let filed = s.record_call_ended(&end).await.unwrap();
    let task = s
        .task(&filed.return_visit_task.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(task.kind, TaskKind::ReturnVisit);
    assert_eq!(task.reason, "unsatisfied_survey");
    assert_eq!(task.assigned_to.as_deref(), Some(SUPERVISORS));
    assert_eq!(task.due_at, end.ended_at + HOUR_MS);
    assert_eq!(
        task.ticket_id.as_deref(),
        Some(filed.ticket.ticket_id.as_str())
    );
    assert_eq!(
        s.survey_result("c1").await.unwrap(),
        Some((SurveyValue::Unsatisfied, end.ended_at))
    );

    let mut happy = answered("c2", "13800000002", T0);
    happy.survey = Some(SurveyValue::Satisfied);
    assert_eq!(
        s.record_call_ended(&happy).await.unwrap().return_visit_task,
        None
    );
    let mut basic = answered("c3", "13800000003", T0);
    basic.survey = Some(SurveyValue::BasicallySatisfied);
    assert_eq!(
        s.record_call_ended(&basic).await.unwrap().return_visit_task,
        None
    );

    // Every unsatisfied answer makes its own task; a survey given later (record_survey)
    // counts too, once per call.
    s.record_call_ended(&answered("c4", "13800000004", T0))
        .await
        .unwrap();
    let t = s
        .record_survey("c4", SurveyValue::Unsatisfied, T0 + HOUR_MS)
        .await
        .unwrap();
    assert!(t.is_some());
    let again = s
        .record_survey("c4", SurveyValue::Unsatisfied, T0 + HOUR_MS)
        .await
        .unwrap();
    assert_eq!(again, None);
    let visits: Vec<_> = s
        .open_tasks(i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.kind == TaskKind::ReturnVisit)
        .collect();
    assert_eq!(visits.len(), 2);
}

async fn start_up_marks_unfinished_calls_cut_off(s: Store) {
    let a = s.clone().with_node("node-a");
    let b = s.clone().with_node("node-b");
    a.record_call_started("a1", "13800000001", T0)
        .await
        .unwrap();
    a.record_call_started("a2", "anonymous", T0 + 1)
        .await
        .unwrap();
    a.record_call_started("a3", "13800000003", T0 + 2)
        .await
        .unwrap();
    a.record_call_ended(&ended("a3", "13800000003", T0 + 2))
        .await
        .unwrap();
    b.record_call_started("b1", "13800000009", T0)
        .await
        .unwrap();

    let now = T0 + 10 * MIN;
    let marked = a.mark_cut_off_calls(now).await.unwrap();
    assert_eq!(marked, ["a1", "a2"]);
    for id in ["a1", "a2"] {
        let c = s.call(id).await.unwrap().unwrap();
        assert!(c.cut_off);
        assert_eq!(c.ended_at, Some(now));
        assert_eq!(c.disposition.as_deref(), Some("cut_off"));
    }
    let ended_ok = s.call("a3").await.unwrap().unwrap();
    assert!(!ended_ok.cut_off);
    let other_node = s.call("b1").await.unwrap().unwrap();
    assert_eq!(
        other_node.ended_at, None,
        "another node's live call is not touched"
    );

    // The cut-off caller gets a ticket and a callback; the anonymous one a ticket only.
    let t = s
        .open_ticket_for_caller("13800000001")
        .await
        .unwrap()
        .unwrap();
    let tasks = s.tasks_of_ticket(&t.id).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        (tasks[0].reason.as_str(), tasks[0].due_at),
        ("cut_off", now + HOUR_MS)
    );
    assert_eq!(s.open_tasks(i64::MAX).await.unwrap().len(), 1);
    assert!(a.mark_cut_off_calls(now + 1).await.unwrap().is_empty());
    assert_eq!(b.mark_cut_off_calls(now).await.unwrap(), ["b1"]);
}

on_both!(
    call_is_recorded_on_arrival_and_completed_at_hangup,
    call_end_without_recorded_start_and_retried_end,
    callback_request_and_voicemail_create_callback_tasks_due_in_an_hour,
    unsatisfied_survey_creates_a_return_visit_task,
    start_up_marks_unfinished_calls_cut_off,
);

//! The console's store: users and sessions, the review queue and QA, statistics in Beijing
//! days, and the scoped lists.

use super::{MIN, T0, ended, on_both};
use crate::{
    CallEnd, CallFilter, Category, ConsoleUser, HOUR_MS, ReviewReason, Role, Store, StoreError,
    SurveyValue, TicketFilter,
};

fn user(name: &str, role: Role) -> ConsoleUser {
    ConsoleUser {
        username: name.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role,
        lawyer_id: (role == Role::Lawyer).then(|| "lai-zhiming".into()),
        region: String::new(),
        name: "赖志明".into(),
        lang: "zh".into(),
        created_at: T0,
    }
}

fn answered(call_id: &str, caller: &str, at: i64, region: &str, lawyer: &str) -> CallEnd {
    CallEnd {
        answered_at: Some(at + 10_000),
        ended_at: at + 5 * MIN,
        category: Some(Category::LegalAid),
        region: Some(region.into()),
        lawyer_id: Some(lawyer.into()),
        queue_wait_secs: Some(10),
        disposition: "answered".into(),
        ..ended(call_id, caller, at)
    }
}

async fn users_and_sessions(s: Store) {
    assert_eq!(s.user_count().await.unwrap(), 0);
    s.create_user(&user("lai", Role::Lawyer)).await.unwrap();
    assert!(matches!(
        s.create_user(&user("lai", Role::Admin)).await,
        Err(StoreError::Duplicate)
    ));
    let bad = ConsoleUser {
        lang: "fr".into(),
        ..user("x", Role::Admin)
    };
    assert!(matches!(
        s.create_user(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    s.create_user(&user("boss", Role::Admin)).await.unwrap();
    let names: Vec<_> = s
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["boss", "lai"]);
    assert_eq!(s.user("lai").await.unwrap().unwrap().role, Role::Lawyer);

    let ttl = 12 * HOUR_MS;
    s.create_session("h1", "lai", "csrf1", T0, ttl)
        .await
        .unwrap();
    let (sess, u) = s.session("h1", T0 + MIN, ttl).await.unwrap().unwrap();
    assert_eq!(
        (sess.csrf_token.as_str(), u.username.as_str()),
        ("csrf1", "lai")
    );
    // use pushes the expiry: still alive 12 h after the first login
    let (sess, _) = s
        .session("h1", T0 + 2 * HOUR_MS, ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sess.expires_at, T0 + 14 * HOUR_MS);
    assert!(
        s.session("h1", T0 + 14 * HOUR_MS, ttl)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.session("unknown", T0, ttl).await.unwrap().is_none());

    assert!(s.set_user_password("lai", "new-hash").await.unwrap());
    assert!(!s.set_user_password("ghost", "x").await.unwrap());
    assert_eq!(
        s.user("lai").await.unwrap().unwrap().password_hash,
        "new-hash"
    );
    assert!(
        s.session("h1", T0 + 2 * HOUR_MS, ttl)
            .await
            .unwrap()
            .is_none(),
        "reset ends sessions"
    );
    s.create_session("h2", "lai", "csrf2", T0, ttl)
        .await
        .unwrap();
    s.delete_session("h2").await.unwrap();
    assert!(s.session("h2", T0, ttl).await.unwrap().is_none());
    s.create_session("h3", "lai", "csrf3", T0, ttl)
        .await
        .unwrap();
    assert!(s.delete_user("lai").await.unwrap());
    assert!(!s.delete_user("lai").await.unwrap());
    assert!(s.session("h3", T0, ttl).await.unwrap().is_none());
    s.create_session("h4", "boss", "c", T0, ttl).await.unwrap();
    assert_eq!(s.purge_expired_sessions(T0 + ttl).await.unwrap(), 1);
}

async fn review_queue_takes_samples_unsatisfied_and_red_alerts(s: Store) {
    // 100 %: every answered call is sampled, unanswered ones never.
    let all = s.clone().with_review_sample_percent(100);
    all.record_call_ended(&answered(
        "a1",
        "13800000001",
        T0,
        "shicheng",
        "lai-zhiming",
    ))
    .await
    .unwrap();
    all.record_call_ended(&ended("u1", "13800000002", T0 + MIN))
        .await
        .unwrap();
    // 0 %: only the unsatisfied answer queues the call.
    let none = s.clone().with_review_sample_percent(0);
    none.record_call_ended(&answered("a2", "13800000003", T0, "shicheng", "x"))
        .await
        .unwrap();
    none.record_call_ended(&CallEnd {
        survey: Some(SurveyValue::Unsatisfied),
        ..answered("a3", "13800000004", T0 + 2 * MIN, "ganzhou", "x")
    })
    .await
    .unwrap();
    s.add_to_review_queue("a2", ReviewReason::RedAlert, T0 + HOUR_MS)
        .await
        .unwrap();
    s.add_to_review_queue("a2", ReviewReason::RedAlert, T0 + HOUR_MS)
        .await
        .unwrap();
    assert!(matches!(
        s.add_to_review_queue("nope", ReviewReason::RedAlert, T0)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let q = s.review_queue(false, 100).await.unwrap();
    let got: Vec<_> = q.iter().map(|i| (i.call_id.as_str(), i.reason)).collect();
    assert_eq!(
        got,
        [
            ("a2", ReviewReason::RedAlert),
            ("a3", ReviewReason::Unsatisfied),
            ("a1", ReviewReason::Sample)
        ]
    );
    assert!(q.iter().all(|i| i.ticket_id.is_some() && !i.evaluated));

    let e = s
        .add_qa_evaluation("a1", "sup", r#"{"greeting":5}"#, "good", 87, T0 + HOUR_MS)
        .await
        .unwrap();
    assert_eq!(e.ticket_id, q[2].ticket_id);
    assert!(matches!(
        s.add_qa_evaluation("a1", "sup", "{}", "", 101, T0).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(s.qa_of_call("a1").await.unwrap(), std::slice::from_ref(&e));
    assert_eq!(
        s.qa_of_ticket(e.ticket_id.as_deref().unwrap())
            .await
            .unwrap(),
        [e]
    );
    let pending = s.review_queue(true, 100).await.unwrap();
    assert_eq!(pending.len(), 2);
}

async fn sampling_takes_at_least_five_percent(s: Store) {
    for i in 0..200 {
        s.record_call_ended(&answered(
            &format!("c{i}"),
            "anonymous",
            T0 + i * 1000,
            "shicheng",
            "x",
        ))
        .await
        .unwrap();
        let n = s.review_queue(false, 1000).await.unwrap().len() as i64;
        // never below 5 % of the answered calls so far (rounded up), whatever the dice do
        assert!(n * 100 >= (i + 1) * 5, "{n} sampled of {}", i + 1);
    }
    let n = s.review_queue(false, 1000).await.unwrap().len();
    // 10 guaranteed, plus about 10 random: more than 50 would take a broken coin
    assert!((10..=50).contains(&n), "{n} sampled of 200");
}

async fn statistics_follow_beijing_days(s: Store) {
    // T0 is 08:00 Beijing on 2026-01-01; T0 - 9 h is 23:00 on 2025-12-31.
    let day = crate::beijing_day_start(crate::beijing_day(T0));
    assert_eq!(day, T0 - 8 * HOUR_MS);
    s.record_call_ended(&answered(
        "y",
        "13800000001",
        T0 - 9 * HOUR_MS,
        "ganzhou",
        "x",
    ))
    .await
    .unwrap();
    s.record_call_ended(&answered("a", "13800000002", T0, "shicheng", "x"))
        .await
        .unwrap();
    s.record_call_ended(&CallEnd {
        survey: Some(SurveyValue::Satisfied),
        ..answered("b", "13800000003", T0 + 30 * MIN, "shicheng", "x")
    })
    .await
    .unwrap();
    s.record_call_ended(&ended("c", "13800000004", T0 + 3 * HOUR_MS))
        .await
        .unwrap();

    let hours = s.stats_hourly(day, None).await.unwrap();
    assert_eq!(hours.len(), 24);
    assert_eq!((hours[8].calls, hours[8].answered), (2, 2));
    assert_eq!((hours[11].calls, hours[11].answered), (1, 0));
    assert_eq!(hours.iter().map(|h| h.calls).sum::<i64>(), 3);

    let days = s
        .stats_daily(day - 24 * HOUR_MS, day + 24 * HOUR_MS, None)
        .await
        .unwrap();
    let got: Vec<_> = days
        .iter()
        .map(|d| (d.day.as_str(), d.calls, d.answered, d.satisfied))
        .collect();
    assert_eq!(got, [("2025-12-31", 1, 1, 0), ("2026-01-01", 3, 2, 1)]);

    let scope = vec!["shicheng".to_owned()];
    let cats = s
        .stats_categories(day, day + 24 * HOUR_MS, Some(&scope))
        .await
        .unwrap();
    assert_eq!((cats[0].category.as_str(), cats[0].calls), ("legal_aid", 2));
    assert_eq!(cats.len(), 1);
    let regions = s
        .stats_regions(day - 24 * HOUR_MS, day + 24 * HOUR_MS, None)
        .await
        .unwrap();
    assert_eq!(
        (regions[0].region.as_str(), regions[0].calls),
        ("shicheng", 2)
    );
    // a supervisor scoped to the county sees its calls in the daily figures too
    let scoped = s
        .stats_daily(day - 24 * HOUR_MS, day + 24 * HOUR_MS, Some(&scope))
        .await
        .unwrap();
    assert_eq!(scoped.iter().map(|d| d.calls).sum::<i64>(), 2);
    assert!(
        s.stats_regions(0, 1, Some(&["x'; --".to_owned()]))
            .await
            .is_err()
    );

    let today = s.stats_today(T0 + 4 * HOUR_MS, None).await.unwrap();
    assert_eq!((today.calls, today.answered, today.overflowed), (3, 2, 0));
    let t = s
        .list_tickets(&TicketFilter {
            caller: Some("13800000002".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    s.set_red_alert(&t[0].id, true, "asr", T0).await.unwrap();
    let today = s.stats_today(T0 + 4 * HOUR_MS, Some(&scope)).await.unwrap();
    assert_eq!((today.calls, today.red_alerts_open), (2, 1));
}

async fn lists_respect_lawyer_and_region_scope(s: Store) {
    s.record_call_ended(&answered("a", "13800000001", T0, "shicheng", "lai"))
        .await
        .unwrap();
    s.record_call_ended(&answered("b", "13800000002", T0 + MIN, "ganzhou", "wen"))
        .await
        .unwrap();
    s.record_call_ended(&CallEnd {
        callback: true,
        ..ended("c", "13800000003", T0 + 2 * MIN)
    })
    .await
    .unwrap();
    let f = |lawyer: Option<&str>, regions: Option<Vec<&str>>| TicketFilter {
        lawyer: lawyer.map(str::to_owned),
        regions: regions.map(|r| r.into_iter().map(str::to_owned).collect()),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(s.list_tickets(&f(None, None)).await.unwrap().len(), 3);
    let mine = s.list_tickets(&f(Some("lai"), None)).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].caller.as_deref(), Some("13800000001"));
    let scoped = s
        .list_tickets(&f(None, Some(vec!["ganzhou", "x"])))
        .await
        .unwrap();
    assert_eq!(scoped.len(), 1);
    assert!(
        s.list_tickets(&f(None, Some(vec![])))
            .await
            .unwrap()
            .is_empty()
    );
    let open = s
        .list_tickets(&TicketFilter {
            status: Some("open".into()),
            limit: 1,
            offset: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(open.len(), 1);

    let calls = s
        .list_calls(&CallFilter {
            from: T0,
            to: T0 + HOUR_MS,
            lawyer: None,
            regions: Some(vec!["shicheng".into()]),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        calls.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
    let calls = s
        .list_calls(&CallFilter {
            from: T0,
            to: T0 + HOUR_MS,
            lawyer: None,
            regions: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        calls.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["c", "b", "a"]
    );

    let tasks = s
        .list_tasks(Some("callback"), Some("open"), None, None)
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
    s.assign_task(&tasks[0].id, "lai", "sup", T0).await.unwrap();
    let lai = ["lai".to_owned()];
    assert_eq!(
        s.list_tasks(None, None, Some(&lai), None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.list_tasks(None, None, Some(&["wen".to_owned()]), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.list_tasks(None, None, None, Some(&["ganzhou".to_owned()]))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn transcript_alerts_put_the_call_in_the_review_queue(s: Store) {
    let none = s.clone().with_review_sample_percent(0);
    none.record_call_ended(&answered("a", "13800000001", T0, "shicheng", "x"))
        .await
        .unwrap();
    let job = s
        .enqueue_transcription("a", "/data/a.wav", Some("zh"), T0 + MIN)
        .await
        .unwrap();
    let claimed = s
        .claim_transcription_job("w", T0 + MIN)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, job);
    let seg = crate::TranscriptSegment {
        start_ms: 0,
        end_ms: 1000,
        speaker: crate::Speaker::Caller,
        text: "我不想活了".into(),
        redacted_text: "我不想活了".into(),
    };
    let t = crate::NewTranscript {
        language: Some("zh".into()),
        segments: vec![seg],
        alerts: vec![crate::NewTranscriptAlert {
            keyword: "不想活".into(),
            speaker: crate::Speaker::Caller,
            offset_ms: 0,
            excerpt: "我不想活了".into(),
        }],
    };
    s.finish_transcription(&job, "w", &t, T0 + 2 * MIN)
        .await
        .unwrap();
    let q = s.review_queue(false, 10).await.unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].call_id.as_str(), q[0].reason),
        ("a", ReviewReason::RedAlert)
    );
    // queued by hand as well: still one item
    s.add_to_review_queue("a", ReviewReason::RedAlert, T0 + 3 * MIN)
        .await
        .unwrap();
    assert_eq!(s.review_queue(false, 10).await.unwrap().len(), 1);
    let alerts = s.alerts_of_call("a").await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].keyword, "不想活");
}

on_both!(
    transcript_alerts_put_the_call_in_the_review_queue,
    users_and_sessions,
    review_queue_takes_samples_unsatisfied_and_red_alerts,
    sampling_takes_at_least_five_percent,
    statistics_follow_beijing_days,
    lists_respect_lawyer_and_region_scope,
);

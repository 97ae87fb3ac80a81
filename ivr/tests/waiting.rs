//! Waiting for a lawyer: ring failures, overflow up the hierarchy, queues with position
//! announcements, the leave-message key and named queues, against the shipped dialplan and a
//! scripted fake phone line on fake time.

mod fake;

use std::time::Duration;

use fake::{OnHold, Ring, SHICHENG, Script, World, consultation, has, secs, zh};
use hotline_ivr::control::TalkOutcome;
use hotline_ivr::events::{Line, RingFailure, RouteFailure};
use hotline_ivr::lawyer_state::NotReadyReason;
use hotline_ivr::{Disposition, IvrEvent, LawyerEvent, LawyerState};

#[tokio::test(start_paused = true)]
async fn unanswered_lawyer_becomes_not_ready_and_the_next_is_rung() {
    // Monday afternoon: Lai Zhiming and Wen Xiaohong are both on duty in Shicheng
    let w = World::monday(15, 0);
    let (s, call) = w
        .call(
            "c1",
            consultation(SHICHENG).ring("lai-zhiming", Ring::NoAnswer),
        )
        .await;
    assert_eq!(call.rings(), ["lai-zhiming", "wen-xiaohong"]);
    assert_eq!(s.lawyer.as_ref().map(|l| l.as_str()), Some("wen-xiaohong"));
    assert!(matches!(
        w.state("lai-zhiming"),
        LawyerState::NotReady {
            reason: NotReadyReason::NoAnswer,
            ..
        }
    ));
    let ev = w.events("c1");
    assert!(has(
        &ev,
        &IvrEvent::RingFailed {
            lawyer: "lai-zhiming".into(),
            outcome: RingFailure::NoAnswer
        }
    ));
    // the 20 s ring timeout counts in the wait
    assert!(s.waited_secs.unwrap() >= 20);
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn a_refusing_or_unreachable_phone_is_skipped() {
    let w = World::monday(15, 0);
    let script = consultation(SHICHENG)
        .ring("lai-zhiming", Ring::Reject(603))
        .ring("wen-xiaohong", Ring::Unreachable);
    let (s, call) = w.call("c1", script).await;
    // nobody left in the county: on to Ganzhou (the county stays staffed, so after max_wait)
    assert_eq!(call.rings()[..2], ["lai-zhiming", "wen-xiaohong"]);
    assert!(matches!(
        w.state("lai-zhiming"),
        LawyerState::NotReady {
            reason: NotReadyReason::Manual,
            ..
        }
    ));
    assert!(matches!(
        w.state("wen-xiaohong"),
        LawyerState::NotReady {
            reason: NotReadyReason::NoAnswer,
            ..
        }
    ));
    let region = w.plan.roster.lawyer(s.lawyer.as_ref().unwrap()).unwrap();
    assert!(region.sip.starts_with("ganzhou"), "{region:?}");
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn nobody_on_duty_in_the_county_overflows_to_the_city() {
    // 12:30: the county lawyers are at lunch, Ganzhou covers
    let w = World::monday(12, 30);
    let (s, call) = w.call("c1", consultation(SHICHENG)).await;
    let ev = w.events("c1");
    assert!(has(
        &ev,
        &IvrEvent::Overflow {
            from: "shicheng".into(),
            to: "ganzhou".into()
        }
    ));
    // longest idle of the two Ganzhou lawyers (ids in order: liu-jianhua before zeng-guoping)
    assert_eq!(call.rings(), ["liu-jianhua"]);
    assert_eq!(s.disposition, Disposition::Answered);
    assert_eq!(call.held(), Duration::ZERO);
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn a_busy_county_overflows_after_max_wait() {
    let w = World::monday(10, 0);
    w.busy("lai-zhiming", "earlier-call");
    let (s, call) = w.call("c1", consultation(SHICHENG)).await;
    let ev = w.events("c1");
    let queued = IvrEvent::Queued {
        line: Line::Region("shicheng".into()),
        position: 1,
    };
    assert!(has(&ev, &queued), "{ev:#?}");
    let overflow = ev
        .iter()
        .position(|e| matches!(e, IvrEvent::Overflow { .. }))
        .unwrap();
    assert!(ev.iter().position(|e| e == &queued).unwrap() < overflow);
    assert_eq!(call.rings(), ["liu-jianhua"]);
    let waited = s.waited_secs.unwrap();
    assert!((60..70).contains(&waited), "{waited}");
    // position announced when queued and 30 s later, hold music in between
    let announced = call
        .prompts()
        .iter()
        .filter(|p| *p == "zh/queue-ahead")
        .count();
    assert_eq!(announced, 2);
    assert!(call.held() >= secs(50));
    w.hang_up("lai-zhiming");
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn queued_callers_hear_their_position_and_the_first_gets_the_freed_lawyer() {
    let w = World::monday(10, 0);
    // only Lai Zhiming: the city and province lawyers' phones are off
    w.offline(&["zeng-guoping", "liu-jianhua", "liu-fang"]);
    let a = consultation(SHICHENG).talk(20, TalkOutcome::CallerHungUp);
    let b = consultation("0797-5705555").talk(30, TalkOutcome::CallerHungUp);
    let c = consultation("0797-5706666");
    let later = |ms: u64, id: &'static str, s: Script| {
        let w = &w;
        async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            w.call(id, s).await
        }
    };
    // c polls the board 0.3 s after each tick, b 0.6 s after: c sees Lai free first
    let ((sa, _), (sb, fb), (sc, fc)) =
        tokio::join!(w.call("a", a), later(2600, "b", b), later(4300, "c", c));
    assert_eq!(sa.lawyer.as_ref().unwrap().as_str(), "lai-zhiming");
    // b waited longer than c, so b gets Lai once his wrap-up is over
    assert_eq!(sb.lawyer.as_ref().unwrap().as_str(), "lai-zhiming");
    assert_eq!(fb.rings(), ["lai-zhiming"]);
    let waited = sb.waited_secs.unwrap();
    assert!((45..60).contains(&waited), "{waited}");
    assert!(fb.prompts().contains(&"zh/digits/1".to_string()));
    // c was second in line, then first, then nobody was left anywhere: a message
    let ev = w.events("c");
    let line = Line::Region("shicheng".into());
    let q2 = IvrEvent::Queued {
        line: line.clone(),
        position: 2,
    };
    let q1 = IvrEvent::Queued { line, position: 1 };
    let (i2, i1) = (
        ev.iter().position(|e| e == &q2).expect("second"),
        ev.iter().position(|e| e == &q1).expect("then first"),
    );
    assert!(i2 < i1);
    let p = fc.prompts();
    let at = p.iter().position(|p| p == "zh/queue-ahead").unwrap();
    assert_eq!(
        p[at..at + 3],
        zh(&["queue-ahead", "digits/2", "queue-callers"])
    );
    assert!(
        has(
            &ev,
            &IvrEvent::RouteFailed {
                reason: RouteFailure::Exhausted
            }
        ),
        "{ev:#?} {:#?}",
        fc.log
    );
    assert!(fc.rings().is_empty());
    assert!(p.contains(&"zh/all-busy".to_string()));
    assert_eq!(sc.disposition, Disposition::Callback);
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn leave_message_key_in_the_queue_gives_voicemail_and_callback() {
    let w = World::monday(10, 0);
    w.busy("lai-zhiming", "earlier-call");
    let script = consultation(SHICHENG).on_hold(secs(10), OnHold::Press('*'));
    let (s, call) = w.call("c1", script).await;
    assert!(call.rings().is_empty());
    let p = call.prompts();
    let tail: Vec<String> = p[p.len() - 2..].to_vec();
    assert_eq!(tail, zh(&["all-busy", "message-received"]));
    assert!(call.actions().contains(&"record 120s".to_string()));
    let ev = w.events("c1");
    assert!(has(&ev, &IvrEvent::CallbackRequested));
    assert!(has(
        &ev,
        &IvrEvent::VoicemailLeft {
            path: "/messages/c1.wav".into(),
            secs: 20
        }
    ));
    assert_eq!(
        ev.iter()
            .filter(|e| **e == IvrEvent::CallbackRequested)
            .count(),
        1
    );
    assert_eq!(s.disposition, Disposition::Callback);
    assert!(s.callback);
    assert_eq!(
        s.message.as_deref(),
        Some(std::path::Path::new("/messages/c1.wav"))
    );
    assert_eq!(w.acd.position("c1"), None);
    w.hang_up("lai-zhiming");
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn caller_hanging_up_in_the_queue_is_abandoned() {
    let w = World::monday(10, 0);
    w.busy("lai-zhiming", "earlier-call");
    let script = consultation(SHICHENG).on_hold(secs(15), OnHold::HangUp);
    let (s, _) = w.call("c1", script).await;
    assert_eq!(s.disposition, Disposition::Abandoned);
    assert_eq!(w.acd.position("c1"), None);
    w.hang_up("lai-zhiming");
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn the_complaints_queue_rings_its_members() {
    let w = World::monday(10, 0);
    let script = Script::new(SHICHENG)
        .press("choose-language", "1")
        .press("service-menu", "4");
    let (s, call) = w.call("c1", script).await;
    // the longest idle member, whatever the caller's region
    assert_eq!(call.rings(), ["chen-jing"]);
    assert_eq!(s.category.as_deref(), Some("complaint"));
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn a_complaints_queue_nobody_answers_times_out_to_a_message() {
    let w = World::monday(10, 0);
    for l in ["liu-fang", "guo-xiaoyan", "chen-jing", "he-junjie", "ma-li"] {
        w.acd
            .apply(&l.into(), LawyerEvent::SetNotReady, w.now())
            .unwrap();
    }
    let script = Script::new(SHICHENG)
        .press("choose-language", "1")
        .press("service-menu", "4");
    let (s, call) = w.call("c1", script).await;
    assert!(call.rings().is_empty());
    assert!(has(
        &w.events("c1"),
        &IvrEvent::Queued {
            line: Line::Queue("complaints".into()),
            position: 1
        }
    ));
    assert!(has(
        &w.events("c1"),
        &IvrEvent::RouteFailed {
            reason: RouteFailure::QueueTimeout
        }
    ));
    assert!(call.held() >= secs(100), "{:?}", call.held());
    assert_eq!(s.disposition, Disposition::Callback);
    w.assert_settled();
}

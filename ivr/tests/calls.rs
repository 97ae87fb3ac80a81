//! Whole 12348 calls through the interpreter, against the shipped dialplan and a scripted
//! fake phone line, on fake time (tokio's paused clock: a minute of waiting takes no time).

mod fake;

use std::time::Duration;

use fake::{Ring, SHICHENG, Script, World, consultation, has, secs, zh};
use hotline_ivr::control::TalkOutcome;
use hotline_ivr::events::{Party, RegionSource, RingFailure, RouteFailure};
use hotline_ivr::{Disposition, IvrEvent, LawyerState, Node};

#[tokio::test(start_paused = true)]
async fn shicheng_caller_reaches_the_county_duty_lawyer() {
    let w = World::monday(10, 0);
    let (s, call) = w
        .call("c1", consultation(SHICHENG).press("survey", "1"))
        .await;
    assert_eq!(
        call.prompts(),
        zh(&[
            "welcome",
            "choose-language",
            "service-menu",
            "connecting",
            "survey",
            "survey-thanks"
        ])
    );
    assert_eq!(
        call.actions(),
        ["answer", "ring lai-zhiming", "talk", "hangup"]
    );
    assert_eq!(s.lawyer.as_ref().map(|l| l.as_str()), Some("lai-zhiming"));
    assert_eq!(s.region.as_ref().map(|r| r.as_str()), Some("shicheng"));
    assert_eq!(s.category.as_deref(), Some("consultation"));
    assert_eq!(s.language.as_str(), "zh");
    assert_eq!(s.disposition, Disposition::Answered);
    assert_eq!(s.survey.as_deref(), Some("satisfied"));
    assert!(s.waited_secs.unwrap() < 10);
    let ev = w.events("c1");
    for e in [
        IvrEvent::CallAnswered {
            caller: SHICHENG.into(),
        },
        IvrEvent::RegionResolved {
            region: "shicheng".into(),
            how: RegionSource::Number,
        },
        IvrEvent::LanguageChosen {
            language: "zh".into(),
        },
        IvrEvent::MenuChoice {
            node: "service".into(),
            key: '1',
        },
        IvrEvent::VariableSet {
            name: "category".into(),
            value: "consultation".into(),
        },
        IvrEvent::Ringing {
            lawyer: "lai-zhiming".into(),
        },
        IvrEvent::TalkEnded { by: Party::Lawyer },
        IvrEvent::SurveyAnswer {
            value: "satisfied".into(),
        },
    ] {
        assert!(has(&ev, &e), "{e:?} missing from {ev:#?}");
    }
    assert!(matches!(
        ev.last(),
        Some(IvrEvent::CallEnded {
            disposition: Disposition::Answered
        })
    ));
    // the lawyer wraps up for 30 s, then is ready again
    assert!(matches!(
        w.state("lai-zhiming"),
        LawyerState::AfterCallWork { .. }
    ));
    tokio::time::sleep(secs(31)).await;
    assert!(matches!(w.state("lai-zhiming"), LawyerState::Ready { .. }));
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn english_caller_climbs_to_an_english_speaking_lawyer() {
    let w = World::monday(10, 0);
    let script = Script::new(SHICHENG)
        .press("choose-language", "2")
        .press("service-menu", "2");
    let (s, call) = w.call("en", script).await;
    assert!(call.prompts().contains(&"en/service-menu".to_string()));
    assert_eq!(call.rings(), ["liu-fang"]);
    assert_eq!(s.language.as_str(), "en");
    let ev = w.events("en");
    assert!(has(
        &ev,
        &IvrEvent::Overflow {
            from: "ganzhou".into(),
            to: "jiangxi".into()
        }
    ));
    assert_eq!(
        call.held(),
        Duration::ZERO,
        "nobody to wait for below the province"
    );
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn after_hours_caller_leaves_a_message_with_a_callback_promise() {
    let w = World::monday(20, 0);
    let (s, call) = w
        .call("c1", Script::new(SHICHENG).press("choose-language", "1"))
        .await;
    assert_eq!(
        call.prompts(),
        zh(&[
            "welcome",
            "choose-language",
            "after-hours",
            "message-received"
        ])
    );
    assert!(call.rings().is_empty());
    let ev = w.events("c1");
    assert!(has(&ev, &IvrEvent::HoursClosed));
    assert!(has(&ev, &IvrEvent::CallbackRequested));
    assert_eq!(s.disposition, Disposition::AfterHours);
    assert!(s.callback);
    // the region is known for the callback list even though the menu never asked
    assert_eq!(s.region.as_ref().unwrap().as_str(), "shicheng");
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn an_unknown_number_is_asked_for_the_area_code() {
    let w = World::monday(10, 0);
    let script = consultation("anonymous")
        .press("enter-area-code", "0999")
        .press("enter-area-code", "0797");
    let (s, call) = w.call("c1", script).await;
    let ev = w.events("c1");
    assert!(has(&ev, &IvrEvent::RegionUnknown));
    assert!(has(
        &ev,
        &IvrEvent::InputInvalid {
            node: "ask-area-code".into(),
            input: "0999".into()
        }
    ));
    assert!(has(
        &ev,
        &IvrEvent::RegionResolved {
            region: "ganzhou".into(),
            how: RegionSource::AreaCode
        }
    ));
    assert!(has(
        &ev,
        &IvrEvent::VariableSet {
            name: "area_code".into(),
            value: "0797".into()
        }
    ));
    let p = call.prompts();
    assert_eq!(
        p[2..6],
        zh(&[
            "enter-area-code",
            "area-code-unknown",
            "enter-area-code",
            "service-menu"
        ])
    );
    assert_eq!(s.region.as_ref().unwrap().as_str(), "ganzhou");
    assert_eq!(call.rings(), ["liu-jianhua"]);
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn no_area_code_means_no_region_and_a_message() {
    let w = World::monday(10, 0);
    let (s, call) = w.call("c1", consultation("anonymous").silent()).await;
    // three tries at the area code, then the service menu; the route has no region
    assert_eq!(
        call.prompts()
            .iter()
            .filter(|p| *p == "zh/enter-area-code")
            .count(),
        3
    );
    let ev = w.events("c1");
    assert!(has(
        &ev,
        &IvrEvent::RouteFailed {
            reason: RouteFailure::NoRegion
        }
    ));
    assert!(call.rings().is_empty());
    assert_eq!(s.disposition, Disposition::NoLawyer, "nothing was said");
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn invalid_keys_end_in_goodbye() {
    let w = World::monday(10, 0);
    // the shipped service menu allows two retries: three wrong keys
    let script = Script::new(SHICHENG)
        .press("choose-language", "1")
        .press("service-menu", "7")
        .press("service-menu", "8")
        .press("service-menu", "#");
    let (s, call) = w.call("c1", script).await;
    let p = call.prompts();
    assert_eq!(p.iter().filter(|p| *p == "zh/invalid-choice").count(), 3);
    assert_eq!(p.last().unwrap(), "zh/goodbye");
    assert_eq!(call.actions().last().unwrap(), "hangup");
    let ev = w.events("c1");
    assert!(has(
        &ev,
        &IvrEvent::InputFailed {
            node: "service".into()
        }
    ));
    assert_eq!(s.disposition, Disposition::Abandoned);

    // with one retry, twice is enough
    let mut plan = fake::plan();
    let Some(Node::Menu(m)) = plan.flow.nodes.get_mut(&"service".into()) else {
        panic!()
    };
    m.input.retries = 1;
    let at = w.now();
    let w = World::new(plan, at);
    let script = Script::new(SHICHENG)
        .press("choose-language", "1")
        .press("service-menu", "7")
        .press("service-menu", "7");
    let (s, call) = w.call("c2", script).await;
    let p = call.prompts();
    assert_eq!(p.iter().filter(|p| *p == "zh/invalid-choice").count(), 2);
    assert_eq!(p.last().unwrap(), "zh/goodbye");
    assert_eq!(s.disposition, Disposition::Abandoned);
}

#[tokio::test(start_paused = true)]
async fn silence_in_the_language_menu_carries_on_in_mandarin() {
    let w = World::monday(10, 0);
    let (s, call) = w
        .call("c1", Script::new(SHICHENG).press("service-menu", "1"))
        .await;
    let p = call.prompts();
    assert_eq!(p.iter().filter(|p| *p == "zh/choose-language").count(), 2);
    assert_eq!(s.language.as_str(), "zh");
    assert_eq!(s.disposition, Disposition::Answered);
}

#[tokio::test(start_paused = true)]
async fn survey_answer_3_is_recorded_as_unsatisfied() {
    let w = World::monday(10, 0);
    let (s, call) = w
        .call("c1", consultation(SHICHENG).press("survey", "3"))
        .await;
    assert_eq!(s.survey.as_deref(), Some("unsatisfied"));
    assert_eq!(s.vars["satisfaction"], "unsatisfied");
    assert!(has(
        &w.events("c1"),
        &IvrEvent::SurveyAnswer {
            value: "unsatisfied".into()
        }
    ));
    assert_eq!(call.prompts().last().unwrap(), "zh/survey-thanks");
}

#[tokio::test(start_paused = true)]
async fn caller_hanging_up_while_ringing_frees_the_lawyer() {
    let w = World::monday(10, 0);
    let idle_before = w.state("lai-zhiming").idle_since().unwrap();
    let script = consultation(SHICHENG).ring("lai-zhiming", Ring::CallerHangsUp(secs(5)));
    let (s, call) = w.call("c1", script).await;
    assert_eq!(call.actions(), ["answer", "ring lai-zhiming", "hangup"]);
    assert!(has(
        &w.events("c1"),
        &IvrEvent::RingFailed {
            lawyer: "lai-zhiming".into(),
            outcome: RingFailure::CallerGone
        }
    ));
    // ready again, first in the idle order as before
    assert_eq!(
        w.state("lai-zhiming"),
        LawyerState::Ready { since: idle_before }
    );
    assert_eq!(s.disposition, Disposition::Abandoned);
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn caller_hanging_up_during_the_talk_skips_the_survey() {
    let w = World::monday(10, 0);
    let (s, call) = w
        .call(
            "c1",
            consultation(SHICHENG).talk(90, TalkOutcome::CallerHungUp),
        )
        .await;
    assert!(!call.prompts().contains(&"zh/survey".to_string()));
    assert!(has(
        &w.events("c1"),
        &IvrEvent::TalkEnded { by: Party::Caller }
    ));
    assert_eq!(s.disposition, Disposition::Answered);
    assert!(matches!(
        w.state("lai-zhiming"),
        LawyerState::AfterCallWork { .. }
    ));
    w.assert_settled();
}

#[tokio::test(start_paused = true)]
async fn a_call_cancelled_mid_ring_does_not_leave_the_lawyer_ringing() {
    let w = World::monday(10, 0);
    let script = consultation(SHICHENG).ring("lai-zhiming", Ring::Answer(secs(15)));
    // the app drops the call's task while the phone rings
    let r = tokio::time::timeout(secs(8), w.call("c1", script)).await;
    assert!(r.is_err());
    assert!(matches!(w.state("lai-zhiming"), LawyerState::Ready { .. }));
    assert_eq!(w.acd.board().lawyers[&"lai-zhiming".into()].call, None);
}

#[tokio::test(start_paused = true)]
async fn a_dialplan_loop_is_cut_off_by_the_step_limit() {
    let w = World::monday(10, 0);
    // 9 repeats the service menu; a caller who presses it forever
    let script = Script::new(SHICHENG)
        .press("choose-language", "1")
        .always("service-menu", "9");
    let (s, call) = w.call("c1", script).await;
    let ev = w.events("c1");
    assert!(has(
        &ev,
        &IvrEvent::StepLimit {
            node: "service".into()
        }
    ));
    let menus = call
        .prompts()
        .iter()
        .filter(|p| *p == "zh/service-menu")
        .count();
    assert_eq!(
        menus,
        200 - 4,
        "welcome, language, hours, region, then the menu"
    );
    assert_eq!(call.prompts().last().unwrap(), "zh/goodbye");
    assert_eq!(call.actions().last().unwrap(), "hangup");
    assert_eq!(s.disposition, Disposition::Abandoned);
}

#[tokio::test(start_paused = true)]
async fn events_and_summary_serialise() {
    let w = World::monday(10, 0);
    let (s, _) = w.call("c1", consultation(SHICHENG)).await;
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains(r#""disposition":"answered""#), "{json}");
    for (_, e) in w.sink.all() {
        let j = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<IvrEvent>(&j).unwrap(), e);
    }
}

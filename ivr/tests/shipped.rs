//! The shipped dialplan (`dialplans/` at the repository root) loads cleanly and routes the
//! pilot areas the way the 12348 service expects.

use std::collections::HashMap;
use std::path::Path;

use hotline_ivr::acd::{first_available, queue_candidates};
use hotline_ivr::flow::{Key, Node};
use hotline_ivr::{
    Dialplan, DutyFilter, LawyerId, LawyerSnapshot, LawyerState, RegionId, candidates,
    overflow_chain,
};
use jiff::Timestamp;
use jiff::civil::date;

fn plan() -> Dialplan {
    match hotline_ivr::load(Path::new("../dialplans")) {
        Ok(p) => p,
        Err(diags) => panic!(
            "{}",
            diags
                .iter()
                .map(|d| d.to_string() + "\n")
                .collect::<String>()
        ),
    }
}

/// Local Beijing time to an instant.
fn at(p: &Dialplan, y: i16, m: i8, d: i8, hh: i8, mm: i8) -> Timestamp {
    p.hours
        .time_zone()
        .to_timestamp(date(y, m, d).at(hh, mm, 0, 0))
        .unwrap()
}

fn ids<T: ToString>(v: &[T]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

/// Every lawyer registered and ready, idle since a time that orders them by id.
fn everyone_ready(p: &Dialplan) -> HashMap<LawyerId, LawyerSnapshot> {
    p.roster
        .lawyers()
        .enumerate()
        .map(|(i, l)| {
            let since = Timestamp::from_second(1_700_000_000 + i as i64).unwrap();
            let s = LawyerSnapshot {
                registered: true,
                state: LawyerState::Ready { since },
            };
            (l.id.clone(), s)
        })
        .collect()
}

#[test]
fn shipped_dialplan_checks_clean() {
    assert_eq!(hotline_ivr::check(Path::new("../dialplans")), vec![]);
}

#[test]
fn caller_numbers_resolve_to_pilot_regions() {
    let p = plan();
    let r = |n: &str| p.regions.resolve(n).map(|r| r.to_string());
    assert_eq!(r("+86 797 5701234").as_deref(), Some("shicheng"));
    assert_eq!(r("0797-8123456").as_deref(), Some("ganzhou"));
    assert_eq!(r("tel:+86-138-7970-1234").as_deref(), Some("ganzhou"));
    assert_eq!(r("0357-6212345").as_deref(), Some("quwo"));
    assert_eq!(r("0351-4041234").as_deref(), Some("taiyuan"));
    assert_eq!(r("0854-8212345").as_deref(), Some("duyun"));
    assert_eq!(r("0854 7212345").as_deref(), Some("pingtang"));
    assert_eq!(r("020-83001234").as_deref(), Some("yuexiu"));
    assert_eq!(r("0875-5123456").as_deref(), Some("tengchong"));
    assert_eq!(r("0875-2212345").as_deref(), Some("longyang"));
    assert_eq!(r("0871-64101234"), None); // Kunming is not served by this sample
    assert_eq!(r("anonymous"), None);
    let a = |d: &str| p.regions.resolve_area_code(d).map(|r| r.to_string());
    assert_eq!(a("0797").as_deref(), Some("ganzhou"));
    assert_eq!(a("357").as_deref(), Some("linfen"));
    assert_eq!(a("020").as_deref(), Some("guangzhou"));
    assert_eq!(a("0875").as_deref(), Some("baoshan"));
}

#[test]
fn hierarchy_names_and_overflow() {
    let p = plan();
    let shicheng = p.hierarchy.get(&"shicheng".into()).unwrap();
    assert_eq!(
        (shicheng.zh.as_str(), shicheng.en.as_str()),
        ("石城县", "Shicheng County")
    );
    assert_eq!(
        ids(&overflow_chain(&p.hierarchy, &"shicheng-qinjiang".into())),
        ["shicheng-qinjiang", "shicheng", "ganzhou", "jiangxi"]
    );
    assert_eq!(
        ids(&overflow_chain(&p.hierarchy, &"pingtang".into())),
        ["pingtang", "qiannan", "guizhou"]
    );
    assert_eq!(
        ids(&overflow_chain(&p.hierarchy, &"tengchong".into())),
        ["tengchong", "baoshan", "yunnan"]
    );
    assert_eq!(
        ids(&overflow_chain(&p.hierarchy, &"quwo".into())),
        ["quwo", "linfen", "shanxi"]
    );
    assert_eq!(
        ids(&overflow_chain(&p.hierarchy, &"yuexiu".into())),
        ["yuexiu", "guangzhou", "guangdong"]
    );
    assert!(overflow_chain(&p.hierarchy, &"kunming".into()).is_empty());
}

#[test]
fn business_hours_follow_the_2026_calendar() {
    let p = plan();
    assert!(p.hours.is_open(at(&p, 2026, 3, 11, 10, 0))); // Wednesday
    assert!(!p.hours.is_open(at(&p, 2026, 3, 11, 18, 0))); // evening
    assert!(!p.hours.is_open(at(&p, 2026, 3, 14, 10, 0))); // Saturday
    assert!(!p.hours.is_open(at(&p, 2026, 2, 17, 10, 0))); // Spring Festival
    assert!(p.hours.is_open(at(&p, 2026, 2, 14, 10, 0))); // make-up Saturday
    assert!(!p.hours.is_open(at(&p, 2026, 10, 1, 10, 0))); // National Day
    assert!(p.hours.is_open(at(&p, 2026, 10, 10, 10, 0))); // make-up Saturday
    assert!(!p.hours.is_open(at(&p, 2026, 6, 19, 10, 0))); // Dragon Boat Festival
}

#[test]
fn shicheng_county_then_ganzhou_over_lunch() {
    let p = plan();
    let states = everyone_ready(&p);
    let consult = DutyFilter {
        language: Some("zh".into()),
        skill: Some("consultation".into()),
    };
    let shicheng: RegionId = "shicheng".into();
    // Monday 2026-03-09 10:00: Lai Zhiming is on duty in Shicheng
    let c = candidates(
        &p.roster,
        &shicheng,
        &consult,
        at(&p, 2026, 3, 9, 10, 0),
        &states,
    );
    assert_eq!(ids(&c), ["lai-zhiming"]);
    // 12:30: the county is at lunch, Ganzhou city takes the call
    let chain = overflow_chain(&p.hierarchy, &shicheng);
    let (region, who) = first_available(
        &p.roster,
        &chain,
        &consult,
        at(&p, 2026, 3, 9, 12, 30),
        &states,
    )
    .unwrap();
    assert_eq!(region.as_str(), "ganzhou");
    assert_eq!(ids(&who), ["liu-jianhua", "zeng-guoping"]);
    // Monday afternoon: both county lawyers, longest idle first
    let c = candidates(
        &p.roster,
        &shicheng,
        &consult,
        at(&p, 2026, 3, 9, 15, 0),
        &states,
    );
    assert_eq!(c.len(), 2);
}

#[test]
fn english_callers_climb_to_an_english_speaker() {
    let p = plan();
    let states = everyone_ready(&p);
    let en = DutyFilter {
        language: Some("en".into()),
        skill: Some("legal_aid".into()),
    };
    let chain = overflow_chain(&p.hierarchy, &"shicheng".into());
    let (region, who) =
        first_available(&p.roster, &chain, &en, at(&p, 2026, 3, 9, 10, 0), &states).unwrap();
    assert_eq!(
        (region.as_str(), ids(&who)),
        ("jiangxi", vec!["liu-fang".to_string()])
    );
}

#[test]
fn dated_exceptions_and_make_up_days() {
    let p = plan();
    let states = everyone_ready(&p);
    let any = DutyFilter::default();
    // Tuesday 2026-03-10: Luo Yonghua is on leave, the prefecture's Yang Desheng covers Duyun
    let duyun = candidates(
        &p.roster,
        &"duyun".into(),
        &any,
        at(&p, 2026, 3, 10, 9, 0),
        &states,
    );
    assert_eq!(ids(&duyun), ["yang-desheng"]);
    let qiannan = candidates(
        &p.roster,
        &"qiannan".into(),
        &any,
        at(&p, 2026, 3, 10, 9, 0),
        &states,
    );
    assert!(qiannan.is_empty());
    // Saturday 2026-02-14 is worked as a Monday
    let c = candidates(
        &p.roster,
        &"shicheng".into(),
        &any,
        at(&p, 2026, 2, 14, 9, 0),
        &states,
    );
    assert_eq!(ids(&c), ["lai-zhiming"]);
    // Spring Festival: no weekly shifts, only the provincial duty lawyer's extra shift
    let holiday = at(&p, 2026, 2, 18, 10, 0);
    assert!(candidates(&p.roster, &"ganzhou".into(), &any, holiday, &states).is_empty());
    assert_eq!(
        ids(&candidates(
            &p.roster,
            &"jiangxi".into(),
            &any,
            holiday,
            &states
        )),
        ["liu-fang"]
    );
}

#[test]
fn the_flow_walks_like_the_12348_menu() {
    let p = plan();
    let f = &p.flow;
    let key = |c| Key::new(c).unwrap();
    let node = |id: &str| f.node(&id.into()).unwrap_or_else(|| panic!("{id}"));
    let Node::Play { next, .. } = node(f.entry.as_str()) else {
        panic!("greeting")
    };
    let Node::Menu(lang) = node(next.as_str()) else {
        panic!("language menu")
    };
    assert_eq!(
        lang.choice(key('2'))
            .unwrap()
            .language
            .as_ref()
            .unwrap()
            .as_str(),
        "en"
    );
    let Node::Hours { open, closed } = node(lang.choice(key('1')).unwrap().goto.as_str()) else {
        panic!("hours")
    };
    assert!(matches!(node(closed.as_str()), Node::Voicemail(v) if v.callback));
    let Node::Region { known, unknown } = node(open.as_str()) else {
        panic!("region")
    };
    let Node::Collect(ask) = node(unknown.as_str()) else {
        panic!("area code")
    };
    assert_eq!(
        (ask.min_digits, ask.max_digits, ask.terminator),
        (3, 4, Some(key('#')))
    );
    let Node::Menu(service) = node(known.as_str()) else {
        panic!("service menu")
    };
    let skill = |k| match node(service.choice(key(k)).unwrap().goto.as_str()) {
        Node::RouteDuty(r) => r.skill.as_ref().map(|s| s.to_string()),
        Node::RouteQueue(q) => Some(format!("queue:{}", q.queue)),
        other => panic!("{other:?}"),
    };
    assert_eq!(skill('1').as_deref(), Some("consultation"));
    assert_eq!(skill('2').as_deref(), Some("legal_aid"));
    assert_eq!(skill('3').as_deref(), Some("mediation"));
    assert_eq!(skill('4').as_deref(), Some("queue:complaints"));
    assert_eq!(skill('0'), None);
    assert_eq!(skill('5'), None);
    assert_eq!(
        service.choice(key('1')).unwrap().set["category"],
        "consultation"
    );
    let Node::RouteDuty(r) = node("route-consultation") else {
        panic!()
    };
    let Node::Survey(s) = node(r.after_call.as_str()) else {
        panic!("survey")
    };
    let answers: Vec<(char, &str)> = s
        .answers
        .iter()
        .map(|(k, v)| (k.as_char(), v.as_str()))
        .collect();
    assert_eq!(
        answers,
        [
            ('1', "satisfied"),
            ('2', "basically_satisfied"),
            ('3', "unsatisfied")
        ]
    );
    let w = &f.waiting;
    assert_eq!(w.leave_message.as_ref().unwrap().0, key('*'));
    assert_eq!(w.announce_every, Some(std::time::Duration::from_secs(30)));
    assert!(p.prompt_path(&s.input.prompts[0], &"zh".into()).is_file());
}

#[test]
fn complaints_queue_rings_provincial_desks() {
    let p = plan();
    let q = &p.flow.queues[&"complaints".into()];
    let c = queue_candidates(&p.roster, q, &DutyFilter::default(), &everyone_ready(&p));
    assert_eq!(c.len(), 5);
    assert!(c.iter().all(|l| {
        p.roster
            .lawyer(l)
            .unwrap()
            .skills
            .iter()
            .any(|s| s.as_str() == "complaint")
    }));
}

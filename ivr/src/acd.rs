//! The ACD's pure selection logic: which lawyers to ring for a call (on duty, registered,
//! ready, matching language and skill, longest idle first) and which regions to try in turn.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::flow::Queue;
use crate::hierarchy::Hierarchy;
use crate::ids::{LawyerId, RegionId};
use crate::lawyer_state::LawyerState;
use crate::roster::{DutyFilter, Roster};

/// What the SIP side and the state machine know about one lawyer right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LawyerSnapshot {
    /// Whether the lawyer's phone has a live registration.
    pub registered: bool,
    /// Where the lawyer is in the call cycle.
    pub state: LawyerState,
}

/// The lawyers to ring for a call to `region`, best first: on duty there at `at`, matching
/// `filter`, registered and ready, longest idle first (ties by id, so the order is stable).
/// Lawyers missing from `states` are treated as offline.
pub fn candidates(
    roster: &Roster,
    region: &RegionId,
    filter: &DutyFilter,
    at: Timestamp,
    states: &HashMap<LawyerId, LawyerSnapshot>,
) -> Vec<LawyerId> {
    longest_idle_first(roster.on_duty(region, at, filter), states)
}

/// The members of a named queue to ring, best first: registered and ready, matching `filter`,
/// longest idle first. Queue members are rung whatever their shifts.
pub fn queue_candidates(
    roster: &Roster,
    queue: &Queue,
    filter: &DutyFilter,
    states: &HashMap<LawyerId, LawyerSnapshot>,
) -> Vec<LawyerId> {
    let members = queue
        .lawyers
        .iter()
        .filter(|id| roster.lawyer(id).is_some_and(|l| filter.matches(l)))
        .cloned()
        .collect();
    longest_idle_first(members, states)
}

fn longest_idle_first(
    ids: Vec<LawyerId>,
    states: &HashMap<LawyerId, LawyerSnapshot>,
) -> Vec<LawyerId> {
    let mut ready: Vec<(jiff::Timestamp, LawyerId)> = ids
        .into_iter()
        .filter_map(|id| {
            let s = states.get(&id).filter(|s| s.registered)?;
            Some((s.state.idle_since()?, id))
        })
        .collect();
    ready.sort();
    ready.into_iter().map(|(_, id)| id).collect()
}

/// The regions to try for a caller in `region`, in order: the region itself, then each
/// ancestor up to the province (township → county → city → province). Empty for an unknown
/// region.
pub fn overflow_chain(hierarchy: &Hierarchy, region: &RegionId) -> Vec<RegionId> {
    if !hierarchy.contains(region) {
        return Vec::new();
    }
    let mut chain = vec![region.clone()];
    chain.extend(hierarchy.ancestors(region));
    chain
}

/// The first region up the chain with somebody to ring, and whom: what the interpreter asks
/// when a caller has waited `max_wait` at the previous level (pass the remaining chain).
pub fn first_available(
    roster: &Roster,
    chain: &[RegionId],
    filter: &DutyFilter,
    at: Timestamp,
    states: &HashMap<LawyerId, LawyerSnapshot>,
) -> Option<(RegionId, Vec<LawyerId>)> {
    chain.iter().find_map(|r| {
        let c = candidates(roster, r, filter, at, states);
        (!c.is_empty()).then(|| (r.clone(), c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ClockTime;
    use crate::hours::Hours;
    use crate::ids::{Lang, Skill};
    use crate::lawyer_state::NotReadyReason;
    use crate::roster::{Lawyer, Shift};
    use jiff::civil::{Weekday, date};
    use jiff::tz::TimeZone;

    fn tz() -> TimeZone {
        TimeZone::fixed(jiff::tz::offset(8))
    }

    /// Five lawyers on duty in `k` on Mondays 09:00-17:00; `e` also speaks English.
    fn roster() -> Roster {
        let mut r = Roster::new(Hours::always_open(tz()));
        for id in ["a", "b", "c", "d", "e"] {
            let mut languages = vec![Lang::from("zh")];
            if id == "e" {
                languages.push("en".into());
            }
            r.lawyers.insert(
                id.into(),
                Lawyer {
                    id: id.into(),
                    name: id.into(),
                    sip: id.into(),
                    languages,
                    skills: vec![Skill::from("consultation")],
                },
            );
            r.shifts.push(Shift {
                lawyer: id.into(),
                region: "k".into(),
                day: Weekday::Monday,
                from: "09:00".parse::<ClockTime>().unwrap(),
                to: "17:00".parse().unwrap(),
            });
        }
        r
    }

    fn ts(secs: i64) -> Timestamp {
        Timestamp::from_second(1_780_000_000 + secs).unwrap()
    }

    fn monday_10am() -> Timestamp {
        tz().to_timestamp(date(2026, 5, 11).at(10, 0, 0, 0))
            .unwrap()
    }

    fn states() -> HashMap<LawyerId, LawyerSnapshot> {
        let snap = |registered, state| LawyerSnapshot { registered, state };
        HashMap::from([
            (
                "a".into(),
                snap(true, LawyerState::Ready { since: ts(300) }),
            ),
            (
                "b".into(),
                snap(true, LawyerState::Ready { since: ts(100) }),
            ),
            ("c".into(), snap(false, LawyerState::Ready { since: ts(0) })),
            ("d".into(), snap(true, LawyerState::Busy { since: ts(50) })),
            (
                "e".into(),
                snap(true, LawyerState::Ready { since: ts(200) }),
            ),
        ])
    }

    fn names(v: &[LawyerId]) -> Vec<&str> {
        v.iter().map(LawyerId::as_str).collect()
    }

    #[test]
    fn registered_ready_longest_idle_first() {
        let c = candidates(
            &roster(),
            &"k".into(),
            &DutyFilter::default(),
            monday_10am(),
            &states(),
        );
        // c is not registered, d is busy
        assert_eq!(names(&c), ["b", "e", "a"]);
    }

    #[test]
    fn off_duty_and_not_ready_lawyers_are_skipped() {
        let mut s = states();
        s.insert(
            "b".into(),
            LawyerSnapshot {
                registered: true,
                state: LawyerState::NotReady {
                    since: ts(0),
                    reason: NotReadyReason::NoAnswer,
                },
            },
        );
        let r = roster();
        let f = DutyFilter::default();
        assert_eq!(
            names(&candidates(&r, &"k".into(), &f, monday_10am(), &s)),
            ["e", "a"]
        );
        let evening = tz()
            .to_timestamp(date(2026, 5, 11).at(18, 0, 0, 0))
            .unwrap();
        assert!(candidates(&r, &"k".into(), &f, evening, &s).is_empty());
        assert!(candidates(&r, &"k".into(), &f, monday_10am(), &HashMap::new()).is_empty());
    }

    #[test]
    fn language_and_skill_filters() {
        let r = roster();
        let en = DutyFilter {
            language: Some("en".into()),
            skill: None,
        };
        assert_eq!(
            names(&candidates(&r, &"k".into(), &en, monday_10am(), &states())),
            ["e"]
        );
        let aid = DutyFilter {
            language: None,
            skill: Some("legal_aid".into()),
        };
        assert!(candidates(&r, &"k".into(), &aid, monday_10am(), &states()).is_empty());
    }

    #[test]
    fn ties_break_by_id() {
        let mut s = states();
        for id in ["a", "b", "e"] {
            s.get_mut(&LawyerId::from(id)).unwrap().state = LawyerState::Ready { since: ts(7) };
        }
        let c = candidates(
            &roster(),
            &"k".into(),
            &DutyFilter::default(),
            monday_10am(),
            &s,
        );
        assert_eq!(names(&c), ["a", "b", "e"]);
    }

    #[test]
    fn queue_members_ignore_shifts() {
        let q = Queue {
            lawyers: vec!["a".into(), "c".into(), "e".into(), "ghost".into()],
            max_wait: std::time::Duration::from_secs(60),
            on_timeout: "bye".into(),
        };
        let c = queue_candidates(&roster(), &q, &DutyFilter::default(), &states());
        assert_eq!(names(&c), ["e", "a"]);
    }

    #[test]
    fn first_available_walks_the_chain() {
        let r = roster();
        let chain: Vec<RegionId> = vec!["t".into(), "k".into(), "p".into()];
        let f = DutyFilter::default();
        let (region, who) = first_available(&r, &chain, &f, monday_10am(), &states()).unwrap();
        assert_eq!(region.as_str(), "k");
        assert_eq!(names(&who), ["b", "e", "a"]);
        assert!(first_available(&r, &chain[2..], &f, monday_10am(), &states()).is_none());
    }
}

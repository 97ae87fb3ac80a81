//! The duty roster (`roster.toml`): lawyers, their weekly shifts per region and dated
//! exceptions. Answers "who is on duty in this county right now?".

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::clock::ClockTime;
use crate::hours::Hours;
use crate::ids::{Lang, LawyerId, RegionId, Skill};
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};

/// A lawyer who can take calls. `sip` ties the roster to the phone registrations the SIP side
/// sees, so the ACD knows whether the lawyer's phone is online.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lawyer {
    /// Stable id (`chen-wei`).
    pub id: LawyerId,
    /// Display name (`陈伟`).
    pub name: String,
    /// SIP username of the lawyer's phone (`lawyer1`).
    pub sip: String,
    /// Languages the lawyer can take calls in (`zh`, `en`, `yue`).
    pub languages: Vec<Lang>,
    /// Services and specialities (`consultation`, `legal_aid`, `labour`, `marriage_family`).
    pub skills: Vec<Skill>,
}

/// A recurring weekly shift on one weekday. `to <= from` means it runs past midnight into the
/// next day (night duty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shift {
    /// Who works it.
    pub lawyer: LawyerId,
    /// Which region's calls they answer.
    pub region: RegionId,
    /// The weekday it starts on.
    pub day: Weekday,
    /// Local start time.
    pub from: ClockTime,
    /// Local end time (on the next day if `to <= from`).
    pub to: ClockTime,
}

/// A one-off shift on a date, e.g. holiday duty (值班).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraShift {
    /// Who works it.
    pub lawyer: LawyerId,
    /// Which region's calls they answer.
    pub region: RegionId,
    /// The date it starts on.
    pub date: Date,
    /// Local start time.
    pub from: ClockTime,
    /// Local end time (next day if `to <= from`).
    pub to: ClockTime,
}

/// What a caller needs from a lawyer; `None` fields match anyone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DutyFilter {
    /// The call's language.
    pub language: Option<Lang>,
    /// The service or speciality asked for.
    pub skill: Option<Skill>,
}

impl DutyFilter {
    /// Whether `lawyer` speaks the language and has the skill.
    pub fn matches(&self, lawyer: &Lawyer) -> bool {
        self.language
            .as_ref()
            .is_none_or(|l| lawyer.languages.contains(l))
            && self
                .skill
                .as_ref()
                .is_none_or(|s| lawyer.skills.contains(s))
    }
}

/// The whole roster. It follows the hotline's calendar ([`Hours`]): its time zone, and the
/// public holidays (weekly shifts do not apply; extra shifts do) and make-up working days
/// (the weekly shifts of the stand-in weekday apply).
#[derive(Clone, Debug)]
pub struct Roster {
    pub(crate) calendar: Hours,
    pub(crate) lawyers: BTreeMap<LawyerId, Lawyer>,
    pub(crate) shifts: Vec<Shift>,
    pub(crate) extras: Vec<ExtraShift>,
    pub(crate) off: HashSet<(LawyerId, Date)>,
}

impl Roster {
    /// An empty roster following `calendar`.
    pub fn new(calendar: Hours) -> Roster {
        Roster {
            calendar,
            lawyers: BTreeMap::new(),
            shifts: Vec::new(),
            extras: Vec::new(),
            off: HashSet::new(),
        }
    }

    /// The lawyer with this id.
    pub fn lawyer(&self, id: &LawyerId) -> Option<&Lawyer> {
        self.lawyers.get(id)
    }

    /// All lawyers, in id order.
    pub fn lawyers(&self) -> impl Iterator<Item = &Lawyer> {
        self.lawyers.values()
    }

    /// The lawyer whose phone registers as SIP user `user`.
    pub fn by_sip(&self, user: &str) -> Option<&Lawyer> {
        self.lawyers.values().find(|l| l.sip == user)
    }

    /// The weekly shifts.
    pub fn shifts(&self) -> &[Shift] {
        &self.shifts
    }

    /// The dated extra shifts.
    pub fn extra_shifts(&self) -> &[ExtraShift] {
        &self.extras
    }

    /// Whether `lawyer` is off on `date` (cancels the weekly shifts that start that day).
    pub fn is_off(&self, lawyer: &LawyerId, date: Date) -> bool {
        self.off.contains(&(lawyer.clone(), date))
    }

    /// Whether any lawyer offers `skill`: a route asking for a skill nobody has is a typo.
    pub fn has_skill(&self, skill: &Skill) -> bool {
        self.lawyers.values().any(|l| l.skills.contains(skill))
    }

    /// The lawyers on duty for `region` at `at` who match `filter`, in id order. Weekly shifts
    /// count on dates whose schedule ([`Hours::schedule_of`]) is their weekday (so not on public
    /// holidays, and on make-up working days as the stand-in weekday), unless the lawyer is off
    /// on the date the shift started; extra shifts always count.
    /// Says nothing about whether their phone is up or free: see [`crate::acd::candidates`].
    pub fn on_duty(&self, region: &RegionId, at: Timestamp, filter: &DutyFilter) -> Vec<LawyerId> {
        let local = self.calendar.time_zone().to_datetime(at);
        let (date, now) = (local.date(), ClockTime::of(local.time()));
        let mut ids = BTreeSet::new();
        for s in self.shifts.iter().filter(|s| &s.region == region) {
            if let Some(start) = started_on(s.from, s.to, date, now)
                && self.calendar.schedule_of(start) == Some(s.day)
                && !self.is_off(&s.lawyer, start)
            {
                ids.insert(&s.lawyer);
            }
        }
        for e in self.extras.iter().filter(|e| &e.region == region) {
            if started_on(e.from, e.to, date, now) == Some(e.date) {
                ids.insert(&e.lawyer);
            }
        }
        ids.into_iter()
            .filter(|id| self.lawyers.get(*id).is_some_and(|l| filter.matches(l)))
            .cloned()
            .collect()
    }
}

/// If a daily window `from`-`to` covers local time `now` on `date`, the date that window
/// instance started on (`date`, or the day before for the tail of a night shift).
pub(crate) fn started_on(
    from: ClockTime,
    to: ClockTime,
    date: Date,
    now: ClockTime,
) -> Option<Date> {
    let wraps = to <= from;
    if from <= now && (wraps || now < to) {
        Some(date)
    } else if wraps && now < to {
        date.yesterday().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::tz::TimeZone;

    fn t(s: &str) -> ClockTime {
        s.parse().unwrap()
    }

    fn roster() -> Roster {
        let mut r = Roster::new(Hours::always_open(TimeZone::fixed(jiff::tz::offset(8))));
        for (id, langs, skills) in [
            ("chen", vec!["zh"], vec!["consultation", "labour"]),
            ("li", vec!["zh", "en"], vec!["consultation", "legal_aid"]),
            ("night", vec!["zh"], vec!["consultation"]),
        ] {
            r.lawyers.insert(
                id.into(),
                Lawyer {
                    id: id.into(),
                    name: id.into(),
                    sip: format!("sip-{id}"),
                    languages: langs.into_iter().map(Lang::from).collect(),
                    skills: skills.into_iter().map(Skill::from).collect(),
                },
            );
        }
        let shift = |l: &str, day, from, to| Shift {
            lawyer: l.into(),
            region: "shicheng".into(),
            day,
            from: t(from),
            to: t(to),
        };
        r.shifts = vec![
            shift("chen", Weekday::Monday, "08:30", "17:30"),
            shift("li", Weekday::Monday, "13:00", "17:30"),
            shift("night", Weekday::Monday, "22:00", "08:00"),
        ];
        r.extras.push(ExtraShift {
            lawyer: "li".into(),
            region: "shicheng".into(),
            date: date(2026, 10, 3),
            from: t("09:00"),
            to: t("12:00"),
        });
        r.off.insert(("chen".into(), date(2026, 5, 11)));
        r
    }

    /// Local (UTC+8) wall time to an instant.
    fn at(y: i16, m: i8, d: i8, hh: i8, mm: i8) -> Timestamp {
        TimeZone::fixed(jiff::tz::offset(8))
            .to_timestamp(date(y, m, d).at(hh, mm, 0, 0))
            .unwrap()
    }

    fn duty(r: &Roster, ts: Timestamp, f: &DutyFilter) -> Vec<String> {
        r.on_duty(&"shicheng".into(), ts, f)
            .iter()
            .map(|l| l.to_string())
            .collect()
    }

    #[test]
    fn weekly_shifts() {
        let r = roster();
        let any = DutyFilter::default();
        // Monday 2026-05-04
        assert_eq!(duty(&r, at(2026, 5, 4, 8, 29), &any), Vec::<String>::new());
        assert_eq!(duty(&r, at(2026, 5, 4, 9, 0), &any), ["chen"]);
        assert_eq!(duty(&r, at(2026, 5, 4, 14, 0), &any), ["chen", "li"]);
        assert_eq!(duty(&r, at(2026, 5, 4, 17, 30), &any), Vec::<String>::new());
        assert!(
            r.on_duty(&"quwo".into(), at(2026, 5, 4, 9, 0), &any)
                .is_empty()
        );
    }

    #[test]
    fn night_shift_runs_past_midnight() {
        let r = roster();
        let any = DutyFilter::default();
        assert_eq!(duty(&r, at(2026, 5, 4, 23, 0), &any), ["night"]); // Monday night
        assert_eq!(duty(&r, at(2026, 5, 5, 7, 59), &any), ["night"]); // Tuesday morning
        assert_eq!(duty(&r, at(2026, 5, 5, 8, 0), &any), Vec::<String>::new());
        assert_eq!(duty(&r, at(2026, 5, 5, 23, 0), &any), Vec::<String>::new()); // Tuesday night
        assert_eq!(duty(&r, at(2026, 5, 4, 7, 0), &any), Vec::<String>::new()); // Sunday's night: none
    }

    #[test]
    fn filters_by_language_and_skill() {
        let r = roster();
        let en = DutyFilter {
            language: Some("en".into()),
            skill: None,
        };
        assert_eq!(duty(&r, at(2026, 5, 4, 14, 0), &en), ["li"]);
        let labour = DutyFilter {
            language: Some("zh".into()),
            skill: Some("labour".into()),
        };
        assert_eq!(duty(&r, at(2026, 5, 4, 14, 0), &labour), ["chen"]);
    }

    #[test]
    fn dated_exceptions() {
        let r = roster();
        let any = DutyFilter::default();
        // chen is off on Monday 2026-05-11
        assert_eq!(duty(&r, at(2026, 5, 11, 9, 0), &any), Vec::<String>::new());
        assert!(r.is_off(&"chen".into(), date(2026, 5, 11)));
        // li has an extra shift on Saturday 2026-10-03
        assert_eq!(duty(&r, at(2026, 10, 3, 9, 0), &any), ["li"]);
        assert_eq!(duty(&r, at(2026, 10, 3, 12, 0), &any), Vec::<String>::new());
        assert_eq!(duty(&r, at(2026, 10, 10, 9, 0), &any), Vec::<String>::new());
    }

    #[test]
    fn lookups() {
        let r = roster();
        assert_eq!(r.by_sip("sip-li").unwrap().id.as_str(), "li");
        assert!(r.by_sip("nobody").is_none());
        assert!(r.has_skill(&"legal_aid".into()));
        assert!(!r.has_skill(&"mediation".into()));
    }

    #[test]
    fn started_on_windows() {
        let d = date(2026, 5, 5);
        assert_eq!(started_on(t("08:00"), t("24:00"), d, t("23:59")), Some(d));
        assert_eq!(
            started_on(t("22:00"), t("06:00"), d, t("05:00")),
            Some(date(2026, 5, 4))
        );
        assert_eq!(started_on(t("22:00"), t("06:00"), d, t("06:00")), None);
        assert_eq!(started_on(t("09:00"), t("12:00"), d, t("08:00")), None);
    }
}

#[cfg(test)]
mod calendar_tests {
    use super::*;
    use crate::diag::Source;
    use jiff::civil::date;

    #[test]
    fn holidays_and_make_up_days() {
        let text = "[[open]]\ndays = [\"mon\"]\nfrom = \"09:00\"\nto = \"17:00\"\n\
                    [[holiday]]\nname = \"国庆节\"\nfrom = 2026-10-01\nto = 2026-10-07\n\
                    [[workday]]\ndate = 2026-10-10\nhours_of = \"mon\"\n";
        let mut out = Vec::new();
        let hours = Hours::parse(&Source::inline("hours.toml", text), &mut out).unwrap();
        let tz = hours.time_zone().clone();
        let mut r = Roster::new(hours);
        r.shifts.push(Shift {
            lawyer: "a".into(),
            region: "k".into(),
            day: Weekday::Monday,
            from: "09:00".parse().unwrap(),
            to: "17:00".parse().unwrap(),
        });
        r.lawyers.insert(
            "a".into(),
            Lawyer {
                id: "a".into(),
                name: "a".into(),
                sip: "a".into(),
                languages: vec![],
                skills: vec![],
            },
        );
        let at = |d| {
            tz.to_timestamp(jiff::civil::Date::at(d, 10, 0, 0, 0))
                .unwrap()
        };
        let duty = |d| r.on_duty(&"k".into(), at(d), &DutyFilter::default()).len();
        assert_eq!(duty(date(2026, 9, 28)), 1); // an ordinary Monday
        assert_eq!(duty(date(2026, 10, 5)), 0); // Monday in the National Day holiday
        assert_eq!(duty(date(2026, 10, 10)), 1); // Saturday worked as a Monday
        assert_eq!(duty(date(2026, 10, 17)), 0); // an ordinary Saturday
    }
}

//! Business hours (`hours.toml`): weekly opening windows, public holidays and the make-up
//! working days (调休上班) of the Chinese calendar, in the hotline's time zone.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;

use crate::clock::{self, ClockTime, DEFAULT_TIME_ZONE};
use crate::diag::{Diagnostic, Source};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHours {
    time_zone: Option<Spanned<String>>,
    #[serde(default)]
    open: Vec<Spanned<RawOpen>>,
    #[serde(default)]
    holiday: Vec<Spanned<RawHoliday>>,
    #[serde(default)]
    workday: Vec<Spanned<RawWorkday>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOpen {
    days: Vec<Spanned<String>>,
    from: Spanned<String>,
    to: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: String,
    from: Spanned<toml::value::Datetime>,
    to: Option<Spanned<toml::value::Datetime>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkday {
    date: Spanned<toml::value::Datetime>,
    /// For the operators reading the file, e.g. `国庆节调休上班`; not used by the logic.
    #[serde(default)]
    #[allow(dead_code)]
    name: String,
    hours_of: Option<Spanned<String>>,
}

/// A public holiday (or run of days off), inclusive on both ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holiday {
    /// Shown to operators, e.g. `国庆节 National Day`.
    pub name: String,
    /// First day off.
    pub first: Date,
    /// Last day off.
    pub last: Date,
}

/// When the hotline's lawyers take calls in general; the flow's `hours` node branches on it.
/// Holds the hotline's time zone, which the roster shares.
#[derive(Clone, Debug)]
pub struct Hours {
    tz: TimeZone,
    weekly: [Vec<(ClockTime, ClockTime)>; 7],
    holidays: Vec<Holiday>,
    workdays: BTreeMap<Date, Weekday>,
}

impl Hours {
    /// Open around the clock every day, in `tz`: for tests and for hotlines without a schedule.
    pub fn always_open(tz: TimeZone) -> Hours {
        let all = vec![(ClockTime::from_hm(0, 0).unwrap(), ClockTime::END_OF_DAY)];
        Hours {
            tz,
            weekly: std::array::from_fn(|_| all.clone()),
            holidays: Vec::new(),
            workdays: BTreeMap::new(),
        }
    }

    /// The hotline's time zone (`time_zone` in `hours.toml`, default Asia/Shanghai).
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Whether the hotline is open at `at`: holidays close it, make-up working days open it
    /// with the hours of the weekday they stand in for.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let local = self.tz.to_datetime(at);
        let Some(weekday) = self.schedule_of(local.date()) else {
            return false;
        };
        let now = ClockTime::of(local.time());
        self.weekly[clock::weekday_index(weekday) as usize]
            .iter()
            .any(|&(from, to)| from <= now && now < to)
    }

    /// Which weekday's schedule applies on `date`: its own weekday, the stand-in weekday of a
    /// make-up working day, or `None` on a holiday. The roster follows the same calendar.
    pub fn schedule_of(&self, date: Date) -> Option<Weekday> {
        match self.workdays.get(&date) {
            Some(&w) => Some(w),
            None if self.holiday(date).is_some() => None,
            None => Some(date.weekday()),
        }
    }

    /// The holiday `date` falls in, if any (make-up working days are not holidays).
    pub fn holiday(&self, date: Date) -> Option<&Holiday> {
        self.holidays
            .iter()
            .find(|h| h.first <= date && date <= h.last)
    }

    /// The weekday whose hours a make-up working day uses, if `date` is one.
    pub fn workday(&self, date: Date) -> Option<Weekday> {
        self.workdays.get(&date).copied()
    }

    /// Parses `hours.toml`, adding every problem to `out`; `None` only when the file cannot be
    /// read as TOML of the right shape.
    pub(crate) fn parse(src: &Source, out: &mut Vec<Diagnostic>) -> Option<Hours> {
        let raw: RawHours = match src.parse() {
            Ok(r) => r,
            Err(d) => {
                out.push(d);
                return None;
            }
        };
        let tz = match &raw.time_zone {
            None => clock::parse_zone(DEFAULT_TIME_ZONE).expect("bundled tzdb"),
            Some(name) => clock::parse_zone(name.get_ref()).unwrap_or_else(|e| {
                out.push(src.at(name.span(), e.to_string()));
                TimeZone::fixed(jiff::tz::offset(8))
            }),
        };
        let mut hours = Hours {
            tz,
            weekly: Default::default(),
            holidays: Vec::new(),
            workdays: BTreeMap::new(),
        };
        for open in &raw.open {
            let o = open.get_ref();
            let Some((from, to)) = parse_window(src, &o.from, &o.to, out) else {
                continue;
            };
            if o.days.is_empty() {
                out.push(src.at(open.span(), "`days` is empty"));
            }
            for day in &o.days {
                match clock::parse_weekday(day.get_ref()) {
                    Ok(w) => hours.weekly[clock::weekday_index(w) as usize].push((from, to)),
                    Err(e) => out.push(src.at(day.span(), e.to_string())),
                }
            }
        }
        for h in &raw.holiday {
            let h = h.get_ref();
            let Some(first) = date_at(src, &h.from, out) else {
                continue;
            };
            let last = match &h.to {
                None => first,
                Some(to) => match date_at(src, to, out) {
                    Some(last) if last < first => {
                        out.push(
                            src.at(to.span(), format!("`to` {last} is before `from` {first}")),
                        );
                        continue;
                    }
                    Some(last) => last,
                    None => continue,
                },
            };
            hours.holidays.push(Holiday {
                name: h.name.clone(),
                first,
                last,
            });
        }
        for w in &raw.workday {
            let w = w.get_ref();
            let Some(date) = date_at(src, &w.date, out) else {
                continue;
            };
            let like = match &w.hours_of {
                None => Weekday::Monday,
                Some(s) => match clock::parse_weekday(s.get_ref()) {
                    Ok(d) => d,
                    Err(e) => {
                        out.push(src.at(s.span(), e.to_string()));
                        continue;
                    }
                },
            };
            if hours.workdays.insert(date, like).is_some() {
                out.push(src.at(
                    w.date.span(),
                    format!("make-up working day {date} is listed twice"),
                ));
            }
        }
        Some(hours)
    }
}

/// Parses a `from`/`to` pair of an opening window (which may end at 24:00 but not wrap).
fn parse_window(
    src: &Source,
    from: &Spanned<String>,
    to: &Spanned<String>,
    out: &mut Vec<Diagnostic>,
) -> Option<(ClockTime, ClockTime)> {
    let f = time_at(src, from, out)?;
    let t = time_at(src, to, out)?;
    if f >= t {
        out.push(src.at(
            from.span(),
            format!("opening window {f}-{t} is empty or runs past midnight (split it in two)"),
        ));
        return None;
    }
    Some((f, t))
}

/// Parses a spanned `HH:MM`, reporting a bad one at its line.
pub(crate) fn time_at(
    src: &Source,
    s: &Spanned<String>,
    out: &mut Vec<Diagnostic>,
) -> Option<ClockTime> {
    s.get_ref()
        .parse()
        .map_err(|e: clock::ClockError| out.push(src.at(s.span(), e.to_string())))
        .ok()
}

/// Converts a spanned TOML date, reporting a bad one at its line.
pub(crate) fn date_at(
    src: &Source,
    d: &Spanned<toml::value::Datetime>,
    out: &mut Vec<Diagnostic>,
) -> Option<Date> {
    clock::toml_date(d.get_ref())
        .map_err(|e| out.push(src.at(d.span(), e.to_string())))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const SAMPLE: &str = r#"
time_zone = "Asia/Shanghai"

[[open]]
days = ["mon", "tue", "wed", "thu", "fri"]
from = "08:30"
to = "12:00"

[[open]]
days = ["mon", "tue", "wed", "thu", "fri"]
from = "13:30"
to = "17:30"

[[holiday]]
name = "国庆节 National Day"
from = 2026-10-01
to = 2026-10-07

[[workday]]
date = 2026-10-10
name = "国庆节调休上班"
hours_of = "wed"
"#;

    fn hours(text: &str) -> (Option<Hours>, Vec<String>) {
        let mut out = Vec::new();
        let h = Hours::parse(&Source::inline("hours.toml", text), &mut out);
        (h, out.iter().map(|d| d.to_string()).collect())
    }

    fn at(h: &Hours, y: i16, m: i8, d: i8, hh: i8, mm: i8) -> bool {
        let ts = h
            .time_zone()
            .to_timestamp(date(y, m, d).at(hh, mm, 0, 0))
            .unwrap();
        h.is_open(ts)
    }

    #[test]
    fn weekly_windows_in_local_time() {
        let (h, errs) = hours(SAMPLE);
        assert_eq!(errs, Vec::<String>::new());
        let h = h.unwrap();
        // Wednesday 2026-09-30
        assert!(!at(&h, 2026, 9, 30, 8, 29));
        assert!(at(&h, 2026, 9, 30, 8, 30));
        assert!(at(&h, 2026, 9, 30, 11, 59));
        assert!(!at(&h, 2026, 9, 30, 12, 0)); // lunch
        assert!(at(&h, 2026, 9, 30, 13, 30));
        assert!(!at(&h, 2026, 9, 30, 17, 30));
        // Saturday 2026-09-26 is closed
        assert!(!at(&h, 2026, 9, 26, 10, 0));
    }

    #[test]
    fn utc_instant_is_judged_in_shanghai_time() {
        let (h, _) = hours(SAMPLE);
        let h = h.unwrap();
        // 01:00 UTC = 09:00 in Shanghai on Wednesday 2026-09-30
        let ts: Timestamp = "2026-09-30T01:00:00Z".parse().unwrap();
        assert!(h.is_open(ts));
        let ts: Timestamp = "2026-09-30T09:00:00Z".parse().unwrap(); // 17:00 local
        assert!(h.is_open(ts));
        let ts: Timestamp = "2026-09-30T10:00:00Z".parse().unwrap(); // 18:00 local
        assert!(!h.is_open(ts));
    }

    #[test]
    fn holidays_close_and_make_up_days_open() {
        let (h, _) = hours(SAMPLE);
        let h = h.unwrap();
        assert!(!at(&h, 2026, 10, 1, 10, 0)); // Thursday, National Day
        assert!(!at(&h, 2026, 10, 7, 10, 0)); // Wednesday, still the holiday
        assert!(at(&h, 2026, 10, 8, 10, 0));
        assert!(at(&h, 2026, 10, 10, 10, 0)); // Saturday, make-up working day
        assert_eq!(
            h.holiday(date(2026, 10, 3)).unwrap().name,
            "国庆节 National Day"
        );
        assert_eq!(h.workday(date(2026, 10, 10)), Some(Weekday::Wednesday));
    }

    #[test]
    fn time_zone_is_configurable() {
        let text = SAMPLE.replace("Asia/Shanghai", "UTC");
        let (h, _) = hours(&text);
        let ts: Timestamp = "2026-09-30T01:00:00Z".parse().unwrap(); // 01:00 in UTC
        assert!(!h.unwrap().is_open(ts));
        let (h, _) = hours("");
        assert_eq!(h.unwrap().time_zone().iana_name(), Some("Asia/Shanghai"));
    }

    #[test]
    fn always_open() {
        let h = Hours::always_open(TimeZone::UTC);
        assert!(h.is_open("2026-01-01T03:04:05Z".parse().unwrap()));
    }

    #[test]
    fn reports_bad_values_with_lines() {
        let text = r#"time_zone = "Asia/Atlantis"
[[open]]
days = ["mon", "funday"]
from = "18:00"
to = "09:00"
[[open]]
days = ["tue"]
from = "9:00"
to = "10:00"
[[holiday]]
name = "x"
from = 2026-05-05
to = 2026-05-01
[[workday]]
date = 2026-05-09T08:00:00
[[workday]]
date = 2026-05-10
hours_of = "monday"
"#;
        let (_, errs) = hours(text);
        assert_eq!(
            errs,
            [
                "hours.toml:1: unknown time zone `Asia/Atlantis` (use an IANA name such as Asia/Shanghai)",
                "hours.toml:4: opening window 18:00-09:00 is empty or runs past midnight (split it in two)",
                "hours.toml:8: `9:00` is not a time of day: write HH:MM, 00:00 to 24:00",
                "hours.toml:13: `to` 2026-05-01 is before `from` 2026-05-05",
                "hours.toml:15: `2026-05-09T08:00:00` is not a plain date: write YYYY-MM-DD without a time",
                "hours.toml:18: `monday` is not a weekday: use mon, tue, wed, thu, fri, sat or sun",
            ]
        );
    }
}

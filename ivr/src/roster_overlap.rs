//! Overlap checks for `roster.toml`: one lawyer cannot sit at two desks at once, whether the
//! clash is between weekly shifts (on the week circle, night shifts included), between extra
//! shifts, or between an extra shift and the weekly shifts around its date.

use std::collections::HashSet;
use std::ops::Range;

use jiff::civil::Date;

use crate::clock::{self, ClockTime};
use crate::diag::{Diagnostic, Source};
use crate::ids::LawyerId;
use crate::roster::{ExtraShift, Roster};

/// A parsed shift (weekly or extra) as an interval in absolute minutes, for overlap checks.
pub(crate) struct Slot {
    pub lawyer: LawyerId,
    pub line: usize,
    pub what: String,
    pub minutes: Range<i64>,
}

const WEEK: i64 = 7 * 1440;

/// Length in minutes of a daily window (wrapping past midnight when `to <= from`).
pub(crate) fn length(from: ClockTime, to: ClockTime) -> i64 {
    let (f, t) = (from.minutes() as i64, to.minutes() as i64);
    if t > f { t - f } else { 1440 - f + t }
}

/// Minutes from 2000-01-01 to the start of `date`.
fn day_minutes(date: Date) -> i64 {
    date.duration_since(jiff::civil::date(2000, 1, 1)).as_secs() / 60
}

/// Reports overlapping shifts of the same lawyer: weekly against weekly (on the week circle),
/// extra against extra, and extra against the weekly shifts around its date (unless off).
pub(crate) fn report_overlaps(
    r: &Roster,
    weekly: Vec<Slot>,
    extras: &[(usize, ExtraShift)],
    src: &Source,
    out: &mut Vec<Diagnostic>,
) {
    let mut seen = HashSet::new();
    let mut report = |later: &Slot, earlier: &Slot, out: &mut Vec<Diagnostic>| {
        let (a, b) = if later.line >= earlier.line {
            (later, earlier)
        } else {
            (earlier, later)
        };
        if seen.insert((a.line, a.what.clone(), b.line, b.what.clone())) {
            let msg = format!(
                "shift of `{}` on {} overlaps the shift on line {} ({})",
                a.lawyer, a.what, b.line, b.what
            );
            out.push(Diagnostic {
                file: src.path.clone(),
                line: a.line,
                message: msg,
            });
        }
    };
    let overlaps = |x: &Range<i64>, y: &Range<i64>| x.start < y.end && y.start < x.end;
    for (j, b) in weekly.iter().enumerate() {
        for a in weekly[..j].iter().filter(|a| a.lawyer == b.lawyer) {
            let hit = [-WEEK, 0, WEEK]
                .iter()
                .any(|k| overlaps(&a.minutes, &(b.minutes.start + k..b.minutes.end + k)));
            if hit {
                report(b, a, out);
            }
        }
    }
    let mut dated: Vec<Slot> = Vec::new();
    for (line, e) in extras {
        let start = day_minutes(e.date) + e.from.minutes() as i64;
        let slot = Slot {
            lawyer: e.lawyer.clone(),
            line: *line,
            what: format!("{} {}-{}", e.date, e.from, e.to),
            minutes: start..start + length(e.from, e.to),
        };
        for other in dated.iter().filter(|o| o.lawyer == slot.lawyer) {
            if overlaps(&other.minutes, &slot.minutes) {
                report(&slot, other, out);
            }
        }
        for s in weekly.iter().filter(|s| s.lawyer == e.lawyer) {
            for day in [e.date.yesterday(), Ok(e.date), e.date.tomorrow()]
                .into_iter()
                .flatten()
            {
                let Some(weekday) = r.calendar.schedule_of(day) else {
                    continue; // a holiday: no weekly shifts
                };
                let week_start = clock::weekday_index(weekday) as i64 * 1440;
                let in_day = s.minutes.start - week_start;
                if !(0..1440).contains(&in_day) || r.is_off(&e.lawyer, day) {
                    continue;
                }
                let start = day_minutes(day) + in_day;
                if overlaps(
                    &(start..start + s.minutes.end - s.minutes.start),
                    &slot.minutes,
                ) {
                    report(&slot, s, out);
                }
            }
        }
        dated.push(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> ClockTime {
        s.parse().unwrap()
    }

    #[test]
    fn window_lengths() {
        assert_eq!(length(t("08:30"), t("12:00")), 210);
        assert_eq!(length(t("22:00"), t("06:00")), 480);
        assert_eq!(length(t("18:00"), ClockTime::END_OF_DAY), 360);
        assert_eq!(length(t("08:00"), t("08:00")), 1440);
    }

    #[test]
    fn day_minutes_are_linear() {
        let d = jiff::civil::date(2026, 12, 31);
        assert_eq!(day_minutes(d.tomorrow().unwrap()) - day_minutes(d), 1440);
    }
}

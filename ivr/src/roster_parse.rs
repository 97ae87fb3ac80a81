//! Reading and checking `roster.toml`: unknown lawyers and regions, bad times, and (through
//! [`crate::roster_overlap`]) shifts of one lawyer that overlap.

use std::collections::HashSet;

use serde::Deserialize;
use toml::Spanned;

use crate::clock::{self, ClockTime};
use crate::diag::{Diagnostic, Source};
use crate::hierarchy::Hierarchy;
use crate::hours::{Hours, date_at, time_at};
use crate::ids::{Lang, LawyerId, RegionId, Skill, is_valid_id};
use crate::roster::{ExtraShift, Lawyer, Roster, Shift};
use crate::roster_overlap::{Slot, length, report_overlaps};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    lawyer: Vec<Spanned<RawLawyer>>,
    #[serde(default)]
    shift: Vec<Spanned<RawShift>>,
    #[serde(default)]
    exception: Vec<Spanned<RawException>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLawyer {
    id: Spanned<String>,
    name: String,
    sip: Spanned<String>,
    languages: Vec<Spanned<String>>,
    #[serde(default)]
    skills: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShift {
    lawyer: Spanned<String>,
    region: Spanned<String>,
    days: Vec<Spanned<String>>,
    from: Spanned<String>,
    to: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum ExceptionKind {
    Off,
    Extra,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    lawyer: Spanned<String>,
    date: Spanned<toml::value::Datetime>,
    kind: Spanned<ExceptionKind>,
    region: Option<Spanned<String>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
}

impl Roster {
    /// Parses `roster.toml` following `calendar` (time zone, holidays), checking references against itself and against
    /// the hierarchy (when it could be read).
    pub(crate) fn parse(
        src: &Source,
        calendar: Hours,
        hierarchy: Option<&Hierarchy>,
        out: &mut Vec<Diagnostic>,
    ) -> Option<Roster> {
        let raw: RawFile = match src.parse() {
            Ok(r) => r,
            Err(d) => {
                out.push(d);
                return None;
            }
        };
        let mut r = Roster::new(calendar);
        let mut sips = HashSet::new();
        for l in &raw.lawyer {
            let l = l.get_ref();
            let Some(id) = id_at(src, &l.id, "lawyer id", out) else {
                continue;
            };
            if r.lawyers.contains_key(&LawyerId::new(id.as_str())) {
                out.push(src.at(l.id.span(), format!("lawyer `{id}` is defined twice")));
                continue;
            }
            if !sips.insert(l.sip.get_ref().clone()) {
                let sip = l.sip.get_ref();
                out.push(src.at(
                    l.sip.span(),
                    format!("SIP user `{sip}` belongs to two lawyers"),
                ));
            }
            let langs: Vec<String> = l
                .languages
                .iter()
                .filter_map(|s| id_at(src, s, "language", out))
                .collect();
            let skills: Vec<String> = l
                .skills
                .iter()
                .filter_map(|s| id_at(src, s, "skill", out))
                .collect();
            let lawyer = Lawyer {
                id: LawyerId::new(id.as_str()),
                name: l.name.clone(),
                sip: l.sip.get_ref().clone(),
                languages: langs.into_iter().map(Lang::new).collect(),
                skills: skills.into_iter().map(Skill::new).collect(),
            };
            r.lawyers.insert(lawyer.id.clone(), lawyer);
        }
        let known = |r: &Roster,
                     lawyer: &Spanned<String>,
                     region: &Spanned<String>,
                     out: &mut Vec<Diagnostic>| {
            let mut ok = true;
            if !r
                .lawyers
                .contains_key(&LawyerId::new(lawyer.get_ref().as_str()))
            {
                let msg = format!("shift for unknown lawyer `{}`", lawyer.get_ref());
                out.push(src.at(lawyer.span(), msg));
                ok = false;
            }
            if hierarchy.is_some_and(|h| !h.contains(&RegionId::new(region.get_ref().as_str()))) {
                let msg = format!(
                    "shift in unknown region `{}` (not in hierarchy.toml)",
                    region.get_ref()
                );
                out.push(src.at(region.span(), msg));
                ok = false;
            }
            ok
        };
        let mut slots = Vec::new();
        for s in &raw.shift {
            let line = src.line_of(s.span().start);
            let s = s.get_ref();
            let ok = known(&r, &s.lawyer, &s.region, out);
            let Some((from, to)) = shift_times(src, &s.from, &s.to, out) else {
                continue;
            };
            for day in &s.days {
                let day = match clock::parse_weekday(day.get_ref()) {
                    Ok(d) => d,
                    Err(e) => {
                        out.push(src.at(day.span(), e.to_string()));
                        continue;
                    }
                };
                if !ok {
                    continue;
                }
                let start = clock::weekday_index(day) as i64 * 1440 + from.minutes() as i64;
                let what = format!("{} {from}-{to}", clock::weekday_name(day));
                slots.push(Slot {
                    lawyer: LawyerId::new(s.lawyer.get_ref().as_str()),
                    line,
                    what,
                    minutes: start..start + length(from, to),
                });
                r.shifts.push(Shift {
                    lawyer: LawyerId::new(s.lawyer.get_ref().as_str()),
                    region: RegionId::new(s.region.get_ref().as_str()),
                    day,
                    from,
                    to,
                });
            }
        }
        let mut extras = Vec::new();
        for e in &raw.exception {
            let line = src.line_of(e.span().start);
            let e = e.get_ref();
            let lawyer = LawyerId::new(e.lawyer.get_ref().as_str());
            if !r.lawyers.contains_key(&lawyer) {
                let msg = format!("exception for unknown lawyer `{lawyer}`");
                out.push(src.at(e.lawyer.span(), msg));
            }
            let Some(date) = date_at(src, &e.date, out) else {
                continue;
            };
            match e.kind.get_ref() {
                ExceptionKind::Off => {
                    for (name, f) in [("region", &e.region), ("from", &e.from), ("to", &e.to)] {
                        if let Some(f) = f {
                            out.push(src.at(
                                f.span(),
                                format!("`{name}` does not apply to an `off` exception"),
                            ));
                        }
                    }
                    r.off.insert((lawyer, date));
                }
                ExceptionKind::Extra => {
                    let (Some(region), Some(from), Some(to)) = (&e.region, &e.from, &e.to) else {
                        out.push(src.at(
                            e.kind.span(),
                            "an `extra` exception needs `region`, `from` and `to`",
                        ));
                        continue;
                    };
                    let ok = known(&r, &e.lawyer, region, out);
                    let Some((from, to)) = shift_times(src, from, to, out) else {
                        continue;
                    };
                    if ok {
                        extras.push((
                            line,
                            ExtraShift {
                                lawyer,
                                region: RegionId::new(region.get_ref().as_str()),
                                date,
                                from,
                                to,
                            },
                        ));
                    }
                }
            }
        }
        report_overlaps(&r, slots, &extras, src, out);
        r.extras = extras.into_iter().map(|(_, e)| e).collect();
        Some(r)
    }
}

/// A spanned id that must follow [`is_valid_id`].
fn id_at(
    src: &Source,
    s: &Spanned<String>,
    what: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<String> {
    if is_valid_id(s.get_ref()) {
        Some(s.get_ref().clone())
    } else {
        let msg = format!(
            "{what} `{}` must be lowercase letters, digits, `-` or `_`",
            s.get_ref()
        );
        out.push(src.at(s.span(), msg));
        None
    }
}

/// Parses a shift's `from`/`to`; a shift may run past midnight but must not be empty.
fn shift_times(
    src: &Source,
    from: &Spanned<String>,
    to: &Spanned<String>,
    out: &mut Vec<Diagnostic>,
) -> Option<(ClockTime, ClockTime)> {
    let (f, t) = (time_at(src, from, out)?, time_at(src, to, out)?);
    if f == ClockTime::END_OF_DAY || f == t {
        out.push(src.at(from.span(), format!("shift {f}-{t} is empty")));
        return None;
    }
    Some((f, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAWYERS: &str = r#"
[[lawyer]]
id = "chen"
name = "陈伟"
sip = "lawyer1"
languages = ["zh"]
skills = ["consultation"]

[[lawyer]]
id = "li"
name = "李娜"
sip = "lawyer2"
languages = ["zh", "en"]
"#;

    fn parse(text: &str) -> (Option<Roster>, Vec<String>) {
        let mut out = Vec::new();
        let src = Source::inline("roster.toml", &format!("{LAWYERS}{text}"));
        let r = Roster::parse(
            &src,
            Hours::always_open(jiff::tz::TimeZone::UTC),
            None,
            &mut out,
        );
        out.sort();
        (r, out.iter().map(|d| d.to_string()).collect())
    }

    fn shift(lawyer: &str, days: &str, from: &str, to: &str) -> String {
        format!(
            "[[shift]]\nlawyer = \"{lawyer}\"\nregion = \"r\"\ndays = [{days}]\nfrom = \"{from}\"\nto = \"{to}\"\n"
        )
    }

    #[test]
    fn clean_roster_parses() {
        let text = [
            shift("chen", "\"mon\", \"tue\"", "08:30", "12:00"),
            shift("chen", "\"mon\"", "12:00", "17:30"),
            shift("li", "\"mon\"", "08:30", "17:30"),
            shift("li", "\"sun\"", "22:00", "06:00"),
            shift("li", "\"mon\"", "18:00", "24:00"),
        ]
        .concat();
        let (r, errs) = parse(&text);
        assert_eq!(errs, Vec::<String>::new());
        let r = r.unwrap();
        assert_eq!(r.shifts().len(), 6);
        assert_eq!(r.lawyer(&"li".into()).unwrap().languages.len(), 2);
    }

    #[test]
    fn overlapping_weekly_shifts() {
        // line 14 is the first [[shift]]; each shift takes 6 lines
        let text = [
            shift("chen", "\"mon\"", "08:30", "12:00"),
            shift("chen", "\"mon\", \"tue\"", "11:00", "13:00"),
            shift("li", "\"sun\"", "22:00", "09:00"),
            shift("li", "\"mon\"", "08:30", "17:30"),
        ]
        .concat();
        let (_, errs) = parse(&text);
        assert_eq!(
            errs,
            [
                "roster.toml:20: shift of `chen` on mon 11:00-13:00 overlaps the shift on line 14 (mon 08:30-12:00)",
                "roster.toml:32: shift of `li` on mon 08:30-17:30 overlaps the shift on line 26 (sun 22:00-09:00)",
            ]
        );
    }

    #[test]
    fn unknown_references_and_bad_values() {
        let text = [
            shift("zhang", "\"mon\"", "08:30", "12:00"),
            shift("chen", "\"monday\"", "08:30", "08:30"),
            shift("li", "\"mon\"", "08:30", "08:30"),
        ]
        .concat();
        let (_, errs) = parse(&text);
        assert_eq!(
            errs,
            [
                "roster.toml:15: shift for unknown lawyer `zhang`",
                "roster.toml:24: shift 08:30-08:30 is empty",
                "roster.toml:30: shift 08:30-08:30 is empty",
            ]
        );
        let (_, errs) = parse(&shift("chen", "\"monday\"", "08:30", "09:00"));
        assert_eq!(
            errs,
            ["roster.toml:17: `monday` is not a weekday: use mon, tue, wed, thu, fri, sat or sun"]
        );
    }

    #[test]
    fn exceptions() {
        let text = format!(
            "{}{}",
            shift("chen", "\"sat\"", "09:00", "12:00"),
            r#"
[[exception]]
lawyer = "chen"
date = 2026-10-03
kind = "off"

[[exception]]
lawyer = "chen"
date = 2026-10-03
kind = "extra"
region = "r"
from = "10:00"
to = "11:00"

[[exception]]
lawyer = "chen"
date = 2026-10-10
kind = "extra"
region = "r"
from = "11:00"
to = "13:00"

[[exception]]
lawyer = "li"
date = 2026-10-10
kind = "off"
from = "09:00"

[[exception]]
lawyer = "li"
date = 2026-10-11
kind = "extra"

[[exception]]
lawyer = "nobody"
date = 2026-10-11
kind = "off"
"#
        );
        let (r, errs) = parse(&text);
        assert_eq!(
            errs,
            [
                "roster.toml:34: shift of `chen` on 2026-10-10 11:00-13:00 overlaps the shift on line 14 (sat 09:00-12:00)",
                "roster.toml:46: `from` does not apply to an `off` exception",
                "roster.toml:51: an `extra` exception needs `region`, `from` and `to`",
                "roster.toml:54: exception for unknown lawyer `nobody`",
            ]
        );
        let r = r.unwrap();
        assert!(r.is_off(&"chen".into(), jiff::civil::date(2026, 10, 3)));
        assert_eq!(r.extra_shifts().len(), 2);
    }

    #[test]
    fn duplicate_lawyers_and_sip_users() {
        let text =
            "[[lawyer]]\nid = \"chen\"\nname = \"x\"\nsip = \"lawyer2\"\nlanguages = [\"ZH\"]\n";
        let (_, errs) = parse(text);
        assert_eq!(errs, ["roster.toml:15: lawyer `chen` is defined twice"]);
        let text =
            "[[lawyer]]\nid = \"wang\"\nname = \"x\"\nsip = \"lawyer2\"\nlanguages = [\"ZH\"]\n";
        let (_, errs) = parse(text);
        assert_eq!(
            errs,
            [
                "roster.toml:17: SIP user `lawyer2` belongs to two lawyers",
                "roster.toml:18: language `ZH` must be lowercase letters, digits, `-` or `_`",
            ]
        );
    }
}

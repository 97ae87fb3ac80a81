//! Caller-region resolution (`regions.toml`): landline area codes (optionally refined by the
//! first digits of the local number) and mobile number segments (号段) map to region ids.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Diagnostic, Source};
use crate::hierarchy::Hierarchy;
use crate::ids::RegionId;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    mobile_csv: Option<Spanned<String>>,
    #[serde(default)]
    landline: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    mobile: BTreeMap<String, Spanned<String>>,
}

/// A caller number reduced to its Chinese national form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NationalNumber {
    /// An 11-digit mobile number (`13879701234`).
    Mobile(String),
    /// A landline with its trunk `0` and area code (`07975701234`).
    Landline(String),
}

/// Turns whatever the network hands us (`+86 797-570 1234`, `0086...`, `tel:+86...;phone-context`,
/// `sip:8613879701234@host`) into a national number. `None` for foreign numbers, local numbers
/// without an area code, service numbers (`12348`, `95xxx`) and anything that is not a number.
pub fn normalize(caller: &str) -> Option<NationalNumber> {
    let mut s = caller.trim();
    for scheme in ["tel:", "sips:", "sip:"] {
        if s.len() >= scheme.len() && s[..scheme.len()].eq_ignore_ascii_case(scheme) {
            s = &s[scheme.len()..];
        }
    }
    let s = s.split(['@', ';']).next().unwrap_or("");
    let s: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
        .collect();
    let (international, digits) = if let Some(rest) = s.strip_prefix("+86") {
        (true, rest)
    } else if s.starts_with('+') {
        return None;
    } else if let Some(rest) = s.strip_prefix("0086") {
        (true, rest)
    } else if s.len() == 13 && s.starts_with("861") {
        (true, &s[2..])
    } else {
        (false, s.as_str())
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let is_mobile = |d: &str| d.len() == 11 && d.starts_with('1') && d.as_bytes()[1] >= b'3';
    if is_mobile(digits) {
        return Some(NationalNumber::Mobile(digits.to_owned()));
    }
    if let Some(rest) = digits.strip_prefix('0') {
        if is_mobile(rest) {
            return Some(NationalNumber::Mobile(rest.to_owned())); // mobile dialled with trunk 0
        }
        return (digits.len() >= 10).then(|| NationalNumber::Landline(digits.to_owned()));
    }
    if international && digits.len() >= 9 {
        return Some(NationalNumber::Landline(format!("0{digits}")));
    }
    None
}

/// Maps caller numbers to regions. Built from `regions.toml` (and the optional CSV of mobile
/// segments it names), so operators can swap in a complete segment table without code.
#[derive(Clone, Debug, Default)]
pub struct RegionTable {
    landline: HashMap<String, RegionId>,
    mobile: HashMap<String, RegionId>,
    longest_landline: usize,
}

impl RegionTable {
    /// The region a caller is calling from: longest landline-prefix match, or the mobile
    /// segment (first 7 digits). `None` means the IVR should ask for the area code.
    pub fn resolve(&self, caller_number: &str) -> Option<RegionId> {
        match normalize(caller_number)? {
            NationalNumber::Mobile(m) => self.mobile.get(&m[..7]).cloned(),
            NationalNumber::Landline(l) => (3..=self.longest_landline.min(l.len()))
                .rev()
                .find_map(|k| self.landline.get(&l[..k]))
                .cloned(),
        }
    }

    /// The region of an area code the caller keyed in (`0797`, `797`, `020`), exact match on
    /// the area-code entries (3-4 digits with the leading 0).
    pub fn resolve_area_code(&self, digits: &str) -> Option<RegionId> {
        let d: String = digits.chars().filter(char::is_ascii_digit).collect();
        let code = if d.starts_with('0') {
            d
        } else {
            format!("0{d}")
        };
        if !(3..=4).contains(&code.len()) {
            return None;
        }
        self.landline.get(&code).cloned()
    }

    /// Parses `regions.toml` (and its CSV), checking key syntax and that every region id is
    /// in the hierarchy (when the hierarchy could be read).
    pub(crate) fn parse(
        src: &Source,
        dir: &Path,
        hierarchy: Option<&Hierarchy>,
        out: &mut Vec<Diagnostic>,
    ) -> Option<RegionTable> {
        let raw: RawFile = match src.parse() {
            Ok(r) => r,
            Err(d) => {
                out.push(d);
                return None;
            }
        };
        let mut t = RegionTable::default();
        let mut known = |src: &Source, span, id: &str, out: &mut Vec<Diagnostic>| {
            let id = RegionId::new(id);
            if hierarchy.is_some_and(|h| !h.contains(&id)) {
                out.push(src.at(span, format!("region `{id}` is not in hierarchy.toml")));
            }
            id
        };
        for (prefix, region) in &raw.landline {
            let ok = prefix.len() >= 3
                && prefix.len() <= 8
                && prefix.starts_with('0')
                && !prefix.starts_with("00")
                && prefix.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                out.push(src.at(
                    region.span(),
                    format!("landline prefix `{prefix}` must be 3-8 digits starting with one 0"),
                ));
                continue;
            }
            let id = known(src, region.span(), region.get_ref(), out);
            t.longest_landline = t.longest_landline.max(prefix.len());
            t.landline.insert(prefix.clone(), id);
        }
        let mut mobile_line = HashMap::new();
        for (segment, region) in &raw.mobile {
            if !valid_segment(segment) {
                out.push(src.at(region.span(), bad_segment(segment)));
                continue;
            }
            let id = known(src, region.span(), region.get_ref(), out);
            mobile_line.insert(segment.clone(), src.line_of(region.span().start));
            t.mobile.insert(segment.clone(), id);
        }
        if let Some(csv) = &raw.mobile_csv {
            match Source::read(dir, csv.get_ref()) {
                Err(mut d) => {
                    d.file = src.path.clone();
                    d.line = src.line_of(csv.span().start);
                    d.message = format!("mobile_csv `{}`: {}", csv.get_ref(), d.message);
                    out.push(d);
                }
                Ok(csv) => t.read_csv(&csv, &mut known, out),
            }
        }
        Some(t)
    }

    /// Reads `segment,region` lines (blank lines and `#` comments allowed).
    fn read_csv(
        &mut self,
        csv: &Source,
        known: &mut impl FnMut(&Source, std::ops::Range<usize>, &str, &mut Vec<Diagnostic>) -> RegionId,
        out: &mut Vec<Diagnostic>,
    ) {
        let mut offset = 0;
        for line in csv.text.split_inclusive('\n') {
            let span = offset..offset;
            offset += line.len();
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let Some((seg, region)) = l.split_once(',') else {
                out.push(csv.at(span, "expected `segment,region`"));
                continue;
            };
            let (seg, region) = (seg.trim(), region.trim());
            if !valid_segment(seg) {
                out.push(csv.at(span, bad_segment(seg)));
                continue;
            }
            let id = known(csv, span.clone(), region, out);
            if self.mobile.insert(seg.to_owned(), id).is_some() {
                out.push(csv.at(span, format!("mobile segment `{seg}` is listed twice")));
            }
        }
    }
}

fn valid_segment(s: &str) -> bool {
    s.len() == 7 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit())
}

fn bad_segment(s: &str) -> String {
    format!("mobile segment `{s}` must be the first 7 digits of a mobile number (1xxxxxx)")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[landline]
"0797" = "ganzhou"
"079757" = "shicheng"
"020" = "guangzhou"
"0351" = "taiyuan"

[mobile]
"1387970" = "ganzhou"
"#;

    fn table(text: &str) -> (RegionTable, Vec<String>) {
        let mut out = Vec::new();
        let t = RegionTable::parse(
            &Source::inline("regions.toml", text),
            Path::new("."),
            None,
            &mut out,
        )
        .unwrap();
        (t, out.iter().map(|d| d.to_string()).collect())
    }

    fn r(t: &RegionTable, n: &str) -> Option<String> {
        t.resolve(n).map(|r| r.to_string())
    }

    #[test]
    fn normalisation() {
        use NationalNumber::*;
        let m = |s: &str| Some(Mobile(s.into()));
        let l = |s: &str| Some(Landline(s.into()));
        assert_eq!(normalize("13879701234"), m("13879701234"));
        assert_eq!(normalize("+86 138-7970-1234"), m("13879701234"));
        assert_eq!(normalize("008613879701234"), m("13879701234"));
        assert_eq!(normalize("8613879701234"), m("13879701234"));
        assert_eq!(normalize("013879701234"), m("13879701234"));
        assert_eq!(
            normalize("sip:+8613879701234@10.0.0.1;user=phone"),
            m("13879701234")
        );
        assert_eq!(
            normalize("tel:+86-797-5701234;phone-context=x"),
            l("07975701234")
        );
        assert_eq!(normalize("TEL:0797 570 1234"), l("07975701234"));
        assert_eq!(normalize("(020) 8888-1234"), l("02088881234"));
        assert_eq!(normalize("+86 020 88881234"), l("02088881234"));
        assert_eq!(normalize("0086 20 88881234"), l("02088881234"));
        for none in [
            "",
            "12348",
            "5701234",
            "+1 415 555 0100",
            "0797",
            "abc",
            "1387970123x",
            "anonymous",
        ] {
            assert_eq!(normalize(none), None, "{none}");
        }
    }

    #[test]
    fn landlines_take_the_longest_prefix() {
        let (t, errs) = table(SAMPLE);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(r(&t, "0797-5701234").as_deref(), Some("shicheng"));
        assert_eq!(r(&t, "0797-8201234").as_deref(), Some("ganzhou"));
        assert_eq!(r(&t, "+86 20 8888 1234").as_deref(), Some("guangzhou"));
        assert_eq!(r(&t, "0351-4041234").as_deref(), Some("taiyuan"));
        assert_eq!(r(&t, "0871-64101234"), None); // Kunming: not in the table
    }

    #[test]
    fn mobiles_use_the_seven_digit_segment() {
        let (t, _) = table(SAMPLE);
        assert_eq!(r(&t, "+86 138 7970 0001").as_deref(), Some("ganzhou"));
        assert_eq!(r(&t, "13879800001"), None);
    }

    #[test]
    fn keyed_area_codes() {
        let (t, _) = table(SAMPLE);
        let a = |d: &str| t.resolve_area_code(d).map(|r| r.to_string());
        assert_eq!(a("0797").as_deref(), Some("ganzhou"));
        assert_eq!(a("797").as_deref(), Some("ganzhou"));
        assert_eq!(a("020").as_deref(), Some("guangzhou"));
        assert_eq!(a("20").as_deref(), Some("guangzhou"));
        assert_eq!(a("079757"), None); // a refinement, not an area code
        assert_eq!(a("0999"), None);
        assert_eq!(a(""), None);
    }

    #[test]
    fn bad_keys_are_reported() {
        let (_, errs) = table("[landline]\n\"797\" = \"x\"\n[mobile]\n\"138797\" = \"x\"\n");
        assert_eq!(
            errs,
            [
                "regions.toml:2: landline prefix `797` must be 3-8 digits starting with one 0",
                "regions.toml:4: mobile segment `138797` must be the first 7 digits of a mobile number (1xxxxxx)",
            ]
        );
    }

    #[test]
    fn mobile_csv_is_read_and_checked() {
        let dir = std::env::temp_dir().join(format!("ivr-regions-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("seg.csv"),
            "# sample\n1387970,ganzhou\n\n1500000,x\nnonsense\n1387970,y\n",
        )
        .unwrap();
        let src = Source {
            path: dir.join("regions.toml"),
            text: "mobile_csv = \"seg.csv\"\n".into(),
        };
        let mut out = Vec::new();
        let t = RegionTable::parse(&src, &dir, None, &mut out).unwrap();
        assert_eq!(
            t.resolve("13879700000").map(|r| r.to_string()).as_deref(),
            Some("y")
        );
        assert_eq!(
            t.resolve("15000001111").map(|r| r.to_string()).as_deref(),
            Some("x")
        );
        let lines: Vec<_> = out.iter().map(|d| (d.line, d.message.clone())).collect();
        assert_eq!(
            lines,
            [
                (5, "expected `segment,region`".to_string()),
                (6, "mobile segment `1387970` is listed twice".to_string()),
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

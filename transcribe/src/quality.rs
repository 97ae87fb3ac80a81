//! Quality checks on transcripts: risk keywords (threats, self-harm, mass petitions,
//! violence) that must reach a supervisor at once, and PII redaction (ID-card, phone and bank
//! card numbers) for the text shown to roles that may not see them. Both are configured in a
//! TOML file (`dialplans/quality.toml`) so the justice bureau can change the lists.

use std::path::Path;

use serde::Deserialize;

use crate::TranscribeError;

/// The quality rules.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QualityRules {
    /// Words or phrases that raise a red alert (matched case-insensitively, anywhere; English
    /// ones only at the start of a word).
    pub risk_keywords: Vec<String>,
    /// What to mask in the redacted text.
    #[serde(default)]
    pub redact: Redact,
}

/// Which numbers redaction masks.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Redact {
    /// Resident ID-card numbers (18 characters, or the old 15 digits).
    #[serde(default = "yes")]
    pub id_card: bool,
    /// Mobile (11 digits from 1) and landline (0 + area code + number) numbers.
    #[serde(default = "yes")]
    pub phone: bool,
    /// Bank card numbers (16-19 digits).
    #[serde(default = "yes")]
    pub bank_card: bool,
}

fn yes() -> bool {
    true
}

impl Default for Redact {
    fn default() -> Self {
        Redact {
            id_card: true,
            phone: true,
            bank_card: true,
        }
    }
}

/// The rules shipped in `dialplans/quality.toml`, built in so a missing file still protects.
pub const DEFAULT_RULES_TOML: &str = include_str!("../../dialplans/quality.toml");

impl Default for QualityRules {
    fn default() -> Self {
        QualityRules::parse(DEFAULT_RULES_TOML).expect("the shipped quality.toml parses")
    }
}

impl QualityRules {
    /// Parses a rules file's text.
    pub fn parse(text: &str) -> Result<QualityRules, TranscribeError> {
        toml::from_str(text).map_err(|e| TranscribeError::Config(e.to_string()))
    }

    /// Reads a rules file.
    pub fn load(path: &Path) -> Result<QualityRules, TranscribeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| TranscribeError::Config(format!("{}: {e}", path.display())))?;
        QualityRules::parse(&text)
            .map_err(|e| TranscribeError::Config(format!("{}: {e}", path.display())))
    }

    /// The risk keywords found in `text`, in the configured order, each once.
    ///
    /// Where a keyword is only heard inside a longer configured one at the same place ("kill"
    /// in "kill myself", "上访" in "集体上访"), only the longer one is reported: it says more,
    /// and the shorter would list the same words twice for the supervisor.
    pub fn risk_keywords_in(&self, text: &str) -> Vec<String> {
        let hay = normalise(text);
        // (keyword index, byte span in `hay`, length in chars) of every occurrence
        let mut hits = Vec::new();
        for (k, word) in self.risk_keywords.iter().enumerate() {
            let word = normalise(word);
            if word.is_empty() {
                continue;
            }
            let chars = word.chars().count();
            for at in word_matches(&hay, &word) {
                hits.push((k, at, at + word.len(), chars));
            }
        }
        let inside_longer = |&(_, from, to, len): &(usize, usize, usize, usize)| {
            hits.iter()
                .any(|&(_, f, t, l)| l > len && f <= from && to <= t)
        };
        let mut found: Vec<usize> = hits
            .iter()
            .filter(|h| !inside_longer(h))
            .map(|h| h.0)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .map(|k| self.risk_keywords[k].clone())
            .collect()
    }

    /// `text` with the configured kinds of number masked digit by digit (`*`).
    ///
    /// Spoken numbers come out of whisper in groups ("138 0013 8000", "+86-138..."), and real
    /// text puts other numbers next to them ("13800138000 2点", "2024 13800138000"), so the text
    /// is first cut into digit groups (full-width digits read as ASCII) separated by a single
    /// space or hyphen. At each group the longest run of joined groups that is a valid number is
    /// masked; when no run is, the group is tried on its own. Runs of several groups must also
    /// look right (ID: real province code and birth date; bank card: not from 0/1/2, which
    /// years and mobiles start with) so a year or amount next to a number is not swallowed.
    /// Numbers spoken as Chinese numerals (一三八...) are not recognised.
    pub fn redact(&self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let groups = digit_groups(&chars);
        let mut out = chars;
        let mut g = 0;
        while g < groups.len() {
            let mut last = g;
            while groups[last].joins_next && last + 1 < groups.len() {
                last += 1;
            }
            let mut k = g;
            while k <= last {
                let hit = (k..=last)
                    .rev()
                    .find_map(|j| self.sensitive(&groups[k..=j]).map(|x| (j, x)));
                match hit {
                    Some((j, uses_x)) => {
                        for group in &groups[k..=j] {
                            for &at in &group.at {
                                out[at] = '*';
                            }
                        }
                        if let (true, Some(x)) = (uses_x, groups[j].x) {
                            out[x] = '*';
                        }
                        k = j + 1;
                    }
                    None => k += 1,
                }
            }
            g = last + 1;
        }
        out.into_iter().collect()
    }

    /// Whether the joined `run` of groups is a number to mask (`Some(true)` when the ID check
    /// character X after it belongs to it).
    fn sensitive(&self, run: &[Group]) -> Option<bool> {
        let digits: String = run.iter().map(|g| g.digits.as_str()).collect();
        let joined = run.len() > 1;
        let has_x = run.last().is_some_and(|g| g.x.is_some());
        let n = digits.len();
        if self.redact.id_card {
            let id_x = n == 17 && has_x;
            if (id_x || n == 18 || n == 15) && (!joined || plausible_id(&digits)) {
                return Some(id_x);
            }
        }
        if self.redact.phone && is_phone(&digits) {
            return Some(false);
        }
        let bank_start = !digits.starts_with(['0', '1', '2']);
        if self.redact.bank_card && (16..=19).contains(&n) && (!joined || bank_start) {
            return Some(false);
        }
        None
    }
}

/// A maximal run of digits in the text, as redaction sees it.
#[derive(Debug)]
struct Group {
    /// Char positions of the digits.
    at: Vec<usize>,
    /// The digits, full-width ones as ASCII.
    digits: String,
    /// Position of an X/x right after the digits (an ID card's check character).
    x: Option<usize>,
    /// Whether the next group follows after exactly one space or hyphen.
    joins_next: bool,
}

/// The digit value of `c` as an ASCII digit; full-width digits (１３８) count, as some input
/// methods and whisper itself produce them.
fn ascii_digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
        _ => None,
    }
}

fn digit_groups(chars: &[char]) -> Vec<Group> {
    let digit_at = |i: usize| chars.get(i).copied().and_then(ascii_digit);
    let mut groups = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if digit_at(i).is_none() {
            i += 1;
            continue;
        }
        let mut at = Vec::new();
        let mut digits = String::new();
        while let Some(d) = digit_at(i) {
            at.push(i);
            digits.push(d);
            i += 1;
        }
        let x = matches!(chars.get(i), Some('X' | 'x' | 'Ｘ' | 'ｘ')).then_some(i);
        let joins_next = x.is_none()
            && matches!(chars.get(i), Some(' ' | '-' | '－' | '\u{3000}'))
            && digit_at(i + 1).is_some();
        groups.push(Group {
            at,
            digits,
            x,
            joins_next,
        });
    }
    groups
}

/// Mobile (11 digits from 1), landline (0 + area code + number, 10-12 digits), or either with
/// the country code 86 / 0086 in front (the landline then without its leading 0).
fn is_phone(d: &str) -> bool {
    let mobile = |d: &str| d.len() == 11 && d.starts_with('1');
    let landline = |d: &str| (10..=12).contains(&d.len()) && d.starts_with('0');
    let international = |r: &str| mobile(r) || ((9..=11).contains(&r.len()) && !r.starts_with('0'));
    mobile(d)
        || landline(d)
        || ["0086", "86"]
            .iter()
            .any(|p| d.strip_prefix(p).is_some_and(international))
}

/// Province codes that open a resident ID number.
const PROVINCES: [u32; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// Whether 15, 17 (+X) or 18 digits look like an ID number: a province code and a birth date
/// (YYMMDD in the old 15-digit form, YYYYMMDD in the new one).
fn plausible_id(d: &str) -> bool {
    let num = |from: usize, to: usize| d.get(from..to).and_then(|s| s.parse::<u32>().ok());
    let date = if d.len() >= 17 {
        (num(6, 10), num(10, 12), num(12, 14))
    } else {
        (num(6, 8).map(|y| 1900 + y), num(8, 10), num(10, 12))
    };
    let (Some(year), Some(month), Some(day)) = date else {
        return false;
    };
    num(0, 2).is_some_and(|p| PROVINCES.contains(&p))
        && (1900..=2099).contains(&year)
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
}

/// Lowercase, and traditional punctuation-free spacing: keyword matching ignores case.
fn normalise(s: &str) -> String {
    s.to_lowercase()
}

/// Where `word` occurs in `hay` (byte offsets). An ASCII keyword must start a word, so "kill"
/// does not match "skills", but may go on ("killed", "bombs", "shooting"); only ASCII letters
/// and digits count as word characters, since Mandarin runs straight into English words
/// ("他说kill"). CJK has no spaces, so any occurrence counts.
fn word_matches<'a>(hay: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    let ascii = word.is_ascii();
    hay.match_indices(word).filter_map(move |(at, _)| {
        let before = hay[..at].chars().next_back();
        let starts_word = !ascii || before.is_none_or(|c| !c.is_ascii_alphanumeric());
        starts_word.then_some(at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_rules_parse_and_find_mandarin_and_english_risks() {
        let r = QualityRules::default();
        assert_eq!(
            r.risk_keywords_in("我不想活了，我要跳楼"),
            vec!["不想活", "跳楼"]
        );
        assert_eq!(
            r.risk_keywords_in("He said he will KILL my family."),
            vec!["kill"]
        );
        assert!(r.risk_keywords_in("I have skills in accounting").is_empty());
        assert!(r.risk_keywords_in("我想咨询劳动合同").is_empty());
        assert!(!r.risk_keywords_in("我们要组织集体上访").is_empty());
    }

    #[test]
    fn id_phone_and_bank_numbers_are_masked_other_numbers_kept() {
        let r = QualityRules::default();
        assert_eq!(
            r.redact("身份证号110101199003078515，电话13800138000"),
            "身份证号******************，电话***********"
        );
        assert_eq!(
            r.redact("ID 11010119900307851X ok"),
            "ID ****************** ok"
        );
        assert_eq!(
            r.redact("my number is 138 0013 8000."),
            "my number is *** **** ****."
        );
        assert_eq!(
            r.redact("card 6222 0212 3456 7890 123"),
            "card **** **** **** **** ***"
        );
        assert_eq!(r.redact("landline 010-62345678"), "landline ***-********");
        assert_eq!(
            r.redact("I paid 5000 yuan in 2024"),
            "I paid 5000 yuan in 2024"
        );
        let only_ids = QualityRules {
            redact: Redact {
                id_card: true,
                phone: false,
                bank_card: false,
            },
            ..QualityRules::default()
        };
        assert_eq!(only_ids.redact("13800138000"), "13800138000");
    }

    #[test]
    fn grouped_prefixed_and_neighbouring_numbers_are_masked_alone() {
        let r = QualityRules::default();
        let cases = [
            ("+86 138 0013 8000", "+** *** **** ****"),
            ("+86-13800138000", "+**-***********"),
            ("0086 13800138000", "**** ***********"),
            ("电话13800138000 2点以后打", "电话*********** 2点以后打"),
            (
                "卡号6222021234567890123 5000元",
                "卡号******************* 5000元",
            ),
            ("13800138000-1", "***********-1"),
            ("１３８００１３８０００", "***********"),
            ("2024 13800138000", "2024 ***********"),
            ("2024 010-62345678", "2024 ***-********"),
            ("110101 19900307 851X", "****** ******** ****"),
            // Chinese numerals are not read as digits
            ("一三八零零一三八零零零", "一三八零零一三八零零零"),
        ];
        for (text, want) in cases {
            assert_eq!(r.redact(text), want, "{text}");
        }
    }

    #[test]
    fn english_keywords_start_a_word_and_longer_overlaps_win() {
        let r = QualityRules::default();
        assert_eq!(r.risk_keywords_in("he killed the dog"), vec!["kill"]);
        assert_eq!(r.risk_keywords_in("two bombs"), vec!["bomb"]);
        assert_eq!(r.risk_keywords_in("a shooting"), vec!["shoot"]);
        assert_eq!(r.risk_keywords_in("他说kill了"), vec!["kill"]);
        assert!(r.risk_keywords_in("skills, a patriot").is_empty());
        assert_eq!(
            r.risk_keywords_in("I will kill myself"),
            vec!["kill myself"]
        );
        assert_eq!(r.risk_keywords_in("我们要组织集体上访"), vec!["集体上访"]);
        // the shorter keyword still counts where it is heard on its own
        assert_eq!(
            r.risk_keywords_in("kill myself, then kill him"),
            vec!["kill myself", "kill"]
        );
        assert_eq!(
            r.risk_keywords_in("集体上访之后又去上访"),
            vec!["集体上访", "上访"]
        );
    }

    #[test]
    fn bad_rules_are_a_clear_error() {
        let e = QualityRules::parse("risk_keywords = 3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("risk_keywords"), "{e}");
        let e = QualityRules::parse("risk_keywords = []\nredcat = {}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("redcat"), "{e}");
    }
}

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
    /// Words or phrases that raise a red alert (matched case-insensitively, anywhere).
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
    pub fn risk_keywords_in(&self, text: &str) -> Vec<String> {
        let hay = normalise(text);
        self.risk_keywords
            .iter()
            .filter(|k| {
                let k = normalise(k);
                !k.is_empty() && contains_word(&hay, &k)
            })
            .cloned()
            .collect()
    }

    /// `text` with the configured kinds of number masked digit by digit (`*`).
    pub fn redact(&self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let mut out = chars.clone();
        let mut i = 0;
        while i < chars.len() {
            if !chars[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            // a run of digits, allowing single spaces or hyphens between them (spoken numbers
            // come out as "138 0013 8000") and a final X (ID cards)
            let start = i;
            let mut digits = Vec::new();
            let mut end = i;
            while i < chars.len() {
                let c = chars[i];
                if c.is_ascii_digit() {
                    digits.push(i);
                    i += 1;
                    end = i;
                } else if (c == ' ' || c == '-')
                    && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())
                {
                    i += 1;
                } else if (c == 'X' || c == 'x') && digits.len() == 17 {
                    digits.push(i);
                    i += 1;
                    end = i;
                    break;
                } else {
                    break;
                }
            }
            let n = digits.len();
            let first = chars[start];
            let is_id = n == 18 || n == 15;
            let is_phone = (n == 11 && first == '1') || ((10..=12).contains(&n) && first == '0');
            let is_bank = (16..=19).contains(&n);
            let mask = (self.redact.id_card && is_id)
                || (self.redact.phone && is_phone)
                || (self.redact.bank_card && is_bank);
            if mask {
                for &d in &digits {
                    out[d] = '*';
                }
            }
            i = i.max(end);
        }
        out.into_iter().collect()
    }
}

/// Lowercase, and traditional punctuation-free spacing: keyword matching ignores case.
fn normalise(s: &str) -> String {
    s.to_lowercase()
}

/// Substring match; for ASCII keywords the match must start and end at word boundaries
/// ("kill" does not match "skills"), CJK has no spaces so any occurrence counts.
fn contains_word(hay: &str, word: &str) -> bool {
    let ascii = word.is_ascii();
    hay.match_indices(word).any(|(at, _)| {
        if !ascii {
            return true;
        }
        let before = hay[..at].chars().next_back();
        let after = hay[at + word.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        boundary(before) && boundary(after)
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

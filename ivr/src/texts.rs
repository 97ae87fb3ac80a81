//! The prompt texts (`prompts/texts.toml`): what each prompt says in each language. The WAV
//! files are generated from it (`scripts/make-prompts.sh`), and it documents the recordings
//! for whoever re-records them with a human voice.

use std::collections::BTreeMap;
use std::path::Path;

use toml::Spanned;

use crate::diag::{Diagnostic, Source};

/// Where the texts live, relative to the dialplan directory.
pub const TEXTS_FILE: &str = "prompts/texts.toml";

/// Prompt name → language → text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PromptTexts {
    texts: BTreeMap<String, BTreeMap<String, String>>,
}

impl PromptTexts {
    /// Reads `<dir>/prompts/texts.toml`.
    pub fn load(dir: &Path) -> Result<PromptTexts, Vec<Diagnostic>> {
        let src = Source::read(dir, TEXTS_FILE).map_err(|d| vec![d])?;
        let mut out = Vec::new();
        match PromptTexts::parse(&src, &mut out) {
            Some(t) if out.is_empty() => Ok(t),
            _ => Err(out),
        }
    }

    /// The text of `prompt` in `lang`.
    pub fn get(&self, prompt: &str, lang: &str) -> Option<&str> {
        self.texts.get(prompt)?.get(lang).map(String::as_str)
    }

    /// Every (prompt name, language, text), in name order: what the generator script speaks.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.texts.iter().flat_map(|(name, by_lang)| {
            by_lang
                .iter()
                .map(move |(lang, text)| (name.as_str(), lang.as_str(), text.as_str()))
        })
    }

    pub(crate) fn parse(src: &Source, out: &mut Vec<Diagnostic>) -> Option<PromptTexts> {
        let raw: BTreeMap<String, Spanned<BTreeMap<String, Spanned<String>>>> = match src.parse() {
            Ok(r) => r,
            Err(d) => {
                out.push(d);
                return None;
            }
        };
        let mut t = PromptTexts::default();
        for (name, by_lang) in raw {
            for (lang, text) in by_lang.get_ref() {
                if text.get_ref().trim().is_empty() {
                    out.push(src.at(
                        text.span(),
                        format!("text of `{name}` in `{lang}` is empty"),
                    ));
                }
            }
            let by_lang = by_lang
                .into_inner()
                .into_iter()
                .map(|(l, s)| (l, s.into_inner()))
                .collect();
            t.texts.insert(name, by_lang);
        }
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_by_name_and_language() {
        let src = Source::inline(
            "texts.toml",
            "[welcome]\nzh = \"您好\"\nen = \"Hello\"\n\n[\"digits/0\"]\nzh = \"零\"\nen = \" \"\n",
        );
        let mut out = Vec::new();
        let t = PromptTexts::parse(&src, &mut out).unwrap();
        assert_eq!(t.get("welcome", "zh"), Some("您好"));
        assert_eq!(t.get("welcome", "yue"), None);
        assert_eq!(t.entries().count(), 4);
        assert_eq!(
            out[0].to_string(),
            "texts.toml:7: text of `digits/0` in `en` is empty"
        );
    }
}

//! The serde shape of `12348.toml`, every value wrapped in `Spanned` so each later check can
//! name its line. Nodes are one flat struct with all fields optional: the `kind` decides which
//! fields apply, which gives better messages than serde's tagged enums (and keeps spans).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

pub(crate) type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlow {
    pub plan: S<RawPlan>,
    pub waiting: S<RawWaiting>,
    #[serde(default)]
    pub queue: BTreeMap<String, S<RawQueue>>,
    pub node: BTreeMap<String, S<RawNode>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlan {
    pub entry: S<String>,
    pub languages: S<Vec<S<String>>>,
    pub default_language: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWaiting {
    #[serde(default)]
    pub hold: Vec<S<String>>,
    pub announce_every: Option<S<i64>>,
    pub position_before: Option<S<String>>,
    pub position_after: Option<S<String>>,
    pub max_wait: S<i64>,
    pub ring_timeout: S<i64>,
    pub after_call_work: S<i64>,
    pub leave_message_key: Option<S<String>>,
    pub leave_message: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQueue {
    pub lawyers: Vec<S<String>>,
    pub max_wait: Option<S<i64>>,
    pub on_timeout: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNode {
    pub kind: S<String>,
    pub prompts: Option<S<Vec<S<String>>>>,
    pub next: Option<S<String>>,
    pub timeout: Option<S<i64>>,
    pub retries: Option<S<i64>>,
    pub invalid: Option<S<String>>,
    pub on_fail: Option<S<String>>,
    pub choice: Option<S<Vec<S<RawChoice>>>>,
    pub var: Option<S<String>>,
    pub min_digits: Option<S<i64>>,
    pub max_digits: Option<S<i64>>,
    pub terminator: Option<S<String>>,
    pub resolve: Option<S<String>>,
    pub open: Option<S<String>>,
    pub closed: Option<S<String>>,
    pub known: Option<S<String>>,
    pub unknown: Option<S<String>>,
    pub vars: Option<S<BTreeMap<String, String>>>,
    pub language: Option<S<String>>,
    pub skill: Option<S<String>>,
    pub queue: Option<S<String>>,
    pub no_region: Option<S<String>>,
    pub exhausted: Option<S<String>>,
    pub after_call: Option<S<String>>,
    pub max_seconds: Option<S<i64>>,
    pub callback: Option<S<bool>>,
    pub answer: Option<S<Vec<S<RawAnswer>>>>,
}

impl RawNode {
    /// Every field but `kind`, with its span when present, to check which ones a kind allows.
    pub fn fields(&self) -> Vec<(&'static str, Option<Range<usize>>)> {
        fn sp<T>(f: &Option<S<T>>) -> Option<Range<usize>> {
            f.as_ref().map(|s| s.span())
        }
        vec![
            ("prompts", sp(&self.prompts)),
            ("next", sp(&self.next)),
            ("timeout", sp(&self.timeout)),
            ("retries", sp(&self.retries)),
            ("invalid", sp(&self.invalid)),
            ("on_fail", sp(&self.on_fail)),
            ("choice", sp(&self.choice)),
            ("var", sp(&self.var)),
            ("min_digits", sp(&self.min_digits)),
            ("max_digits", sp(&self.max_digits)),
            ("terminator", sp(&self.terminator)),
            ("resolve", sp(&self.resolve)),
            ("open", sp(&self.open)),
            ("closed", sp(&self.closed)),
            ("known", sp(&self.known)),
            ("unknown", sp(&self.unknown)),
            ("vars", sp(&self.vars)),
            ("language", sp(&self.language)),
            ("skill", sp(&self.skill)),
            ("queue", sp(&self.queue)),
            ("no_region", sp(&self.no_region)),
            ("exhausted", sp(&self.exhausted)),
            ("after_call", sp(&self.after_call)),
            ("max_seconds", sp(&self.max_seconds)),
            ("callback", sp(&self.callback)),
            ("answer", sp(&self.answer)),
        ]
    }
}

/// The fields each node kind requires and allows (`None` for an unknown kind).
pub(crate) fn kind_fields(
    kind: &str,
) -> Option<(&'static [&'static str], &'static [&'static str])> {
    const INPUT: [&str; 4] = ["timeout", "retries", "invalid", "on_fail"];
    Some(match kind {
        "play" => (&["prompts", "next"], &[]),
        "menu" => (
            &["prompts", "timeout", "retries", "on_fail", "choice"],
            &INPUT,
        ),
        "collect" => (
            &[
                "prompts",
                "var",
                "min_digits",
                "max_digits",
                "timeout",
                "retries",
                "on_fail",
                "next",
            ],
            &["invalid", "terminator", "resolve"],
        ),
        "hours" => (&["open", "closed"], &[]),
        "region" => (&["known", "unknown"], &[]),
        "set" => (&["next"], &["vars", "language"]),
        "route_duty" => (
            &["no_region", "exhausted", "after_call"],
            &["prompts", "skill"],
        ),
        "route_queue" => (&["queue", "after_call"], &["prompts"]),
        "voicemail" => (&["prompts", "max_seconds", "next"], &["callback"]),
        "survey" => (
            &["prompts", "var", "answer", "timeout", "retries", "next"],
            &INPUT,
        ),
        "hangup" => (&[], &["prompts"]),
        _ => return None,
    })
}

/// All node kinds, for the "unknown kind" message.
pub(crate) const KINDS: &str =
    "play, menu, collect, hours, region, set, route_duty, route_queue, voicemail, survey, hangup";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChoice {
    pub key: S<Keys>,
    pub goto: S<String>,
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    pub language: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAnswer {
    pub key: S<String>,
    pub value: String,
}

/// `key = "1"` or `key = ["0", "5"]`.
pub(crate) struct Keys(pub Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key such as \"1\" or a list of keys such as [\"0\", \"5\"]")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Keys, E> {
                Ok(Keys(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Keys, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    v.push(s);
                }
                Ok(Keys(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_or_many() {
        #[derive(Deserialize)]
        struct T {
            key: Keys,
        }
        let t: T = toml::from_str("key = \"1\"").unwrap();
        assert_eq!(t.key.0, ["1"]);
        let t: T = toml::from_str("key = [\"0\", \"5\"]").unwrap();
        assert_eq!(t.key.0, ["0", "5"]);
        let e = toml::from_str::<T>("key = 1").err().unwrap();
        assert!(e.message().contains("a key such as"), "{}", e.message());
    }

    #[test]
    fn every_kind_lists_real_fields() {
        let node: RawNode = toml::from_str("kind = \"hangup\"").unwrap();
        let names: Vec<&str> = node.fields().iter().map(|(n, _)| *n).collect();
        for kind in KINDS.split(", ") {
            let (req, opt) = kind_fields(kind).unwrap();
            for f in req.iter().chain(opt) {
                assert!(names.contains(f), "{kind}: {f}");
            }
        }
        assert!(kind_fields("dance").is_none());
    }
}

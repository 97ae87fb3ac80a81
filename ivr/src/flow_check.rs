//! The whole-plan checks of `12348.toml`: references to undefined nodes and queues, nodes no
//! call can reach, prompt files missing for an offered language, and skills or queue members
//! the roster does not have.

use std::collections::{HashSet, VecDeque};
use std::path::Path;

use crate::diag::{Diagnostic, Source};
use crate::flow::Flow;
use crate::flow_parse::Refs;
use crate::ids::NodeId;
use crate::roster::Roster;

/// Runs the checks; `flow` is `None` when some node did not convert (then reachability is
/// skipped, since a broken node would make everything after it look unreachable).
pub(crate) fn check(
    src: &Source,
    dir: &Path,
    flow: Option<&Flow>,
    refs: &Refs,
    roster: Option<&Roster>,
    out: &mut Vec<Diagnostic>,
) {
    for (target, span, field) in &refs.nodes {
        if !refs.defined.contains_key(target) {
            let msg = format!("`{field}` refers to undefined node `{target}`");
            out.push(src.at(span.clone(), msg));
        }
    }
    for (queue, span) in &refs.queues {
        if !refs.defined_queues.contains(queue) {
            out.push(src.at(
                span.clone(),
                format!("`queue` refers to undefined queue `{queue}`"),
            ));
        }
    }
    let mut missing = HashSet::new();
    for (prompt, span) in &refs.prompts {
        for lang in &refs.languages {
            let path = prompt.path(dir, lang);
            if !path.is_file() {
                let shown = Path::new("prompts")
                    .join(lang.as_str())
                    .join(format!("{}.wav", prompt.name()));
                let msg = format!(
                    "prompt `{}` is missing for `{lang}`: no file {}",
                    prompt.name(),
                    shown.display()
                );
                if missing.insert((src.line_of(span.start), msg.clone())) {
                    out.push(src.at(span.clone(), msg));
                }
            }
        }
    }
    if let Some(roster) = roster {
        for (skill, span) in &refs.skills {
            if !roster.has_skill(skill) {
                out.push(src.at(
                    span.clone(),
                    format!("no lawyer in roster.toml has skill `{skill}`"),
                ));
            }
        }
        for (lawyer, span) in &refs.lawyers {
            if roster.lawyer(lawyer).is_none() {
                let msg = format!("queue member `{lawyer}` is not a lawyer in roster.toml");
                out.push(src.at(span.clone(), msg));
            }
        }
    }
    if let Some(flow) = flow.filter(|_| refs.complete) {
        let seen = reachable(flow);
        for (name, span) in &refs.defined {
            if !seen.contains(&NodeId::new(name.as_str())) {
                let msg = format!(
                    "node `{name}` is not reachable from the entry node `{}`",
                    flow.entry
                );
                out.push(src.at(span.clone(), msg));
            }
        }
    }
}

/// The nodes a call can reach from the entry node.
pub(crate) fn reachable(flow: &Flow) -> HashSet<NodeId> {
    let mut seen = HashSet::from([flow.entry.clone()]);
    let mut todo = VecDeque::from([flow.entry.clone()]);
    while let Some(id) = todo.pop_front() {
        let Some(node) = flow.node(&id) else { continue };
        for next in flow.successors(node) {
            if seen.insert(next.clone()) {
                todo.push_back(next);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow_parse::parse;
    use crate::hours::Hours;
    use crate::roster::Lawyer;

    const FLOW: &str = r#"[plan]
entry = "start"
languages = ["zh"]

[waiting]
max_wait = 60
ring_timeout = 20
after_call_work = 30
leave_message_key = "*"
leave_message = "callback"

[queue.desk]
lawyers = ["a", "ghost"]
on_timeout = "timeout"

[node.start]
kind = "route_queue"
queue = "desk"
after_call = "duty"

[node.duty]
kind = "route_duty"
skill = "astrology"
no_region = "bye"
exhausted = "bye"
after_call = "bye"

[node.callback]
kind = "hangup"

[node.timeout]
kind = "hangup"

[node.bye]
kind = "hangup"

[node.lost]
kind = "hangup"
"#;

    #[test]
    fn waiting_and_queue_targets_count_as_reachable() {
        let src = Source::inline("12348.toml", FLOW);
        let mut out = Vec::new();
        let (flow, refs) = parse(&src, &mut out);
        assert!(out.is_empty(), "{out:?}");
        let flow = flow.unwrap();
        let seen = reachable(&flow);
        for n in ["start", "duty", "callback", "timeout", "bye"] {
            assert!(seen.contains(&NodeId::from(n)), "{n}");
        }
        let mut roster = Roster::new(Hours::always_open(jiff::tz::TimeZone::UTC));
        roster.lawyers.insert(
            "a".into(),
            Lawyer {
                id: "a".into(),
                name: "a".into(),
                sip: "a".into(),
                languages: vec!["zh".into()],
                skills: vec!["consultation".into()],
            },
        );
        check(
            &src,
            Path::new("/nonexistent"),
            Some(&flow),
            &refs,
            Some(&roster),
            &mut out,
        );
        let errs: Vec<String> = out.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            errs,
            [
                "12348.toml:23: no lawyer in roster.toml has skill `astrology`",
                "12348.toml:13: queue member `ghost` is not a lawyer in roster.toml",
                "12348.toml:37: node `lost` is not reachable from the entry node `start`",
            ]
        );
    }
}

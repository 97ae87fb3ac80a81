//! Converts the serde shape of `12348.toml` into the typed [`Flow`], reporting bad values at
//! their lines and recording every cross-reference for [`crate::flow_check`].

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::time::Duration;

use crate::diag::{Diagnostic, Source};
use crate::flow::*;
use crate::flow_input::{collect, menu, survey};
use crate::flow_raw::{KINDS, RawFlow, RawNode, RawWaiting, S, kind_fields};
use crate::ids::{Lang, LawyerId, NodeId, QueueId, Skill, is_valid_id};

/// Everything the flow refers to, with the span of each reference.
#[derive(Default)]
pub(crate) struct Refs {
    /// Every `[node.<id>]` defined, valid or not, with its header span.
    pub defined: HashMap<String, Range<usize>>,
    /// (target node, span, field name).
    pub nodes: Vec<(String, Range<usize>, &'static str)>,
    /// Every `[queue.<id>]` defined.
    pub defined_queues: Vec<String>,
    /// (queue, span).
    pub queues: Vec<(String, Range<usize>)>,
    /// The plan's prompt languages.
    pub languages: Vec<Lang>,
    /// The entry node.
    pub entry: String,
    /// Every prompt played, with where it is named.
    pub prompts: Vec<(Prompt, Range<usize>)>,
    /// Skills asked for by route nodes.
    pub skills: Vec<(Skill, Range<usize>)>,
    /// Queue members.
    pub lawyers: Vec<(LawyerId, Range<usize>)>,
    /// Whether every node converted cleanly (graph checks only make sense then).
    pub complete: bool,
}

/// The conversion context: where to report, and what has been referenced so far.
pub(crate) struct Cx<'a> {
    pub src: &'a Source,
    pub out: &'a mut Vec<Diagnostic>,
    pub refs: Refs,
    pub languages: Vec<Lang>,
}

impl Cx<'_> {
    pub fn err(&mut self, span: Range<usize>, msg: impl Into<String>) {
        self.out.push(self.src.at(span, msg));
    }

    pub fn node_ref(&mut self, s: &S<String>, field: &'static str) -> NodeId {
        self.refs.nodes.push((s.get_ref().clone(), s.span(), field));
        NodeId::new(s.get_ref().as_str())
    }

    pub fn prompt(&mut self, s: &S<String>) -> Option<Prompt> {
        let n = s.get_ref();
        let ok = !n.is_empty()
            && !n.starts_with('/')
            && !n.ends_with(".wav")
            && !n.contains('\\')
            && n.split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if !ok {
            let msg =
                format!("prompt `{n}` must be a path under prompts/<lang>/ without `..` or `.wav`");
            self.err(s.span(), msg);
            return None;
        }
        let p = Prompt::new(n.as_str());
        self.refs.prompts.push((p.clone(), s.span()));
        Some(p)
    }

    pub fn prompts(&mut self, list: &S<Vec<S<String>>>, required: bool) -> Option<Vec<Prompt>> {
        if required && list.get_ref().is_empty() {
            self.err(list.span(), "`prompts` is empty");
            return None;
        }
        let v: Vec<Option<Prompt>> = list.get_ref().iter().map(|p| self.prompt(p)).collect();
        v.into_iter().collect()
    }

    pub fn int(&mut self, v: &S<i64>, what: &str, lo: i64, hi: i64, unit: &str) -> Option<u32> {
        let n = *v.get_ref();
        if (lo..=hi).contains(&n) {
            Some(n as u32)
        } else {
            self.err(
                v.span(),
                format!("`{what}` must be {lo} to {hi}{unit}, not {n}"),
            );
            None
        }
    }

    pub fn secs(&mut self, v: &S<i64>, what: &str, lo: i64, hi: i64) -> Option<Duration> {
        self.int(v, what, lo, hi, " seconds")
            .map(|s| Duration::from_secs(s.into()))
    }

    pub fn key(&mut self, s: &S<String>) -> Option<Key> {
        s.get_ref()
            .parse()
            .map_err(|e: KeyError| self.err(s.span(), e.to_string()))
            .ok()
    }

    pub fn lang(&mut self, s: &S<String>) -> Option<Lang> {
        let l = Lang::new(s.get_ref().as_str());
        if self.languages.contains(&l) {
            return Some(l);
        }
        let offered: Vec<&str> = self.languages.iter().map(Lang::as_str).collect();
        let msg = format!(
            "language `{l}` is not offered by the plan ({})",
            offered.join(", ")
        );
        self.err(s.span(), msg);
        None
    }

    pub fn vars(&mut self, span: Range<usize>, vars: &BTreeMap<String, String>) -> bool {
        let bad: Vec<&String> = vars.keys().filter(|k| !is_valid_id(k)).collect();
        for k in &bad {
            self.err(
                span.clone(),
                format!("variable name `{k}` must be lowercase letters, digits, `-` or `_`"),
            );
        }
        bad.is_empty()
    }
}

/// Parses `12348.toml`. Returns the flow (only if every part converted) and the references.
pub(crate) fn parse(src: &Source, out: &mut Vec<Diagnostic>) -> (Option<Flow>, Refs) {
    let raw: RawFlow = match src.parse() {
        Ok(r) => r,
        Err(d) => {
            out.push(d);
            return (None, Refs::default());
        }
    };
    let mut cx = Cx {
        src,
        out,
        refs: Refs::default(),
        languages: Vec::new(),
    };
    let plan = raw.plan.get_ref();
    for l in plan.languages.get_ref() {
        if is_valid_id(l.get_ref()) {
            cx.languages.push(Lang::new(l.get_ref().as_str()));
        } else {
            cx.err(
                l.span(),
                format!("language `{}` must be lowercase letters", l.get_ref()),
            );
        }
    }
    if plan.languages.get_ref().is_empty() {
        cx.err(
            plan.languages.span(),
            "`languages` is empty: offer at least one prompt language",
        );
    }
    let default_language = match &plan.default_language {
        Some(l) => cx.lang(l),
        None => cx.languages.first().cloned(),
    };
    let entry = cx.node_ref(&plan.entry, "entry");
    cx.refs.entry = entry.to_string();
    cx.refs.languages = cx.languages.clone();
    let waiting = waiting(&mut cx, raw.waiting.get_ref());
    let mut queues = BTreeMap::new();
    let mut ok = true;
    for (name, q) in &raw.queue {
        cx.refs.defined_queues.push(name.clone());
        if !is_valid_id(name) {
            cx.err(
                q.span(),
                format!("queue name `{name}` must be lowercase letters, digits, `-` or `_`"),
            );
        }
        let q = q.get_ref();
        for l in &q.lawyers {
            cx.refs
                .lawyers
                .push((LawyerId::new(l.get_ref().as_str()), l.span()));
        }
        let max_wait = match &q.max_wait {
            Some(w) => cx.secs(w, "max_wait", 10, 3600),
            None => waiting.as_ref().map(|w| w.max_wait),
        };
        let on_timeout = cx.node_ref(&q.on_timeout, "on_timeout");
        match max_wait {
            Some(max_wait) => {
                let lawyers = q
                    .lawyers
                    .iter()
                    .map(|l| LawyerId::new(l.get_ref().as_str()))
                    .collect();
                queues.insert(
                    QueueId::new(name.as_str()),
                    Queue {
                        lawyers,
                        max_wait,
                        on_timeout,
                    },
                );
            }
            None => ok = false,
        }
    }
    let mut nodes = BTreeMap::new();
    for (name, n) in &raw.node {
        cx.refs.defined.insert(name.clone(), n.span());
        if !is_valid_id(name) {
            cx.err(
                n.span(),
                format!("node name `{name}` must be lowercase letters, digits, `-` or `_`"),
            );
            ok = false;
            continue;
        }
        match node(&mut cx, name, n.span(), n.get_ref()) {
            Some(node) => {
                nodes.insert(NodeId::new(name.as_str()), node);
            }
            None => ok = false,
        }
    }
    cx.refs.complete = ok;
    let flow = match (ok, waiting, default_language) {
        (true, Some(waiting), Some(default_language)) if !cx.languages.is_empty() => Some(Flow {
            entry,
            languages: cx.languages,
            default_language,
            waiting,
            queues,
            nodes,
        }),
        _ => None,
    };
    (flow, cx.refs)
}

fn waiting(cx: &mut Cx, w: &RawWaiting) -> Option<Waiting> {
    let hold: Vec<Option<Prompt>> = w.hold.iter().map(|p| cx.prompt(p)).collect();
    let announce_every = match &w.announce_every {
        None => None,
        Some(a) if *a.get_ref() == 0 => None,
        Some(a) => Some(cx.secs(a, "announce_every", 10, 600)?),
    };
    let position = match (&w.position_before, &w.position_after) {
        (Some(b), Some(a)) => Some((cx.prompt(b)?, cx.prompt(a)?)),
        (None, None) => None,
        (Some(s), None) | (None, Some(s)) => {
            cx.err(
                s.span(),
                "`position_before` and `position_after` go together",
            );
            return None;
        }
    };
    if announce_every.is_some() {
        match &position {
            Some(_) => cx.refs.prompts.extend(
                (0..10).map(|d| (Prompt::digit(d), w.announce_every.as_ref().unwrap().span())),
            ),
            None => {
                let span = w.announce_every.as_ref().unwrap().span();
                cx.err(
                    span,
                    "announcing positions needs `position_before` and `position_after`",
                );
            }
        }
    }
    let leave_message = match (&w.leave_message_key, &w.leave_message) {
        (Some(k), Some(n)) => Some((cx.key(k)?, cx.node_ref(n, "leave_message"))),
        (None, None) => None,
        (Some(s), None) | (None, Some(s)) => {
            cx.err(
                s.span(),
                "`leave_message_key` and `leave_message` go together",
            );
            return None;
        }
    };
    Some(Waiting {
        hold: hold.into_iter().collect::<Option<_>>()?,
        announce_every,
        position,
        max_wait: cx.secs(&w.max_wait, "max_wait", 10, 3600)?,
        ring_timeout: cx.secs(&w.ring_timeout, "ring_timeout", 5, 120)?,
        after_call_work: cx.secs(&w.after_call_work, "after_call_work", 0, 600)?,
        leave_message,
    })
}

/// Converts one node; `None` after reporting why.
fn node(cx: &mut Cx, name: &str, span: Range<usize>, n: &RawNode) -> Option<Node> {
    let kind = n.kind.get_ref().as_str();
    let Some((required, optional)) = kind_fields(kind) else {
        cx.err(
            n.kind.span(),
            format!("unknown node kind `{kind}` (use {KINDS})"),
        );
        return None;
    };
    let mut ok = true;
    for (field, fspan) in n.fields() {
        match fspan {
            Some(s) if !required.contains(&field) && !optional.contains(&field) => {
                cx.err(
                    s,
                    format!("field `{field}` does not apply to a `{kind}` node"),
                );
                ok = false;
            }
            None if required.contains(&field) => {
                cx.err(
                    span.clone(),
                    format!("`{kind}` node `{name}` needs `{field}`"),
                );
                ok = false;
            }
            _ => {}
        }
    }
    if !ok {
        return None;
    }
    let prompts = |cx: &mut Cx, req| match &n.prompts {
        Some(p) => cx.prompts(p, req),
        None => Some(Vec::new()),
    };
    let next = |cx: &mut Cx| n.next.as_ref().map(|s| cx.node_ref(s, "next"));
    Some(match kind {
        "play" => Node::Play {
            prompts: prompts(cx, true)?,
            next: next(cx)?,
        },
        "menu" => menu(cx, name, n)?,
        "collect" => collect(cx, n)?,
        "hours" => Node::Hours {
            open: cx.node_ref(n.open.as_ref()?, "open"),
            closed: cx.node_ref(n.closed.as_ref()?, "closed"),
        },
        "region" => Node::Region {
            known: cx.node_ref(n.known.as_ref()?, "known"),
            unknown: cx.node_ref(n.unknown.as_ref()?, "unknown"),
        },
        "set" => {
            let vars = n.vars.as_ref().map(|v| (v.span(), v.get_ref().clone()));
            let language = match &n.language {
                Some(l) => Some(cx.lang(l)?),
                None => None,
            };
            if vars.is_none() && language.is_none() {
                cx.err(
                    span,
                    format!("`set` node `{name}` sets nothing: give `vars` or `language`"),
                );
                return None;
            }
            let vars = vars.map_or(Some(BTreeMap::new()), |(s, v)| cx.vars(s, &v).then_some(v))?;
            Node::Set(Set {
                vars,
                language,
                next: next(cx)?,
            })
        }
        "route_duty" => {
            let skill = n.skill.as_ref().map(|s| {
                cx.refs
                    .skills
                    .push((Skill::new(s.get_ref().as_str()), s.span()));
                Skill::new(s.get_ref().as_str())
            });
            Node::RouteDuty(RouteDuty {
                prompts: prompts(cx, false)?,
                skill,
                no_region: cx.node_ref(n.no_region.as_ref()?, "no_region"),
                exhausted: cx.node_ref(n.exhausted.as_ref()?, "exhausted"),
                after_call: cx.node_ref(n.after_call.as_ref()?, "after_call"),
            })
        }
        "route_queue" => {
            let q = n.queue.as_ref()?;
            cx.refs.queues.push((q.get_ref().clone(), q.span()));
            Node::RouteQueue(RouteQueue {
                prompts: prompts(cx, false)?,
                queue: QueueId::new(q.get_ref().as_str()),
                after_call: cx.node_ref(n.after_call.as_ref()?, "after_call"),
            })
        }
        "voicemail" => Node::Voicemail(Voicemail {
            prompts: prompts(cx, true)?,
            max_seconds: cx.int(n.max_seconds.as_ref()?, "max_seconds", 5, 600, " seconds")?,
            callback: n.callback.as_ref().is_none_or(|c| *c.get_ref()),
            next: next(cx)?,
        }),
        "survey" => survey(cx, name, n)?,
        _ => Node::Hangup {
            prompts: prompts(cx, false)?,
        },
    })
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub const HEAD: &str = "[plan]\nentry = \"start\"\nlanguages = [\"zh\", \"en\"]\n\n[waiting]\nmax_wait = 60\nring_timeout = 20\nafter_call_work = 30\n";

    /// Parses HEAD + `nodes` (which start on line 10) and returns the flow and the messages.
    pub fn parse_nodes(nodes: &str) -> (Option<Flow>, Vec<String>) {
        let src = Source::inline("12348.toml", &format!("{HEAD}\n{nodes}"));
        let mut out = Vec::new();
        let (flow, _) = parse(&src, &mut out);
        (flow, out.iter().map(|d| d.to_string()).collect())
    }

    /// A hangup node for flows under test to end in.
    pub const BYE: &str = "[node.bye]\nkind = \"hangup\"\n";
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn a_small_flow_converts() {
        let text = format!(
            "[node.start]\nkind = \"menu\"\nprompts = [\"m\"]\ntimeout = 5\nretries = 0\non_fail = \"bye\"\n\
             [[node.start.choice]]\nkey = [\"1\", \"#\"]\nlanguage = \"en\"\nset = {{ category = \"x\" }}\ngoto = \"bye\"\n{BYE}"
        );
        let (flow, errs) = parse_nodes(&text);
        assert_eq!(errs, Vec::<String>::new());
        let flow = flow.unwrap();
        assert_eq!(flow.default_language.as_str(), "zh");
        let Node::Menu(m) = flow.node(&"start".into()).unwrap() else {
            panic!()
        };
        let c = m.choice(Key::new('#').unwrap()).unwrap();
        assert_eq!(c.language, Some(Lang::from("en")));
        assert_eq!(c.set["category"], "x");
        assert_eq!(m.input.timeout, Duration::from_secs(5));
    }

    #[test]
    fn kinds_and_fields() {
        let text = format!(
            "[node.start]\nkind = \"dance\"\n\
             [node.a]\nkind = \"play\"\nprompts = [\"x\"]\nnext = \"bye\"\ntimeout = 3\n\
             [node.b]\nkind = \"hours\"\nopen = \"bye\"\n{BYE}"
        );
        let (flow, errs) = parse_nodes(&text);
        assert!(flow.is_none());
        assert_eq!(
            errs,
            [
                "12348.toml:16: field `timeout` does not apply to a `play` node",
                "12348.toml:17: `hours` node `b` needs `closed`",
                "12348.toml:11: unknown node kind `dance` (use play, menu, collect, hours, region, set, route_duty, route_queue, voicemail, survey, hangup)",
            ]
        );
    }

    #[test]
    fn waiting_options_go_in_pairs() {
        let head = HEAD.replace(
            "after_call_work = 30\n",
            "after_call_work = 30\nannounce_every = 30\nleave_message_key = \"*\"\n",
        );
        let src = Source::inline("12348.toml", &format!("{head}\n{BYE}"));
        let mut out = Vec::new();
        let (flow, _) = parse(&src, &mut out);
        assert!(flow.is_none());
        let errs: Vec<String> = out.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            errs,
            [
                "12348.toml:9: announcing positions needs `position_before` and `position_after`",
                "12348.toml:10: `leave_message_key` and `leave_message` go together",
            ]
        );
    }
}

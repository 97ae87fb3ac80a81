//! The typed call flow of `12348.toml`, ready for an interpreter: named nodes, each one step
//! (play, menu, collect, branch, set, route, voicemail, survey, hangup) naming its successors.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::ids::{Lang, LawyerId, NodeId, QueueId, Skill};

/// A telephone keypad key (DTMF): `0`-`9`, `*` or `#`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(char);

/// A string that is not exactly one DTMF key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a key: use one of 0-9, * or #")]
pub struct KeyError(pub String);

impl Key {
    /// The key for a character, if it is one.
    pub fn new(c: char) -> Option<Key> {
        (c.is_ascii_digit() || c == '*' || c == '#').then_some(Key(c))
    }

    /// The key's character.
    pub fn as_char(self) -> char {
        self.0
    }
}

impl FromStr for Key {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Key::new(c).ok_or_else(|| KeyError(s.to_owned())),
            _ => Err(KeyError(s.to_owned())),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A recorded prompt, named by its path under `prompts/<lang>/` without the `.wav` suffix
/// (`welcome`, `digits/7`). The same name is looked up in each language's folder.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prompt(String);

impl Prompt {
    /// Wraps a prompt name (checked by the loader: relative, no `..`).
    pub fn new(name: impl Into<String>) -> Prompt {
        Prompt(name.into())
    }

    /// The name as written in `12348.toml`.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The WAV file to play for `lang`: `<dialplan dir>/prompts/<lang>/<name>.wav`.
    pub fn path(&self, dialplan_dir: &Path, lang: &Lang) -> PathBuf {
        dialplan_dir
            .join("prompts")
            .join(lang.as_str())
            .join(format!("{}.wav", self.0))
    }

    /// The prompt that speaks one digit, used to read out queue positions.
    pub fn digit(d: u8) -> Prompt {
        Prompt(format!("digits/{}", d % 10))
    }
}

/// The whole flow: where calls start, which prompt languages exist, how callers wait for a
/// lawyer, the named queues and the nodes.
#[derive(Clone, Debug)]
pub struct Flow {
    /// The node every call starts at.
    pub entry: NodeId,
    /// The prompt sets the plan offers; every prompt must exist in each.
    pub languages: Vec<Lang>,
    /// The call's language until a choice or `set` node changes it.
    pub default_language: Lang,
    /// How callers wait for a lawyer (duty routing and queues).
    pub waiting: Waiting,
    /// Named queues with fixed members.
    pub queues: BTreeMap<QueueId, Queue>,
    /// All nodes by id.
    pub nodes: BTreeMap<NodeId, Node>,
}

impl Flow {
    /// The node with this id.
    pub fn node(&self, id: &NodeId) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// The nodes a call can go to from `node`, including where waiting callers go when they
    /// press the leave-a-message key or a queue times out.
    pub fn successors(&self, node: &Node) -> Vec<NodeId> {
        let mut out: Vec<NodeId> = node.targets().into_iter().cloned().collect();
        if matches!(node, Node::RouteDuty(_) | Node::RouteQueue(_))
            && let Some((_, n)) = &self.waiting.leave_message
        {
            out.push(n.clone());
        }
        if let Node::RouteQueue(r) = node
            && let Some(q) = self.queues.get(&r.queue)
        {
            out.push(q.on_timeout.clone());
        }
        out
    }
}

/// How a caller waits while lawyers are rung: hold prompt, position announcements, how long
/// before overflowing to the next region up, and the key to give up and leave a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// Played in a loop while waiting.
    pub hold: Vec<Prompt>,
    /// How often to announce the caller's position; `None` = never.
    pub announce_every: Option<Duration>,
    /// Played before and after the position (spoken digit by digit with [`Prompt::digit`]).
    pub position: Option<(Prompt, Prompt)>,
    /// How long to wait at one region before trying the next one up.
    pub max_wait: Duration,
    /// How long one lawyer's phone rings before counting as no answer.
    pub ring_timeout: Duration,
    /// How long a lawyer stays in after-call work (wrap-up) after hanging up.
    pub after_call_work: Duration,
    /// The key that leaves the queue, and the node that takes the message.
    pub leave_message: Option<(Key, NodeId)>,
}

/// A queue with a fixed list of members, e.g. the provincial complaints desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue {
    /// Who answers it: any of them who is registered and ready, whatever their shifts.
    pub lawyers: Vec<LawyerId>,
    /// How long a caller waits before `on_timeout`.
    pub max_wait: Duration,
    /// Where the call goes when nobody answered in time.
    pub on_timeout: NodeId,
}

/// One step of the flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// Play prompts, then go on.
    Play {
        /// What to say.
        prompts: Vec<Prompt>,
        /// Where to go after.
        next: NodeId,
    },
    /// Read one key and branch on it.
    Menu(Menu),
    /// Read several digits into a variable (e.g. an area code).
    Collect(Collect),
    /// Branch on business hours ([`crate::Hours::is_open`]).
    Hours {
        /// Where to go while open.
        open: NodeId,
        /// Where to go while closed (holidays included).
        closed: NodeId,
    },
    /// Branch on whether the caller's region is known (from the number or an area code).
    Region {
        /// Region known.
        known: NodeId,
        /// Region unknown: typically ask for the area code.
        unknown: NodeId,
    },
    /// Set call variables and/or the call's language.
    Set(Set),
    /// Ring the duty lawyers of the caller's region, overflowing up the hierarchy.
    RouteDuty(RouteDuty),
    /// Ring the members of a named queue.
    RouteQueue(RouteQueue),
    /// Record a message (and register a callback request).
    Voicemail(Voicemail),
    /// Ask a question answered with one key and record the answer.
    Survey(Survey),
    /// Say goodbye and hang up.
    Hangup {
        /// Said before hanging up.
        prompts: Vec<Prompt>,
    },
}

/// What menus, digit collection and surveys share: a prompt, then waiting for keys with
/// retries on timeout or invalid input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// Played (again) before each attempt.
    pub prompts: Vec<Prompt>,
    /// How long to wait for the first key after the prompt.
    pub timeout: Duration,
    /// How many more attempts after the first one fails.
    pub retries: u32,
    /// Played after an invalid key (or unresolvable digits), before the retry.
    pub invalid: Option<Prompt>,
    /// Where to go when all attempts failed.
    pub on_fail: NodeId,
}

/// A menu: one key chooses a branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Menu {
    /// Prompting and retries.
    pub input: Input,
    /// The choices; no key appears twice.
    pub choices: Vec<Choice>,
}

impl Menu {
    /// The choice for a pressed key; `None` is invalid input.
    pub fn choice(&self, key: Key) -> Option<&Choice> {
        self.choices.iter().find(|c| c.keys.contains(&key))
    }
}

/// What pressing a key in a menu does: optional variables and language, then a jump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The keys that select it (`0` and `5` may both mean "other").
    pub keys: Vec<Key>,
    /// Variables to set, e.g. `category = "legal_aid"`.
    pub set: BTreeMap<String, String>,
    /// The call's new language, for language menus.
    pub language: Option<Lang>,
    /// The next node.
    pub goto: NodeId,
}

/// What a [`Collect`] node does with the digits besides storing them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolve {
    /// Resolve them with [`crate::RegionTable::resolve_area_code`]; failure is invalid input.
    AreaCode,
}

/// Collect several digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collect {
    /// Prompting and retries.
    pub input: Input,
    /// The call variable that receives the digits.
    pub var: String,
    /// Fewest digits accepted.
    pub min_digits: u32,
    /// Input ends by itself at this many digits.
    pub max_digits: u32,
    /// The key that ends input early (`#`).
    pub terminator: Option<Key>,
    /// Optional interpretation of the digits.
    pub resolve: Option<Resolve>,
    /// Where to go with valid digits.
    pub next: NodeId,
}

/// Set call variables and/or the language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Set {
    /// Variables to set.
    pub vars: BTreeMap<String, String>,
    /// The call's new language.
    pub language: Option<Lang>,
    /// Where to go after.
    pub next: NodeId,
}

/// Route to the duty lawyer of the caller's region ([`crate::acd`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteDuty {
    /// Said before ringing ("connecting you to a lawyer").
    pub prompts: Vec<Prompt>,
    /// The service needed; `None` = any duty lawyer.
    pub skill: Option<Skill>,
    /// Where to go when the caller's region is unknown.
    pub no_region: NodeId,
    /// Where to go when nobody answered anywhere up the hierarchy.
    pub exhausted: NodeId,
    /// Where the caller goes when the lawyer hangs up first (the survey).
    pub after_call: NodeId,
}

/// Route to a named queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteQueue {
    /// Said before queueing.
    pub prompts: Vec<Prompt>,
    /// Which queue.
    pub queue: QueueId,
    /// Where the caller goes when the lawyer hangs up first.
    pub after_call: NodeId,
}

/// Record a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Voicemail {
    /// The invitation to speak (and the callback promise).
    pub prompts: Vec<Prompt>,
    /// Longest recording.
    pub max_seconds: u32,
    /// Whether the message creates a callback request for the region's lawyers.
    pub callback: bool,
    /// Where to go after recording.
    pub next: NodeId,
}

/// A one-key question whose answer is recorded in a variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Survey {
    /// Prompting and retries (`on_fail` when the caller does not answer).
    pub input: Input,
    /// The variable that receives the answer's value.
    pub var: String,
    /// Key → recorded value (`1` → `satisfied`).
    pub answers: Vec<(Key, String)>,
    /// Where to go after an answer.
    pub next: NodeId,
}

impl Node {
    /// The `kind` string of this node in `12348.toml`.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Play { .. } => "play",
            Node::Menu(_) => "menu",
            Node::Collect(_) => "collect",
            Node::Hours { .. } => "hours",
            Node::Region { .. } => "region",
            Node::Set(_) => "set",
            Node::RouteDuty(_) => "route_duty",
            Node::RouteQueue(_) => "route_queue",
            Node::Voicemail(_) => "voicemail",
            Node::Survey(_) => "survey",
            Node::Hangup { .. } => "hangup",
        }
    }

    /// The nodes named by this node itself.
    pub fn targets(&self) -> Vec<&NodeId> {
        match self {
            Node::Play { next, .. } | Node::Set(Set { next, .. }) => vec![next],
            Node::Menu(m) => {
                let mut v: Vec<&NodeId> = m.choices.iter().map(|c| &c.goto).collect();
                v.push(&m.input.on_fail);
                v
            }
            Node::Collect(c) => vec![&c.next, &c.input.on_fail],
            Node::Hours { open, closed } => vec![open, closed],
            Node::Region { known, unknown } => vec![known, unknown],
            Node::RouteDuty(r) => vec![&r.no_region, &r.exhausted, &r.after_call],
            Node::RouteQueue(r) => vec![&r.after_call],
            Node::Voicemail(v) => vec![&v.next],
            Node::Survey(s) => vec![&s.next, &s.input.on_fail],
            Node::Hangup { .. } => vec![],
        }
    }

    /// The prompts this node plays.
    pub fn prompts(&self) -> Vec<&Prompt> {
        fn input(i: &Input) -> Vec<&Prompt> {
            i.prompts.iter().chain(i.invalid.iter()).collect()
        }
        match self {
            Node::Play { prompts, .. } | Node::Hangup { prompts } => prompts.iter().collect(),
            Node::Menu(m) => input(&m.input),
            Node::Collect(c) => input(&c.input),
            Node::Survey(s) => input(&s.input),
            Node::RouteDuty(r) => r.prompts.iter().collect(),
            Node::RouteQueue(r) => r.prompts.iter().collect(),
            Node::Voicemail(v) => v.prompts.iter().collect(),
            Node::Hours { .. } | Node::Region { .. } | Node::Set(_) => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!("5".parse::<Key>().unwrap().as_char(), '5');
        assert_eq!("*".parse::<Key>().unwrap().to_string(), "*");
        assert!("#".parse::<Key>().is_ok());
        for bad in ["", "10", "a", " "] {
            assert_eq!(bad.parse::<Key>(), Err(KeyError(bad.into())));
        }
    }

    #[test]
    fn prompt_paths() {
        let p = Prompt::new("digits/7");
        assert_eq!(
            p.path(Path::new("dialplans"), &Lang::from("zh")),
            PathBuf::from("dialplans/prompts/zh/digits/7.wav")
        );
        assert_eq!(Prompt::digit(13).name(), "digits/3");
    }

    #[test]
    fn menu_choice_by_key() {
        let k = |c| Key::new(c).unwrap();
        let m = Menu {
            input: Input {
                prompts: vec![],
                timeout: Duration::from_secs(5),
                retries: 2,
                invalid: None,
                on_fail: "bye".into(),
            },
            choices: vec![Choice {
                keys: vec![k('0'), k('5')],
                set: BTreeMap::new(),
                language: None,
                goto: "other".into(),
            }],
        };
        assert_eq!(m.choice(k('5')).unwrap().goto.as_str(), "other");
        assert!(m.choice(k('1')).is_none());
        let n = Node::Menu(m);
        assert_eq!(n.kind(), "menu");
        let t: Vec<_> = n.targets().iter().map(|n| n.as_str()).collect();
        assert_eq!(t, ["other", "bye"]);
    }
}

//! A scripted [`CallControl`] and a small world around it (the shipped dialplan, an ACD with
//! every lawyer signed in, a fake clock on tokio's paused time), so whole 12348 calls run in
//! milliseconds and say exactly what they did.

#![allow(dead_code, unused_imports)] // each test file uses a different part

mod world;

pub use world::{TestClock, World, beijing, plan};

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_ivr::control::{
    CallControl, CollectOutcome, PhoneTarget, PlayOutcome, RecordOutcome, RingOutcome, TalkOutcome,
};
use hotline_ivr::{Dialplan, IvrEvent, LawyerId};
use tokio::time::sleep;

/// What a lawyer's phone does when rung.
#[derive(Clone, Debug)]
pub enum Ring {
    /// Picks up after this long (no answer if that is past the ring timeout).
    Answer(Duration),
    NoAnswer,
    Reject(u16),
    Unreachable,
    /// The caller hangs up after this long.
    CallerHangsUp(Duration),
}

/// Something the caller does while on hold, after this much hold time in total.
#[derive(Clone, Debug)]
pub enum OnHold {
    Press(char),
    HangUp,
}

/// What the caller (and the phones they reach) will do.
#[derive(Clone, Debug)]
pub struct Script {
    pub caller: String,
    /// prompt name (without language) → key sequences, one per time the prompt is played
    keys: HashMap<String, VecDeque<String>>,
    /// prompt name → keys pressed every time it is played
    always: HashMap<String, String>,
    on_hold: VecDeque<(Duration, OnHold)>,
    ring: HashMap<String, VecDeque<Ring>>,
    talk: (Duration, TalkOutcome),
    message: Option<Duration>,
    hang_up_at: Option<usize>,
}

impl Script {
    pub fn new(caller: &str) -> Script {
        Script {
            caller: caller.into(),
            keys: HashMap::new(),
            always: HashMap::new(),
            on_hold: VecDeque::new(),
            ring: HashMap::new(),
            talk: (Duration::from_secs(60), TalkOutcome::LawyerHungUp),
            message: Some(Duration::from_secs(20)),
            hang_up_at: None,
        }
    }

    /// Presses `keys` while `prompt` plays (the first key barges in, the rest are typed ahead).
    pub fn press(mut self, prompt: &str, keys: &str) -> Script {
        self.keys
            .entry(prompt.into())
            .or_default()
            .push_back(keys.into());
        self
    }

    /// Presses `keys` every time `prompt` plays.
    pub fn always(mut self, prompt: &str, keys: &str) -> Script {
        self.always.insert(prompt.into(), keys.into());
        self
    }

    pub fn on_hold(mut self, after: Duration, what: OnHold) -> Script {
        self.on_hold.push_back((after, what));
        self
    }

    pub fn ring(mut self, lawyer: &str, what: Ring) -> Script {
        self.ring.entry(lawyer.into()).or_default().push_back(what);
        self
    }

    pub fn talk(mut self, secs: u64, outcome: TalkOutcome) -> Script {
        self.talk = (Duration::from_secs(secs), outcome);
        self
    }

    pub fn silent(mut self) -> Script {
        self.message = None;
        self
    }

    /// The caller hangs up at the n-th request the IVR makes (1 = answer).
    pub fn hang_up_at(mut self, n: usize) -> Script {
        self.hang_up_at = Some(n);
        self
    }
}

/// Which phone is in use by which call, shared by all fake calls of a test: ringing the same
/// phone twice at once is recorded as a violation.
#[derive(Default)]
pub struct Phones {
    in_use: Mutex<HashMap<LawyerId, String>>,
    pub violations: Mutex<Vec<String>>,
}

impl Phones {
    fn take(&self, lawyer: &LawyerId, call: &str) {
        let mut m = self.in_use.lock().unwrap();
        if let Some(other) = m.insert(lawyer.clone(), call.into()) {
            self.violations
                .lock()
                .unwrap()
                .push(format!("{lawyer} rung for {call} while on {other}"));
        }
    }

    fn free(&self, lawyer: &LawyerId) {
        self.in_use.lock().unwrap().remove(lawyer);
    }

    pub fn idle(&self) -> bool {
        self.in_use.lock().unwrap().is_empty()
    }
}

/// The scripted call.
pub struct FakeCall {
    pub id: String,
    script: Script,
    prompts_dir: PathBuf,
    phones: Arc<Phones>,
    /// keys typed ahead, as a real phone line would queue them
    pending: VecDeque<char>,
    gone: bool,
    requests: usize,
    held: Duration,
    talking: Option<LawyerId>,
    scale: f64,
    /// every request, in order ("play zh/welcome", "ring lai-zhiming", "hold 1s", ...)
    pub log: Vec<String>,
}

impl FakeCall {
    pub fn new(id: &str, script: Script, plan: &Dialplan, phones: Arc<Phones>) -> FakeCall {
        FakeCall {
            id: id.into(),
            script,
            prompts_dir: plan.dir.join("prompts"),
            phones,
            pending: VecDeque::new(),
            gone: false,
            requests: 0,
            held: Duration::ZERO,
            talking: None,
            scale: 1.0,
            log: Vec::new(),
        }
    }

    /// Runs every fake duration `scale` times as fast (for real-time tests).
    pub fn scaled(mut self, scale: f64) -> FakeCall {
        self.scale = scale;
        self
    }

    async fn pass(&self, d: Duration) {
        sleep(d.mul_f64(self.scale)).await;
    }

    /// Counts a request; false once the caller has hung up.
    fn still_there(&mut self) -> bool {
        self.requests += 1;
        if self.script.hang_up_at.is_some_and(|n| self.requests >= n) {
            self.gone = true;
        }
        !self.gone
    }

    /// `zh/service-menu` for `<dir>/prompts/zh/service-menu.wav`.
    fn name(&self, p: &Path) -> String {
        let rel = p.strip_prefix(&self.prompts_dir).unwrap_or(p);
        rel.with_extension("").to_string_lossy().into_owned()
    }

    /// The prompts played, in order, with their language.
    pub fn prompts(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|l| l.strip_prefix("play "))
            .flat_map(|l| l.split(' ').map(str::to_owned))
            .collect()
    }

    /// The lawyers rung, in order.
    pub fn rings(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|l| l.strip_prefix("ring "))
            .map(str::to_owned)
            .collect()
    }

    /// The requests other than hold slices and plays (answer, ring, talk, record, hangup).
    pub fn actions(&self) -> Vec<String> {
        self.log
            .iter()
            .filter(|l| !l.starts_with("hold") && !l.starts_with("play"))
            .cloned()
            .collect()
    }

    pub fn held(&self) -> Duration {
        self.held
    }
}

impl CallControl for FakeCall {
    fn caller_number(&self) -> &str {
        &self.script.caller
    }

    async fn answer(&mut self) -> bool {
        self.log.push("answer".into());
        self.still_there()
    }

    async fn play(&mut self, prompts: &[PathBuf], barge_in: bool) -> PlayOutcome {
        let names: Vec<String> = prompts.iter().map(|p| self.name(p)).collect();
        self.log.push(format!("play {}", names.join(" ")));
        if !self.still_there() {
            return PlayOutcome::CallerGone;
        }
        if barge_in && let Some(k) = self.pending.pop_front() {
            return PlayOutcome::Digit(k);
        }
        for name in &names {
            let bare = name.split_once('/').map_or(name.as_str(), |(_, n)| n);
            let keys = match self.script.keys.get_mut(bare).and_then(VecDeque::pop_front) {
                Some(k) => Some(k),
                None => self.script.always.get(bare).cloned(),
            };
            if let Some(keys) = keys {
                self.pending.extend(keys.chars());
                if barge_in {
                    self.pass(Duration::from_millis(500)).await;
                    return PlayOutcome::Digit(self.pending.pop_front().unwrap());
                }
            }
            self.pass(Duration::from_secs(1)).await;
        }
        PlayOutcome::Finished
    }

    async fn collect(
        &mut self,
        first: Option<char>,
        max: usize,
        terminator: Option<char>,
        timeout: Duration,
    ) -> CollectOutcome {
        self.log.push(format!("collect {max}"));
        if !self.still_there() {
            return CollectOutcome::CallerGone;
        }
        let mut got = String::new();
        if let Some(f) = first {
            self.pending.push_front(f);
        }
        while let Some(k) = self.pending.pop_front() {
            if Some(k) == terminator {
                return CollectOutcome::Digits(got);
            }
            got.push(k);
            self.pass(Duration::from_millis(300)).await;
            if got.len() >= max {
                return CollectOutcome::Digits(got);
            }
        }
        self.pass(timeout).await;
        CollectOutcome::Timeout(got)
    }

    async fn hold(&mut self, music: &[PathBuf], wait: Duration) -> PlayOutcome {
        let names: Vec<String> = music.iter().map(|p| self.name(p)).collect();
        self.log.push(format!("hold {} {wait:?}", names.join(" ")));
        if !self.still_there() {
            return PlayOutcome::CallerGone;
        }
        if let Some(k) = self.pending.pop_front() {
            return PlayOutcome::Digit(k);
        }
        if let Some((at, what)) = self.script.on_hold.front().cloned()
            && self.held + wait >= at
        {
            self.script.on_hold.pop_front();
            self.pass(at.saturating_sub(self.held)).await;
            self.held = at;
            return match what {
                OnHold::Press(k) => PlayOutcome::Digit(k),
                OnHold::HangUp => {
                    self.gone = true;
                    PlayOutcome::CallerGone
                }
            };
        }
        self.pass(wait).await;
        self.held += wait;
        PlayOutcome::Finished
    }

    async fn ring(
        &mut self,
        target: &PhoneTarget,
        music: &[PathBuf],
        timeout: Duration,
    ) -> RingOutcome {
        self.log.push(format!("ring {}", target.lawyer));
        assert!(
            !music.is_empty(),
            "the caller hears something while it rings"
        );
        if !self.still_there() {
            return RingOutcome::CallerGone;
        }
        self.phones.take(&target.lawyer, &self.id);
        let what = self
            .script
            .ring
            .get_mut(target.lawyer.as_str())
            .and_then(VecDeque::pop_front)
            .unwrap_or(Ring::Answer(Duration::from_secs(3)));
        let outcome = match what {
            Ring::Answer(d) if d < timeout => {
                self.pass(d).await;
                self.talking = Some(target.lawyer.clone());
                return RingOutcome::Answered;
            }
            Ring::Answer(_) | Ring::NoAnswer => {
                self.pass(timeout).await;
                RingOutcome::NoAnswer
            }
            Ring::Reject(code) => {
                self.pass(Duration::from_secs(1)).await;
                RingOutcome::Rejected(code)
            }
            Ring::Unreachable => RingOutcome::Unreachable,
            Ring::CallerHangsUp(d) => {
                self.pass(d).await;
                self.gone = true;
                RingOutcome::CallerGone
            }
        };
        self.phones.free(&target.lawyer);
        outcome
    }

    async fn talk(&mut self) -> TalkOutcome {
        self.log.push("talk".into());
        let lawyer = self.talking.take().expect("talk after an answered ring");
        let (d, outcome) = self.script.talk;
        if self.still_there() {
            self.pass(d).await;
        }
        self.phones.free(&lawyer);
        if outcome == TalkOutcome::CallerHungUp || self.gone {
            self.gone = true;
            return TalkOutcome::CallerHungUp;
        }
        outcome
    }

    async fn record_message(&mut self, max: Duration) -> RecordOutcome {
        self.log.push(format!("record {}s", max.as_secs()));
        if !self.still_there() {
            return RecordOutcome::Empty;
        }
        match self.script.message {
            Some(d) => {
                let d = d.min(max);
                self.pass(d).await;
                RecordOutcome::Recorded {
                    path: PathBuf::from(format!("/messages/{}.wav", self.id)),
                    duration: d,
                }
            }
            None => {
                self.pass(Duration::from_secs(5)).await;
                RecordOutcome::Empty
            }
        }
    }

    async fn hangup(&mut self) {
        self.log.push("hangup".into());
        self.gone = true;
    }
}

/// A landline in Shicheng county (0797 = Ganzhou, local numbers 57xxxxx = Shicheng).
pub const SHICHENG: &str = "0797-5701234";

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Mandarin, legal consultation.
pub fn consultation(caller: &str) -> Script {
    Script::new(caller)
        .press("choose-language", "1")
        .press("service-menu", "1")
}

pub fn has(events: &[IvrEvent], e: &IvrEvent) -> bool {
    events.contains(e)
}

/// Prompts named `lang/name` for the given names.
pub fn zh(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("zh/{n}")).collect()
}

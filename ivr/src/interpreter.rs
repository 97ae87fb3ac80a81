//! The call-flow interpreter: runs one call through a [`Dialplan`], driving telephony only
//! through [`CallControl`] and sharing lawyers with the other calls through the [`Acd`].
//! It reads the time only from [`CallContext::clock`], so tests run whole calls on fake time.
//!
//! How the app drives it:
//!
//! - at start-up (and on dialplan reload) build one [`Acd`] with
//!   [`crate::BoardConfig::from_waiting`] and an [`EventSink`]; call [`Acd::set_registered`]
//!   when a lawyer's phone registers or its binding expires, [`Acd::apply`] with
//!   `LawyerEvent::Login` / `Logout` / `SetReady` / `SetNotReady` for sign-in and the console's
//!   buttons, and [`Acd::tick`] about once a second (after-call work ends through it);
//! - for each incoming call, spawn a task that runs [`run_call`] with the call's
//!   [`CallControl`] and a [`CallContext`] holding [`crate::clock::SystemClock`], then files
//!   the returned [`CallSummary`] as the ticket. Dropping the task (shutdown) frees whatever
//!   the call held in the ACD.
//!
//! This file holds the node loop and the simple nodes; menus, digit collection and surveys
//! are in `interpreter_input.rs`, routing, waiting and talking in `interpreter_route.rs`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::Dialplan;
use crate::board::Acd;
use crate::clock::Clock;
use crate::control::{CallControl, PlayOutcome, RecordOutcome};
use crate::events::{CallSummary, Disposition, EventSink, IvrEvent, RegionSource};
use crate::flow::{Node, Prompt, Voicemail};
use crate::ids::{Lang, LawyerId, NodeId, RegionId};

/// How many nodes one call may run through before it is ended: a dialplan loop (a menu that
/// repeats itself forever) must not hold a line open indefinitely.
pub const DEFAULT_MAX_STEPS: usize = 200;

/// How often a waiting caller looks for a free lawyer. Hold music is played in slices this
/// long, so it is also the longest a free lawyer stays idle while a caller waits.
pub const DEFAULT_POLL: Duration = Duration::from_secs(1);

/// The node whose prompts are said when a call is cut short by the step limit.
pub const GOODBYE_NODE: &str = "goodbye";

/// What the app knows about a call before the IVR runs it.
#[derive(Clone)]
pub struct CallContext {
    /// The call's id (used in events, the ACD and the ticket).
    pub call_id: String,
    /// When the call arrived.
    pub started: Timestamp,
    /// Where "now" comes from: [`crate::clock::SystemClock`] in the app, a fake in tests.
    pub clock: Arc<dyn Clock>,
    /// How often a waiting caller polls the ACD ([`DEFAULT_POLL`]).
    pub poll: Duration,
    /// Most nodes one call may visit ([`DEFAULT_MAX_STEPS`]).
    pub max_steps: usize,
}

impl CallContext {
    /// A context with the default poll interval and step limit.
    pub fn new(call_id: impl Into<String>, started: Timestamp, clock: Arc<dyn Clock>) -> Self {
        CallContext {
            call_id: call_id.into(),
            started,
            clock,
            poll: DEFAULT_POLL,
            max_steps: DEFAULT_MAX_STEPS,
        }
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

impl std::fmt::Debug for CallContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallContext")
            .field("call_id", &self.call_id)
            .field("started", &self.started)
            .field("poll", &self.poll)
            .field("max_steps", &self.max_steps)
            .finish()
    }
}

/// Runs one call from answer to hang-up and returns what its ticket needs. Every decision is
/// reported to `events` (lawyer changes go to the ACD's own sink). When the returned future
/// completes or is dropped, the call leaves the ACD: it stops waiting and a lawyer still
/// ringing or talking for it is freed.
pub async fn run_call<C: CallControl>(
    plan: &Dialplan,
    ctx: &CallContext,
    control: &mut C,
    acd: &Acd,
    events: &dyn EventSink,
) -> CallSummary {
    let _guard = LeaveAcd { acd, ctx };
    let mut call = Call {
        plan,
        ctx,
        control,
        acd,
        events,
        lang: plan.flow.default_language.clone(),
        vars: BTreeMap::new(),
        region: None,
        lawyer: None,
        waited: None,
        hours_closed: false,
        no_lawyer: false,
        message: None,
        callback: false,
        survey: None,
    };
    call.run().await;
    acd.call_gone(&ctx.call_id, ctx.now());
    let summary = call.summary();
    call.emit(IvrEvent::CallEnded {
        disposition: summary.disposition,
    });
    summary
}

/// Takes the call out of the ACD however `run_call` ends, cancellation included.
struct LeaveAcd<'a> {
    acd: &'a Acd,
    ctx: &'a CallContext,
}

impl Drop for LeaveAcd<'_> {
    fn drop(&mut self) {
        self.acd.call_gone(&self.ctx.call_id, self.ctx.now());
    }
}

/// The caller hung up; the flow stops.
pub(crate) struct Gone;

/// A step's result: `Err(Gone)` once the caller has hung up.
pub(crate) type Step<T> = Result<T, Gone>;

/// Where the flow goes after a node.
pub(crate) enum Next {
    Goto(NodeId),
    Hangup,
}

/// One call in progress: the interpreter's state.
pub(crate) struct Call<'a, C> {
    pub(crate) plan: &'a Dialplan,
    pub(crate) ctx: &'a CallContext,
    pub(crate) control: &'a mut C,
    pub(crate) acd: &'a Acd,
    events: &'a dyn EventSink,
    pub(crate) lang: Lang,
    vars: BTreeMap<String, String>,
    pub(crate) region: Option<RegionId>,
    pub(crate) lawyer: Option<LawyerId>,
    pub(crate) waited: Option<u64>,
    hours_closed: bool,
    pub(crate) no_lawyer: bool,
    message: Option<PathBuf>,
    callback: bool,
    pub(crate) survey: Option<String>,
}

impl<'a, C: CallControl> Call<'a, C> {
    pub(crate) fn emit(&self, event: IvrEvent) {
        self.events.emit(&self.ctx.call_id, event);
    }

    async fn run(&mut self) {
        if !self.control.answer().await {
            return;
        }
        let caller = self.control.caller_number().to_owned();
        self.emit(IvrEvent::CallAnswered {
            caller: caller.clone(),
        });
        // Known up front, so even an after-hours message has a region for its callback.
        if let Some(r) = self.plan.regions.resolve(&caller) {
            self.set_region(r, RegionSource::Number);
        }
        let mut id = self.plan.flow.entry.clone();
        let mut steps = 0;
        loop {
            let plan = self.plan;
            let node = match plan.flow.node(&id) {
                Some(n) if steps < self.ctx.max_steps => n,
                _ => {
                    self.emit(IvrEvent::StepLimit { node: id });
                    let _ = self.goodbye().await;
                    break;
                }
            };
            steps += 1;
            match self.step(&id, node).await {
                Ok(Next::Goto(n)) => id = n,
                Ok(Next::Hangup) | Err(Gone) => break,
            }
        }
        self.control.hangup().await;
    }

    async fn step(&mut self, id: &NodeId, node: &'a Node) -> Step<Next> {
        let next = match node {
            Node::Play { prompts, next } => {
                self.play(prompts, false).await?;
                next.clone()
            }
            Node::Menu(m) => self.menu(id, m).await?,
            Node::Collect(c) => self.collect(id, c).await?,
            Node::Survey(s) => self.survey(id, s).await?,
            Node::Hours { open, closed } => {
                if self.plan.hours.is_open(self.ctx.now()) {
                    open.clone()
                } else {
                    self.hours_closed = true;
                    self.emit(IvrEvent::HoursClosed);
                    closed.clone()
                }
            }
            Node::Region { known, unknown } => {
                if self.region.is_some() {
                    known.clone()
                } else {
                    self.emit(IvrEvent::RegionUnknown);
                    unknown.clone()
                }
            }
            Node::Set(s) => {
                self.set_vars(&s.vars);
                if let Some(l) = &s.language {
                    self.set_language(l);
                }
                s.next.clone()
            }
            Node::RouteDuty(r) => self.route_duty(r).await?,
            Node::RouteQueue(r) => return self.route_queue(r).await,
            Node::Voicemail(v) => self.voicemail(v).await?,
            Node::Hangup { prompts } => {
                self.play(prompts, false).await?;
                return Ok(Next::Hangup);
            }
        };
        Ok(Next::Goto(next))
    }

    /// The prompt files in the call's language.
    pub(crate) fn paths(&self, prompts: &[Prompt]) -> Vec<PathBuf> {
        prompts
            .iter()
            .map(|p| self.plan.prompt_path(p, &self.lang))
            .collect()
    }

    /// Plays prompts; with barge-in, returns the key that stopped them.
    pub(crate) async fn play(&mut self, prompts: &[Prompt], barge_in: bool) -> Step<Option<char>> {
        if prompts.is_empty() {
            return Ok(None);
        }
        let paths = self.paths(prompts);
        match self.control.play(&paths, barge_in).await {
            PlayOutcome::Finished => Ok(None),
            PlayOutcome::Digit(d) => Ok(Some(d)),
            PlayOutcome::CallerGone => Err(Gone),
        }
    }

    /// Says the goodbye node's prompts, if the plan has one (for calls cut short).
    pub(crate) async fn goodbye(&mut self) -> Step<()> {
        let plan = self.plan;
        if let Some(Node::Hangup { prompts }) = plan.flow.node(&GOODBYE_NODE.into()) {
            self.play(prompts, false).await?;
        }
        Ok(())
    }

    async fn voicemail(&mut self, v: &Voicemail) -> Step<NodeId> {
        self.play(&v.prompts, false).await?;
        let max = Duration::from_secs(v.max_seconds.into());
        if let RecordOutcome::Recorded { path, duration } = self.control.record_message(max).await {
            self.emit(IvrEvent::VoicemailLeft {
                path: path.clone(),
                secs: duration.as_secs(),
            });
            self.message = Some(path);
            if v.callback {
                self.request_callback();
            }
        }
        Ok(v.next.clone())
    }

    pub(crate) fn request_callback(&mut self) {
        if !self.callback {
            self.callback = true;
            self.emit(IvrEvent::CallbackRequested);
        }
    }

    pub(crate) fn set_region(&mut self, region: RegionId, how: RegionSource) {
        self.region = Some(region.clone());
        self.emit(IvrEvent::RegionResolved { region, how });
    }

    pub(crate) fn set_var(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_owned(), value.to_owned());
        self.emit(IvrEvent::VariableSet {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }

    pub(crate) fn set_vars(&mut self, vars: &BTreeMap<String, String>) {
        for (k, v) in vars {
            self.set_var(k, v);
        }
    }

    pub(crate) fn set_language(&mut self, lang: &Lang) {
        self.lang = lang.clone();
        self.emit(IvrEvent::LanguageChosen {
            language: lang.clone(),
        });
    }

    fn disposition(&self) -> Disposition {
        if self.lawyer.is_some() {
            Disposition::Answered
        } else if self.hours_closed {
            Disposition::AfterHours
        } else if self.callback {
            Disposition::Callback
        } else if self.message.is_some() {
            Disposition::Voicemail
        } else if self.no_lawyer {
            Disposition::NoLawyer
        } else {
            Disposition::Abandoned
        }
    }

    fn summary(&self) -> CallSummary {
        CallSummary {
            call_id: self.ctx.call_id.clone(),
            caller: self.control.caller_number().to_owned(),
            started: self.ctx.started,
            ended: self.ctx.now(),
            language: self.lang.clone(),
            category: self.vars.get("category").cloned(),
            region: self.region.clone(),
            lawyer: self.lawyer.clone(),
            waited_secs: self.waited,
            disposition: self.disposition(),
            survey: self.survey.clone(),
            message: self.message.clone(),
            callback: self.callback,
            vars: self.vars.clone(),
        }
    }
}

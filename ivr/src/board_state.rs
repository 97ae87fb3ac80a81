//! The ACD board as plain data: every lawyer's state and registration, and the callers waiting
//! for a lawyer. Every change is a [`BoardOp`] applied by [`Board::apply`], the only method
//! that mutates it, so the board can later live in the store (several hotline nodes applying
//! ops in transactions) without touching the rules. [`crate::board::Acd`] wraps it for the
//! calls of one process.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::acd::LawyerSnapshot;
use crate::clock::{after, elapsed};
use crate::control::{RingOutcome, TalkOutcome};
use crate::events::{IvrEvent, Line};
use crate::flow::Waiting;
use crate::ids::LawyerId;
use crate::lawyer_state::{LawyerEvent, LawyerState, TransitionError};

/// Timers of the board, from the dialplan's `[waiting]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardConfig {
    /// Wrap-up time after each call ([`Waiting::after_call_work`]).
    pub after_call_work: Duration,
    /// How long one phone rings ([`Waiting::ring_timeout`]); a lawyer left ringing much longer
    /// than this (a crashed call task or node) is freed by [`BoardOp::Tick`].
    pub ring_timeout: Duration,
    /// A waiting caller whose call has not polled the board for this long is dropped from
    /// the line by [`BoardOp::Tick`], so a lost call cannot block the lawyers forever.
    pub stale_waiter: Duration,
}

/// Extra time past the ring timeout before a ringing lawyer counts as stuck.
const RING_GRACE: Duration = Duration::from_secs(30);

impl BoardConfig {
    /// The timers of a dialplan's `[waiting]` table.
    pub fn from_waiting(w: &Waiting) -> BoardConfig {
        BoardConfig {
            after_call_work: w.after_call_work,
            ring_timeout: w.ring_timeout,
            stale_waiter: Duration::from_secs(120),
        }
    }
}

/// One lawyer on the board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LawyerEntry {
    /// Whether the lawyer's phone has a live registration.
    pub registered: bool,
    /// Where the lawyer is in the call cycle.
    pub state: LawyerState,
    /// The call the lawyer is ringing for, talking on or wrapping up.
    pub call: Option<String>,
}

impl Default for LawyerEntry {
    fn default() -> Self {
        LawyerEntry {
            registered: false,
            state: LawyerState::LoggedOut,
            call: None,
        }
    }
}

/// A caller waiting for a lawyer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiter {
    /// The call.
    pub call: String,
    /// Where the caller waits now (it changes when the call overflows).
    pub line: Line,
    /// When the caller started waiting; kept across overflows, so the longest-waiting caller
    /// goes first at every level.
    pub since: Timestamp,
    /// Arrival order among callers with the same `since`.
    pub seq: u64,
    /// The lawyers who could take this caller now (on duty for its regions or members of its
    /// queue, matching language and skill, whatever their state), refreshed at every poll.
    pub eligible: Vec<LawyerId>,
    /// A lawyer being rung for this caller right now; such a caller does not hold up others.
    pub offered: Option<LawyerId>,
    /// When the call last polled the board.
    pub seen: Timestamp,
}

impl Waiter {
    fn key(&self) -> (Timestamp, u64) {
        (self.since, self.seq)
    }
}

/// How a lawyer's leg ended, as [`BoardOp::Release`] takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegOutcome {
    /// The lawyer answered: busy.
    Answered,
    /// Rang out: not ready (the phone is probably unattended).
    NoAnswer,
    /// The phone refused: not ready, as if the lawyer had pressed "not ready".
    Rejected,
    /// The phone could not be reached: not ready.
    Unreachable,
    /// The caller hung up while it rang: ready again, keeping the idle time.
    CallerGone,
    /// The conversation ended (either side): after-call work.
    TalkEnded,
}

impl From<&RingOutcome> for LegOutcome {
    fn from(o: &RingOutcome) -> Self {
        match o {
            RingOutcome::Answered => LegOutcome::Answered,
            RingOutcome::NoAnswer => LegOutcome::NoAnswer,
            RingOutcome::Rejected(_) => LegOutcome::Rejected,
            RingOutcome::Unreachable => LegOutcome::Unreachable,
            RingOutcome::CallerGone => LegOutcome::CallerGone,
        }
    }
}

impl From<RingOutcome> for LegOutcome {
    fn from(o: RingOutcome) -> Self {
        LegOutcome::from(&o)
    }
}

impl From<TalkOutcome> for LegOutcome {
    fn from(_: TalkOutcome) -> Self {
        LegOutcome::TalkEnded
    }
}

/// Every change the board knows, as data (so it can be logged, replayed or sent to the store).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum BoardOp {
    /// New timers (a reloaded dialplan).
    Configure {
        /// The timers.
        config: BoardConfig,
    },
    /// A phone registered or its registration lapsed.
    Registered {
        /// The lawyer.
        lawyer: LawyerId,
        /// Whether it is registered now.
        registered: bool,
    },
    /// A lawyer event from outside the calls: login, logout, the ready / not-ready buttons.
    Lawyer {
        /// The lawyer.
        lawyer: LawyerId,
        /// What happened.
        event: LawyerEvent,
    },
    /// A caller waits (joins the line, or refreshes its line and eligible lawyers).
    Wait {
        /// The call.
        call: String,
        /// Where it waits.
        line: Line,
        /// Who could take it now.
        eligible: Vec<LawyerId>,
    },
    /// A caller stops waiting (connected, gave up, left a message).
    StopWaiting {
        /// The call.
        call: String,
    },
    /// A call asks for the first of `candidates` (best first) that is registered, ready and
    /// not owed to a caller who has waited longer; that lawyer starts ringing.
    Reserve {
        /// The call.
        call: String,
        /// Whom it would take, best first.
        candidates: Vec<LawyerId>,
    },
    /// A lawyer's leg for a call ended (or was answered).
    Release {
        /// The lawyer.
        lawyer: LawyerId,
        /// How.
        outcome: LegOutcome,
    },
    /// A call is over: it stops waiting, and a lawyer still ringing or talking for it is
    /// freed. The interpreter sends this when it ends for any reason, even when cancelled.
    CallGone {
        /// The call.
        call: String,
    },
    /// Time passes: after-call work ends when due; stuck ringing and lost waiters are cleared.
    Tick,
}

/// What an op answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpResult {
    /// Nothing to say.
    Done,
    /// [`BoardOp::Wait`]: the caller's position (1 = next).
    Position(usize),
    /// [`BoardOp::Reserve`]: the lawyer now ringing for the call, if any.
    Reserved(Option<LawyerId>),
    /// [`BoardOp::Lawyer`] and [`BoardOp::Release`]: the lawyer's new state.
    State(LawyerState),
}

/// A change the board made, to report as an event of `call` (empty: no call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardChange {
    /// The call it concerns, or empty.
    pub call: String,
    /// What changed.
    pub event: IvrEvent,
}

/// Why an op was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BoardError {
    /// The lawyer's state machine refuses the event (SIP events can race with the buttons).
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

/// The board: plain, serialisable data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    /// Timers.
    pub config: BoardConfig,
    /// Every lawyer the board has heard of; unknown lawyers count as logged out.
    pub lawyers: BTreeMap<LawyerId, LawyerEntry>,
    /// Waiting callers, in arrival order.
    pub waiting: Vec<Waiter>,
    /// The next arrival number.
    pub next_seq: u64,
}

impl Board {
    /// An empty board.
    pub fn new(config: BoardConfig) -> Board {
        Board {
            config,
            lawyers: BTreeMap::new(),
            waiting: Vec::new(),
            next_seq: 0,
        }
    }

    /// What [`crate::acd::candidates`] needs to know about every lawyer.
    pub fn snapshot(&self) -> HashMap<LawyerId, LawyerSnapshot> {
        self.lawyers
            .iter()
            .map(|(id, e)| {
                let s = LawyerSnapshot {
                    registered: e.registered,
                    state: e.state,
                };
                (id.clone(), s)
            })
            .collect()
    }

    /// The position of a waiting call: 1 + the callers who started waiting earlier and could
    /// be served by one of the lawyers who could serve this one. `None` if not waiting.
    pub fn position(&self, call: &str) -> Option<usize> {
        let me = self.waiting.iter().find(|w| w.call == call)?;
        let ahead = self
            .waiting
            .iter()
            .filter(|w| w.key() < me.key())
            .filter(|w| w.eligible.iter().any(|l| me.eligible.contains(l)))
            .count();
        Some(ahead + 1)
    }

    /// Whether a caller who waited longer than `call` (or any waiter, for a call not yet
    /// waiting) could take `lawyer` and is not being offered someone already.
    fn owed_to_another(&self, call: &str, lawyer: &LawyerId) -> bool {
        let me = self
            .waiting
            .iter()
            .find(|w| w.call == call)
            .map(Waiter::key);
        self.waiting.iter().any(|w| {
            w.call != call
                && me.is_none_or(|k| w.key() < k)
                && w.offered.is_none()
                && w.eligible.contains(lawyer)
        })
    }

    /// Applies one op at `now`: the only way the board changes. Returns the answer and the
    /// changes to report.
    pub fn apply(
        &mut self,
        op: &BoardOp,
        now: Timestamp,
    ) -> Result<(OpResult, Vec<BoardChange>), BoardError> {
        let mut changes = Vec::new();
        let result = match op {
            BoardOp::Configure { config } => {
                self.config = config.clone();
                OpResult::Done
            }
            BoardOp::Registered { lawyer, registered } => {
                let e = self.lawyers.entry(lawyer.clone()).or_default();
                if e.registered != *registered {
                    e.registered = *registered;
                    changes.push(BoardChange {
                        call: String::new(),
                        event: IvrEvent::LawyerRegistered {
                            lawyer: lawyer.clone(),
                            registered: *registered,
                        },
                    });
                }
                OpResult::Done
            }
            BoardOp::Lawyer { lawyer, event } => {
                let s = self.transition(lawyer, *event, now, &mut changes)?;
                OpResult::State(s)
            }
            BoardOp::Wait {
                call,
                line,
                eligible,
            } => {
                if let Some(w) = self.waiting.iter_mut().find(|w| &w.call == call) {
                    w.line = line.clone();
                    w.eligible = eligible.clone();
                    w.seen = now;
                } else {
                    self.waiting.push(Waiter {
                        call: call.clone(),
                        line: line.clone(),
                        since: now,
                        seq: self.next_seq,
                        eligible: eligible.clone(),
                        offered: None,
                        seen: now,
                    });
                    self.next_seq += 1;
                }
                OpResult::Position(self.position(call).unwrap_or(1))
            }
            BoardOp::StopWaiting { call } => {
                self.waiting.retain(|w| &w.call != call);
                OpResult::Done
            }
            BoardOp::Reserve { call, candidates } => {
                let pick = candidates.iter().find(|l| {
                    self.lawyers.get(*l).is_some_and(|e| {
                        e.registered && e.call.is_none() && e.state.idle_since().is_some()
                    }) && !self.owed_to_another(call, l)
                });
                let Some(lawyer) = pick.cloned() else {
                    return Ok((OpResult::Reserved(None), changes));
                };
                if let Some(w) = self.waiting.iter_mut().find(|w| &w.call == call) {
                    w.offered = Some(lawyer.clone());
                    w.seen = now;
                }
                self.lawyers.get_mut(&lawyer).expect("picked").call = Some(call.clone());
                self.transition(&lawyer, LawyerEvent::Ring, now, &mut changes)?;
                OpResult::Reserved(Some(lawyer))
            }
            BoardOp::Release { lawyer, outcome } => {
                self.clear_offer(lawyer);
                let call = self.lawyers.get(lawyer).and_then(|e| e.call.clone());
                let event = match outcome {
                    LegOutcome::Answered => {
                        if let Some(c) = &call {
                            self.waiting.retain(|w| &w.call != c);
                        }
                        LawyerEvent::Answer
                    }
                    LegOutcome::NoAnswer | LegOutcome::Unreachable => LawyerEvent::NoAnswer,
                    LegOutcome::Rejected => LawyerEvent::SetNotReady,
                    LegOutcome::CallerGone => LawyerEvent::CallerGone,
                    LegOutcome::TalkEnded => LawyerEvent::Hangup {
                        wrap_up: wrap_up(&self.config),
                    },
                };
                let s = match self.transition(lawyer, event, now, &mut changes) {
                    // The phone answered although the board had moved on (the lawyer pressed
                    // "not ready" while it rang): the conversation is real, so is busy.
                    Err(_) if *outcome == LegOutcome::Answered => {
                        let s = LawyerState::Busy { since: now };
                        self.set_state(lawyer, s, &mut changes);
                        s
                    }
                    r => r?,
                };
                OpResult::State(s)
            }
            BoardOp::CallGone { call } => {
                self.waiting.retain(|w| &w.call != call);
                let mine: Vec<LawyerId> = self
                    .lawyers
                    .iter()
                    .filter(|(_, e)| e.call.as_deref() == Some(call))
                    .map(|(id, _)| id.clone())
                    .collect();
                for l in mine {
                    let event = match self.lawyers[&l].state {
                        LawyerState::Ringing { .. } => LawyerEvent::CallerGone,
                        LawyerState::Busy { .. } => LawyerEvent::Hangup {
                            wrap_up: wrap_up(&self.config),
                        },
                        _ => continue,
                    };
                    self.clear_offer(&l);
                    let _ = self.transition(&l, event, now, &mut changes);
                }
                OpResult::Done
            }
            BoardOp::Tick => {
                self.tick(now, &mut changes);
                OpResult::Done
            }
        };
        Ok((result, changes))
    }

    fn tick(&mut self, now: Timestamp, changes: &mut Vec<BoardChange>) {
        let stuck_after = self.config.ring_timeout + RING_GRACE;
        let due: Vec<(LawyerId, LawyerEvent)> = self
            .lawyers
            .iter()
            .filter_map(|(id, e)| match e.state {
                s if s.deadline().is_some_and(|d| d <= now) => {
                    Some((id.clone(), LawyerEvent::Timer))
                }
                LawyerState::Ringing { since, .. } if elapsed(since, now) > stuck_after => {
                    Some((id.clone(), LawyerEvent::CallerGone))
                }
                _ => None,
            })
            .collect();
        for (l, event) in due {
            self.clear_offer(&l);
            let _ = self.transition(&l, event, now, changes);
        }
        let stale = self.config.stale_waiter;
        self.waiting
            .retain(|w| w.offered.is_some() || after(w.seen, stale) > now);
    }

    fn clear_offer(&mut self, lawyer: &LawyerId) {
        for w in &mut self.waiting {
            if w.offered.as_ref() == Some(lawyer) {
                w.offered = None;
            }
        }
    }

    /// Applies a lawyer event through the state machine, reporting a change of state.
    fn transition(
        &mut self,
        lawyer: &LawyerId,
        event: LawyerEvent,
        now: Timestamp,
        changes: &mut Vec<BoardChange>,
    ) -> Result<LawyerState, BoardError> {
        let e = self.lawyers.entry(lawyer.clone()).or_default();
        let next = e.state.apply(event, now)?;
        if !matches!(next, LawyerState::Ringing { .. }) {
            self.clear_offer(lawyer);
        }
        self.set_state(lawyer, next, changes);
        Ok(next)
    }

    fn set_state(&mut self, lawyer: &LawyerId, next: LawyerState, changes: &mut Vec<BoardChange>) {
        let e = self.lawyers.entry(lawyer.clone()).or_default();
        if e.state == next {
            return;
        }
        e.state = next;
        let call = e.call.clone().unwrap_or_default();
        if matches!(
            next,
            LawyerState::Ready { .. } | LawyerState::NotReady { .. } | LawyerState::LoggedOut
        ) {
            e.call = None;
        }
        changes.push(BoardChange {
            call,
            event: IvrEvent::LawyerStateChanged {
                lawyer: lawyer.clone(),
                state: next,
            },
        });
    }
}

fn wrap_up(c: &BoardConfig) -> SignedDuration {
    SignedDuration::try_from(c.after_call_work).unwrap_or(SignedDuration::MAX)
}

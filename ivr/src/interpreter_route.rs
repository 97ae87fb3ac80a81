//! Routing a caller to a lawyer: the duty lawyers of the caller's region (overflowing county →
//! city → province) or the members of a named queue. A free lawyer is reserved through the
//! ACD and rung; unanswered, the next is tried. Nobody free: the caller waits in line with
//! hold music and position announcements, polling the ACD, may press the leave-message key,
//! and after `max_wait` moves one level up (still taking the lower levels' lawyers, nearest
//! first) until the top is exhausted.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;

use crate::acd::{LawyerSnapshot, candidates, overflow_chain, queue_candidates};
use crate::clock::{after, elapsed};
use crate::control::{CallControl, PhoneTarget, PlayOutcome, RingOutcome, TalkOutcome};
use crate::events::{IvrEvent, Line, Party, RingFailure, RouteFailure};
use crate::flow::{Prompt, Queue, RouteDuty, RouteQueue};
use crate::ids::{LawyerId, NodeId, RegionId};
use crate::interpreter::{Call, Gone, Next, Step};
use crate::lawyer_state::LawyerState;
use crate::roster::DutyFilter;

/// The shortest hold slice, so a clock that does not move cannot make the wait spin.
const MIN_SLICE: Duration = Duration::from_millis(100);

/// Where a route finds lawyers, level by level.
enum Source<'p> {
    /// The duty rosters of a region and its ancestors (level i = the first i+1 regions).
    Duty {
        chain: Vec<RegionId>,
        filter: DutyFilter,
    },
    /// A named queue's members (one level).
    Queue {
        id: &'p crate::ids::QueueId,
        queue: &'p Queue,
        filter: DutyFilter,
    },
}

impl Source<'_> {
    fn levels(&self) -> usize {
        match self {
            Source::Duty { chain, .. } => chain.len(),
            Source::Queue { .. } => 1,
        }
    }

    fn line(&self, level: usize) -> Line {
        match self {
            Source::Duty { chain, .. } => Line::Region(chain[level].clone()),
            Source::Queue { id, .. } => Line::Queue((*id).clone()),
        }
    }

    /// Who could take the caller at `level` now, whatever their state: at an overflow level
    /// the lawyers of the levels below still count (`only_new`: just this level's own).
    fn eligible(
        &self,
        plan: &crate::Dialplan,
        level: usize,
        now: Timestamp,
        only_new: bool,
    ) -> Vec<LawyerId> {
        match self {
            Source::Duty { chain, filter } => dedup(
                chain[if only_new { level } else { 0 }..=level]
                    .iter()
                    .flat_map(|r| plan.roster.on_duty(r, now, filter)),
            ),
            Source::Queue { queue, filter, .. } => queue
                .lawyers
                .iter()
                .filter(|id| plan.roster.lawyer(id).is_some_and(|l| filter.matches(l)))
                .cloned()
                .collect(),
        }
    }

    /// Whom to ring at `level` now, best first: nearest region first, then longest idle.
    fn candidates(
        &self,
        plan: &crate::Dialplan,
        level: usize,
        now: Timestamp,
        states: &HashMap<LawyerId, LawyerSnapshot>,
    ) -> Vec<LawyerId> {
        match self {
            Source::Duty { chain, filter } => dedup(
                chain[..=level]
                    .iter()
                    .flat_map(|r| candidates(&plan.roster, r, filter, now, states)),
            ),
            Source::Queue { queue, filter, .. } => {
                queue_candidates(&plan.roster, queue, filter, states)
            }
        }
    }
}

fn dedup(ids: impl Iterator<Item = LawyerId>) -> Vec<LawyerId> {
    let mut out: Vec<LawyerId> = Vec::new();
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// How looking for a lawyer ended.
enum Found {
    /// Caller and lawyer talked; how it ended.
    Talked(TalkOutcome),
    /// The caller pressed the leave-message key: go to this node.
    LeaveMessage(NodeId),
    /// Nobody answered at any level.
    Nobody,
}

/// How ringing one lawyer ended, for the waiting loop.
enum Rung {
    Answered,
    Failed,
    CallerGone,
}

impl<C: CallControl> Call<'_, C> {
    /// A `route_duty` node.
    pub(crate) async fn route_duty(&mut self, r: &RouteDuty) -> Step<NodeId> {
        let start = self.ctx.now();
        let chain = self
            .region
            .as_ref()
            .map(|reg| overflow_chain(&self.plan.hierarchy, reg))
            .unwrap_or_default();
        if chain.is_empty() {
            self.route_failed(RouteFailure::NoRegion);
            return Ok(r.no_region.clone());
        }
        self.play(&r.prompts, false).await?;
        let filter = DutyFilter {
            language: Some(self.lang.clone()),
            skill: r.skill.clone(),
        };
        match self
            .find_lawyer(&Source::Duty { chain, filter }, start)
            .await?
        {
            Found::Talked(TalkOutcome::CallerHungUp) => Err(Gone),
            Found::Talked(TalkOutcome::LawyerHungUp) => Ok(r.after_call.clone()),
            Found::LeaveMessage(n) => Ok(n),
            Found::Nobody => {
                self.route_failed(RouteFailure::Exhausted);
                Ok(r.exhausted.clone())
            }
        }
    }

    /// A `route_queue` node.
    pub(crate) async fn route_queue(&mut self, r: &RouteQueue) -> Step<Next> {
        let start = self.ctx.now();
        let plan = self.plan;
        let Some(queue) = plan.flow.queues.get(&r.queue) else {
            // cannot happen with a checked dialplan; end politely rather than panic
            self.route_failed(RouteFailure::QueueTimeout);
            self.goodbye().await?;
            return Ok(Next::Hangup);
        };
        self.play(&r.prompts, false).await?;
        let filter = DutyFilter {
            language: Some(self.lang.clone()),
            skill: None,
        };
        let source = Source::Queue {
            id: &r.queue,
            queue,
            filter,
        };
        Ok(Next::Goto(match self.find_lawyer(&source, start).await? {
            Found::Talked(TalkOutcome::CallerHungUp) => return Err(Gone),
            Found::Talked(TalkOutcome::LawyerHungUp) => r.after_call.clone(),
            Found::LeaveMessage(n) => n,
            Found::Nobody => {
                self.route_failed(RouteFailure::QueueTimeout);
                queue.on_timeout.clone()
            }
        }))
    }

    fn route_failed(&mut self, reason: RouteFailure) {
        self.no_lawyer = true;
        self.emit(IvrEvent::RouteFailed { reason });
    }

    /// Rings, waits and overflows until a lawyer talked to the caller, the caller asked to
    /// leave a message, or every level is exhausted. The call is out of the ACD's lines when
    /// this returns, whatever the outcome.
    async fn find_lawyer(&mut self, src: &Source<'_>, start: Timestamp) -> Step<Found> {
        let found = self.wait_for_lawyer(src, start).await;
        self.acd.stop_waiting(&self.ctx.call_id, self.ctx.now());
        found
    }

    async fn wait_for_lawyer(&mut self, src: &Source<'_>, start: Timestamp) -> Step<Found> {
        let plan = self.plan;
        let w = &plan.flow.waiting;
        let call_id = &self.ctx.call_id;
        let mut next_announce: Option<Timestamp> = None;
        let mut last_queued: Option<(Line, usize)> = None;
        for level in 0..src.levels() {
            let line = src.line(level);
            let max_wait = match src {
                Source::Duty { chain, .. } => {
                    if level > 0 {
                        self.emit(IvrEvent::Overflow {
                            from: chain[level - 1].clone(),
                            to: chain[level].clone(),
                        });
                    }
                    w.max_wait
                }
                Source::Queue { queue, .. } => queue.max_wait,
            };
            let level_start = self.ctx.now();
            loop {
                let now = self.ctx.now();
                let states = self.acd.snapshot();
                // A level where nobody of its own is signed in is skipped at once (the lunch
                // break, a county without lawyers); waiting there would only delay the caller.
                let staffed = src.eligible(plan, level, now, true).iter().any(|l| {
                    states
                        .get(l)
                        .is_some_and(|s| s.registered && s.state != LawyerState::LoggedOut)
                });
                if !staffed {
                    break;
                }
                let eligible = src.eligible(plan, level, now, false);
                let best = src.candidates(plan, level, now, &states);
                if let Some(lawyer) = self.acd.try_reserve(call_id, &best, now) {
                    match self.ring(&lawyer).await {
                        Rung::Answered => return Ok(Found::Talked(self.talk(lawyer, start).await)),
                        Rung::Failed => continue,
                        Rung::CallerGone => return Err(Gone),
                    }
                }
                let waited = elapsed(level_start, now);
                if waited >= max_wait {
                    break;
                }
                let position = self.acd.wait(call_id, line.clone(), eligible, now);
                if last_queued.as_ref() != Some(&(line.clone(), position)) {
                    last_queued = Some((line.clone(), position));
                    self.emit(IvrEvent::Queued {
                        line: line.clone(),
                        position,
                    });
                }
                let key = self
                    .wait_a_moment(position, &mut next_announce, max_wait - waited)
                    .await?;
                if let (Some(k), Some((leave, node))) = (key, &w.leave_message)
                    && k == leave.as_char()
                {
                    self.request_callback();
                    return Ok(Found::LeaveMessage(node.clone()));
                }
            }
        }
        Ok(Found::Nobody)
    }

    /// One moment of waiting: the position announcement when it is due (first when the
    /// caller starts waiting, then every `announce_every`), otherwise hold music until the
    /// next poll, announcement or overflow, whichever comes first. Returns a key pressed.
    async fn wait_a_moment(
        &mut self,
        position: usize,
        next_announce: &mut Option<Timestamp>,
        until_overflow: Duration,
    ) -> Step<Option<char>> {
        let plan = self.plan;
        let w = &plan.flow.waiting;
        let now = self.ctx.now();
        let every = w.announce_every.filter(|_| w.position.is_some());
        if let Some(every) = every
            && next_announce.is_none_or(|t| now >= t)
        {
            *next_announce = Some(after(now, every));
            return self.announce(position).await;
        }
        let mut slice = self.ctx.poll.min(until_overflow);
        if let Some(t) = next_announce {
            slice = slice.min(elapsed(now, *t));
        }
        let music = self.paths(&w.hold);
        match self.control.hold(&music, slice.max(MIN_SLICE)).await {
            PlayOutcome::Finished => Ok(None),
            PlayOutcome::Digit(k) => Ok(Some(k)),
            PlayOutcome::CallerGone => Err(Gone),
        }
    }

    /// "There are" + the position digit by digit + "callers ahead"; a key stops it.
    async fn announce(&mut self, position: usize) -> Step<Option<char>> {
        let plan = self.plan;
        let Some((before, after)) = &plan.flow.waiting.position else {
            return Ok(None);
        };
        let mut prompts = vec![before.clone()];
        prompts.extend(
            position
                .to_string()
                .bytes()
                .map(|b| Prompt::digit(b - b'0')),
        );
        prompts.push(after.clone());
        self.play(&prompts, true).await
    }

    /// Rings a reserved lawyer and reports the outcome to the ACD.
    async fn ring(&mut self, lawyer: &LawyerId) -> Rung {
        let plan = self.plan;
        let w = &plan.flow.waiting;
        let outcome = match plan.roster.lawyer(lawyer) {
            Some(l) => {
                self.emit(IvrEvent::Ringing {
                    lawyer: lawyer.clone(),
                });
                let target = PhoneTarget {
                    lawyer: lawyer.clone(),
                    sip_user: l.sip.clone(),
                };
                let music = self.paths(&w.hold);
                self.control.ring(&target, &music, w.ring_timeout).await
            }
            None => RingOutcome::Unreachable, // left the roster in a reload
        };
        if let Some(failure) = RingFailure::of(&outcome) {
            self.emit(IvrEvent::RingFailed {
                lawyer: lawyer.clone(),
                outcome: failure,
            });
        }
        let _ = self.acd.release(lawyer, &outcome, self.ctx.now());
        match outcome {
            RingOutcome::Answered => Rung::Answered,
            RingOutcome::CallerGone => Rung::CallerGone,
            _ => Rung::Failed,
        }
    }

    /// Connects the caller with the lawyer who answered until one of them hangs up.
    async fn talk(&mut self, lawyer: LawyerId, start: Timestamp) -> TalkOutcome {
        let waited = elapsed(start, self.ctx.now()).as_secs();
        self.lawyer = Some(lawyer.clone());
        self.waited = Some(waited);
        self.emit(IvrEvent::Connected {
            lawyer: lawyer.clone(),
            waited_secs: waited,
        });
        let outcome = self.control.talk().await;
        self.emit(IvrEvent::TalkEnded {
            by: match outcome {
                TalkOutcome::CallerHungUp => Party::Caller,
                TalkOutcome::LawyerHungUp => Party::Lawyer,
            },
        });
        let _ = self.acd.release(&lawyer, outcome, self.ctx.now());
        outcome
    }
}

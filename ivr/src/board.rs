//! [`Acd`]: the lawyer board and the waiting lines shared by every call of this process. Calls
//! reserve lawyers through it atomically (two calls never ring the same phone), and the
//! longest-waiting caller gets the next free lawyer. The data and its rules are [`Board`]
//! (plain, serialisable, changed only by [`Board::apply`]); this is the thread-safe handle that applies ops under a lock and
//! reports the changes as events after releasing it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;

use crate::acd::LawyerSnapshot;
pub use crate::board_state::{
    Board, BoardChange, BoardConfig, BoardError, BoardOp, LawyerEntry, LegOutcome, OpResult, Waiter,
};
use crate::events::{EventSink, Line};
use crate::ids::LawyerId;
use crate::lawyer_state::{LawyerEvent, LawyerState};

/// The ACD's shared state: cheap to clone (one `Arc`), safe to use from every call task. No
/// method blocks for longer than a few map operations, and none is async.
#[derive(Clone)]
pub struct Acd {
    inner: Arc<Inner>,
}

struct Inner {
    board: Mutex<Board>,
    sink: Arc<dyn EventSink>,
}

impl std::fmt::Debug for Acd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acd").field("board", &*self.lock()).finish()
    }
}

impl Acd {
    /// An empty board (every lawyer logged out and unregistered) reporting to `sink`.
    pub fn new(config: BoardConfig, sink: Arc<dyn EventSink>) -> Acd {
        Acd::from_board(Board::new(config), sink)
    }

    /// A handle on an existing board (restored from the store, or built by a test).
    pub fn from_board(board: Board, sink: Arc<dyn EventSink>) -> Acd {
        Acd {
            inner: Arc::new(Inner {
                board: Mutex::new(board),
                sink,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Board> {
        // A panic while locked cannot leave a half-applied op (ops validate before they
        // write), so a poisoned lock is still a consistent board.
        self.inner.board.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies one op: every other method goes through here. The changes are reported to the
    /// sink after the lock is released.
    pub fn op(&self, op: BoardOp, now: Timestamp) -> Result<OpResult, BoardError> {
        let (result, changes) = self.lock().apply(&op, now)?;
        for c in changes {
            self.inner.sink.emit(&c.call, c.event);
        }
        Ok(result)
    }

    /// New timers, e.g. after the dialplan was reloaded.
    pub fn configure(&self, config: BoardConfig, now: Timestamp) {
        let _ = self.op(BoardOp::Configure { config }, now);
    }

    /// Records whether a lawyer's phone is registered (the app calls this on REGISTER and when
    /// a binding expires). Only registered lawyers are rung; the state is left alone, so a
    /// phone re-registering after a network hiccup keeps its place in the idle order.
    pub fn set_registered(&self, lawyer: &LawyerId, registered: bool, now: Timestamp) {
        let op = BoardOp::Registered {
            lawyer: lawyer.clone(),
            registered,
        };
        let _ = self.op(op, now);
    }

    /// A lawyer event from outside the calls: [`LawyerEvent::Login`] when the lawyer signs in,
    /// `Logout`, and the console's `SetReady` / `SetNotReady` buttons.
    pub fn apply(
        &self,
        lawyer: &LawyerId,
        event: LawyerEvent,
        now: Timestamp,
    ) -> Result<LawyerState, BoardError> {
        let op = BoardOp::Lawyer {
            lawyer: lawyer.clone(),
            event,
        };
        match self.op(op, now)? {
            OpResult::State(s) => Ok(s),
            other => unreachable!("lawyer op answered {other:?}"),
        }
    }

    /// Time passes: the app calls this about every second. Ends after-call work when due and
    /// clears lawyers and waiting callers left behind by a lost call.
    pub fn tick(&self, now: Timestamp) {
        let _ = self.op(BoardOp::Tick, now);
    }

    /// Joins the caller to `line` (or refreshes its line and eligible lawyers) and returns its
    /// position, 1 = next. The caller keeps the time it started waiting across calls.
    pub fn wait(&self, call: &str, line: Line, eligible: Vec<LawyerId>, now: Timestamp) -> usize {
        let op = BoardOp::Wait {
            call: call.to_owned(),
            line,
            eligible,
        };
        match self.op(op, now) {
            Ok(OpResult::Position(p)) => p,
            _ => 1,
        }
    }

    /// Takes the caller out of its line.
    pub fn stop_waiting(&self, call: &str, now: Timestamp) {
        let _ = self.op(
            BoardOp::StopWaiting {
                call: call.to_owned(),
            },
            now,
        );
    }

    /// Atomically picks the first of `candidates` (best first) who is registered, ready and
    /// not owed to a caller who has waited longer, and moves them to ringing for `call`.
    /// `None`: nobody can be rung for this call now.
    pub fn try_reserve(
        &self,
        call: &str,
        candidates: &[LawyerId],
        now: Timestamp,
    ) -> Option<LawyerId> {
        let op = BoardOp::Reserve {
            call: call.to_owned(),
            candidates: candidates.to_vec(),
        };
        match self.op(op, now) {
            Ok(OpResult::Reserved(l)) => l,
            _ => None,
        }
    }

    /// A reserved lawyer's leg ended or was answered: answered → busy, rang out or
    /// unreachable → not ready, refused → not ready (manual), caller gone → ready again,
    /// talk ended → after-call work (then ready through [`Acd::tick`]).
    pub fn release(
        &self,
        lawyer: &LawyerId,
        outcome: impl Into<LegOutcome>,
        now: Timestamp,
    ) -> Result<LawyerState, BoardError> {
        let op = BoardOp::Release {
            lawyer: lawyer.clone(),
            outcome: outcome.into(),
        };
        match self.op(op, now)? {
            OpResult::State(s) => Ok(s),
            other => unreachable!("release answered {other:?}"),
        }
    }

    /// The call is over: it leaves its line and any lawyer still ringing or talking for it is
    /// freed. Safe to call twice; the interpreter calls it whenever a call ends.
    pub fn call_gone(&self, call: &str, now: Timestamp) {
        let _ = self.op(
            BoardOp::CallGone {
                call: call.to_owned(),
            },
            now,
        );
    }

    /// Every lawyer's registration and state, for [`crate::acd::candidates`].
    pub fn snapshot(&self) -> HashMap<LawyerId, LawyerSnapshot> {
        self.lock().snapshot()
    }

    /// One lawyer's state (`LoggedOut` for a lawyer the board never heard of).
    pub fn state(&self, lawyer: &LawyerId) -> LawyerState {
        self.lock()
            .lawyers
            .get(lawyer)
            .map_or(LawyerState::LoggedOut, |e| e.state)
    }

    /// A copy of the whole board, for the console and for storing it.
    pub fn board(&self) -> Board {
        self.lock().clone()
    }

    /// A waiting call's position (1 = next), `None` if it is not waiting.
    pub fn position(&self, call: &str) -> Option<usize> {
        self.lock().position(call)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::{RingOutcome, TalkOutcome};
    use crate::events::{IvrEvent, VecSink};
    use crate::lawyer_state::NotReadyReason;
    use std::time::Duration;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_780_000_000 + secs).unwrap()
    }

    fn config() -> BoardConfig {
        BoardConfig {
            after_call_work: Duration::from_secs(30),
            ring_timeout: Duration::from_secs(20),
            stale_waiter: Duration::from_secs(120),
        }
    }

    fn l(s: &str) -> LawyerId {
        s.into()
    }

    /// Lawyers a, b, c registered and ready, idle since 0, 1, 2.
    fn acd() -> (Acd, Arc<VecSink>) {
        let sink = Arc::new(VecSink::new());
        let acd = Acd::new(config(), sink.clone());
        for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
            acd.set_registered(&l(id), true, t(0));
            acd.apply(&l(id), LawyerEvent::Login, t(i as i64)).unwrap();
        }
        (acd, sink)
    }

    fn region(s: &str) -> Line {
        Line::Region(s.into())
    }

    #[test]
    fn a_lawyer_is_reserved_once() {
        let (acd, _) = acd();
        let all = [l("a"), l("b")];
        assert_eq!(acd.try_reserve("x", &all, t(10)), Some(l("a")));
        assert_eq!(acd.try_reserve("y", &all, t(10)), Some(l("b")));
        assert_eq!(acd.try_reserve("z", &all, t(10)), None);
        assert!(matches!(acd.state(&l("a")), LawyerState::Ringing { .. }));
    }

    #[test]
    fn ring_and_talk_outcomes() {
        let (acd, sink) = acd();
        let a = l("a");
        acd.try_reserve("x", std::slice::from_ref(&a), t(10));
        let s = acd.release(&a, RingOutcome::Answered, t(12)).unwrap();
        assert_eq!(s, LawyerState::Busy { since: t(12) });
        let s = acd.release(&a, TalkOutcome::LawyerHungUp, t(100)).unwrap();
        assert_eq!(s, LawyerState::AfterCallWork { until: t(130) });
        acd.tick(t(129));
        assert!(matches!(acd.state(&a), LawyerState::AfterCallWork { .. }));
        acd.tick(t(131));
        assert_eq!(acd.state(&a), LawyerState::Ready { since: t(130) });
        // the changes went to the sink under the call's id, wrap-up included
        let ev = sink.of("x");
        assert_eq!(ev.len(), 4, "{ev:?}");
        assert!(matches!(
            ev.last(),
            Some(IvrEvent::LawyerStateChanged {
                state: LawyerState::Ready { .. },
                ..
            })
        ));

        acd.try_reserve("y", std::slice::from_ref(&a), t(200));
        let s = acd.release(&a, RingOutcome::NoAnswer, t(220)).unwrap();
        assert_eq!(
            s,
            LawyerState::NotReady {
                since: t(220),
                reason: NotReadyReason::NoAnswer
            }
        );
        acd.apply(&a, LawyerEvent::SetReady, t(300)).unwrap();
        acd.try_reserve("z", std::slice::from_ref(&a), t(310));
        let s = acd.release(&a, RingOutcome::CallerGone, t(312)).unwrap();
        assert_eq!(s, LawyerState::Ready { since: t(300) }, "idle time kept");
        acd.try_reserve("w", std::slice::from_ref(&a), t(320));
        let s = acd.release(&a, RingOutcome::Rejected(603), t(321)).unwrap();
        assert!(matches!(
            s,
            LawyerState::NotReady {
                reason: NotReadyReason::Manual,
                ..
            }
        ));
    }

    #[test]
    fn unregistered_lawyers_are_not_rung() {
        let (acd, _) = acd();
        acd.set_registered(&l("a"), false, t(5));
        assert_eq!(acd.try_reserve("x", &[l("a"), l("b")], t(10)), Some(l("b")));
        assert_eq!(acd.try_reserve("x", &[l("ghost")], t(10)), None);
    }

    #[test]
    fn the_longest_waiting_caller_goes_first() {
        let (acd, _) = acd();
        let a = l("a");
        // a is busy; two callers wait for a, x first
        acd.try_reserve("busy", std::slice::from_ref(&a), t(1));
        acd.release(&a, RingOutcome::Answered, t(2)).unwrap();
        assert_eq!(acd.wait("x", region("k"), vec![a.clone()], t(10)), 1);
        assert_eq!(acd.wait("y", region("k"), vec![a.clone()], t(11)), 2);
        // a caller for other lawyers is not behind them
        assert_eq!(acd.wait("z", region("k"), vec![l("c")], t(12)), 1);
        acd.release(&a, TalkOutcome::CallerHungUp, t(20)).unwrap();
        acd.tick(t(60));
        // y polls first but a is owed to x; a newcomer cannot jump the line either
        assert_eq!(acd.try_reserve("y", std::slice::from_ref(&a), t(61)), None);
        assert_eq!(
            acd.try_reserve("new", std::slice::from_ref(&a), t(61)),
            None
        );
        assert_eq!(
            acd.try_reserve("x", std::slice::from_ref(&a), t(61)),
            Some(a.clone())
        );
        // while a rings for x, x does not hold up y for other lawyers
        acd.wait("y", region("k"), vec![a.clone(), l("b")], t(62));
        assert_eq!(acd.try_reserve("y", &[l("b")], t(62)), Some(l("b")));
        // x answered: it leaves the line
        acd.release(&a, RingOutcome::Answered, t(63)).unwrap();
        assert_eq!(acd.position("x"), None);
        assert_eq!(acd.position("y"), Some(1));
    }

    #[test]
    fn a_caller_keeps_its_place_when_it_overflows() {
        let (acd, _) = acd();
        acd.wait("x", region("county"), vec![l("a")], t(0));
        acd.wait("y", region("city"), vec![l("b")], t(30));
        // x overflows to the city and now also takes b: it waited longer than y
        assert_eq!(
            acd.wait("x", region("city"), vec![l("a"), l("b")], t(60)),
            1
        );
        assert_eq!(acd.position("y"), Some(2));
        assert_eq!(acd.try_reserve("y", &[l("b")], t(61)), None);
        assert_eq!(acd.try_reserve("x", &[l("b")], t(61)), Some(l("b")));
    }

    #[test]
    fn a_lost_call_frees_everything() {
        let (acd, _) = acd();
        acd.wait("x", region("k"), vec![l("a"), l("b")], t(0));
        // y is not waiting, and b is owed to x
        assert_eq!(acd.try_reserve("y", &[l("b")], t(1)), None);
        assert_eq!(acd.try_reserve("x", &[l("a")], t(1)), Some(l("a")));
        acd.release(&l("a"), RingOutcome::Answered, t(2)).unwrap();
        acd.try_reserve("z", &[l("c")], t(3));
        acd.call_gone("x", t(50));
        acd.call_gone("z", t(50));
        assert_eq!(
            acd.state(&l("a")),
            LawyerState::AfterCallWork { until: t(80) }
        );
        assert_eq!(acd.state(&l("c")), LawyerState::Ready { since: t(2) });
        let b = acd.board();
        assert!(b.waiting.is_empty());
        assert!(
            b.lawyers
                .values()
                .all(|e| e.call.is_none() || e.state.deadline().is_some())
        );
    }

    #[test]
    fn tick_clears_stuck_ringing_and_lost_waiters() {
        let (acd, _) = acd();
        acd.try_reserve("x", &[l("a")], t(0));
        acd.wait("y", region("k"), vec![l("b")], t(0));
        acd.tick(t(49));
        assert!(matches!(acd.state(&l("a")), LawyerState::Ringing { .. }));
        assert_eq!(acd.position("y"), Some(1));
        acd.tick(t(51));
        assert_eq!(acd.state(&l("a")), LawyerState::Ready { since: t(0) });
        acd.tick(t(121));
        assert_eq!(acd.position("y"), None);
    }

    #[test]
    fn answered_after_not_ready_is_busy_anyway() {
        let (acd, _) = acd();
        let a = l("a");
        acd.try_reserve("x", std::slice::from_ref(&a), t(0));
        acd.apply(&a, LawyerEvent::SetNotReady, t(1)).unwrap();
        let s = acd.release(&a, RingOutcome::Answered, t(2)).unwrap();
        assert_eq!(s, LawyerState::Busy { since: t(2) });
        // and a talk end on a logged-out lawyer is refused, leaving the state alone
        acd.apply(&a, LawyerEvent::Logout, t(3)).unwrap();
        assert!(acd.release(&a, TalkOutcome::CallerHungUp, t(4)).is_err());
        assert_eq!(acd.state(&a), LawyerState::LoggedOut);
    }

    #[test]
    fn the_board_round_trips_through_serde() {
        let (acd, _) = acd();
        acd.wait("x", region("k"), vec![l("a")], t(0));
        acd.try_reserve("x", &[l("a")], t(1));
        let b = acd.board();
        let json = serde_json::to_string(&b).unwrap();
        let back: Board = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b);
        let op = BoardOp::Release {
            lawyer: l("a"),
            outcome: LegOutcome::NoAnswer,
        };
        let j = serde_json::to_string(&op).unwrap();
        assert_eq!(j, r#"{"op":"release","lawyer":"a","outcome":"no_answer"}"#);
        assert_eq!(serde_json::from_str::<BoardOp>(&j).unwrap(), op);
    }
}

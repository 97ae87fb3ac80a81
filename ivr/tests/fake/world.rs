//! The world a fake call runs in: the shipped dialplan, an ACD with every lawyer signed in
//! and a ticker, and a clock on tokio's paused time.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hotline_ivr::board::{Acd, BoardConfig};
use hotline_ivr::control::{RingOutcome, TalkOutcome};
use hotline_ivr::{
    CallContext, CallSummary, Clock, Dialplan, IvrEvent, LawyerEvent, LawyerId, LawyerState,
    VecSink, run_call,
};
use jiff::Timestamp;
use jiff::civil::date;
use tokio::time::{Instant, sleep};

use super::{FakeCall, Phones, Script};

/// Fake "now": a fixed start plus tokio's (paused) time since the test began.
pub struct TestClock {
    base: Timestamp,
    start: Instant,
}

impl TestClock {
    pub fn new(base: Timestamp) -> TestClock {
        TestClock {
            base,
            start: Instant::now(),
        }
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        self.base.saturating_add(self.start.elapsed()).unwrap()
    }
}

/// Beijing local time.
pub fn beijing(plan: &Dialplan, m: i8, d: i8, hh: i8, mm: i8) -> Timestamp {
    plan.hours
        .time_zone()
        .to_timestamp(date(2026, m, d).at(hh, mm, 0, 0))
        .unwrap()
}

pub fn plan() -> Dialplan {
    hotline_ivr::load(Path::new("../dialplans")).expect("shipped dialplan loads")
}

/// The shipped dialplan, an ACD with every lawyer registered and ready (idle in id order,
/// the first longest), and the fake clock at `at`.
pub struct World {
    pub plan: Arc<Dialplan>,
    pub acd: Acd,
    pub sink: Arc<VecSink>,
    pub clock: Arc<TestClock>,
    pub phones: Arc<Phones>,
    ticker: tokio::task::JoinHandle<()>,
}

impl World {
    /// Must run inside a tokio runtime (the ticker is a task).
    pub fn new(plan: Dialplan, at: Timestamp) -> World {
        let sink = Arc::new(VecSink::new());
        let acd = Acd::new(BoardConfig::from_waiting(&plan.flow.waiting), sink.clone());
        let lawyers: Vec<LawyerId> = plan.roster.lawyers().map(|l| l.id.clone()).collect();
        for (i, l) in lawyers.iter().enumerate() {
            let since = at
                .saturating_sub(Duration::from_secs(3600 - i as u64))
                .unwrap();
            acd.set_registered(l, true, since);
            acd.apply(l, LawyerEvent::Login, since).unwrap();
        }
        let clock = Arc::new(TestClock::new(at));
        // the app's once-a-second tick
        let ticker = {
            let (acd, clock) = (acd.clone(), clock.clone());
            tokio::spawn(async move {
                loop {
                    sleep(Duration::from_secs(1)).await;
                    acd.tick(clock.now());
                }
            })
        };
        World {
            plan: Arc::new(plan),
            acd,
            sink,
            clock,
            phones: Arc::new(Phones::default()),
            ticker,
        }
    }

    /// The shipped dialplan on 2026-03-09 (a Monday) at `hh:mm` Beijing time.
    pub fn monday(hh: i8, mm: i8) -> World {
        let p = plan();
        let at = beijing(&p, 3, 9, hh, mm);
        World::new(p, at)
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn state(&self, lawyer: &str) -> LawyerState {
        self.acd.state(&lawyer.into())
    }

    /// Unregisters the phones of these lawyers.
    pub fn offline(&self, lawyers: &[&str]) {
        for l in lawyers {
            self.acd.set_registered(&(*l).into(), false, self.now());
        }
    }

    /// Puts a lawyer on a call that no fake call controls (returns when the board says busy).
    pub fn busy(&self, lawyer: &str, call: &str) {
        let l: LawyerId = lawyer.into();
        let now = self.now();
        assert_eq!(
            self.acd.try_reserve(call, std::slice::from_ref(&l), now),
            Some(l.clone())
        );
        self.acd.release(&l, RingOutcome::Answered, now).unwrap();
    }

    /// Ends the call of [`World::busy`].
    pub fn hang_up(&self, lawyer: &str) {
        self.acd
            .release(&lawyer.into(), TalkOutcome::LawyerHungUp, self.now())
            .unwrap();
    }

    pub fn context(&self, id: &str) -> CallContext {
        CallContext::new(id, self.now(), self.clock.clone())
    }

    pub fn fake(&self, id: &str, script: Script) -> FakeCall {
        FakeCall::new(id, script, &self.plan, self.phones.clone())
    }

    /// Runs a call to its end.
    pub async fn call(&self, id: &str, script: Script) -> (CallSummary, FakeCall) {
        let mut fake = self.fake(id, script);
        let ctx = self.context(id);
        let summary = run_call(&self.plan, &ctx, &mut fake, &self.acd, &*self.sink).await;
        (summary, fake)
    }

    pub fn events(&self, call: &str) -> Vec<IvrEvent> {
        self.sink.of(call)
    }

    /// Nothing is left hanging: no phone in use, nobody waiting, no lawyer ringing or busy,
    /// and every lawyer back to ready once after-call work is over (not-ready ones by the
    /// ready button).
    pub fn assert_settled(&self) {
        assert!(self.phones.idle(), "a fake phone is still in use");
        let v = self.phones.violations.lock().unwrap().clone();
        assert!(v.is_empty(), "{v:?}");
        let board = self.acd.board();
        assert!(board.waiting.is_empty(), "{:?}", board.waiting);
        let later = self
            .now()
            .saturating_add(Duration::from_secs(3600))
            .unwrap();
        for (id, e) in &board.lawyers {
            match e.state {
                LawyerState::Ready { .. } | LawyerState::LoggedOut => {}
                LawyerState::AfterCallWork { until } => assert!(until <= later, "{id}"),
                LawyerState::NotReady { .. } => {
                    let s = e.state.apply(LawyerEvent::SetReady, later).unwrap();
                    assert!(matches!(s, LawyerState::Ready { .. }), "{id}");
                }
                s => panic!("{id} is stuck in {s:?} ({:?})", e.call),
            }
        }
        self.acd.tick(later);
        let board = self.acd.board();
        for (id, e) in &board.lawyers {
            assert!(
                !matches!(e.state, LawyerState::AfterCallWork { .. }),
                "{id} still wrapping up"
            );
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.ticker.abort();
    }
}

//! A lawyer's availability as the ACD sees it. Every state has a way out (hang-ups, timers,
//! the lawyer's own buttons, logout), so no lawyer can get stuck unreachable by a lost event.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Why a lawyer is not ready, for the console and for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotReadyReason {
    /// The lawyer pressed "not ready" (or rejected a ringing call).
    Manual,
    /// A call rang out unanswered (RONA): the phone is probably unattended.
    NoAnswer,
}

/// Where a lawyer is in the call cycle. Serialisable (tagged by `state`) so the ACD board can
/// be stored and shown on the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LawyerState {
    /// Not signed in to take calls.
    LoggedOut,
    /// Waiting for a call; `since` orders lawyers longest-idle first.
    Ready {
        /// When the lawyer became free.
        since: Timestamp,
    },
    /// A call is ringing the lawyer's phone.
    Ringing {
        /// When ringing started.
        since: Timestamp,
        /// The idle time to restore if the caller gives up before an answer.
        idle_since: Timestamp,
    },
    /// On a call.
    Busy {
        /// When the call was answered.
        since: Timestamp,
    },
    /// Wrap-up after a call (notes, ticket); ready again at `until`.
    AfterCallWork {
        /// When wrap-up ends by itself.
        until: Timestamp,
    },
    /// Signed in but not taking calls.
    NotReady {
        /// Since when.
        since: Timestamp,
        /// Why.
        reason: NotReadyReason,
    },
}

/// What can happen to a lawyer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LawyerEvent {
    /// Signs in (ready at once).
    Login,
    /// Signs out, or the phone's registration lapsed; allowed in every state.
    Logout,
    /// The ACD starts ringing the lawyer.
    Ring,
    /// The lawyer answered.
    Answer,
    /// The ring timed out unanswered.
    NoAnswer,
    /// The caller hung up (or was given to someone else) while ringing.
    CallerGone,
    /// The call ended; wrap-up lasts `wrap_up`.
    Hangup {
        /// Configured after-call work time.
        wrap_up: SignedDuration,
    },
    /// Time passes: ends after-call work once its deadline is reached.
    Timer,
    /// The lawyer pressed "ready".
    SetReady,
    /// The lawyer pressed "not ready".
    SetNotReady,
}

/// An event that makes no sense in the current state (e.g. `Answer` while `Ready`); the
/// interpreter logs it and keeps the state, since SIP events can race.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("lawyer event {event:?} is not valid in state {state}")]
pub struct TransitionError {
    /// The state's name.
    pub state: &'static str,
    /// The rejected event.
    pub event: LawyerEvent,
}

impl LawyerState {
    /// The state's name, for logs and the console.
    pub fn name(&self) -> &'static str {
        match self {
            LawyerState::LoggedOut => "logged-out",
            LawyerState::Ready { .. } => "ready",
            LawyerState::Ringing { .. } => "ringing",
            LawyerState::Busy { .. } => "busy",
            LawyerState::AfterCallWork { .. } => "after-call-work",
            LawyerState::NotReady { .. } => "not-ready",
        }
    }

    /// When this lawyer became idle, if ready.
    pub fn idle_since(&self) -> Option<Timestamp> {
        match self {
            LawyerState::Ready { since } => Some(*since),
            _ => None,
        }
    }

    /// When a [`LawyerEvent::Timer`] will change this state, for the interpreter's timers.
    pub fn deadline(&self) -> Option<Timestamp> {
        match self {
            LawyerState::AfterCallWork { until } => Some(*until),
            _ => None,
        }
    }

    /// The state after `event` at `now`.
    pub fn apply(
        &self,
        event: LawyerEvent,
        now: Timestamp,
    ) -> Result<LawyerState, TransitionError> {
        use LawyerEvent as E;
        use LawyerState as S;
        let not_ready = |reason| S::NotReady { since: now, reason };
        Ok(match (*self, event) {
            (_, E::Logout) => S::LoggedOut,
            (S::LoggedOut, E::Login) => S::Ready { since: now },
            (S::Ready { since }, E::Ring) => S::Ringing {
                since: now,
                idle_since: since,
            },
            (S::Ringing { .. }, E::Answer) => S::Busy { since: now },
            (S::Ringing { .. }, E::NoAnswer) => not_ready(NotReadyReason::NoAnswer),
            (S::Ringing { idle_since, .. }, E::CallerGone) => S::Ready { since: idle_since },
            (S::Busy { .. }, E::Hangup { wrap_up }) if wrap_up.is_positive() => S::AfterCallWork {
                until: now.saturating_add(wrap_up).unwrap_or(now),
            },
            (S::Busy { .. }, E::Hangup { .. }) => S::Ready { since: now },
            (S::AfterCallWork { until }, E::Timer) if now >= until => S::Ready { since: until },
            (S::AfterCallWork { .. } | S::NotReady { .. }, E::SetReady) => S::Ready { since: now },
            (S::Ready { .. } | S::Ringing { .. } | S::AfterCallWork { .. }, E::SetNotReady) => {
                not_ready(NotReadyReason::Manual)
            }
            // repeats and ticks that change nothing
            (s @ S::Ready { .. }, E::SetReady)
            | (s @ S::NotReady { .. }, E::SetNotReady)
            | (s, E::Timer) => s,
            (s, event) => {
                return Err(TransitionError {
                    state: s.name(),
                    event,
                });
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LawyerEvent as E;
    use LawyerState as S;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_780_000_000 + secs).unwrap()
    }

    const WRAP: SignedDuration = SignedDuration::from_secs(30);

    fn all_states() -> Vec<S> {
        vec![
            S::LoggedOut,
            S::Ready { since: t(0) },
            S::Ringing {
                since: t(5),
                idle_since: t(0),
            },
            S::Busy { since: t(10) },
            S::AfterCallWork { until: t(100) },
            S::NotReady {
                since: t(0),
                reason: NotReadyReason::Manual,
            },
            S::NotReady {
                since: t(0),
                reason: NotReadyReason::NoAnswer,
            },
        ]
    }

    fn all_events() -> Vec<E> {
        vec![
            E::Login,
            E::Logout,
            E::Ring,
            E::Answer,
            E::NoAnswer,
            E::CallerGone,
            E::Hangup { wrap_up: WRAP },
            E::Timer,
            E::SetReady,
            E::SetNotReady,
        ]
    }

    #[test]
    fn a_call_cycle() {
        let s = S::LoggedOut.apply(E::Login, t(0)).unwrap();
        assert_eq!(s, S::Ready { since: t(0) });
        let s = s.apply(E::Ring, t(5)).unwrap();
        assert_eq!(
            s,
            S::Ringing {
                since: t(5),
                idle_since: t(0)
            }
        );
        let s = s.apply(E::Answer, t(8)).unwrap();
        assert_eq!(s, S::Busy { since: t(8) });
        let s = s.apply(E::Hangup { wrap_up: WRAP }, t(70)).unwrap();
        assert_eq!(s, S::AfterCallWork { until: t(100) });
        assert_eq!(s.deadline(), Some(t(100)));
        assert_eq!(s.apply(E::Timer, t(99)).unwrap(), s, "wrap-up not over yet");
        let s = s.apply(E::Timer, t(130)).unwrap();
        assert_eq!(s, S::Ready { since: t(100) });
        assert_eq!(s.idle_since(), Some(t(100)));
        assert_eq!(s.apply(E::Logout, t(200)).unwrap(), S::LoggedOut);
    }

    #[test]
    fn ring_no_answer_makes_the_lawyer_not_ready() {
        let s = S::Ringing {
            since: t(5),
            idle_since: t(0),
        };
        let s = s.apply(E::NoAnswer, t(25)).unwrap();
        assert_eq!(
            s,
            S::NotReady {
                since: t(25),
                reason: NotReadyReason::NoAnswer
            }
        );
        assert_eq!(
            s.apply(E::SetReady, t(60)).unwrap(),
            S::Ready { since: t(60) }
        );
    }

    #[test]
    fn caller_gone_while_ringing_restores_idle_time() {
        let s = S::Ringing {
            since: t(5),
            idle_since: t(0),
        };
        assert_eq!(
            s.apply(E::CallerGone, t(7)).unwrap(),
            S::Ready { since: t(0) }
        );
    }

    #[test]
    fn explicit_buttons() {
        let ready = S::Ready { since: t(0) };
        let nr = S::NotReady {
            since: t(3),
            reason: NotReadyReason::Manual,
        };
        assert_eq!(ready.apply(E::SetNotReady, t(3)).unwrap(), nr);
        assert_eq!(nr.apply(E::SetNotReady, t(4)).unwrap(), nr);
        assert_eq!(ready.apply(E::SetReady, t(4)).unwrap(), ready);
        let ringing = S::Ringing {
            since: t(5),
            idle_since: t(0),
        };
        assert_eq!(
            ringing.apply(E::SetNotReady, t(6)).unwrap(),
            S::NotReady {
                since: t(6),
                reason: NotReadyReason::Manual
            }
        );
        let acw = S::AfterCallWork { until: t(100) };
        assert_eq!(
            acw.apply(E::SetReady, t(50)).unwrap(),
            S::Ready { since: t(50) }
        );
        assert_eq!(
            acw.apply(E::SetNotReady, t(50)).unwrap(),
            S::NotReady {
                since: t(50),
                reason: NotReadyReason::Manual
            }
        );
    }

    #[test]
    fn zero_wrap_up_goes_straight_to_ready() {
        let s = S::Busy { since: t(0) };
        let s = s
            .apply(
                E::Hangup {
                    wrap_up: SignedDuration::ZERO,
                },
                t(9),
            )
            .unwrap();
        assert_eq!(s, S::Ready { since: t(9) });
    }

    #[test]
    fn logout_works_from_every_state() {
        for s in all_states() {
            assert_eq!(s.apply(E::Logout, t(1000)).unwrap(), S::LoggedOut, "{s:?}");
        }
    }

    #[test]
    fn invalid_events_are_errors_and_keep_nothing() {
        let ready = S::Ready { since: t(0) };
        let e = ready.apply(E::Answer, t(1)).unwrap_err();
        assert_eq!(
            e,
            TransitionError {
                state: "ready",
                event: E::Answer
            }
        );
        assert_eq!(
            e.to_string(),
            "lawyer event Answer is not valid in state ready"
        );
        assert!(S::Busy { since: t(0) }.apply(E::Ring, t(1)).is_err());
        assert!(S::LoggedOut.apply(E::Ring, t(1)).is_err());
        assert!(S::Busy { since: t(0) }.apply(E::SetNotReady, t(1)).is_err());
    }

    #[test]
    fn no_state_is_absorbing() {
        // late enough for every timer to have expired
        let later = t(10_000);
        for s in all_states() {
            let exits: Vec<E> = all_events()
                .into_iter()
                .filter(|e| s.apply(*e, later).is_ok_and(|n| n.name() != s.name()))
                .collect();
            assert!(!exits.is_empty(), "{s:?} is absorbing");
        }
    }

    #[test]
    fn every_state_can_get_back_to_ready() {
        let later = t(10_000);
        for start in all_states() {
            let mut frontier = vec![start];
            let mut seen = vec![start.name()];
            let mut found = start.name() == "ready";
            while let Some(s) = frontier.pop() {
                for e in all_events() {
                    if let Ok(n) = s.apply(e, later)
                        && !seen.contains(&n.name())
                    {
                        found |= n.name() == "ready";
                        seen.push(n.name());
                        frontier.push(n);
                    }
                }
            }
            assert!(found, "{start:?} cannot reach ready");
        }
    }
}

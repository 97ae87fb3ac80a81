//! What the IVR decided, as events: for the call log, the console's live view and the case
//! ticket. The interpreter reports every decision of a call and the ACD every change of a
//! lawyer, through one [`EventSink`]; [`CallSummary`] is what a finished call hands the ticket.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::control::RingOutcome;
use crate::ids::{Lang, LawyerId, NodeId, QueueId, RegionId};
use crate::lawyer_state::LawyerState;

/// Where a waiting caller stands in line: a region's duty queue or a named queue. Serialised
/// as `{"region": "shicheng"}` or `{"queue": "complaints"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    /// Waiting for the duty lawyers of a region (and the regions below it it overflowed from).
    Region(RegionId),
    /// Waiting for the members of a named queue.
    Queue(QueueId),
}

/// How the caller's region was found, for reports on how reliable the lookup is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionSource {
    /// From the caller's number (landline prefix or mobile segment).
    Number,
    /// From an area code the caller keyed in.
    AreaCode,
}

/// Who ended a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The caller hung up.
    Caller,
    /// The lawyer hung up (the caller goes on to the survey).
    Lawyer,
}

/// Why ringing a lawyer did not connect, serialisable for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RingFailure {
    /// Rang out unanswered; the lawyer becomes not-ready.
    NoAnswer,
    /// The phone refused with this SIP status; the lawyer becomes not-ready.
    Rejected {
        /// 486, 603, ...
        status: u16,
    },
    /// The phone could not be reached; the lawyer becomes not-ready.
    Unreachable,
    /// The caller hung up while it rang; the lawyer is ready again.
    CallerGone,
}

impl RingFailure {
    /// The failure for a ring outcome; `None` for [`RingOutcome::Answered`].
    pub fn of(outcome: &RingOutcome) -> Option<RingFailure> {
        Some(match outcome {
            RingOutcome::Answered => return None,
            RingOutcome::NoAnswer => RingFailure::NoAnswer,
            RingOutcome::Rejected(status) => RingFailure::Rejected { status: *status },
            RingOutcome::Unreachable => RingFailure::Unreachable,
            RingOutcome::CallerGone => RingFailure::CallerGone,
        })
    }
}

/// Why a route gave up on finding a lawyer (the flow then takes its `no_region`, `exhausted`
/// or queue `on_timeout` branch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteFailure {
    /// The caller's region is unknown, so there is no duty roster to ask.
    NoRegion,
    /// Nobody answered up to the top of the hierarchy.
    Exhausted,
    /// Nobody of a named queue answered within its `max_wait`.
    QueueTimeout,
}

/// How a call ended, for the ticket and the statistics the justice bureaus report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// The caller talked to a lawyer.
    Answered,
    /// The caller left a message without a callback request.
    Voicemail,
    /// The caller asked to be called back (left a message or pressed the leave-message key).
    Callback,
    /// The call ended before a lawyer, a message or a routing failure: the caller hung up,
    /// or never made a valid menu choice.
    Abandoned,
    /// The caller called outside business hours (whether or not they left a message).
    AfterHours,
    /// No lawyer could be found (unknown region or nobody answered) and no message was left.
    NoLawyer,
}

/// Something the IVR decided or observed. Serialised with an `event` tag, e.g.
/// `{"event":"menu_choice","node":"service","key":"1"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum IvrEvent {
    /// The call was answered; media and recording run.
    CallAnswered {
        /// The caller's number as signalled.
        caller: String,
    },
    /// The call's prompt language changed (language menu or `set` node).
    LanguageChosen {
        /// The new language.
        language: Lang,
    },
    /// A valid key was pressed in a menu.
    MenuChoice {
        /// The menu node.
        node: NodeId,
        /// The key.
        key: char,
    },
    /// A menu, collect or survey got input it cannot use (wrong key, unknown area code).
    InputInvalid {
        /// The node.
        node: NodeId,
        /// What was pressed.
        input: String,
    },
    /// A menu, collect or survey gave up after its retries (its `on_fail` branch).
    InputFailed {
        /// The node.
        node: NodeId,
    },
    /// A call variable was set (`category`, `area_code`, ...).
    VariableSet {
        /// Its name.
        name: String,
        /// Its value.
        value: String,
    },
    /// The caller's region is known.
    RegionResolved {
        /// The region.
        region: RegionId,
        /// From the number or a keyed-in area code.
        how: RegionSource,
    },
    /// A `region` node found the caller's region unknown.
    RegionUnknown,
    /// An `hours` node found the hotline closed.
    HoursClosed,
    /// The caller waits for a lawyer; sent when the caller starts waiting and whenever the
    /// line or the position changes.
    Queued {
        /// Which line.
        line: Line,
        /// 1 = next to be served.
        position: usize,
    },
    /// Nobody was free in `from` (or nobody is on duty there): the call now also waits for
    /// the lawyers of `to`, one level up.
    Overflow {
        /// The level given up on.
        from: RegionId,
        /// The next level.
        to: RegionId,
    },
    /// A route gave up on finding a lawyer.
    RouteFailed {
        /// Why.
        reason: RouteFailure,
    },
    /// A lawyer's phone is ringing for this call.
    Ringing {
        /// The lawyer.
        lawyer: LawyerId,
    },
    /// Ringing a lawyer did not connect.
    RingFailed {
        /// The lawyer.
        lawyer: LawyerId,
        /// Why.
        #[serde(flatten)]
        outcome: RingFailure,
    },
    /// Caller and lawyer are talking.
    Connected {
        /// The lawyer.
        lawyer: LawyerId,
        /// Seconds from entering the route to the lawyer answering.
        waited_secs: u64,
    },
    /// The conversation ended.
    TalkEnded {
        /// Who hung up.
        by: Party,
    },
    /// The caller asked to be called back (leave-message key, or a message at a voicemail
    /// node with `callback = true`).
    CallbackRequested,
    /// A message was recorded.
    VoicemailLeft {
        /// Its WAV file.
        path: PathBuf,
        /// Its length in seconds.
        secs: u64,
    },
    /// The caller answered the satisfaction survey.
    SurveyAnswer {
        /// The recorded value (`satisfied`, `basically_satisfied`, `unsatisfied`).
        value: String,
    },
    /// The call went through more nodes than [`crate::interpreter::CallContext::max_steps`]
    /// (a loop in the dialplan); it is ended politely.
    StepLimit {
        /// The node it was about to run.
        node: NodeId,
    },
    /// A lawyer's phone registered or its registration lapsed (from the ACD).
    LawyerRegistered {
        /// The lawyer.
        lawyer: LawyerId,
        /// Whether the phone is now registered.
        registered: bool,
    },
    /// A lawyer's state changed (from the ACD).
    LawyerStateChanged {
        /// The lawyer.
        lawyer: LawyerId,
        /// The new state.
        state: LawyerState,
    },
    /// The call is over.
    CallEnded {
        /// How it ended.
        disposition: Disposition,
    },
}

/// Where events go: the app's log, the console's live feed, a test's list. `call_id` is the
/// call the event belongs to; ACD events that belong to no call (a lawyer pressing "ready",
/// after-call work ending) carry an empty call id.
pub trait EventSink: Send + Sync {
    /// Takes one event; must not block for long (it is called on the call's task) and must
    /// not call back into the ACD.
    fn emit(&self, call_id: &str, event: IvrEvent);
}

/// An [`EventSink`] that forgets everything, for callers that do not care.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _call_id: &str, _event: IvrEvent) {}
}

/// An [`EventSink`] that keeps every event in order, for tests.
#[derive(Debug, Default)]
pub struct VecSink(Mutex<Vec<(String, IvrEvent)>>);

impl VecSink {
    /// An empty sink.
    pub fn new() -> VecSink {
        VecSink::default()
    }

    /// Everything emitted so far, in order, with call ids.
    pub fn all(&self) -> Vec<(String, IvrEvent)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The events of one call (ACD events included when they name the call), in order.
    pub fn of(&self, call_id: &str) -> Vec<IvrEvent> {
        self.all()
            .into_iter()
            .filter(|(c, _)| c == call_id)
            .map(|(_, e)| e)
            .collect()
    }
}

impl EventSink for VecSink {
    fn emit(&self, call_id: &str, event: IvrEvent) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((call_id.to_owned(), event));
    }
}

/// What a finished call leaves for its case ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSummary {
    /// The call's id.
    pub call_id: String,
    /// The caller's number as signalled.
    pub caller: String,
    /// When the call arrived.
    pub started: Timestamp,
    /// When the interpreter finished with it.
    pub ended: Timestamp,
    /// The language the call ended in.
    pub language: Lang,
    /// The `category` variable (`consultation`, `legal_aid`, ...), if the caller chose one.
    pub category: Option<String>,
    /// The caller's region, if known.
    pub region: Option<RegionId>,
    /// The lawyer the caller talked to.
    pub lawyer: Option<LawyerId>,
    /// Seconds from entering the route to the lawyer answering.
    pub waited_secs: Option<u64>,
    /// How the call ended.
    pub disposition: Disposition,
    /// The survey answer's value, if the caller gave one.
    pub survey: Option<String>,
    /// The recorded message, if any.
    pub message: Option<PathBuf>,
    /// Whether the caller asked to be called back.
    pub callback: bool,
    /// Every call variable at the end (category, area_code, satisfaction, ...).
    pub vars: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_a_tag() {
        let e = IvrEvent::MenuChoice {
            node: "service".into(),
            key: '1',
        };
        let j = serde_json::to_string(&e).unwrap();
        assert_eq!(j, r#"{"event":"menu_choice","node":"service","key":"1"}"#);
        let e = IvrEvent::RingFailed {
            lawyer: "lai-zhiming".into(),
            outcome: RingFailure::Rejected { status: 486 },
        };
        let j = serde_json::to_string(&e).unwrap();
        assert_eq!(
            j,
            r#"{"event":"ring_failed","lawyer":"lai-zhiming","outcome":"rejected","status":486}"#
        );
        assert_eq!(serde_json::from_str::<IvrEvent>(&j).unwrap(), e);
        let q = IvrEvent::Queued {
            line: Line::Region("shicheng".into()),
            position: 2,
        };
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            r#"{"event":"queued","line":{"region":"shicheng"},"position":2}"#
        );
        let s = IvrEvent::LawyerStateChanged {
            lawyer: "a".into(),
            state: LawyerState::Ready {
                since: Timestamp::from_second(0).unwrap(),
            },
        };
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(
            j,
            r#"{"event":"lawyer_state_changed","lawyer":"a","state":{"state":"ready","since":"1970-01-01T00:00:00Z"}}"#
        );
        assert_eq!(serde_json::from_str::<IvrEvent>(&j).unwrap(), s);
    }

    #[test]
    fn vec_sink_keeps_order_per_call() {
        let s = VecSink::new();
        s.emit("a", IvrEvent::HoursClosed);
        s.emit("b", IvrEvent::RegionUnknown);
        s.emit("a", IvrEvent::CallbackRequested);
        assert_eq!(
            s.of("a"),
            [IvrEvent::HoursClosed, IvrEvent::CallbackRequested]
        );
        assert_eq!(s.all().len(), 3);
    }
}

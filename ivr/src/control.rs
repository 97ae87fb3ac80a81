//! What the IVR asks of telephony, for one call. The interpreter drives a call only through
//! [`CallControl`], so the whole 12348 flow (menus, routing, queues, overflow, voicemail,
//! survey) is tested against a scripted fake, and the real implementation (SIP + media, in the
//! `hotline` binary) is tested end to end with real phones.

use std::path::PathBuf;
use std::time::Duration;

use crate::ids::LawyerId;

/// A lawyer's phone to ring: the roster's lawyer and the SIP username of their phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneTarget {
    /// The lawyer.
    pub lawyer: LawyerId,
    /// The account their phone registers with.
    pub sip_user: String,
}

/// How playing prompts ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayOutcome {
    /// All prompts played (or, for [`CallControl::hold`], the wait passed).
    Finished,
    /// The caller pressed a key (barge-in); the prompts stopped.
    Digit(char),
    /// The caller hung up.
    CallerGone,
}

/// How collecting keys ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectOutcome {
    /// The keys pressed, without the terminator; empty when the terminator came first.
    Digits(String),
    /// Nothing (more) was pressed in time; carries what was pressed so far.
    Timeout(String),
    /// The caller hung up.
    CallerGone,
}

/// How ringing a lawyer's phone ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingOutcome {
    /// The lawyer picked up; [`CallControl::talk`] connects them.
    Answered,
    /// Nobody answered within the timeout (the phone was cancelled).
    NoAnswer,
    /// The phone refused (busy 486, declined 603, ...).
    Rejected(u16),
    /// The phone is not registered or could not be reached.
    Unreachable,
    /// The caller hung up while the phone rang (the phone was cancelled).
    CallerGone,
}

/// How a conversation between caller and lawyer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalkOutcome {
    /// The caller hung up (the lawyer's leg was hung up too).
    CallerHungUp,
    /// The lawyer hung up; the caller is still on the line (for the survey).
    LawyerHungUp,
}

/// How recording a message ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// The message, ended by `#`, silence, the time limit or the caller hanging up.
    Recorded {
        /// WAV file of the message.
        path: PathBuf,
        /// Its length.
        duration: Duration,
    },
    /// Nothing was said (or the caller hung up at once).
    Empty,
}

/// One call, as the IVR drives it. Every method returns when its step is over; none of them
/// fails: a caller who hangs up shows in the outcome, and later calls return at once.
#[allow(async_fn_in_trait)] // used with concrete types only (generic interpreter)
pub trait CallControl {
    /// The caller's number as signalled (From user or P-Asserted-Identity), for region lookup.
    fn caller_number(&self) -> &str;

    /// Answers the call (media starts, recording starts). Returns false if the caller is gone.
    async fn answer(&mut self) -> bool;

    /// Plays prompts in order; with `barge_in`, the first key stops them and is returned.
    async fn play(&mut self, prompts: &[PathBuf], barge_in: bool) -> PlayOutcome;

    /// Collects up to `max` keys, ending early on `terminator`; `timeout` runs from the start
    /// and again after each key. Keys pressed during a barge-in prompt come first via `first`.
    async fn collect(
        &mut self,
        first: Option<char>,
        max: usize,
        terminator: Option<char>,
        timeout: Duration,
    ) -> CollectOutcome;

    /// Loops hold music for `wait`, or until a key is pressed (returned as `Digit`). While a
    /// caller waits for a lawyer the interpreter calls this in short slices
    /// ([`crate::interpreter::CallContext::poll`], 1 s) and looks for a free lawyer in between,
    /// so an implementation should carry the music on from one call to the next with the same
    /// `music` rather than restart it.
    async fn hold(&mut self, music: &[PathBuf], wait: Duration) -> PlayOutcome;

    /// Rings a lawyer's phone for at most `timeout`; the caller hears `music` meanwhile.
    async fn ring(
        &mut self,
        target: &PhoneTarget,
        music: &[PathBuf],
        timeout: Duration,
    ) -> RingOutcome;

    /// Connects the caller with the lawyer who answered until one of them hangs up.
    async fn talk(&mut self) -> TalkOutcome;

    /// Records the caller's message for at most `max` (voicemail for a callback).
    async fn record_message(&mut self, max: Duration) -> RecordOutcome;

    /// Hangs up on the caller (no-op when already gone).
    async fn hangup(&mut self);
}

//! [`LiveCall`]: the IVR's [`CallControl`] over real SIP and media. Each method sends commands
//! to the SIP task, the media thread or the router, then waits for the events the router
//! forwards to this call's channel.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hotline_ivr::control::{
    CallControl, CollectOutcome, PhoneTarget, PlayOutcome, RecordOutcome, RingOutcome, TalkOutcome,
};
use hotline_sip::driver::{Command, SipHandle};
use hotline_sip::endpoint::{CallHandle, EndReason};
use hotline_sip::media::prompt::PromptCache;
use hotline_sip::media::recorder::RecordingInfo;
use hotline_sip::media::{LegId, MediaCommand, MediaEngine};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use tracing::{debug, warn};

/// What the router tells one call's task.
#[derive(Debug)]
pub enum CallEvent {
    /// The caller pressed a key.
    Digit(char),
    /// Prompts queued with `Play` ended.
    PlaybackDone,
    /// The caller hung up (or cancelled before answer).
    CallerGone,
    /// The lawyer's phone answered; its leg is open.
    LawyerAnswered(CallHandle),
    /// The lawyer's leg ended (refused, unanswered, hung up).
    LawyerGone(CallHandle, EndReason),
    /// A voicemail message is written.
    Message(Option<RecordingInfo>),
}

/// What a call task asks of the router (things that need its ports, legs or the store).
#[derive(Debug)]
pub enum RouterRequest {
    /// Answer the caller: 200 OK with our SDP, open its recorded leg. Replies `None` when the
    /// call is gone, else the recording's path.
    Answer(CallHandle, oneshot::Sender<Option<Option<PathBuf>>>),
    /// Ring a phone by SIP username for this caller; replies with the lawyer leg, or `None`
    /// when the phone is not registered or no port is free.
    Dial(CallHandle, String, oneshot::Sender<Option<CallHandle>>),
    /// Start (`Some(path)`) or stop (`None`) recording the caller's message.
    Message(CallHandle, bool, oneshot::Sender<Option<PathBuf>>),
}

/// One caller's call as the IVR sees it.
pub struct LiveCall {
    call: CallHandle,
    caller_number: String,
    sip: SipHandle,
    media: MediaEngine,
    router: mpsc::UnboundedSender<RouterRequest>,
    events: mpsc::UnboundedReceiver<CallEvent>,
    prompts: Arc<PromptCache>,
    /// Keys pressed ahead of a prompt (type-ahead), in order.
    keys: VecDeque<char>,
    gone: bool,
    answered: bool,
    lawyer: Option<CallHandle>,
    lawyer_answered: bool,
    /// Prompts are playing on the caller's leg.
    playing: bool,
    /// `PlaybackDone` events still to come for prompts we stopped or abandoned.
    stale_done: u32,
    /// The music looping now, so consecutive waits continue it instead of restarting it.
    looping: Option<Vec<PathBuf>>,
    /// A terminator (`#`) that may follow an entry that was already complete; swallowed.
    late_terminator: Option<(char, Instant)>,
    /// The call's stereo recording, once answered.
    recording: Option<PathBuf>,
}

impl LiveCall {
    pub fn new(
        call: CallHandle,
        caller_number: String,
        sip: SipHandle,
        media: MediaEngine,
        router: mpsc::UnboundedSender<RouterRequest>,
        events: mpsc::UnboundedReceiver<CallEvent>,
        prompts: Arc<PromptCache>,
    ) -> Self {
        LiveCall {
            call,
            caller_number,
            sip,
            media,
            router,
            events,
            prompts,
            keys: VecDeque::new(),
            gone: false,
            answered: false,
            lawyer: None,
            lawyer_answered: false,
            playing: false,
            stale_done: 0,
            looping: None,
            late_terminator: None,
            recording: None,
        }
    }

    fn leg(&self) -> LegId {
        LegId(self.call.0)
    }

    /// Waits for the next event, or `None` at `deadline`. Keys are also queued; the end of
    /// prompts we already stopped is swallowed.
    async fn next_event(&mut self, deadline: Option<Instant>) -> Option<CallEvent> {
        loop {
            let ev = match deadline {
                Some(d) => tokio::select! {
                    ev = self.events.recv() => ev,
                    _ = sleep_until(d) => return None,
                },
                None => self.events.recv().await,
            };
            return match ev {
                None | Some(CallEvent::CallerGone) => {
                    self.gone = true;
                    Some(CallEvent::CallerGone)
                }
                Some(CallEvent::PlaybackDone) if self.stale_done > 0 => {
                    self.stale_done -= 1;
                    continue;
                }
                Some(CallEvent::PlaybackDone) => {
                    self.playing = false;
                    Some(CallEvent::PlaybackDone)
                }
                Some(CallEvent::Digit(d)) => {
                    if let Some((t, until)) = self.late_terminator.take()
                        && t == d
                        && Instant::now() < until
                    {
                        continue;
                    }
                    self.keys.push_back(d);
                    Some(CallEvent::Digit(d))
                }
                Some(CallEvent::LawyerGone(leg, _)) if Some(leg) != self.lawyer => {
                    continue; // the end of a leg we already dropped (a cancelled ring)
                }
                Some(CallEvent::LawyerAnswered(leg)) if Some(leg) != self.lawyer => {
                    // A phone we cancelled answered anyway: hang it up, it is nobody's call.
                    let _ = self.sip.send(Command::Hangup(leg));
                    continue;
                }
                Some(CallEvent::LawyerGone(leg, reason)) => {
                    self.lawyer = None;
                    self.lawyer_answered = false;
                    Some(CallEvent::LawyerGone(leg, reason))
                }
                Some(other) => Some(other),
            };
        }
    }

    /// Stops prompts we no longer wait for; their `PlaybackDone` will be swallowed.
    fn stop_playing(&mut self) {
        if self.playing && !self.gone {
            self.media.send(MediaCommand::StopPlay(self.leg()));
            self.stale_done += 1;
        }
        self.playing = false;
        self.looping = None;
    }

    /// Loops `music`, carrying on if it is already the music playing.
    fn loop_music(&mut self, music: &[PathBuf]) -> bool {
        if self.playing && self.looping.as_deref() == Some(music) {
            return true;
        }
        let started = self.start_prompts(music, false, true);
        self.looping = started.then(|| music.to_vec());
        started
    }

    fn start_prompts(&mut self, paths: &[PathBuf], barge_in: bool, looping: bool) -> bool {
        let prompts: Vec<_> = paths
            .iter()
            .filter_map(|p| {
                self.prompts
                    .get(p)
                    .map_err(|e| warn!(error = %e, "prompt not played"))
                    .ok()
            })
            .collect();
        if prompts.is_empty() {
            return false;
        }
        if self.playing {
            self.stale_done += 1; // the media side ends the old prompts when new ones start
        }
        self.media.send(MediaCommand::Play {
            leg: self.leg(),
            prompts,
            barge_in,
            looping,
        });
        self.playing = true;
        self.looping = None;
        true
    }

    /// The call's recording, once it was answered.
    pub fn recording(&self) -> Option<&PathBuf> {
        self.recording.as_ref()
    }

    /// Tells an unanswered caller the call is ringing (180), e.g. before a delayed answer.
    pub fn ringing(&mut self) {
        if !self.gone && !self.answered {
            let _ = self.sip.send(Command::Ring(self.call, 180));
        }
    }

    /// Refuses an unanswered call (a direct call whose phone did not pick up).
    pub fn reject(&mut self, status: u16) {
        if !self.gone && !self.answered {
            let _ = self.sip.send(Command::Reject(self.call, status));
            self.gone = true;
        }
    }

    fn drop_lawyer(&mut self) {
        if let Some(l) = self.lawyer.take() {
            let _ = self.sip.send(Command::Hangup(l));
        }
        self.lawyer_answered = false;
    }
}

impl CallControl for LiveCall {
    fn caller_number(&self) -> &str {
        &self.caller_number
    }

    async fn answer(&mut self) -> bool {
        if self.gone {
            return false;
        }
        if self.answered {
            return true;
        }
        let (tx, rx) = oneshot::channel();
        let _ = self.router.send(RouterRequest::Answer(self.call, tx));
        match rx.await.ok().flatten() {
            Some(recording) => {
                self.answered = true;
                self.recording = recording;
            }
            None => self.answered = false,
        }
        if !self.answered {
            self.gone = true;
        }
        self.answered
    }

    async fn play(&mut self, prompts: &[PathBuf], barge_in: bool) -> PlayOutcome {
        if self.gone {
            return PlayOutcome::CallerGone;
        }
        if barge_in && let Some(d) = self.keys.pop_front() {
            return PlayOutcome::Digit(d); // typed ahead
        }
        if !self.start_prompts(prompts, barge_in, false) {
            return PlayOutcome::Finished;
        }
        loop {
            match self.next_event(None).await {
                Some(CallEvent::CallerGone) => return PlayOutcome::CallerGone,
                Some(CallEvent::Digit(_)) if barge_in => {
                    // The media side stopped the prompts on the key itself.
                    if self.playing {
                        self.stale_done += 1;
                        self.playing = false;
                    }
                    return PlayOutcome::Digit(self.keys.pop_front().expect("just queued"));
                }
                Some(CallEvent::PlaybackDone) => return PlayOutcome::Finished,
                _ => {}
            }
        }
    }

    async fn collect(
        &mut self,
        first: Option<char>,
        max: usize,
        terminator: Option<char>,
        timeout: Duration,
    ) -> CollectOutcome {
        let mut got = String::new();
        if let Some(f) = first {
            self.keys.push_front(f);
        }
        loop {
            while let Some(k) = self.keys.pop_front() {
                if Some(k) == terminator {
                    return CollectOutcome::Digits(got);
                }
                got.push(k);
                if got.len() >= max {
                    if let Some(t) = terminator {
                        if self.keys.front() == Some(&t) {
                            self.keys.pop_front();
                        } else {
                            self.late_terminator =
                                Some((t, Instant::now() + Duration::from_secs(2)));
                        }
                    }
                    return CollectOutcome::Digits(got);
                }
            }
            if self.gone {
                return CollectOutcome::CallerGone;
            }
            let deadline = Instant::now() + timeout;
            loop {
                match self.next_event(Some(deadline)).await {
                    None => return CollectOutcome::Timeout(got),
                    Some(CallEvent::CallerGone) => return CollectOutcome::CallerGone,
                    Some(CallEvent::Digit(_)) => break,
                    Some(_) => {}
                }
            }
        }
    }

    async fn hold(&mut self, music: &[PathBuf], wait: Duration) -> PlayOutcome {
        if self.gone {
            return PlayOutcome::CallerGone;
        }
        if let Some(d) = self.keys.pop_front() {
            return PlayOutcome::Digit(d);
        }
        self.loop_music(music); // left looping: the next wait carries on with it
        let deadline = Instant::now() + wait;
        loop {
            match self.next_event(Some(deadline)).await {
                None => return PlayOutcome::Finished,
                Some(CallEvent::CallerGone) => return PlayOutcome::CallerGone,
                Some(CallEvent::Digit(_)) => {
                    return PlayOutcome::Digit(self.keys.pop_front().expect("queued"));
                }
                Some(_) => {}
            }
        }
    }

    async fn ring(
        &mut self,
        target: &PhoneTarget,
        music: &[PathBuf],
        timeout: Duration,
    ) -> RingOutcome {
        if self.gone {
            return RingOutcome::CallerGone;
        }
        let (tx, rx) = oneshot::channel();
        let _ = self
            .router
            .send(RouterRequest::Dial(self.call, target.sip_user.clone(), tx));
        let Some(lawyer) = rx.await.ok().flatten() else {
            return RingOutcome::Unreachable;
        };
        self.lawyer = Some(lawyer);
        if self.answered {
            self.loop_music(music);
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.next_event(Some(deadline)).await {
                None => {
                    self.drop_lawyer(); // CANCEL
                    return RingOutcome::NoAnswer;
                }
                Some(CallEvent::CallerGone) => {
                    self.drop_lawyer();
                    return RingOutcome::CallerGone;
                }
                Some(CallEvent::LawyerAnswered(_)) => {
                    self.lawyer_answered = true;
                    return RingOutcome::Answered;
                }
                Some(CallEvent::LawyerGone(_, EndReason::Failed(408))) => {
                    return RingOutcome::NoAnswer;
                }
                Some(CallEvent::LawyerGone(_, EndReason::Failed(status))) => {
                    return RingOutcome::Rejected(status);
                }
                Some(CallEvent::LawyerGone(..)) => return RingOutcome::Unreachable,
                Some(_) => {}
            }
        }
    }

    async fn talk(&mut self) -> TalkOutcome {
        let Some(lawyer) = self.lawyer.filter(|_| self.lawyer_answered) else {
            return if self.gone {
                TalkOutcome::CallerHungUp
            } else {
                TalkOutcome::LawyerHungUp
            };
        };
        if !self.answer().await {
            self.drop_lawyer();
            return TalkOutcome::CallerHungUp;
        }
        self.stop_playing();
        self.media
            .send(MediaCommand::Bridge(self.leg(), LegId(lawyer.0)));
        self.keys.clear(); // keys during the conversation are the lawyer's business
        loop {
            match self.next_event(None).await {
                Some(CallEvent::CallerGone) => {
                    self.drop_lawyer();
                    return TalkOutcome::CallerHungUp;
                }
                Some(CallEvent::LawyerGone(..)) => {
                    self.media.send(MediaCommand::Unbridge(self.leg()));
                    self.keys.clear();
                    return TalkOutcome::LawyerHungUp;
                }
                _ => self.keys.clear(),
            }
        }
    }

    async fn record_message(&mut self, max: Duration) -> RecordOutcome {
        if self.gone {
            return RecordOutcome::Empty;
        }
        let (tx, rx) = oneshot::channel();
        let _ = self
            .router
            .send(RouterRequest::Message(self.call, true, tx));
        if rx.await.ok().flatten().is_none() {
            return RecordOutcome::Empty;
        }
        self.stop_playing();
        self.keys.clear();
        let deadline = Instant::now() + max;
        loop {
            match self.next_event(Some(deadline)).await {
                None | Some(CallEvent::CallerGone) => break,
                Some(CallEvent::Digit('#')) => {
                    self.keys.clear();
                    break;
                }
                _ => self.keys.clear(),
            }
        }
        let (tx, rx) = oneshot::channel();
        let _ = self
            .router
            .send(RouterRequest::Message(self.call, false, tx));
        let _ = rx.await;
        loop {
            match self.events.recv().await {
                Some(CallEvent::Message(Some(info))) if info.duration_ms > 500 => {
                    return RecordOutcome::Recorded {
                        path: info.path,
                        duration: Duration::from_millis(info.duration_ms),
                    };
                }
                Some(CallEvent::Message(_)) | None => return RecordOutcome::Empty,
                Some(CallEvent::CallerGone) => self.gone = true,
                Some(other) => debug!(?other, "event while finishing a message"),
            }
        }
    }

    async fn hangup(&mut self) {
        self.drop_lawyer();
        if !self.gone {
            let _ = self.sip.send(Command::Hangup(self.call));
            self.gone = true;
        }
    }
}

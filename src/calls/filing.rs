//! Files an IVR call on its case ticket before a lawyer's phone rings. The ticket (and the
//! call's link to it) is committed before the ringing starts, so a crash while the caller
//! hears the ringback loses no ticket, and the lawyer's screen-pop can show the ticket the
//! call is on. Hangup files the call again with everything known by then (the store's filing
//! is idempotent per call); calls that never reach a lawyer are filed at hangup only.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use hotline_cases::{CallTicket, Category, Store, unix_now_ms};
use hotline_ivr::control::{
    CallControl, CollectOutcome, PhoneTarget, PlayOutcome, RecordOutcome, RingOutcome, TalkOutcome,
};
use hotline_ivr::{EventSink, IvrEvent};
use tracing::{info, warn};

use super::flows::LogSink;

/// One call's decisions: logged as they happen and kept, with their time, for the call's
/// record in the store (its path through the dialplan) and for filing it before a ring.
pub struct CallSink {
    log: LogSink,
    events: Mutex<Vec<(i64, IvrEvent)>>,
}

impl EventSink for CallSink {
    fn emit(&self, call_id: &str, event: IvrEvent) {
        self.log.emit(call_id, event.clone());
        self.events
            .lock()
            .expect("sink lock")
            .push((unix_now_ms(), event));
    }
}

impl CallSink {
    /// A sink for one call that also reports to `log` (the log and the console's live bus).
    pub fn new(log: LogSink) -> CallSink {
        CallSink {
            log,
            events: Mutex::default(),
        }
    }

    /// The events so far, with their times (unix ms).
    pub fn into_events(self) -> Vec<(i64, IvrEvent)> {
        self.events.into_inner().unwrap_or_default()
    }

    /// The category and region the IVR has settled on so far (the latest of each).
    fn known(&self) -> (Option<Category>, Option<String>) {
        let events = self.events.lock().expect("sink lock");
        let mut category = None;
        let mut region = None;
        for (_, e) in events.iter() {
            match e {
                IvrEvent::VariableSet { name, value } if name == "category" => {
                    category = Some(Category::from_ivr(value));
                }
                IvrEvent::RegionResolved { region: r, .. } => region = Some(r.to_string()),
                _ => {}
            }
        }
        (category, region)
    }
}

/// A [`CallControl`] that files the call on a ticket before each ring and otherwise passes
/// every step to the real call.
pub struct FilingControl<'a, C> {
    inner: &'a mut C,
    store: &'a Store,
    sink: &'a CallSink,
    call_id: &'a str,
    /// What the last filing wrote: filing again is only needed when the IVR learnt more.
    filed: Option<(Option<Category>, Option<String>)>,
}

impl<'a, C: CallControl> FilingControl<'a, C> {
    /// Wraps `inner`; `sink` is the sink the interpreter reports this call's events to.
    pub fn new(inner: &'a mut C, store: &'a Store, sink: &'a CallSink, call_id: &'a str) -> Self {
        FilingControl {
            inner,
            store,
            sink,
            call_id,
            filed: None,
        }
    }

    async fn file_before_ring(&mut self) {
        let known = self.sink.known();
        if self.filed.as_ref() == Some(&known) {
            return;
        }
        let (category, region) = &known;
        let call = CallTicket {
            call_id: self.call_id,
            caller: self.inner.caller_number(),
            category: *category,
            region: region.as_deref(),
            lawyer_id: None,
            at: unix_now_ms(),
        };
        match self.store.ticket_for_call(&call).await {
            Ok(link) => {
                info!(ticket = %link.number, created = link.created, "call filed before ringing");
                self.filed = Some(known);
            }
            // The hangup filing and the start-up sweep file it later; the caller goes on.
            Err(e) => warn!(error = %e, "call not filed before ringing"),
        }
    }
}

impl<C: CallControl> CallControl for FilingControl<'_, C> {
    fn caller_number(&self) -> &str {
        self.inner.caller_number()
    }

    async fn answer(&mut self) -> bool {
        self.inner.answer().await
    }

    async fn play(&mut self, prompts: &[PathBuf], barge_in: bool) -> PlayOutcome {
        self.inner.play(prompts, barge_in).await
    }

    async fn collect(
        &mut self,
        first: Option<char>,
        max: usize,
        terminator: Option<char>,
        timeout: Duration,
    ) -> CollectOutcome {
        self.inner.collect(first, max, terminator, timeout).await
    }

    async fn hold(&mut self, music: &[PathBuf], wait: Duration) -> PlayOutcome {
        self.inner.hold(music, wait).await
    }

    async fn ring(
        &mut self,
        target: &PhoneTarget,
        music: &[PathBuf],
        timeout: Duration,
    ) -> RingOutcome {
        self.file_before_ring().await;
        self.inner.ring(target, music, timeout).await
    }

    async fn talk(&mut self) -> TalkOutcome {
        self.inner.talk().await
    }

    async fn record_message(&mut self, max: Duration) -> RecordOutcome {
        self.inner.record_message(max).await
    }

    async fn hangup(&mut self) {
        self.inner.hangup().await
    }
}

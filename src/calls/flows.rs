//! What a call task runs. A call to the username of a registered phone goes straight to that
//! phone (an internal or test call); every other call runs the hotline's dialplan through the
//! IVR interpreter. Also: hot reload of the dialplan and the lawyers' registration state.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::bail;
use hotline_cases::{CallEnd, Category, Store, SurveyValue, unix_now_ms};
use hotline_console::LiveEvent;
use hotline_ivr::control::{CallControl, PhoneTarget, RingOutcome};
use hotline_ivr::{
    Acd, BoardConfig, CallContext, CallSummary, Clock, Dialplan, EventSink, IvrEvent, LawyerEvent,
    LawyerId, LawyerState, SystemClock, run_call,
};
use tokio::sync::broadcast;
use tracing::{Instrument, info, info_span, warn};

use super::filing::{CallSink, FilingControl};
use super::live::LiveCall;
use super::roster_sync::RosterMirror;
use crate::config::Config;

/// How long a directly dialled phone rings before the caller is told nobody answers.
const DIRECT_RING: Duration = Duration::from_secs(30);

/// Reports every IVR decision in the log and forwards it to the console's live bus (the
/// ACD's sink, and part of every call's sink).
pub struct LogSink {
    live: broadcast::Sender<LiveEvent>,
}

impl LogSink {
    /// A sink that logs and forwards to `live`.
    pub fn new(live: broadcast::Sender<LiveEvent>) -> LogSink {
        LogSink { live }
    }
}

impl EventSink for LogSink {
    fn emit(&self, call_id: &str, event: IvrEvent) {
        let json = serde_json::to_string(&event).unwrap_or_default();
        info!(call_id, event = %json, "ivr");
        // No console connected is not an error.
        let _ = self.live.send(LiveEvent {
            call_id: call_id.to_owned(),
            at: unix_now_ms(),
            event,
        });
    }
}

/// Settings and shared state every call task uses.
pub struct FlowContext {
    answer_delay: Duration,
    dir: PathBuf,
    plan: RwLock<(Arc<Dialplan>, Fingerprint)>,
    pub acd: Acd,
    roster_mirror: RosterMirror,
    live: broadcast::Sender<LiveEvent>,
}

/// Modification times and sizes of a dialplan directory's files, to notice edits.
type Fingerprint = Vec<(PathBuf, SystemTime, u64)>;

impl FlowContext {
    /// Loads the dialplan; a broken one stops the start with every `file:line: problem`.
    pub fn new(config: &Config, live: broadcast::Sender<LiveEvent>) -> anyhow::Result<Self> {
        let dir = config.dialplans.clone();
        let fingerprint = fingerprint(&dir);
        let plan = match hotline_ivr::load(&dir) {
            Ok(p) => p,
            Err(problems) => {
                let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
                bail!(
                    "the dialplan in {} has problems:\n{}",
                    dir.display(),
                    list.join("\n")
                );
            }
        };
        let sink: Arc<dyn EventSink> = Arc::new(LogSink { live: live.clone() });
        let acd = Acd::new(BoardConfig::from_waiting(&plan.flow.waiting), sink.clone());
        Ok(FlowContext {
            answer_delay: Duration::from_millis(config.answer_delay_ms),
            dir,
            plan: RwLock::new((Arc::new(plan), fingerprint)),
            acd,
            roster_mirror: RosterMirror::default(),
            live,
        })
    }

    /// The dialplan in force.
    pub fn plan(&self) -> Arc<Dialplan> {
        self.plan.read().expect("plan lock").0.clone()
    }

    /// Reloads the dialplan when its files changed; a broken edit is reported and the running
    /// plan kept, so a typo never takes the hotline down.
    pub fn reload_if_changed(&self) {
        let now = fingerprint(&self.dir);
        if self.plan.read().expect("plan lock").1 == now {
            return;
        }
        match hotline_ivr::load(&self.dir) {
            Ok(plan) => {
                self.acd.configure(
                    BoardConfig::from_waiting(&plan.flow.waiting),
                    SystemClock.now(),
                );
                *self.plan.write().expect("plan lock") = (Arc::new(plan), now);
                info!(dir = %self.dir.display(), "dialplan reloaded");
            }
            Err(problems) => {
                for p in &problems {
                    warn!(problem = %p, "dialplan edit refused; the previous plan stays in force");
                }
                self.plan.write().expect("plan lock").1 = now;
            }
        }
    }

    /// Brings the board's registration flags in line with the store (shared by all nodes),
    /// signs a lawyer in when their phone first registers, and mirrors a new roster into the
    /// store.
    pub async fn sync_registrations(&self, store: &Store) {
        let plan = self.plan();
        match self.roster_mirror.sync(&plan, store).await {
            Ok(0) => {}
            Ok(n) => info!(lawyers = n, "roster mirrored to the store"),
            Err(e) => warn!(error = %e, "roster not mirrored to the store; retrying"),
        }
        let now = SystemClock.now();
        for lawyer in plan.roster.lawyers() {
            let registered = match store.bindings(&lawyer.sip).await {
                Ok(b) => !b.is_empty(),
                Err(e) => {
                    warn!(error = %e, "binding lookup failed");
                    continue;
                }
            };
            self.acd.set_registered(&lawyer.id, registered, now);
            if registered && self.acd.state(&lawyer.id) == LawyerState::LoggedOut {
                let _ = self.acd.apply(&lawyer.id, LawyerEvent::Login, now);
            }
        }
        self.acd.tick(now);
    }
}

fn fingerprint(dir: &Path) -> Fingerprint {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(path),
                Ok(m) if path.extension().is_some_and(|x| x == "toml" || x == "csv") => {
                    out.push((
                        path,
                        m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        m.len(),
                    ));
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// Runs one call to its end.
pub async fn run(
    flow: Arc<FlowContext>,
    store: Store,
    mut call: LiveCall,
    call_id: String,
    dialled: String,
) {
    let span = info_span!("call", call_id = %call_id);
    async move {
        let direct = !dialled.is_empty()
            && store
                .bindings(&dialled)
                .await
                .map(|b| !b.is_empty())
                .unwrap_or(false);
        if direct {
            direct_call(&mut call, &dialled).await;
        } else {
            if !flow.answer_delay.is_zero() {
                call.ringing();
                tokio::time::sleep(flow.answer_delay).await;
            }
            let plan = flow.plan();
            let arrived = unix_now_ms();
            // Written before any lawyer's phone rings: a crash from here on loses no call.
            let caller = call.caller_number().to_owned();
            if let Err(e) = store.record_call_started(&call_id, &caller, arrived).await {
                warn!(error = %e, "call not recorded at arrival");
            }
            let ctx = CallContext::new(call_id.clone(), SystemClock.now(), Arc::new(SystemClock));
            let sink = CallSink::new(LogSink::new(flow.live.clone()));
            let mut filing = FilingControl::new(&mut call, &store, &sink, &call_id);
            let summary = run_call(&plan, &ctx, &mut filing, &flow.acd, &sink).await;
            let json = serde_json::to_string(&summary).unwrap_or_default();
            info!(summary = %json, "call summary");
            let events = sink.into_events();
            let end = call_end(&summary, &events, arrived, call.recording());
            match store.record_call_ended(&end).await {
                Ok(filed) => {
                    // (its transcription job was queued with the filing)
                    info!(ticket = %filed.ticket.number, created = filed.ticket.created, "call filed");
                }
                Err(e) => warn!(error = %e, "call not filed; the start-up sweep will file it"),
            }
        }
        call.hangup().await;
    }
    .instrument(span)
    .await
}

/// The call's record for the store, from the IVR's summary and its decisions.
fn call_end(
    summary: &CallSummary,
    events: &[(i64, IvrEvent)],
    arrived: i64,
    recording: Option<&PathBuf>,
) -> CallEnd {
    let path: Vec<serde_json::Value> = events
        .iter()
        .map(|(at, e)| serde_json::json!({ "at": at, "event": e }))
        .collect();
    CallEnd {
        call_id: summary.call_id.clone(),
        caller: summary.caller.clone(),
        arrived_at: arrived,
        answered_at: events
            .iter()
            .find(|(_, e)| matches!(e, IvrEvent::Connected { .. }))
            .map(|(at, _)| *at),
        ended_at: unix_now_ms(),
        language: Some(summary.language.as_str().to_owned()),
        category: summary.category.as_deref().map(Category::from_ivr),
        region: summary.region.as_ref().map(ToString::to_string),
        lawyer_id: summary.lawyer.as_ref().map(ToString::to_string),
        queue_wait_secs: summary.waited_secs.map(|s| s as i64),
        overflow_steps: events
            .iter()
            .filter(|(_, e)| matches!(e, IvrEvent::Overflow { .. }))
            .count() as i64,
        disposition: serde_json::to_value(summary.disposition)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "abandoned".into()),
        ivr_path: serde_json::Value::Array(path).to_string(),
        recording_path: recording.map(|p| p.display().to_string()),
        message_path: summary.message.as_ref().map(|p| p.display().to_string()),
        callback: summary.callback,
        survey: summary
            .survey
            .as_deref()
            .and_then(|v| v.parse::<SurveyValue>().ok()),
    }
}

/// A call to a phone by its username: ring it, connect, done.
async fn direct_call(call: &mut LiveCall, user: &str) {
    let target = PhoneTarget {
        lawyer: LawyerId::new(user),
        sip_user: user.to_owned(),
    };
    match call.ring(&target, &[], DIRECT_RING).await {
        RingOutcome::Answered => {
            info!("caller and lawyer connected");
            let by = call.talk().await;
            info!(?by, "conversation ended");
        }
        RingOutcome::Rejected(status) => call.reject(status),
        RingOutcome::NoAnswer => call.reject(480),
        RingOutcome::Unreachable => call.reject(404),
        RingOutcome::CallerGone => {}
    }
}

//! What a call task runs. A call to the username of a registered phone goes straight to that
//! phone (an internal or test call); every other call gets the hotline's flow.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hotline_cases::Store;
use hotline_ivr::LawyerId;
use hotline_ivr::control::{
    CallControl, CollectOutcome, PhoneTarget, PlayOutcome, RingOutcome, TalkOutcome,
};
use tracing::{Instrument, info, info_span};

use super::live::LiveCall;
use crate::config::Config;

/// How long a directly dialled phone rings before the caller is told nobody answers.
const DIRECT_RING: Duration = Duration::from_secs(30);

/// Settings every call task shares.
pub struct FlowContext {
    answer_delay: Duration,
    greeting: Vec<PathBuf>,
}

impl FlowContext {
    pub fn new(config: &Config) -> Self {
        FlowContext {
            answer_delay: Duration::from_millis(config.answer_delay_ms),
            greeting: vec![config.dialplans.join("prompts/zh/welcome.wav")],
        }
    }
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
            greeting(&flow, &mut call).await;
        }
        call.hangup().await;
    }
    .instrument(span)
    .await
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
    let _ = TalkOutcome::CallerHungUp;
}

/// The greeting, then the caller's keys are read until they hang up.
async fn greeting(flow: &FlowContext, call: &mut LiveCall) {
    if !flow.answer_delay.is_zero() {
        call.ringing();
        tokio::time::sleep(flow.answer_delay).await;
    }
    if !call.answer().await {
        return;
    }
    let mut first = match call.play(&flow.greeting, true).await {
        PlayOutcome::CallerGone => return,
        PlayOutcome::Digit(d) => Some(d),
        PlayOutcome::Finished => None,
    };
    loop {
        match call
            .collect(first.take(), 1, None, Duration::from_secs(3600))
            .await
        {
            CollectOutcome::CallerGone => return,
            CollectOutcome::Digits(_) | CollectOutcome::Timeout(_) => {}
        }
    }
}

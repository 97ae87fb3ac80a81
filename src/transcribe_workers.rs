//! The transcription workers of `hotline serve`. Jobs live in the store (any node may take
//! any job; a job of a node that died is taken over when its lease runs out, and a restarted
//! node queues its own unfinished jobs again at once). whisper runs on tokio's blocking
//! threads, never on the workers that serve calls, and a missing model only leaves the jobs
//! queued.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hotline_cases::{
    NewTranscript, NewTranscriptAlert, Speaker, Store, TranscriptSegment, TranscriptionJob,
    unix_now_ms,
};
use hotline_transcribe::{CallTranscript, Engine, QualityRules, Transcriber};
use tracing::{Instrument, info, info_span, warn};

/// How often an idle worker looks for a job.
const POLL: Duration = Duration::from_secs(1);
/// How often a busy worker renews its job's lease.
const RENEW: Duration = Duration::from_secs(60);
/// A recording changed this recently may still be being finished: wait until it is quiet.
const SETTLE: Duration = Duration::from_secs(2);

/// What `hotline serve` needs to run the workers.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The ggml model.
    pub model: PathBuf,
    /// Number of workers (each transcribes one call at a time).
    pub workers: usize,
    /// whisper threads per worker.
    pub threads: usize,
    /// Risk keywords and redaction rules (TOML); missing = the shipped defaults.
    pub quality: PathBuf,
    /// This node's name (worker names are `NODE#i`).
    pub node: String,
}

/// Loads the model and the rules, requeues this node's interrupted jobs and starts the
/// workers. Never fails the start: problems are logged and the jobs wait.
pub async fn spawn(store: Store, config: WorkerConfig) {
    let prefix = format!("{}#", config.node);
    let now = unix_now_ms();
    match store.requeue_worker_transcriptions(&prefix, now).await {
        Ok(n) if n > 0 => warn!(
            jobs = n,
            "transcriptions interrupted by the last stop are queued again"
        ),
        Ok(_) => {}
        Err(e) => warn!(error = %e, "could not requeue interrupted transcriptions"),
    }
    if config.workers == 0 {
        info!("transcription disabled (--transcribe-workers 0); jobs stay queued");
        return;
    }
    if !config.model.is_file() {
        warn!(
            model = %config.model.display(),
            "no whisper model: transcription jobs stay queued until one is installed; run `hotline model fetch --dir {}` (or pass --model PATH to any ggml file) and restart",
            config.model.parent().unwrap_or(Path::new(".")).display()
        );
        return;
    }
    let rules = if config.quality.is_file() {
        match QualityRules::load(&config.quality) {
            Ok(r) => r,
            Err(e) => {
                warn!(error = %e, "quality rules unreadable: using the shipped defaults");
                QualityRules::default()
            }
        }
    } else {
        QualityRules::default()
    };
    let (model, threads) = (config.model.clone(), config.threads);
    let engine = match tokio::task::spawn_blocking(move || Engine::load(&model, threads)).await {
        Ok(Ok(e)) => e,
        Ok(Err(e)) => {
            warn!(error = %e, "whisper model not loaded: transcription jobs stay queued");
            return;
        }
        Err(e) => {
            warn!(error = %e, "whisper model load panicked");
            return;
        }
    };
    info!(model = %config.model.display(), workers = config.workers, threads, "transcription workers started");
    let transcriber = Arc::new(Transcriber::new(engine, rules));
    for i in 0..config.workers {
        let name = format!("{prefix}{i}");
        let span = info_span!("transcribe", worker = %name);
        tokio::spawn(work(store.clone(), transcriber.clone(), name).instrument(span));
    }
}

async fn work(store: Store, transcriber: Arc<Transcriber>, name: String) {
    let mut last_sweep = 0;
    loop {
        let now = unix_now_ms();
        if now - last_sweep > 60_000 {
            last_sweep = now;
            if let Ok(n) = store.requeue_abandoned_transcriptions(now).await
                && n > 0
            {
                warn!(
                    jobs = n,
                    "transcriptions abandoned by another node are queued again"
                );
            }
        }
        match store.claim_transcription_job(&name, now).await {
            Ok(Some(job)) => run_job(&store, &transcriber, &name, job).await,
            Ok(None) => tokio::time::sleep(POLL).await,
            Err(e) => {
                warn!(error = %e, "cannot read the transcription queue");
                tokio::time::sleep(POLL * 5).await;
            }
        }
    }
}

async fn run_job(store: &Store, transcriber: &Arc<Transcriber>, name: &str, job: TranscriptionJob) {
    let path = PathBuf::from(&job.recording_path);
    wait_until_settled(&path).await;
    let side = match store.call(&job.call_id).await {
        Ok(call) => crate::talk_spans::hotline_side(call.and_then(|c| c.ivr_path).as_deref()),
        Err(e) => {
            warn!(call_id = %job.call_id, error = %e, "call history unreadable: the whole hotline side is transcribed as the lawyer");
            hotline_transcribe::HotlineSide::AllLawyer
        }
    };
    let t = transcriber.clone();
    let language = job.language.clone();
    let p = path.clone();
    let mut task =
        tokio::task::spawn_blocking(move || t.transcribe_call(&p, language.as_deref(), &side));
    let result = loop {
        tokio::select! {
            r = &mut task => break r,
            _ = tokio::time::sleep(RENEW) => {
                if let Ok(false) = store.renew_transcription_lease(&job.id, name, unix_now_ms()).await {
                    // taken over by another node after our lease ran out: its result counts
                    warn!(call_id = %job.call_id, "transcription lease lost; the job is another worker's now");
                }
            }
        }
    };
    let now = unix_now_ms();
    match result {
        Ok(Ok(tr)) => {
            let (segments, alerts) = (tr.utterances.len(), tr.risks.len());
            let rtf = tr.rtf();
            let (audio_secs, speech_secs) = (tr.audio_secs, tr.speech_secs);
            match store
                .finish_transcription(&job.id, name, &to_store(tr), now)
                .await
            {
                Ok(()) => {
                    info!(call_id = %job.call_id, segments, alerts, rtf = format!("{rtf:.3}"), audio_secs = format!("{audio_secs:.1}"), speech_secs = format!("{speech_secs:.1}"), "call transcribed")
                }
                Err(e) => warn!(call_id = %job.call_id, error = %e, "transcript not stored"),
            }
            if alerts > 0 {
                warn!(call_id = %job.call_id, alerts, "risk keywords in the call: ticket on red alert");
            }
        }
        Ok(Err(e)) => fail(store, name, &job, &e.to_string(), now).await,
        Err(e) => {
            let error = format!("transcription panicked: {e}");
            fail(store, name, &job, &error, now).await
        }
    }
}

async fn fail(store: &Store, worker: &str, job: &TranscriptionJob, error: &str, now: i64) {
    match store.fail_transcription(&job.id, worker, error, now).await {
        Ok(status) => warn!(call_id = %job.call_id, error, %status, "transcription failed"),
        Err(e) => warn!(call_id = %job.call_id, error = %e, "transcription failure not recorded"),
    }
}

/// Waits (at most ~30 s) until the recording has not changed for [`SETTLE`]: the recorder
/// may still be flushing the end of a call that was just filed.
async fn wait_until_settled(path: &Path) {
    for _ in 0..15 {
        let age = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok());
        match age {
            Some(age) if age < SETTLE => tokio::time::sleep(SETTLE - age).await,
            _ => return,
        }
    }
}

fn speaker(s: hotline_transcribe::Speaker) -> Speaker {
    match s {
        hotline_transcribe::Speaker::Caller => Speaker::Caller,
        hotline_transcribe::Speaker::Lawyer => Speaker::Lawyer,
    }
}

/// The pipeline's transcript in the store's terms.
pub fn to_store(tr: CallTranscript) -> NewTranscript {
    NewTranscript {
        language: tr.language,
        segments: tr
            .utterances
            .into_iter()
            .map(|u| TranscriptSegment {
                start_ms: u.start_ms,
                end_ms: u.end_ms,
                speaker: speaker(u.speaker),
                text: u.text,
                redacted_text: u.redacted_text,
            })
            .collect(),
        alerts: tr
            .risks
            .into_iter()
            .map(|r| NewTranscriptAlert {
                keyword: r.keyword,
                speaker: speaker(r.speaker),
                offset_ms: r.offset_ms,
                excerpt: r.excerpt,
            })
            .collect(),
    }
}

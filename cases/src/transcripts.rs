//! Transcription jobs and transcripts. Every recorded call gets one job; workers on any
//! hotline node claim jobs from the store (so two nodes never transcribe the same call and a
//! node that dies mid-job loses nothing: its lease runs out and the job is queued again), then
//! write the transcript, the risk-keyword alerts and the ticket's red alert in one transaction.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, SYSTEM};
use crate::tickets;
use crate::{Store, StoreError, parse_col, text_enum};

/// How many times a job is tried (failures and abandoned runs) before it is marked failed:
/// a recording that crashes the worker every time must not loop forever.
pub const TRANSCRIPTION_MAX_ATTEMPTS: i64 = 3;

/// How long a claimed job stays with its worker without a [`Store::renew_transcription_lease`]
/// before another node may take it over.
pub const TRANSCRIPTION_LEASE_MS: i64 = 5 * 60_000;

/// Puts running jobs back in the queue (or fails those out of attempts); the caller appends
/// which running jobs it takes (`$3`).
const REQUEUE_SQL: &str = "UPDATE transcription_jobs SET status = CASE WHEN attempts < $1 THEN 'queued' ELSE 'failed' END, \
     error = CASE WHEN attempts < $1 THEN error ELSE 'abandoned by its worker too many times' END, \
     worker = NULL, lease_until = NULL, updated_at = $2 WHERE status = 'running' AND ";

/// A job is only changed by the worker that holds it: once its lease ran out and another node
/// took the job over, the old worker's late result or failure is refused.
const HELD_BY: &str = "id = $1 AND worker = $2 AND status = 'running'";

/// Which running jobs a requeue takes.
enum Running<'a> {
    /// Those whose lease ended before this time (their node died or hung).
    LeaseEndedBefore(i64),
    /// Those of the workers named `prefix...` (this node's own, at start-up).
    OfWorkers(&'a str),
}

text_enum! {
    /// Where a transcription job is.
    pub enum TranscriptionStatus {
        /// Waiting for a worker (also after a failed or abandoned attempt).
        Queued = "queued",
        /// A worker is on it.
        Running = "running",
        /// The transcript is stored.
        Done = "done",
        /// Gave up after [`TRANSCRIPTION_MAX_ATTEMPTS`] attempts; `error` says why.
        Failed = "failed",
    }
}

text_enum! {
    /// Whose voice a segment is: the recording's left channel is the caller, the right one
    /// the hotline side (IVR prompts, then the lawyer).
    pub enum Speaker {
        /// The person who called.
        Caller = "caller",
        /// The hotline side: the lawyer (and the IVR before them).
        Lawyer = "lawyer",
    }
}

/// A job a worker claimed: what to transcribe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptionJob {
    /// Job id (pass it back to finish or fail the job).
    pub id: String,
    /// The call transcribed.
    pub call_id: String,
    /// The stereo WAV recording.
    pub recording_path: String,
    /// The call's language from the IVR (`zh`, `en`); `None` = detect.
    pub language: Option<String>,
    /// Which attempt this is (1 for the first).
    pub attempts: i64,
}

/// One utterance of the dialogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptSegment {
    /// Start, ms from the start of the recording.
    pub start_ms: i64,
    /// End, ms from the start of the recording.
    pub end_ms: i64,
    /// Who spoke.
    pub speaker: Speaker,
    /// What was said (for authorised roles).
    pub text: String,
    /// The same with ID-card, phone and bank-card numbers masked (for everyone else).
    pub redacted_text: String,
}

/// A risk keyword a worker found, to be stored as an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTranscriptAlert {
    /// The configured keyword that matched.
    pub keyword: String,
    /// Who said it.
    pub speaker: Speaker,
    /// Where in the recording (ms).
    pub offset_ms: i64,
    /// The (redacted) segment it was heard in, for the supervisor's list.
    pub excerpt: String,
}

/// What a worker hands to [`Store::finish_transcription`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewTranscript {
    /// The language whisper used (IVR choice or detected).
    pub language: Option<String>,
    /// The dialogue in time order.
    pub segments: Vec<TranscriptSegment>,
    /// Risk keywords heard; any alert puts the call's ticket on red alert.
    pub alerts: Vec<NewTranscriptAlert>,
}

/// A call's transcript as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The job's id.
    pub job_id: String,
    /// The call.
    pub call_id: String,
    /// Where the job is; segments are empty until `done`.
    pub status: TranscriptionStatus,
    /// The language of the transcript (or the IVR's choice before it is done).
    pub language: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
    /// The last failure, if any.
    pub error: Option<String>,
    /// When the job was queued (unix ms).
    pub created_at: i64,
    /// When the transcript was stored (unix ms).
    pub finished_at: Option<i64>,
    /// The dialogue in time order.
    pub segments: Vec<TranscriptSegment>,
}

/// A stored risk-keyword alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptAlert {
    /// Row id.
    pub id: String,
    /// The call it was heard in.
    pub call_id: String,
    /// The call's ticket (put on red alert), if the call was filed.
    pub ticket_id: Option<String>,
    /// The keyword.
    pub keyword: String,
    /// Who said it.
    pub speaker: Speaker,
    /// Where in the recording (ms).
    pub offset_ms: i64,
    /// The redacted segment text.
    pub excerpt: String,
    /// When the alert was raised (unix ms).
    pub at: i64,
}

/// Queues `call_id`'s recording for transcription inside the caller's transaction; a call
/// already queued keeps its job. [`Store::record_call_ended`] calls it in the filing
/// transaction, so a filed call with a recording always has its job, whatever happens next.
pub(crate) async fn insert_job(
    conn: &mut AnyConnection,
    call_id: &str,
    recording_path: &str,
    language: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO transcription_jobs (id, call_id, recording_path, language, status, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $5) ON CONFLICT (call_id) DO NOTHING",
    )
    .bind(crate::new_id())
    .bind(call_id)
    .bind(recording_path)
    .bind(language)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Queues the transcription of a finished call's recording. Idempotent per call (a retried
    /// call end does not queue it twice); returns the job id.
    pub async fn enqueue_transcription(
        &self,
        call_id: &str,
        recording_path: &str,
        language: Option<&str>,
        now: i64,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        insert_job(&mut tx, call_id, recording_path, language, now).await?;
        let id: String = sqlx::query_scalar("SELECT id FROM transcription_jobs WHERE call_id = $1")
            .bind(call_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Takes the oldest queued job for `worker`, or `None` when the queue is empty. Atomic
    /// across nodes: the claim is a conditional UPDATE (`status = 'queued'`), which PostgreSQL
    /// re-checks after waiting for a competing writer's row lock, so a lost race claims nothing
    /// and the next job is tried; SQLite's `BEGIN IMMEDIATE` serialises the claims anyway.
    pub async fn claim_transcription_job(
        &self,
        worker: &str,
        now: i64,
    ) -> Result<Option<TranscriptionJob>, StoreError> {
        for _ in 0..8 {
            let mut tx = self.begin_write().await?;
            let Some(id) = sqlx::query_scalar::<_, String>(
                "SELECT id FROM transcription_jobs WHERE status = 'queued' ORDER BY created_at, id LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?
            else {
                return Ok(None);
            };
            let done = sqlx::query(
                "UPDATE transcription_jobs SET status = 'running', worker = $2, lease_until = $3, attempts = attempts + 1, started_at = $4, updated_at = $4 WHERE id = $1 AND status = 'queued'",
            )
            .bind(&id)
            .bind(worker)
            .bind(now + TRANSCRIPTION_LEASE_MS)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue; // another node took it between our SELECT and UPDATE
            }
            let row = sqlx::query(
                "SELECT id, call_id, recording_path, language, attempts FROM transcription_jobs WHERE id = $1",
            )
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Some(TranscriptionJob {
                id: row.try_get("id")?,
                call_id: row.try_get("call_id")?,
                recording_path: row.try_get("recording_path")?,
                language: row.try_get("language")?,
                attempts: row.try_get("attempts")?,
            }));
        }
        Ok(None)
    }

    /// Extends a running job's lease (workers call it while whisper runs on a long call), so
    /// [`Store::requeue_abandoned_transcriptions`] does not hand a live job to another node.
    /// False when `worker` no longer holds the job (its lease ran out and it was taken over).
    pub async fn renew_transcription_lease(
        &self,
        job_id: &str,
        worker: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE transcription_jobs SET lease_until = $3, updated_at = $4 WHERE {HELD_BY}"
        )))
        .bind(job_id)
        .bind(worker)
        .bind(now + TRANSCRIPTION_LEASE_MS)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The error for a worker reporting on a job it no longer holds.
    fn not_held(job_id: &str, worker: &str) -> StoreError {
        StoreError::NotFound(format!(
            "transcription job {job_id} running with worker {worker} (its lease ran out and another worker took it over, or it never existed)"
        ))
    }

    /// Stores a job's transcript and alerts, marks it done and, if any risk keyword was heard,
    /// puts the call's ticket on red alert (with an audit row), all in one transaction.
    /// Storing again (a retried job) replaces the earlier segments. Refused (`NotFound`)
    /// unless `worker` still holds the job.
    pub async fn finish_transcription(
        &self,
        job_id: &str,
        worker: &str,
        transcript: &NewTranscript,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let call_id: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT call_id FROM transcription_jobs WHERE {HELD_BY}"
        )))
        .bind(job_id)
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Self::not_held(job_id, worker))?;
        sqlx::query("DELETE FROM transcript_segments WHERE job_id = $1")
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        for (seq, s) in transcript.segments.iter().enumerate() {
            sqlx::query(
                "INSERT INTO transcript_segments (job_id, seq, start_ms, end_ms, speaker, text, redacted_text) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(job_id)
            .bind(seq as i64)
            .bind(s.start_ms)
            .bind(s.end_ms)
            .bind(s.speaker.as_str())
            .bind(&s.text)
            .bind(&s.redacted_text)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE transcription_jobs SET status = 'done', detected_language = $2, error = NULL, lease_until = NULL, finished_at = $3, updated_at = $3 WHERE id = $1",
        )
        .bind(job_id)
        .bind(&transcript.language)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if !transcript.alerts.is_empty() {
            raise_alerts(&mut tx, &call_id, &transcript.alerts, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt: the job is queued again while attempts remain, else marked
    /// failed with the error (shown in the console). Refused (`NotFound`) unless `worker`
    /// still holds the job.
    pub async fn fail_transcription(
        &self,
        job_id: &str,
        worker: &str,
        error: &str,
        now: i64,
    ) -> Result<TranscriptionStatus, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE transcription_jobs SET status = CASE WHEN attempts < $4 THEN 'queued' ELSE 'failed' END, error = $3, worker = NULL, lease_until = NULL, updated_at = $5 WHERE {HELD_BY}"
        )))
        .bind(job_id)
        .bind(worker)
        .bind(error)
        .bind(TRANSCRIPTION_MAX_ATTEMPTS)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Self::not_held(job_id, worker));
        }
        let status: TranscriptionStatus =
            sqlx::query_scalar::<_, String>("SELECT status FROM transcription_jobs WHERE id = $1")
                .bind(job_id)
                .fetch_one(&mut *tx)
                .await?
                .parse()?;
        tx.commit().await?;
        Ok(status)
    }

    /// Queues again the running jobs whose lease ran out (their worker's node died or hung
    /// without renewing it). Jobs that used up their attempts are marked failed instead.
    /// Returns how many changed.
    pub async fn requeue_abandoned_transcriptions(&self, now: i64) -> Result<u64, StoreError> {
        self.requeue_running(Running::LeaseEndedBefore(now), now)
            .await
    }

    /// Queues again every running job of the workers named `worker_prefix...`, lease or not:
    /// a node calls it at start-up with its own workers' prefix, since nothing of its own can
    /// still be running after a restart. Returns how many changed.
    pub async fn requeue_worker_transcriptions(
        &self,
        worker_prefix: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        self.requeue_running(Running::OfWorkers(worker_prefix), now)
            .await
    }

    /// [`REQUEUE_SQL`] for the running jobs `which` selects.
    async fn requeue_running(&self, which: Running<'_>, now: i64) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = match which {
            Running::LeaseEndedBefore(t) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{REQUEUE_SQL}lease_until < $3"
                )))
                .bind(TRANSCRIPTION_MAX_ATTEMPTS)
                .bind(now)
                .bind(t)
                .execute(&mut *tx)
                .await?
            }
            // an exact prefix, not LIKE: node names may contain `_`, a LIKE wildcard
            Running::OfWorkers(prefix) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{REQUEUE_SQL}substr(worker, 1, length($3)) = $3"
                )))
                .bind(TRANSCRIPTION_MAX_ATTEMPTS)
                .bind(now)
                .bind(prefix)
                .execute(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// The transcript of a call (or where its job is), `None` if none was queued.
    pub async fn transcript_of_call(
        &self,
        call_id: &str,
    ) -> Result<Option<Transcript>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT id, call_id, status, language, detected_language, attempts, error, created_at, finished_at FROM transcription_jobs WHERE call_id = $1",
        )
        .bind(call_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let job_id: String = row.try_get("id")?;
        let segments = sqlx::query(
            "SELECT start_ms, end_ms, speaker, text, redacted_text FROM transcript_segments WHERE job_id = $1 ORDER BY seq",
        )
        .bind(&job_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(TranscriptSegment {
                start_ms: r.try_get("start_ms")?,
                end_ms: r.try_get("end_ms")?,
                speaker: parse_col(r, "speaker")?,
                text: r.try_get("text")?,
                redacted_text: r.try_get("redacted_text")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let detected: Option<String> = row.try_get("detected_language")?;
        Ok(Some(Transcript {
            job_id,
            call_id: row.try_get("call_id")?,
            status: parse_col(&row, "status")?,
            language: detected.or(row.try_get("language")?),
            attempts: row.try_get("attempts")?,
            error: row.try_get("error")?,
            created_at: row.try_get("created_at")?,
            finished_at: row.try_get("finished_at")?,
            segments,
        }))
    }

    /// Alerts raised at or after `since` that nobody acknowledged yet, oldest first: the
    /// supervisors' red-alert list.
    pub async fn open_transcript_alerts(
        &self,
        since: i64,
    ) -> Result<Vec<TranscriptAlert>, StoreError> {
        sqlx::query(
            "SELECT id, call_id, ticket_id, keyword, speaker, offset_ms, excerpt, at FROM transcript_alerts WHERE at >= $1 AND acknowledged_at IS NULL ORDER BY at, id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(alert_from_row)
        .collect()
    }

    /// A supervisor has seen the alert: it leaves the open list (the ticket keeps its red
    /// alert until someone clears it on the ticket).
    pub async fn acknowledge_transcript_alert(
        &self,
        alert_id: &str,
        by: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE transcript_alerts SET acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1 AND acknowledged_at IS NULL",
        )
        .bind(alert_id)
        .bind(now)
        .bind(by)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("open alert {alert_id}")));
        }
        Ok(())
    }
}

fn alert_from_row(r: &AnyRow) -> Result<TranscriptAlert, StoreError> {
    Ok(TranscriptAlert {
        id: r.try_get("id")?,
        call_id: r.try_get("call_id")?,
        ticket_id: r.try_get("ticket_id")?,
        keyword: r.try_get("keyword")?,
        speaker: parse_col(r, "speaker")?,
        offset_ms: r.try_get("offset_ms")?,
        excerpt: r.try_get("excerpt")?,
        at: r.try_get("at")?,
    })
}

/// Inserts the alerts (replacing a retried job's earlier ones) and sets the ticket's red alert.
async fn raise_alerts(
    conn: &mut AnyConnection,
    call_id: &str,
    alerts: &[NewTranscriptAlert],
    now: i64,
) -> Result<(), StoreError> {
    let ticket_id: Option<String> =
        sqlx::query_scalar("SELECT ticket_id FROM ticket_calls WHERE call_id = $1")
            .bind(call_id)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query("DELETE FROM transcript_alerts WHERE call_id = $1")
        .bind(call_id)
        .execute(&mut *conn)
        .await?;
    for a in alerts {
        sqlx::query(
            "INSERT INTO transcript_alerts (id, call_id, ticket_id, keyword, speaker, offset_ms, excerpt, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(crate::new_id())
        .bind(call_id)
        .bind(&ticket_id)
        .bind(&a.keyword)
        .bind(a.speaker.as_str())
        .bind(a.offset_ms)
        .bind(&a.excerpt)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(ticket_id) = ticket_id {
        let mut t = tickets::lock(conn, &ticket_id, now).await?;
        if !t.red_alert {
            t.red_alert = true;
            tickets::save(conn, &t).await?;
            let keywords: Vec<&str> = alerts.iter().map(|a| a.keyword.as_str()).collect();
            let detail = serde_json::json!({ "from": false, "to": true, "call_id": call_id, "keywords": keywords });
            audit::record(conn, now, SYSTEM, "red_alert", "ticket", &t.id, detail).await?;
        }
    }
    Ok(())
}

//! Quality review: the queue of calls a supervisor should listen to, and the QA evaluations
//! they file. The queue is fed when a call is filed at hangup ([`Store::record_call_ended`]):
//! a random sample of answered calls (at least [`DEFAULT_SAMPLE_PERCENT`] % of each Beijing
//! day's answered calls, topped up when chance falls short), every call with
//! an "unsatisfied" survey answer, and, through [`Store::add_to_review_queue`], every call the
//! transcription side raises a red alert on.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{Store, StoreError, parse_col, text_enum};

/// The share of answered calls sampled into the review queue unless configured otherwise
/// (the 12348 practice asks for at least 5 %).
pub const DEFAULT_SAMPLE_PERCENT: u32 = 5;

text_enum! {
    /// Why a call is in the review queue.
    pub enum ReviewReason {
        /// Random sample of answered calls.
        Sample = "sample",
        /// A red alert was raised on the call (urgent keywords in the transcript).
        RedAlert = "red_alert",
        /// The caller answered "unsatisfied" in the survey.
        Unsatisfied = "unsatisfied",
    }
}

/// One call waiting for (or having had) its review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    /// The call.
    pub call_id: String,
    /// The ticket the call is on.
    pub ticket_id: Option<String>,
    /// Why it was queued.
    pub reason: ReviewReason,
    /// When (unix ms).
    pub added_at: i64,
    /// Whether a QA evaluation of the call exists.
    pub evaluated: bool,
    /// The call's region (for the supervisor's scope).
    pub region: Option<String>,
}

/// A stored QA evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QaEvaluation {
    /// Row id.
    pub id: String,
    /// The call evaluated.
    pub call_id: String,
    /// The ticket the call was on when evaluated.
    pub ticket_id: Option<String>,
    /// Who evaluated (console username).
    pub evaluator: String,
    /// The answers, a JSON object `{question id: score}`.
    pub answers: String,
    /// Free comment.
    pub comment: String,
    /// Weighted score in percent (0..=100).
    pub score: i64,
    /// When (unix ms).
    pub created_at: i64,
}

fn qa_from_row(r: &AnyRow) -> Result<QaEvaluation, StoreError> {
    Ok(QaEvaluation {
        id: r.try_get("id")?,
        call_id: r.try_get("call_id")?,
        ticket_id: r.try_get("ticket_id")?,
        evaluator: r.try_get("evaluator")?,
        answers: r.try_get("answers")?,
        comment: r.try_get("comment")?,
        score: r.try_get("score")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Queues a call inside the caller's transaction (once per call and reason).
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    call_id: &str,
    reason: ReviewReason,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO review_queue (call_id, reason, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(call_id)
    .bind(reason.as_str())
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A coin that comes up with probability `percent` %: random bits from the OS-seeded
/// hasher, like [`crate::new_id`].
fn coin(percent: u32) -> bool {
    use std::hash::{BuildHasher, Hasher, RandomState};
    let mut h = RandomState::new().build_hasher();
    h.write_i64(crate::unix_now_ms());
    (h.finish() % 100) < u64::from(percent.min(100))
}

/// Samples an answered call (already stored) into the review queue: at random with
/// probability `percent` %, and always when the Beijing day's samples have fallen below
/// `percent` % of its answered calls, so every day reaches the share whatever the dice do.
pub(crate) async fn sample_answered_call(
    conn: &mut AnyConnection,
    call_id: &str,
    percent: u32,
    now: i64,
) -> Result<(), StoreError> {
    if percent == 0 {
        return Ok(());
    }
    let day = crate::beijing_day_start(crate::beijing_day(now));
    let answered: i64 = sqlx::query(
        "SELECT COUNT(*) FROM calls WHERE arrived_at >= $1 AND answered_at IS NOT NULL",
    )
    .bind(day)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    let samples: i64 =
        sqlx::query("SELECT COUNT(*) FROM review_queue WHERE reason = 'sample' AND added_at >= $1")
            .bind(day)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
    if samples * 100 < answered * i64::from(percent) || coin(percent) {
        enqueue(conn, call_id, ReviewReason::Sample, now).await?;
    }
    Ok(())
}

const QA_COLUMNS: &str = "id, call_id, ticket_id, evaluator, answers, comment, score, created_at";

impl Store {
    /// The same store sampling `percent` % of answered calls into the review queue (default
    /// [`DEFAULT_SAMPLE_PERCENT`]; at most 100).
    pub fn with_review_sample_percent(mut self, percent: u32) -> Store {
        self.review_sample_percent = percent.min(100);
        self
    }

    /// Puts a call in the review queue (the transcription side calls it on a red alert).
    /// Queuing the same call for the same reason twice changes nothing.
    pub async fn add_to_review_queue(
        &self,
        call_id: &str,
        reason: ReviewReason,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let known = sqlx::query("SELECT id FROM calls WHERE id = $1")
            .bind(call_id)
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Err(StoreError::NotFound(format!("call {call_id}")));
        }
        enqueue(&mut tx, call_id, reason, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The review queue, newest first (calls with a transcript's risk-keyword alert count as
    /// queued for `red_alert` even if nobody called [`Store::add_to_review_queue`]), at most
    /// `limit` items; `pending_only` leaves out calls already evaluated.
    pub async fn review_queue(
        &self,
        pending_only: bool,
        limit: i64,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        self.review_queue_in(pending_only, None, limit).await
    }

    /// [`Store::review_queue`] of calls from `regions` only (`None` = any). The filters are in
    /// the query, before the limit, so a region-scoped supervisor gets their newest `limit`
    /// items however busy the other regions are.
    pub async fn review_queue_in(
        &self,
        pending_only: bool,
        regions: Option<&[String]>,
        limit: i64,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        let mut w = crate::listing::Where::new();
        if let Some(r) = regions {
            w.in_list("c.region", r);
        }
        if pending_only {
            w.and(
                "NOT EXISTS (SELECT 1 FROM qa_evaluations e WHERE e.call_id = q.call_id)",
                &[],
            );
        }
        let sql = format!(
            "SELECT q.call_id, q.reason, q.added_at, tc.ticket_id, c.region, \
             (SELECT COUNT(*) FROM qa_evaluations e WHERE e.call_id = q.call_id) AS evals \
             FROM (SELECT call_id, reason, added_at FROM review_queue \
                   UNION ALL \
                   SELECT a.call_id, 'red_alert' AS reason, MIN(a.at) AS added_at FROM transcript_alerts a \
                   WHERE NOT EXISTS (SELECT 1 FROM review_queue r WHERE r.call_id = a.call_id AND r.reason = 'red_alert') \
                   GROUP BY a.call_id) q \
             JOIN calls c ON c.id = q.call_id \
             LEFT JOIN ticket_calls tc ON tc.call_id = q.call_id{} \
             ORDER BY q.added_at DESC, q.call_id LIMIT {}",
            w.sql,
            limit.max(0)
        );
        let rows = w.bind(sql).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(ReviewItem {
                call_id: r.try_get("call_id")?,
                ticket_id: r.try_get("ticket_id")?,
                reason: parse_col(r, "reason")?,
                added_at: r.try_get("added_at")?,
                evaluated: r.try_get::<i64, _>("evals")? > 0,
                region: r.try_get("region")?,
            });
        }
        Ok(out)
    }

    /// Stores a QA evaluation of a call with the ticket the call is on. `score` is the
    /// weighted percentage the console computed from the configured form.
    pub async fn add_qa_evaluation(
        &self,
        call_id: &str,
        evaluator: &str,
        answers_json: &str,
        comment: &str,
        score: i64,
        now: i64,
    ) -> Result<QaEvaluation, StoreError> {
        if !(0..=100).contains(&score) {
            return Err(StoreError::Invalid(format!("score {score} (0 to 100)")));
        }
        let mut tx = self.begin_write().await?;
        let ticket = sqlx::query(
            "SELECT c.id, tc.ticket_id FROM calls c LEFT JOIN ticket_calls tc ON tc.call_id = c.id WHERE c.id = $1",
        )
        .bind(call_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("call {call_id}")))?;
        let e = QaEvaluation {
            id: crate::new_id(),
            call_id: call_id.to_owned(),
            ticket_id: ticket.try_get(1)?,
            evaluator: evaluator.to_owned(),
            answers: answers_json.to_owned(),
            comment: comment.to_owned(),
            score,
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO qa_evaluations (id, call_id, ticket_id, evaluator, answers, comment, score, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&e.id)
        .bind(&e.call_id)
        .bind(&e.ticket_id)
        .bind(&e.evaluator)
        .bind(&e.answers)
        .bind(&e.comment)
        .bind(e.score)
        .bind(e.created_at)
        .execute(&mut *tx)
        .await?;
        let detail = serde_json::json!({ "call_id": call_id, "score": score });
        if let Some(t) = &e.ticket_id {
            crate::audit::record(&mut tx, now, evaluator, "qa", "ticket", t, detail).await?;
        }
        tx.commit().await?;
        Ok(e)
    }

    /// The QA evaluations of a call, oldest first.
    pub async fn qa_of_call(&self, call_id: &str) -> Result<Vec<QaEvaluation>, StoreError> {
        let sql = format!(
            "SELECT {QA_COLUMNS} FROM qa_evaluations WHERE call_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(call_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(qa_from_row).collect()
    }

    /// The QA evaluations stored with a ticket, oldest first.
    pub async fn qa_of_ticket(&self, ticket_id: &str) -> Result<Vec<QaEvaluation>, StoreError> {
        let sql = format!(
            "SELECT {QA_COLUMNS} FROM qa_evaluations WHERE ticket_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ticket_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(qa_from_row).collect()
    }

    /// The risk-keyword alerts raised on a call, in recording order.
    pub async fn alerts_of_call(
        &self,
        call_id: &str,
    ) -> Result<Vec<crate::TranscriptAlert>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, call_id, ticket_id, keyword, speaker, offset_ms, excerpt, at FROM transcript_alerts WHERE call_id = $1 ORDER BY offset_ms, id",
        )
        .bind(call_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::TranscriptAlert {
                    id: r.try_get("id")?,
                    call_id: r.try_get("call_id")?,
                    ticket_id: r.try_get("ticket_id")?,
                    keyword: r.try_get("keyword")?,
                    speaker: parse_col(r, "speaker")?,
                    offset_ms: r.try_get("offset_ms")?,
                    excerpt: r.try_get("excerpt")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }
}

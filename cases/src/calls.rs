//! Call detail records. A call's row is written the moment it arrives, before any lawyer rings,
//! so a crash mid-call leaves a trace: at start-up [`Store::mark_cut_off_calls`] finds the
//! calls that never ended and closes them as cut off. At hangup [`Store::record_call_ended`]
//! completes the row and, in the same transaction, files the call on its ticket and creates
//! the follow-ups (callback, return visit after an unhappy survey answer).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::SYSTEM;
use crate::clock::HOUR_MS;
use crate::directory::{caller_key, touch_caller};
use crate::filing::{self, CallTicket, TicketLink};
use crate::review::{self, ReviewReason};
use crate::tasks::{self, NewTask, SUPERVISORS, TaskKind};
use crate::transcripts;
use crate::{Category, Store, StoreError, parse_opt_col, text_enum};

text_enum! {
    /// The caller's answer to the satisfaction survey.
    pub enum SurveyValue {
        /// 满意.
        Satisfied = "satisfied",
        /// 基本满意.
        BasicallySatisfied = "basically_satisfied",
        /// 不满意: a supervisor calls the caller back (return-visit task).
        Unsatisfied = "unsatisfied",
    }
}

/// What the store keeps of a finished call: the app fills it from the IVR's `CallSummary`,
/// the router's recording path and the call's IVR events. Times are unix ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEnd {
    /// The call's id (SIP Call-ID).
    pub call_id: String,
    /// The caller's number as signalled.
    pub caller: String,
    /// When the call arrived (used if the start was never recorded).
    pub arrived_at: i64,
    /// When a lawyer answered.
    pub answered_at: Option<i64>,
    /// When the call ended.
    pub ended_at: i64,
    /// The language the call ended in (`zh`, `en`).
    pub language: Option<String>,
    /// The category the caller chose (see [`Category::from_ivr`]); `None` files as `other`.
    pub category: Option<Category>,
    /// The caller's region.
    pub region: Option<String>,
    /// The lawyer the caller talked to.
    pub lawyer_id: Option<String>,
    /// Seconds from entering the route to the lawyer answering.
    pub queue_wait_secs: Option<i64>,
    /// How many times the call overflowed up the hierarchy.
    pub overflow_steps: i64,
    /// The IVR's disposition (`answered`, `voicemail`, `callback`, `abandoned`,
    /// `after_hours`, `no_lawyer`).
    pub disposition: String,
    /// The call's IVR events as a JSON array (its path through the dialplan).
    pub ivr_path: String,
    /// The conversation's recording.
    pub recording_path: Option<String>,
    /// The caller's recorded message.
    pub message_path: Option<String>,
    /// The caller asked to be called back.
    pub callback: bool,
    /// The survey answer.
    pub survey: Option<SurveyValue>,
}

/// What [`Store::record_call_ended`] filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFiled {
    /// The ticket the call is on.
    pub ticket: TicketLink,
    /// The callback task created (callback request or message).
    pub callback_task: Option<String>,
    /// The return-visit task created (an "unsatisfied" answer).
    pub return_visit_task: Option<String>,
}

/// A call as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// SIP Call-ID.
    pub id: String,
    /// The hotline node that handled it.
    pub node: String,
    /// The caller's number as signalled.
    pub caller: String,
    /// Region.
    pub region: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// Category.
    pub category: Option<Category>,
    /// Arrived (unix ms).
    pub arrived_at: i64,
    /// Answered by a lawyer (unix ms).
    pub answered_at: Option<i64>,
    /// Ended (unix ms); `None` while in progress.
    pub ended_at: Option<i64>,
    /// IVR events, JSON.
    pub ivr_path: Option<String>,
    /// Queue wait in seconds.
    pub queue_wait_secs: Option<i64>,
    /// Overflow steps.
    pub overflow_steps: i64,
    /// Disposition (`cut_off` for calls a crash ended).
    pub disposition: Option<String>,
    /// Recording.
    pub recording_path: Option<String>,
    /// Voicemail message.
    pub message_path: Option<String>,
    /// The lawyer.
    pub lawyer_id: Option<String>,
    /// The caller asked for a callback.
    pub callback: bool,
    /// The call was in progress when its node stopped.
    pub cut_off: bool,
}

/// The columns [`from_row`] reads, in `SELECT` form.
macro_rules! call_columns {
    () => {
        "id, node, caller, region, language, category, arrived_at, answered_at, ended_at, ivr_path, queue_wait_secs, overflow_steps, disposition, recording_path, message_path, lawyer_id, callback, cut_off"
    };
}
pub(crate) use call_columns;

/// Reads a call row selected with [`call_columns`].
pub(crate) fn from_row(r: &AnyRow) -> Result<CallRecord, StoreError> {
    Ok(CallRecord {
        id: r.try_get("id")?,
        node: r.try_get("node")?,
        caller: r.try_get("caller")?,
        region: r.try_get("region")?,
        language: r.try_get("language")?,
        category: parse_opt_col(r, "category")?,
        arrived_at: r.try_get("arrived_at")?,
        answered_at: r.try_get("answered_at")?,
        ended_at: r.try_get("ended_at")?,
        ivr_path: r.try_get("ivr_path")?,
        queue_wait_secs: r.try_get("queue_wait_secs")?,
        overflow_steps: r.try_get("overflow_steps")?,
        disposition: r.try_get("disposition")?,
        recording_path: r.try_get("recording_path")?,
        message_path: r.try_get("message_path")?,
        lawyer_id: r.try_get("lawyer_id")?,
        callback: r.try_get::<i64, _>("callback")? != 0,
        cut_off: r.try_get::<i64, _>("cut_off")? != 0,
    })
}

impl Store {
    /// Writes the call's row when it arrives, before anything rings (committed on return), so
    /// a crash mid-call loses nothing. Idempotent (a retransmitted INVITE changes nothing).
    pub async fn record_call_started(
        &self,
        call_id: &str,
        caller: &str,
        arrived_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(number) = caller_key(caller) {
            touch_caller(&mut tx, number, None, arrived_at).await?;
        }
        sqlx::query(
            "INSERT INTO calls (id, node, caller, arrived_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(call_id)
        .bind(&self.node)
        .bind(caller)
        .bind(arrived_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Completes the call's row at hangup and, in the same transaction, files it on a ticket
    /// (joining the caller's open ticket or creating one, `other` without a category), creates
    /// a callback task due in 1 h if the caller asked for one or left a message, and records
    /// the survey answer (an "unsatisfied" one makes a return-visit task for the supervisors).
    /// Safe to retry: the follow-ups are created once per call.
    pub async fn record_call_ended(&self, end: &CallEnd) -> Result<CallFiled, StoreError> {
        let mut attempt = 0;
        loop {
            let mut tx = self.begin_write().await?;
            match end_call(&mut tx, &self.node, self.review_sample_percent, end).await {
                Ok(filed) => {
                    tx.commit().await?;
                    return Ok(filed);
                }
                Err(e) if e.is_unique_violation() && attempt < 3 => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Start-up repair: every call of this node ([`Store::with_node`]) still without an end
    /// was in progress when the node stopped. Each is ended at `now` with disposition
    /// `cut_off`, filed on a ticket like any ended call, and, when the number is known, gets a
    /// callback task due in 1 h (the caller was dropped by us). Returns the calls marked.
    pub async fn mark_cut_off_calls(&self, now: i64) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, caller, category, region, lawyer_id FROM calls WHERE node = $1 AND ended_at IS NULL ORDER BY arrived_at",
        )
        .bind(&self.node)
        .fetch_all(&mut *tx)
        .await?;
        let mut marked = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("id")?;
            let caller: String = r.try_get("caller")?;
            let category = parse_opt_col(r, "category")?;
            let region: Option<String> = r.try_get("region")?;
            let lawyer_id: Option<String> = r.try_get("lawyer_id")?;
            sqlx::query(
                "UPDATE calls SET ended_at = $2, disposition = 'cut_off', cut_off = 1 WHERE id = $1",
            )
            .bind(&id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let call = CallTicket {
                call_id: &id,
                caller: &caller,
                category,
                region: region.as_deref(),
                lawyer_id: lawyer_id.as_deref(),
                at: now,
            };
            let link = filing::file_call(&mut tx, &self.node, &call).await?;
            if let Some(number) = caller_key(&caller) {
                let task = NewTask {
                    kind: TaskKind::Callback,
                    reason: "cut_off".into(),
                    ticket_id: Some(link.ticket_id),
                    caller: Some(number.to_owned()),
                    call_id: Some(id.clone()),
                    due_at: now + HOUR_MS,
                    assigned_to: None,
                };
                tasks::insert(&mut tx, &task, SYSTEM, now).await?;
            }
            marked.push(id);
        }
        tx.commit().await?;
        Ok(marked)
    }

    /// Records a survey answer given outside [`Store::record_call_ended`] (one per call; a
    /// repeat is ignored). Returns the return-visit task an "unsatisfied" answer created.
    pub async fn record_survey(
        &self,
        call_id: &str,
        value: SurveyValue,
        at: i64,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let task = survey(&mut tx, call_id, value, at).await?;
        tx.commit().await?;
        Ok(task)
    }

    /// A call by id.
    pub async fn call(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            call_columns!(),
            " FROM calls WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Calls that arrived in `[from, to)`, oldest first: the call log and the statistics.
    pub async fn calls_arrived_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<CallRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            call_columns!(),
            " FROM calls WHERE arrived_at >= $1 AND arrived_at < $2 ORDER BY arrived_at, id"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The calls filed on a ticket, oldest first, with their recordings and waits.
    pub async fn calls_of_ticket(&self, ticket_id: &str) -> Result<Vec<CallRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            call_columns!(),
            " FROM calls WHERE id IN (SELECT call_id FROM ticket_calls WHERE ticket_id = $1) ORDER BY arrived_at, id"
        ))
        .bind(ticket_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The survey answer of a call and when it was given.
    pub async fn survey_result(
        &self,
        call_id: &str,
    ) -> Result<Option<(SurveyValue, i64)>, StoreError> {
        let row = sqlx::query("SELECT value, at FROM survey_results WHERE call_id = $1")
            .bind(call_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get::<String, _>(0)?.parse()?, r.try_get(1)?)))
            .transpose()
    }
}

/// [`Store::record_call_ended`] inside its transaction.
async fn end_call(
    conn: &mut AnyConnection,
    node: &str,
    sample_percent: u32,
    end: &CallEnd,
) -> Result<CallFiled, StoreError> {
    if let Some(number) = caller_key(&end.caller) {
        touch_caller(conn, number, end.region.as_deref(), end.arrived_at).await?;
    }
    sqlx::query(
        "INSERT INTO calls (id, node, caller, region, language, category, arrived_at, answered_at, ended_at, ivr_path, queue_wait_secs, overflow_steps, disposition, recording_path, message_path, lawyer_id, callback, cut_off) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0) \
         ON CONFLICT (id) DO UPDATE SET region = excluded.region, language = excluded.language, category = excluded.category, \
         answered_at = excluded.answered_at, ended_at = excluded.ended_at, ivr_path = excluded.ivr_path, \
         queue_wait_secs = excluded.queue_wait_secs, overflow_steps = excluded.overflow_steps, disposition = excluded.disposition, \
         recording_path = excluded.recording_path, message_path = excluded.message_path, lawyer_id = excluded.lawyer_id, \
         callback = excluded.callback, cut_off = 0",
    )
    .bind(&end.call_id)
    .bind(node)
    .bind(&end.caller)
    .bind(&end.region)
    .bind(&end.language)
    .bind(end.category.map(|c| c.as_str()))
    .bind(end.arrived_at)
    .bind(end.answered_at)
    .bind(end.ended_at)
    .bind(&end.ivr_path)
    .bind(end.queue_wait_secs)
    .bind(end.overflow_steps)
    .bind(&end.disposition)
    .bind(&end.recording_path)
    .bind(&end.message_path)
    .bind(&end.lawyer_id)
    .bind(i64::from(end.callback))
    .execute(&mut *conn)
    .await?;

    let call = CallTicket {
        call_id: &end.call_id,
        caller: &end.caller,
        category: end.category,
        region: end.region.as_deref(),
        lawyer_id: end.lawyer_id.as_deref(),
        at: end.ended_at,
    };
    let ticket = filing::file_call(conn, node, &call).await?;
    if let Some(path) = &end.recording_path {
        transcripts::insert_job(
            conn,
            &end.call_id,
            path,
            end.language.as_deref(),
            end.ended_at,
        )
        .await?;
    }
    if end.answered_at.is_some() {
        review::sample_answered_call(conn, &end.call_id, sample_percent, end.ended_at).await?;
    }

    let wants_callback = end.callback
        || end.message_path.is_some()
        || matches!(end.disposition.as_str(), "callback" | "voicemail");
    let callback_task = if wants_callback {
        let task = NewTask {
            kind: TaskKind::Callback,
            reason: if end.callback {
                "callback_request"
            } else {
                "voicemail"
            }
            .into(),
            ticket_id: Some(ticket.ticket_id.clone()),
            caller: caller_key(&end.caller).map(str::to_owned),
            call_id: Some(end.call_id.clone()),
            due_at: end.ended_at + HOUR_MS,
            assigned_to: None,
        };
        tasks::insert(conn, &task, SYSTEM, end.ended_at).await?
    } else {
        None
    };
    let return_visit_task = match end.survey {
        Some(value) => survey(conn, &end.call_id, value, end.ended_at).await?,
        None => None,
    };
    Ok(CallFiled {
        ticket,
        callback_task,
        return_visit_task,
    })
}

/// Stores a survey answer once; an "unsatisfied" one creates a return-visit task for the
/// supervisors, due in 1 h, on the call's ticket.
async fn survey(
    conn: &mut AnyConnection,
    call_id: &str,
    value: SurveyValue,
    at: i64,
) -> Result<Option<String>, StoreError> {
    let done = sqlx::query(
        "INSERT INTO survey_results (call_id, value, at) VALUES ($1, $2, $3) ON CONFLICT (call_id) DO NOTHING",
    )
    .bind(call_id)
    .bind(value.as_str())
    .bind(at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 || value != SurveyValue::Unsatisfied {
        return Ok(None);
    }
    review::enqueue(conn, call_id, ReviewReason::Unsatisfied, at).await?;
    let row = sqlx::query(
        "SELECT c.caller, tc.ticket_id FROM calls c LEFT JOIN ticket_calls tc ON tc.call_id = c.id WHERE c.id = $1",
    )
    .bind(call_id)
    .fetch_one(&mut *conn)
    .await?;
    let caller: String = row.try_get(0)?;
    let task = NewTask {
        kind: TaskKind::ReturnVisit,
        reason: "unsatisfied_survey".into(),
        ticket_id: row.try_get(1)?,
        caller: caller_key(&caller).map(str::to_owned),
        call_id: Some(call_id.to_owned()),
        due_at: at + HOUR_MS,
        assigned_to: Some(SUPERVISORS.into()),
    };
    tasks::insert(conn, &task, SYSTEM, at).await
}

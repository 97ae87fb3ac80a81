//! Tickets, calls (with the recording, served with HTTP Range) and tasks, as each role may see
//! them: a lawyer their own, a supervisor their region scope, an admin everything.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hotline_cases::{
    CallFilter, CallRecord, Category, Role, StoreError, Ticket, TicketFilter, TicketStatus,
    unix_now_ms,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::AppState;
use crate::auth::Auth;
use crate::board::{in_scope, region_scope};
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::json;

/// `GET /api/tickets` query.
#[derive(Deserialize)]
pub struct TicketQuery {
    status: Option<String>,
    caller: Option<String>,
    mine: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /api/tickets`.
pub async fn list_tickets(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<TicketQuery>,
) -> ApiResult<Json<Value>> {
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        s.parse::<TicketStatus>()?;
    }
    let mut f = TicketFilter {
        status: q.status.filter(|s| !s.is_empty()),
        caller: q.caller.filter(|s| !s.is_empty()),
        limit: q.limit.unwrap_or(100),
        offset: q.offset.unwrap_or(0),
        ..Default::default()
    };
    if auth.role() == Role::Lawyer
        || q.mine.as_deref() == Some("1") && auth.user.lawyer_id.is_some()
    {
        f.lawyer = Some(auth.lawyer_id()?.to_owned());
    }
    if auth.role() != Role::Lawyer {
        f.regions = region_scope(&auth, &state.center.plan());
    }
    let list = state.store.list_tickets(&f).await?;
    Ok(Json(
        json!({ "tickets": list.iter().map(json::ticket).collect::<Vec<_>>() }),
    ))
}

/// Loads a ticket and checks the user may see it.
async fn visible_ticket(state: &AppState, auth: &Auth, id: &str) -> ApiResult<Ticket> {
    let t = state
        .store
        .ticket(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("ticket {id} not found")))?;
    let ok = match auth.role() {
        Role::Lawyer => {
            let me = auth.lawyer_id()?;
            let current = match current_call(state, me) {
                Some(call) => state.store.ticket_id_of_call(&call).await?,
                None => None,
            };
            t.lawyer_id.as_deref() == Some(me)
                || current.as_deref() == Some(t.id.as_str())
                || state
                    .store
                    .calls_of_ticket(&t.id)
                    .await?
                    .iter()
                    .any(|c| c.lawyer_id.as_deref() == Some(me))
        }
        _ => in_scope(
            &region_scope(auth, &state.center.plan()),
            t.region.as_deref(),
        ),
    };
    if ok {
        Ok(t)
    } else {
        Err(ApiError::Forbidden(
            "this ticket is not yours to see".into(),
        ))
    }
}

/// `GET /api/tickets/{id}`.
pub async fn get_ticket(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = visible_ticket(&state, &auth, &id).await?;
    let mut body = json::ticket(&t);
    let mut calls = Vec::new();
    for c in state.store.calls_of_ticket(&t.id).await? {
        let survey = state
            .store
            .survey_result(&c.id)
            .await?
            .map(|s| s.0.as_str());
        calls.push(json::call(&c, Some(&t.id), survey));
    }
    body["calls"] = calls.into();
    body["tasks"] = state
        .store
        .tasks_of_ticket(&t.id)
        .await?
        .iter()
        .map(json::task)
        .collect();
    body["qa"] = if auth.is_supervisor() {
        state
            .store
            .qa_of_ticket(&t.id)
            .await?
            .iter()
            .map(json::qa)
            .collect()
    } else {
        Value::Array(vec![])
    };
    Ok(Json(body))
}

/// `PATCH /api/tickets/{id}` body.
#[derive(Deserialize)]
pub struct TicketPatch {
    category: Option<String>,
    note: Option<String>,
    outcome: Option<String>,
    status: Option<String>,
}

/// The wrap-up (outcome) codes a ticket may carry. The web console offers exactly these
/// (`OUTCOMES` in `web/pages/desk.js`; a test keeps the two lists equal), and the server
/// refuses anything else so the statistics see only known codes.
pub const OUTCOMES: &[&str] = &[
    "resolved",
    "referred",
    "legal_aid",
    "mediation",
    "callback",
    "complaint",
    "other",
];

/// Longest note one PATCH may append, in characters: notes are appended to the ticket and
/// shown to everyone who opens it, so a pasted document does not belong there.
pub const MAX_NOTE_CHARS: usize = 4000;

/// `PATCH /api/tickets/{id}`: each field given is applied in turn (category, note, outcome,
/// status), each audited under the user's name. Every field (and the status transition) is
/// checked before the first write, so a refused request changes nothing.
pub async fn patch_ticket(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(p): ApiJson<TicketPatch>,
) -> ApiResult<Json<Value>> {
    let mut t = visible_ticket(&state, &auth, &id).await?;
    let actor = auth.user.username.clone();
    let now = unix_now_ms();
    let status = p
        .status
        .as_deref()
        .map(str::parse::<TicketStatus>)
        .transpose()?
        .filter(|s| *s != t.status);
    let category = p
        .category
        .as_deref()
        .map(str::parse::<Category>)
        .transpose()?
        .filter(|c| *c != t.category);
    let note = p.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(ApiError::BadRequest(format!(
            "note is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    let outcome = p
        .outcome
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty());
    if let Some(o) = outcome.filter(|o| !OUTCOMES.contains(o)) {
        return Err(ApiError::BadRequest(format!(
            "unknown outcome {o:?}; expected one of {}",
            OUTCOMES.join(", ")
        )));
    }
    if let Some(s) = status {
        // Closing follows the supervisors' return visit; a lawyer resolves, they close.
        if s == TicketStatus::Closed && auth.role() == Role::Lawyer {
            return Err(ApiError::Forbidden(
                "only a supervisor closes a ticket, after the return visit".into(),
            ));
        }
        if !t.status.can_become(s) {
            return Err(StoreError::InvalidTransition {
                from: t.status.to_string(),
                to: s.to_string(),
            }
            .into());
        }
    }
    if let Some(c) = category {
        // A lawyer's correction is not the supervisor's review: it must not meet the review
        // deadline or be audited as `reviewed` under the lawyer.
        t = if auth.role() == Role::Lawyer {
            state.store.set_ticket_category(&id, c, &actor, now).await?
        } else {
            state.store.review_ticket(&id, Some(c), &actor, now).await?
        };
    }
    if let Some(n) = note {
        t = state.store.add_ticket_note(&id, &actor, n, now).await?;
    }
    if let Some(o) = outcome {
        t = state.store.set_ticket_outcome(&id, o, &actor, now).await?;
    }
    if let Some(s) = status {
        t = state.store.set_ticket_status(&id, s, &actor, now).await?;
    }
    Ok(Json(json::ticket(&t)))
}

/// `POST /api/tickets/{id}/assign` body.
#[derive(Deserialize)]
pub struct AssignTicket {
    lawyer_id: String,
}

/// `POST /api/tickets/{id}/assign`.
pub async fn assign_ticket(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AssignTicket>,
) -> ApiResult<Json<Value>> {
    visible_ticket(&state, &auth, &id).await?;
    let lawyer = hotline_ivr::LawyerId::new(b.lawyer_id.trim());
    if state.center.plan().roster.lawyer(&lawyer).is_none() {
        return Err(ApiError::BadRequest(format!(
            "no lawyer {lawyer} on the roster"
        )));
    }
    let t = state
        .store
        .assign_ticket(&id, lawyer.as_str(), &auth.user.username, unix_now_ms())
        .await?;
    Ok(Json(json::ticket(&t)))
}

/// `POST /api/tickets/{id}/review`.
pub async fn review_ticket(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    visible_ticket(&state, &auth, &id).await?;
    let t = state
        .store
        .review_ticket(&id, None, &auth.user.username, unix_now_ms())
        .await?;
    Ok(Json(json::ticket(&t)))
}

/// `GET /api/calls` query.
#[derive(Deserialize)]
pub struct CallQuery {
    from: Option<i64>,
    to: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/calls`: by default the last 7 days.
pub async fn list_calls(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CallQuery>,
) -> ApiResult<Json<Value>> {
    let now = unix_now_ms();
    let mut f = CallFilter {
        from: q.from.unwrap_or(now - 7 * 86_400_000),
        to: q.to.unwrap_or(now + 60_000),
        limit: q.limit.unwrap_or(200),
        ..Default::default()
    };
    if auth.role() == Role::Lawyer {
        f.lawyer = Some(auth.lawyer_id()?.to_owned());
    } else {
        f.regions = region_scope(&auth, &state.center.plan());
    }
    let mut out = Vec::new();
    for c in state.store.list_calls(&f).await? {
        let ticket = state.store.ticket_id_of_call(&c.id).await?;
        out.push(json::call(&c, ticket.as_deref(), None));
    }
    Ok(Json(json!({ "calls": out })))
}

/// The call a lawyer is being rung for or talking on right now (the ACD board's record): they
/// may see it and its ticket before the call is filed under their name at hangup.
fn current_call(state: &AppState, lawyer: &str) -> Option<String> {
    state
        .center
        .board()
        .lawyers
        .get(&hotline_ivr::LawyerId::new(lawyer))
        .and_then(|e| e.call.clone())
}

/// Loads a call and checks the user may see it.
pub async fn visible_call(state: &AppState, auth: &Auth, id: &str) -> ApiResult<CallRecord> {
    let c = state
        .store
        .call(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("call {id} not found")))?;
    let ok = match auth.role() {
        Role::Lawyer => {
            let me = auth.lawyer_id()?;
            c.lawyer_id.as_deref() == Some(me) || current_call(state, me).as_deref() == Some(id)
        }
        _ => in_scope(
            &region_scope(auth, &state.center.plan()),
            c.region.as_deref(),
        ),
    };
    if ok {
        Ok(c)
    } else {
        Err(ApiError::Forbidden("this call is not yours to see".into()))
    }
}

/// `GET /api/calls/{id}`.
pub async fn get_call(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let c = visible_call(&state, &auth, &id).await?;
    let ticket = state.store.ticket_id_of_call(&c.id).await?;
    let survey = state
        .store
        .survey_result(&c.id)
        .await?
        .map(|s| s.0.as_str());
    Ok(Json(json::call(&c, ticket.as_deref(), survey)))
}

/// `GET /api/calls/{id}/recording`: the WAV, whole or the byte range asked for.
pub async fn recording(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let c = visible_call(&state, &auth, &id).await?;
    let path = c
        .recording_path
        .ok_or_else(|| ApiError::NotFound("this call has no recording".into()))?;
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| ApiError::NotFound("the recording file is missing".into()))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .len();
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let base = |status| {
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "audio/wav")
            .header(header::ACCEPT_RANGES, "bytes")
            .header(header::CACHE_CONTROL, "private, no-store")
    };
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, len.saturating_sub(1)),
        Some(r) => match parse_range(r, len) {
            Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end),
            None => {
                return Ok((
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{len}"))],
                )
                    .into_response());
            }
        },
    };
    let count = if len == 0 { 0 } else { end - start + 1 };
    file.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut builder = base(status).header(header::CONTENT_LENGTH, count);
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
    }
    builder
        .body(Body::from_stream(file_chunks(file.take(count))))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// A file's bytes as a stream of 64 KiB chunks (a long recording is never read whole).
fn file_chunks(
    reader: tokio::io::Take<tokio::fs::File>,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send {
    futures_util::stream::try_unfold(reader, |mut r| async move {
        let mut buf = vec![0u8; 64 * 1024];
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((buf, r)))
    })
}

/// Parses a single `bytes=` range into inclusive offsets within `len`.
pub fn parse_range(h: &str, len: u64) -> Option<(u64, u64)> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            len - 1
        } else {
            b.parse::<u64>().ok()?.min(len - 1)
        };
        (start, end)
    };
    (start <= end && start < len).then_some((start, end))
}

/// `GET /api/calls/{id}/transcript`: where the call's transcription is and, once done, the
/// dialogue and its risk-keyword alerts. Lawyers get the PII-redacted text; supervisors and
/// admins the original.
pub async fn transcript(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let c = visible_call(&state, &auth, &id).await?;
    let Some(t) = state.store.transcript_of_call(&c.id).await? else {
        return Ok(Json(json!({
            "status": "none", "language": c.language, "segments": [], "alerts": [],
        })));
    };
    let redact = !auth.is_supervisor();
    let segments: Vec<Value> = t
        .segments
        .iter()
        .map(|s| {
            json!({ "start_ms": s.start_ms, "end_ms": s.end_ms, "speaker": s.speaker.as_str(),
                    "text": if redact { &s.redacted_text } else { &s.text } })
        })
        .collect();
    let alerts: Vec<Value> = state
        .store
        .alerts_of_call(&c.id)
        .await?
        .iter()
        .map(|a| {
            json!({ "id": a.id, "keyword": a.keyword, "speaker": a.speaker.as_str(),
                    "offset_ms": a.offset_ms, "excerpt": a.excerpt, "at": a.at })
        })
        .collect();
    Ok(Json(json!({
        "status": t.status.as_str(), "language": t.language, "error": t.error,
        "segments": segments, "alerts": alerts,
    })))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn byte_ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(parse_range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=990-2000", 1000), Some((990, 999)));
        assert_eq!(parse_range("bytes=1000-", 1000), None);
        assert_eq!(parse_range("bytes=5-1", 1000), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
    }
}

//! The lawyer's desk (their ACD state and buttons), the supervisors' wallboard, the lawyers
//! list and the regions, all from the live ACD board plus today's figures from the store.
//! Also the region scope of a supervisor, used by every scoped route.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use hotline_cases::{Role, unix_now_ms};
use hotline_ivr::events::Line;
use hotline_ivr::{Dialplan, LawyerEvent, LawyerId, LawyerState, RegionId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiResult};

/// The regions a user may see: `None` = all (admins, unscoped supervisors); a supervisor
/// gets their region and every region below it in the hierarchy.
pub fn region_scope(auth: &Auth, plan: &Dialplan) -> Option<Vec<String>> {
    if auth.role() == Role::Admin || auth.user.region.is_empty() {
        return None;
    }
    let root = RegionId::new(auth.user.region.clone());
    let mut out = vec![root.clone()];
    let mut i = 0;
    while i < out.len() {
        let next: Vec<RegionId> = plan
            .hierarchy
            .children(&out[i])
            .map(|r| r.id.clone())
            .collect();
        for n in next {
            if !out.contains(&n) {
                out.push(n);
            }
        }
        i += 1;
    }
    Some(out.into_iter().map(|r| r.to_string()).collect())
}

/// Whether `region` is inside `scope` (`None` scope = everything).
pub fn in_scope(scope: &Option<Vec<String>>, region: Option<&str>) -> bool {
    match scope {
        None => true,
        Some(list) => region.is_some_and(|r| list.iter().any(|s| s == r)),
    }
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// The contract's state name and its `since` / `until`.
pub fn state_fields(s: &LawyerState) -> (&'static str, Option<i64>, Option<i64>) {
    match s {
        LawyerState::LoggedOut => ("logged_out", None, None),
        LawyerState::Ready { since } => ("ready", Some(ms(*since)), None),
        LawyerState::Ringing { since, .. } => ("ringing", Some(ms(*since)), None),
        LawyerState::Busy { since } => ("busy", Some(ms(*since)), None),
        LawyerState::AfterCallWork { until } => ("after_call_work", None, Some(ms(*until))),
        LawyerState::NotReady { since, .. } => ("not_ready", Some(ms(*since)), None),
    }
}

/// `GET /api/desk` body.
#[derive(Serialize)]
pub struct DeskBody {
    lawyer_id: String,
    name: String,
    state: &'static str,
    since: Option<i64>,
    until: Option<i64>,
    /// Whether the lawyer's phone is registered (only registered phones are rung).
    registered: bool,
}

fn desk_body(state: &AppState, lawyer: &str) -> DeskBody {
    let board = state.center.board();
    let id = LawyerId::new(lawyer);
    let entry = board.lawyers.get(&id);
    let s = entry.map_or(LawyerState::LoggedOut, |e| e.state);
    let (name, since, until) = state_fields(&s);
    let plan = state.center.plan();
    DeskBody {
        lawyer_id: lawyer.to_owned(),
        name: plan
            .roster
            .lawyer(&id)
            .map(|l| l.name.clone())
            .unwrap_or_default(),
        state: name,
        since,
        until,
        registered: entry.is_some_and(|e| e.registered),
    }
}

/// `GET /api/desk`.
pub async fn desk(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<DeskBody>> {
    Ok(Json(desk_body(&state, auth.lawyer_id()?)))
}

/// `POST /api/desk/state` body.
#[derive(Deserialize)]
pub struct SetState {
    state: String,
}

/// `POST /api/desk/state`: the lawyer's buttons. After-call work starts by itself when a call
/// ends (the dialplan's wrap-up time); asking for it otherwise is a conflict.
pub async fn set_desk_state(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<SetState>,
) -> ApiResult<Json<DeskBody>> {
    let lawyer = auth.lawyer_id()?.to_owned();
    let id = LawyerId::new(lawyer.clone());
    if state.center.plan().roster.lawyer(&id).is_none() {
        return Err(ApiError::Conflict(format!(
            "lawyer {lawyer} is not on the roster"
        )));
    }
    let current = state
        .center
        .board()
        .lawyers
        .get(&id)
        .map_or(LawyerState::LoggedOut, |e| e.state);
    let logged_out = current == LawyerState::LoggedOut;
    let events: Vec<LawyerEvent> = match body.state.as_str() {
        "ready" if logged_out => vec![LawyerEvent::Login],
        "ready" => vec![LawyerEvent::SetReady],
        "not_ready" if logged_out => vec![LawyerEvent::Login, LawyerEvent::SetNotReady],
        "not_ready" => vec![LawyerEvent::SetNotReady],
        "logged_out" => vec![LawyerEvent::Logout],
        "after_call_work" if matches!(current, LawyerState::AfterCallWork { .. }) => vec![],
        "after_call_work" => {
            return Err(ApiError::Conflict(
                "after-call work starts when a call ends".into(),
            ));
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "unknown state {other:?} (ready, not_ready, after_call_work, logged_out)"
            )));
        }
    };
    for e in events {
        state
            .center
            .lawyer_event(&id, e)
            .map_err(ApiError::Conflict)?;
    }
    Ok(Json(desk_body(&state, &lawyer)))
}

/// `GET /api/lawyers`.
pub async fn lawyers(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let plan = state.center.plan();
    let board = state.center.board();
    let scope = region_scope(&auth, &plan);
    let mut out = Vec::new();
    for l in plan.roster.lawyers() {
        let mut regions: Vec<String> = plan
            .roster
            .shifts()
            .iter()
            .filter(|s| s.lawyer == l.id)
            .map(|s| s.region.to_string())
            .collect();
        regions.sort();
        regions.dedup();
        if scope.is_some() && !regions.iter().any(|r| in_scope(&scope, Some(r))) {
            continue;
        }
        let entry = board.lawyers.get(&l.id);
        let st = entry.map_or(LawyerState::LoggedOut, |e| e.state);
        let (name, since, until) = state_fields(&st);
        out.push(json!({
            "id": l.id.to_string(), "name": l.name, "sip": l.sip, "regions": regions,
            "skills": l.skills.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "languages": l.languages.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "registered": entry.is_some_and(|e| e.registered),
            "state": name, "since": since, "until": until,
        }));
    }
    Ok(Json(json!({ "lawyers": out })))
}

/// `GET /api/regions`.
pub async fn regions(State(state): State<AppState>) -> Json<Value> {
    let plan = state.center.plan();
    let list: Vec<Value> = plan
        .hierarchy
        .regions()
        .map(|r| {
            json!({ "id": r.id.to_string(), "level": r.level.as_str(),
                    "parent": r.parent.as_ref().map(ToString::to_string), "zh": r.zh, "en": r.en })
        })
        .collect();
    Json(json!({ "regions": list }))
}

/// The wallboard body for a user's scope (also pushed over the WebSocket).
pub async fn wallboard_body(state: &AppState, auth: &Auth) -> ApiResult<Value> {
    let plan = state.center.plan();
    let board = state.center.board();
    let scope = region_scope(auth, &plan);
    let now = unix_now_ms();
    let mut waiting: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut longest = 0;
    for w in &board.waiting {
        let key = match &w.line {
            Line::Region(r) => r.to_string(),
            Line::Queue(q) => format!("queue:{q}"),
        };
        if let Line::Region(r) = &w.line
            && !in_scope(&scope, Some(r.as_str()))
        {
            continue;
        }
        let secs = ((now - ms(w.since)) / 1000).max(0);
        longest = longest.max(secs);
        let e = waiting.entry(key).or_default();
        e.0 += 1;
        e.1 = e.1.max(secs);
    }
    let waiting: Vec<Value> = waiting
        .into_iter()
        .map(|(region, (count, longest))| {
            let name = plan
                .hierarchy
                .get(&RegionId::new(region.clone()))
                .map(|r| r.zh.clone());
            json!({ "region": region, "name": name, "count": count, "longest_wait_secs": longest })
        })
        .collect();
    let mut by_state: BTreeMap<&str, i64> = [
        "logged_out",
        "ready",
        "ringing",
        "busy",
        "after_call_work",
        "not_ready",
    ]
    .into_iter()
    .map(|s| (s, 0))
    .collect();
    for l in plan.roster.lawyers() {
        let serves_scope = scope.is_none()
            || plan
                .roster
                .shifts()
                .iter()
                .any(|s| s.lawyer == l.id && in_scope(&scope, Some(s.region.as_str())));
        if !serves_scope {
            continue;
        }
        let st = board
            .lawyers
            .get(&l.id)
            .map_or(LawyerState::LoggedOut, |e| e.state);
        *by_state.entry(state_fields(&st).0).or_default() += 1;
    }
    let today = state.store.stats_today(now, scope.as_deref()).await?;
    let rate = if today.calls > 0 {
        today.answered as f64 / today.calls as f64
    } else {
        0.0
    };
    Ok(json!({
        "waiting": waiting,
        "longest_wait_secs": longest,
        "lawyers_by_state": by_state,
        "calls_today": today.calls,
        "answered_today": today.answered,
        "answer_rate_today": rate,
        "overflow_today": today.overflowed,
        "sla_breaches": today.sla_breaches,
        "red_alerts_open": today.red_alerts_open,
        "active_calls": state.stats.active_calls.load(std::sync::atomic::Ordering::Relaxed),
        "at": now,
    }))
}

/// `GET /api/wallboard`.
pub async fn wallboard(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(wallboard_body(&state, &auth).await?))
}

//! `GET /api/live`: the WebSocket that makes the console live. Each connection follows this
//! node's IVR/ACD events (see [`crate::center`]) and keeps what it has seen of each call in
//! progress, so when a lawyer's phone rings it can pop the call up on their screen with the
//! caller, region, language, service, queue wait and the caller's earlier tickets. Lawyers
//! get their screen-pops and desk changes; supervisors and admins get every call event in
//! their scope and the wallboard (every 2 s, sooner after a change).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use hotline_cases::{Category, Role, unix_now_ms};
use hotline_ivr::IvrEvent;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::auth::Auth;
use crate::board::{in_scope, region_scope, state_fields, wallboard_body};
use crate::center::LiveEvent;

/// What a connection has gathered about one call in progress.
#[derive(Debug, Default, Clone)]
struct CallInfo {
    caller: String,
    region: Option<String>,
    language: Option<String>,
    category: Option<String>,
    queued_at: Option<i64>,
}

/// `GET /api/live`.
pub async fn live(State(state): State<AppState>, auth: Auth, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| run(state, auth, socket))
}

async fn run(state: AppState, auth: Auth, mut socket: WebSocket) {
    let mut events = state.center.subscribe();
    let supervisor = auth.is_supervisor();
    let me = (auth.role() == Role::Lawyer).then(|| auth.user.lawyer_id.clone().unwrap_or_default());
    let mut calls: HashMap<String, CallInfo> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut last_board = Instant::now() - Duration::from_secs(10);
    let mut last_check = Instant::now();
    let mut dirty = true;
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            ev = events.recv() => match ev {
                Ok(ev) => {
                    dirty |= supervisor && changes_board(&ev.event);
                    for out in on_event(&state, &auth, me.as_deref(), &mut calls, ev).await {
                        if socket.send(Message::text(out.to_string())).await.is_err() {
                            return;
                        }
                    }
                }
                Err(RecvError::Lagged(n)) => tracing::debug!(skipped = n, "live socket lagged"),
                Err(RecvError::Closed) => break,
            },
            _ = tick.tick() => {
                if last_check.elapsed() > Duration::from_secs(60) {
                    last_check = Instant::now();
                    if !auth.still_valid(&state).await {
                        break;
                    }
                }
                let due = last_board.elapsed() >= Duration::from_secs(2);
                if supervisor && (due || dirty && last_board.elapsed() >= Duration::from_millis(500)) {
                    last_board = Instant::now();
                    dirty = false;
                    if let Ok(mut body) = wallboard_body(&state, &auth).await {
                        body["type"] = "wallboard".into();
                        if socket.send(Message::text(body.to_string())).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

fn changes_board(e: &IvrEvent) -> bool {
    matches!(
        e,
        IvrEvent::Queued { .. }
            | IvrEvent::Connected { .. }
            | IvrEvent::CallEnded { .. }
            | IvrEvent::LawyerStateChanged { .. }
            | IvrEvent::LawyerRegistered { .. }
            | IvrEvent::Overflow { .. }
    )
}

/// The messages one event produces for this connection.
async fn on_event(
    state: &AppState,
    auth: &Auth,
    me: Option<&str>,
    calls: &mut HashMap<String, CallInfo>,
    ev: LiveEvent,
) -> Vec<Value> {
    let mut out = Vec::new();
    if !ev.call_id.is_empty() {
        let info = calls.entry(ev.call_id.clone()).or_default();
        match &ev.event {
            IvrEvent::CallAnswered { caller } => info.caller = caller.clone(),
            IvrEvent::RegionResolved { region, .. } => info.region = Some(region.to_string()),
            IvrEvent::LanguageChosen { language } => info.language = Some(language.to_string()),
            IvrEvent::VariableSet { name, value } if name == "category" => {
                info.category = Some(Category::from_ivr(value).as_str().to_owned());
            }
            IvrEvent::Queued { .. } if info.queued_at.is_none() => info.queued_at = Some(ev.at),
            _ => {}
        }
    }
    let info = calls.get(&ev.call_id).cloned().unwrap_or_default();
    if let IvrEvent::CallEnded { .. } = ev.event {
        calls.remove(&ev.call_id);
    }
    match (&ev.event, me) {
        (IvrEvent::Ringing { lawyer }, Some(me)) if lawyer.as_str() == me => {
            out.push(screen_pop(state, auth, &ev, &info).await);
        }
        (IvrEvent::LawyerStateChanged { lawyer, state: s }, Some(me)) if lawyer.as_str() == me => {
            let (name, since, until) = state_fields(s);
            out.push(json!({ "type": "desk", "state": name, "since": since, "until": until }));
        }
        _ => {}
    }
    if auth.is_supervisor() {
        let scope = region_scope(auth, &state.center.plan());
        // Lawyer events outside calls and calls whose region is not known yet reach only
        // unscoped users; a scoped supervisor sees a call once its region is in scope.
        if in_scope(&scope, info.region.as_deref()) {
            out.push(json!({ "type": "call_event", "call_id": ev.call_id, "at": ev.at, "event": ev.event }));
        }
    }
    out
}

async fn screen_pop(state: &AppState, auth: &Auth, ev: &LiveEvent, info: &CallInfo) -> Value {
    let plan = state.center.plan();
    let region_name = info.region.as_ref().and_then(|r| {
        plan.hierarchy
            .get(&hotline_ivr::RegionId::new(r.clone()))
            .map(|r| {
                if auth.user.lang == "en" {
                    r.en.clone()
                } else {
                    r.zh.clone()
                }
            })
    });
    let (ticket, earlier) = if info.caller.chars().any(|c| c.is_ascii_digit()) {
        let open = state
            .store
            .open_ticket_for_caller(&info.caller)
            .await
            .ok()
            .flatten();
        let all = state
            .store
            .tickets_of_caller(&info.caller)
            .await
            .unwrap_or_default();
        (open, all)
    } else {
        (None, Vec::new())
    };
    let earlier: Vec<Value> = earlier
        .iter()
        .take(20)
        .map(|t| json!({ "id": t.id, "number": t.number, "category": t.category.as_str(),
                         "status": t.status.as_str(), "created_at": t.created_at, "outcome": t.outcome }))
        .collect();
    json!({
        "type": "screen_pop",
        "call_id": ev.call_id,
        "caller": info.caller,
        "region": info.region,
        "region_name": region_name,
        "language": info.language,
        "category": info.category,
        "queue_wait_secs": info.queued_at.map(|q| ((unix_now_ms() - q) / 1000).max(0)).unwrap_or(0),
        "ticket": ticket.as_ref().map(crate::json::ticket),
        "earlier_tickets": earlier,
    })
}

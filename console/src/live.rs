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
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use hotline_cases::{Category, Role, unix_now_ms};
use hotline_ivr::IvrEvent;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::auth::Auth;
use crate::board::{in_scope, region_scope, state_fields, wallboard_body};
use crate::center::LiveEvent;
use crate::error::ApiError;

/// What a connection has gathered about one call in progress.
#[derive(Debug, Default, Clone)]
struct CallInfo {
    caller: String,
    region: Option<String>,
    language: Option<String>,
    category: Option<String>,
    queued_at: Option<i64>,
}

/// `GET /api/live`. A browser's cross-site WebSocket carries no `SameSite=Strict` cookie
/// anyway; an `Origin` naming another host is refused as well.
pub async fn live(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    if let (Some(origin), Some(host)) = (origin, host) {
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin_host != host {
            return ApiError::Forbidden("cross-origin WebSocket refused".into()).into_response();
        }
    }
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
    let mut alerts = AlertFeed::new();
    if let Some(me) = &me {
        // The desk as it is now, so a page that (re)connects starts in sync.
        let board = state.center.board();
        let s = board
            .lawyers
            .get(&hotline_ivr::LawyerId::new(me.clone()))
            .map_or(hotline_ivr::LawyerState::LoggedOut, |e| e.state);
        let (name, since, until) = state_fields(&s);
        let hello = json!({ "type": "desk", "state": name, "since": since, "until": until });
        if socket.send(Message::text(hello.to_string())).await.is_err() {
            return;
        }
    }
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
                if supervisor && due {
                    for out in alerts.poll(&state, &auth).await {
                        if socket.send(Message::text(out.to_string())).await.is_err() {
                            return;
                        }
                    }
                }
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

/// How far back a new supervisor connection looks for unacknowledged alerts: a page opened
/// (or a socket reconnected) after an alert was raised still shows it.
const ALERT_LOOKBACK_MS: i64 = 24 * 3_600_000;
/// How far behind the newest alert seen the next poll starts again: alerts are written by
/// transcription workers on other nodes, whose clocks and commits may lag a little, so an
/// alert stamped just before the newest one can still appear after it.
const ALERT_SLACK_MS: i64 = 60_000;

/// Unacknowledged risk-keyword alerts from the store (raised by any node's transcription
/// worker), for supervisors, each sent once per connection. The window starts
/// [`ALERT_LOOKBACK_MS`] before the connection and moves up to the newest alert seen (less
/// [`ALERT_SLACK_MS`]), so each poll reads only recent rows and `sent` holds only the ids
/// still inside the window.
pub(crate) struct AlertFeed {
    since: i64,
    /// Ids sent (or out of scope) with their `at`, pruned to those at or after `since`.
    sent: HashMap<String, i64>,
}

impl AlertFeed {
    pub(crate) fn new() -> AlertFeed {
        AlertFeed {
            since: unix_now_ms() - ALERT_LOOKBACK_MS,
            sent: HashMap::new(),
        }
    }

    pub(crate) async fn poll(&mut self, state: &AppState, auth: &Auth) -> Vec<Value> {
        let Ok(list) = state.store.open_transcript_alerts(self.since).await else {
            return Vec::new();
        };
        let scope = region_scope(auth, &state.center.plan());
        let mut out = Vec::new();
        let mut newest = None;
        for a in list {
            newest = newest.max(Some(a.at));
            if self.sent.insert(a.id.clone(), a.at).is_some() {
                continue;
            }
            if scope.is_some() {
                let region = state
                    .store
                    .call(&a.call_id)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|c| c.region);
                if !in_scope(&scope, region.as_deref()) {
                    continue;
                }
            }
            out.push(
                json!({ "type": "alert", "id": a.id, "ticket_id": a.ticket_id, "call_id": a.call_id,
                             "keyword": a.keyword, "excerpt": a.excerpt, "at": a.at }),
            );
        }
        if let Some(newest) = newest {
            self.since = self.since.max(newest - ALERT_SLACK_MS);
            let since = self.since;
            self.sent.retain(|_, at| *at >= since);
        }
        out
    }
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
    // The call task files the call on its ticket just before the phone rings (this Ringing
    // event comes a moment earlier), so wait briefly for that commit rather than filing again.
    // Still unfiled after a second (a slow store): the desk fetches the ticket itself later.
    let mut ticket = None;
    for _ in 0..20 {
        match state.store.ticket_id_of_call(&ev.call_id).await {
            Ok(Some(id)) => {
                ticket = state.store.ticket(&id).await.ok().flatten();
                break;
            }
            Ok(None) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            Err(e) => {
                tracing::warn!(error = %e, call_id = %ev.call_id, "ticket lookup for the screen-pop failed");
                break;
            }
        }
    }
    let earlier = if info.caller.chars().any(|c| c.is_ascii_digit()) {
        state
            .store
            .tickets_of_caller(&info.caller)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::Harness;
    use hotline_ivr::events::{Line, RegionSource};
    use hotline_ivr::{Clock, Lang, LawyerEvent, LawyerId, SystemClock};
    use serde_json::json;

    fn ev(call: &str, event: IvrEvent) -> LiveEvent {
        LiveEvent {
            call_id: call.into(),
            at: unix_now_ms(),
            event,
        }
    }

    #[tokio::test]
    async fn the_rung_lawyer_gets_a_screen_pop_with_the_callers_history() {
        let h = Harness::new().await;
        // an earlier, closed-off call of the same caller
        h.file_call("old", "13800000001", "shicheng", "wen-xiaohong", None)
            .await;
        let lai = Auth::for_test(h.store.user("lai").await.unwrap().unwrap());
        let sup = Auth::for_test(h.store.user("sup").await.unwrap().unwrap());
        let admin = Auth::for_test(h.store.user("admin").await.unwrap().unwrap());
        let me = LawyerId::new("lai-zhiming");
        let now = SystemClock.now();
        h.center.acd.set_registered(&me, true, now);
        h.center.acd.apply(&me, LawyerEvent::Login, now).unwrap();
        assert_eq!(
            h.center
                .acd
                .try_reserve("c9", std::slice::from_ref(&me), now),
            Some(me.clone())
        );

        let events = [
            ev(
                "c9",
                IvrEvent::CallAnswered {
                    caller: "13800000001".into(),
                },
            ),
            ev(
                "c9",
                IvrEvent::LanguageChosen {
                    language: Lang::new("zh"),
                },
            ),
            ev(
                "c9",
                IvrEvent::RegionResolved {
                    region: "shicheng".into(),
                    how: RegionSource::Number,
                },
            ),
            ev(
                "c9",
                IvrEvent::VariableSet {
                    name: "category".into(),
                    value: "legal_aid".into(),
                },
            ),
            ev(
                "c9",
                IvrEvent::Queued {
                    line: Line::Region("shicheng".into()),
                    position: 1,
                },
            ),
            ev("c9", IvrEvent::Ringing { lawyer: me.clone() }),
        ];
        // What the call task does before the phone rings: file the call on its ticket.
        h.store
            .ticket_for_call(&hotline_cases::CallTicket {
                call_id: "c9",
                caller: "13800000001",
                category: Some(Category::LegalAid),
                region: Some("shicheng"),
                lawyer_id: None,
                at: unix_now_ms(),
            })
            .await
            .unwrap();
        let (mut lai_calls, mut sup_calls, mut admin_calls) = Default::default();
        let mut pops = Vec::new();
        let mut sup_seen = 0;
        for e in events {
            pops.extend(
                on_event(
                    &h.state,
                    &lai,
                    Some("lai-zhiming"),
                    &mut lai_calls,
                    e.clone(),
                )
                .await,
            );
            sup_seen += on_event(&h.state, &sup, None, &mut sup_calls, e.clone())
                .await
                .len();
            on_event(&h.state, &admin, None, &mut admin_calls, e).await;
        }
        assert_eq!(pops.len(), 1, "{pops:?}");
        let p = &pops[0];
        assert_eq!(p["type"], "screen_pop");
        assert_eq!(
            (
                p["caller"].as_str(),
                p["region"].as_str(),
                p["region_name"].as_str()
            ),
            (Some("13800000001"), Some("shicheng"), Some("石城县"))
        );
        assert_eq!(
            (p["language"].as_str(), p["category"].as_str()),
            (Some("zh"), Some("legal_aid"))
        );
        assert!(p["queue_wait_secs"].as_i64().unwrap() >= 0);
        let earlier = p["earlier_tickets"].as_array().unwrap();
        assert_eq!(
            earlier.len(),
            1,
            "the caller's open ticket from the earlier call"
        );
        assert_eq!(
            p["ticket"]["id"], earlier[0]["id"],
            "this call joins the open ticket"
        );
        // the supervisor of Shicheng sees the call once its region is known (3 of 6 events + ...)
        assert_eq!(sup_seen, 4);

        // during the call the lawyer may complete the ticket
        let s = h.login("lai").await;
        let t = p["ticket"]["id"].as_str().unwrap();
        let (status, v) = h
            .call(
                "PATCH",
                &format!("/api/tickets/{t}"),
                Some(&s),
                Some(json!({"note": "咨询劳动合同"})),
            )
            .await;
        assert_eq!(status, axum::http::StatusCode::OK, "{v}");
        let (status, _) = h.call("GET", "/api/calls/c9", Some(&s), None).await;
        assert_eq!(status, axum::http::StatusCode::OK);

        // their own state changes come as desk messages, others' do not
        let state = h
            .center
            .acd
            .release(
                &me,
                hotline_ivr::control::RingOutcome::Answered,
                SystemClock.now(),
            )
            .unwrap();
        let mine = on_event(
            &h.state,
            &lai,
            Some("lai-zhiming"),
            &mut lai_calls,
            ev(
                "c9",
                IvrEvent::LawyerStateChanged {
                    lawyer: me.clone(),
                    state,
                },
            ),
        )
        .await;
        assert_eq!(mine[0]["type"], "desk");
        assert_eq!(mine[0]["state"], "busy");
        let other = on_event(
            &h.state,
            &lai,
            Some("lai-zhiming"),
            &mut lai_calls,
            ev(
                "",
                IvrEvent::LawyerStateChanged {
                    lawyer: "wen-xiaohong".into(),
                    state,
                },
            ),
        )
        .await;
        assert!(other.is_empty());
        let ended = on_event(
            &h.state,
            &admin,
            None,
            &mut admin_calls,
            ev(
                "c9",
                IvrEvent::CallEnded {
                    disposition: hotline_ivr::Disposition::Answered,
                },
            ),
        )
        .await;
        assert_eq!(ended[0]["type"], "call_event");
        assert_eq!(ended[0]["event"]["event"], "call_ended");
        assert!(admin_calls.is_empty(), "finished calls are forgotten");
    }

    /// Raises one alert on `call` stamped `at` (through a transcription job, as the worker does).
    async fn raise_alert(h: &Harness, call: &str, at: i64) {
        let job = h
            .store
            .enqueue_transcription(call, "/nowhere.wav", Some("zh"), at - 2)
            .await
            .unwrap();
        h.store.claim_transcription_job("w", at - 1).await.unwrap();
        let t = hotline_cases::NewTranscript {
            language: Some("zh".into()),
            segments: vec![],
            alerts: vec![hotline_cases::NewTranscriptAlert {
                keyword: "跳楼".into(),
                speaker: hotline_cases::Speaker::Caller,
                offset_ms: 0,
                excerpt: "...".into(),
            }],
        };
        h.store
            .finish_transcription(&job, "w", &t, at)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_alert_feed_starts_a_day_back_and_moves_its_window() {
        let h = Harness::new().await;
        let now = unix_now_ms();
        for (call, at) in [
            ("stale", now - 25 * 3_600_000),
            ("earlier", now - 3_600_000),
        ] {
            h.file_call(call, "13800000001", "shicheng", "lai-zhiming", None)
                .await;
            raise_alert(&h, call, at).await;
        }
        let sup = Auth::for_test(h.store.user("sup").await.unwrap().unwrap());
        let mut feed = AlertFeed::new();
        let sent = feed.poll(&h.state, &sup).await;
        let calls: Vec<_> = sent.iter().map(|v| v["call_id"].clone()).collect();
        assert_eq!(calls, [json!("earlier")], "raised before the page loaded");
        assert_eq!(feed.since, now - 3_600_000 - ALERT_SLACK_MS);
        assert!(
            feed.poll(&h.state, &sup).await.is_empty(),
            "each alert once"
        );

        h.file_call("later", "13800000002", "shicheng", "lai-zhiming", None)
            .await;
        raise_alert(&h, "later", now).await;
        let sent = feed.poll(&h.state, &sup).await;
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["call_id"], "later");
        assert_eq!(feed.since, now - ALERT_SLACK_MS);
        assert_eq!(feed.sent.len(), 1, "the older alert left the window");
        assert!(feed.poll(&h.state, &sup).await.is_empty());
    }
}

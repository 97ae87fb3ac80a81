//! Route tests on a real SQLite store and a real ACD board with the shipped dialplan (copied
//! to a temp dir); only the SIP side is absent ([`FakeCenter`]). The role table test calls
//! every route of [`crate::routes::ROUTES`] without a session and with each role.

mod flows;
mod live_socket;
mod roles;
mod tickets;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use hotline_cases::{CallEnd, Category, ConsoleUser, Role, Store};
use hotline_ivr::board::Board;
use hotline_ivr::events::NullSink;
use hotline_ivr::{Acd, BoardConfig, Dialplan, LawyerEvent, LawyerId, LawyerState};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tower::ServiceExt;

use crate::center::{CallCenter, LiveEvent};
use crate::{AppState, ConsoleSettings, LiveStats, QaForm};

/// The running system without SIP: a real ACD board and the dialplan from a directory.
pub struct FakeCenter {
    pub acd: Acd,
    plan: RwLock<Arc<Dialplan>>,
    pub events: broadcast::Sender<LiveEvent>,
}

impl CallCenter for FakeCenter {
    fn board(&self) -> Board {
        self.acd.board()
    }
    fn lawyer_event(&self, lawyer: &LawyerId, event: LawyerEvent) -> Result<LawyerState, String> {
        self.acd
            .apply(lawyer, event, jiff::Timestamp::now())
            .map_err(|e| e.to_string())
    }
    fn plan(&self) -> Arc<Dialplan> {
        self.plan.read().unwrap().clone()
    }
    fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.events.subscribe()
    }
}

/// A test console: temp dir with the database and a dialplan copy, three users.
pub struct Harness {
    pub dir: PathBuf,
    pub store: Store,
    pub center: Arc<FakeCenter>,
    pub app: Router,
    pub state: AppState,
}

pub const PASSWORD: &str = "correct horse battery";

fn copy_dialplan(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dialplans");
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(&from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            std::os::unix::fs::symlink(std::fs::canonicalize(&p).unwrap(), to.join(e.file_name()))
                .unwrap();
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

impl Harness {
    pub async fn new() -> Harness {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        let dir = std::env::temp_dir().join(format!("hotline-console-test-{}", hex::encode(b)));
        copy_dialplan(&dir.join("dialplans"));
        let store = Store::open(&format!("sqlite://{}/t.db", dir.display()))
            .await
            .unwrap();
        let plan = hotline_ivr::load(&dir.join("dialplans")).unwrap();
        let acd = Acd::new(
            BoardConfig::from_waiting(&plan.flow.waiting),
            Arc::new(NullSink),
        );
        let (events, _) = broadcast::channel(64);
        let center = Arc::new(FakeCenter {
            acd,
            plan: RwLock::new(Arc::new(plan)),
            events,
        });
        let qa = QaForm::load(&dir.join("dialplans")).unwrap();
        let state = AppState::new(
            store.clone(),
            center.clone(),
            Arc::new(LiveStats::default()),
            ConsoleSettings::default(),
            qa,
        );
        let h = Harness {
            dir,
            store,
            center,
            app: crate::router(state.clone()),
            state,
        };
        for (name, role, lawyer, region) in [
            ("lai", Role::Lawyer, Some("lai-zhiming"), ""),
            ("sup", Role::Supervisor, None, "shicheng"),
            ("admin", Role::Admin, None, ""),
        ] {
            h.add_user(name, role, lawyer, region).await;
        }
        h
    }

    pub async fn add_user(&self, name: &str, role: Role, lawyer: Option<&str>, region: &str) {
        self.store
            .create_user(&ConsoleUser {
                username: name.into(),
                password_hash: crate::auth::hash_password(PASSWORD).unwrap(),
                role,
                lawyer_id: lawyer.map(str::to_owned),
                region: region.into(),
                name: name.into(),
                lang: "zh".into(),
                created_at: 0,
            })
            .await
            .unwrap();
    }

    /// Sends a request; returns status and JSON body (Null when not JSON).
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        session: Option<&Session>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(s) = session {
            req = req
                .header("cookie", format!("hotline_session={}", s.cookie))
                .header("x-csrf-token", &s.csrf);
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn login(&self, user: &str) -> Session {
        let req = Request::post("/api/login")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({ "username": user, "password": PASSWORD }).to_string(),
            ))
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "login {user}");
        let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let token = cookie
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        Session {
            cookie: token,
            csrf: v["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Files an answered call from `caller` in `region` taken by `lawyer`.
    pub async fn file_call(
        &self,
        id: &str,
        caller: &str,
        region: &str,
        lawyer: &str,
        recording: Option<&Path>,
    ) {
        let now = hotline_cases::unix_now_ms();
        // A minute-long call, but never starting before this Beijing day: the tests count
        // "today's" calls with the real clock, and 16:00 UTC is midnight in Beijing.
        const BEIJING_MS: i64 = 8 * 3_600_000;
        const DAY_MS: i64 = 24 * 3_600_000;
        let day_start = (now + BEIJING_MS).div_euclid(DAY_MS) * DAY_MS - BEIJING_MS;
        let arrived = (now - 60_000).max(day_start);
        self.store
            .record_call_ended(&CallEnd {
                call_id: id.into(),
                caller: caller.into(),
                arrived_at: arrived,
                answered_at: Some((arrived + 10_000).min(now)),
                ended_at: now,
                language: Some("zh".into()),
                category: Some(Category::Consultation),
                region: Some(region.into()),
                lawyer_id: Some(lawyer.into()),
                queue_wait_secs: Some(5),
                overflow_steps: 0,
                disposition: "answered".into(),
                ivr_path: "[]".into(),
                recording_path: recording.map(|p| p.display().to_string()),
                message_path: None,
                callback: true,
                survey: None,
            })
            .await
            .unwrap();
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A logged-in session: cookie token and CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

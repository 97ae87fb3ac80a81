//! Route tests on a real SQLite store and a real ACD board with the shipped dialplan (copied
//! to a temp dir); only the SIP side is absent ([`FakeCenter`]). The role table test calls
//! every route of [`crate::routes::ROUTES`] without a session and with each role.

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
use crate::routes::ROUTES;
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
        self.store
            .record_call_ended(&CallEnd {
                call_id: id.into(),
                caller: caller.into(),
                arrived_at: now - 60_000,
                answered_at: Some(now - 50_000),
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

#[tokio::test]
async fn every_route_refuses_the_wrong_role() {
    let h = Harness::new().await;
    let mut sessions = [
        (Role::Lawyer, h.login("lai").await),
        (Role::Supervisor, h.login("sup").await),
        (Role::Admin, h.login("admin").await),
    ];
    for r in ROUTES {
        let uri = r
            .path
            .replace("{id}", "nope")
            .replace("{username}", "nobody");
        let body = (r.method != "GET" && r.method != "DELETE").then(|| json!({}));
        let (status, _) = h.call(r.method, &uri, None, body.clone()).await;
        if r.roles.is_empty() {
            assert!(
                !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                    || r.path == "/api/login",
                "{} {} is public but answered {status}",
                r.method,
                r.path
            );
            continue;
        }
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{} {} without a session",
            r.method,
            r.path
        );
        for (role, s) in &mut sessions {
            let (status, v) = h.call(r.method, &uri, Some(s), body.clone()).await;
            if r.path == "/api/logout" {
                *s = h
                    .login(
                        &role
                            .to_string()
                            .replace("lawyer", "lai")
                            .replace("supervisor", "sup"),
                    )
                    .await;
            }
            if r.roles.contains(role) {
                assert!(
                    !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
                    "{} {} as {role}: {status} {v}",
                    r.method,
                    r.path
                );
                assert_ne!(
                    v["error"], "no such API route",
                    "{} {} is not routed",
                    r.method, r.path
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{} {} as {role}: {v}",
                    r.method,
                    r.path
                );
            }
        }
    }
}

#[tokio::test]
async fn state_changes_need_the_csrf_token() {
    let h = Harness::new().await;
    let s = h.login("lai").await;
    let no_csrf = Session {
        cookie: s.cookie.clone(),
        csrf: "wrong".into(),
    };
    let (status, v) = h
        .call(
            "POST",
            "/api/desk/state",
            Some(&no_csrf),
            Some(json!({"state": "ready"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, v) = h
        .call(
            "POST",
            "/api/desk/state",
            Some(&s),
            Some(json!({"state": "ready"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "ready");
    let (_, v) = h.call("GET", "/api/desk", Some(&s), None).await;
    assert_eq!(
        (v["state"].as_str(), v["lawyer_id"].as_str()),
        (Some("ready"), Some("lai-zhiming"))
    );
    let (status, _) = h
        .call(
            "POST",
            "/api/desk/state",
            Some(&s),
            Some(json!({"state": "after_call_work"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, v) = h
        .call(
            "POST",
            "/api/desk/state",
            Some(&s),
            Some(json!({"state": "not_ready"})),
        )
        .await;
    assert_eq!(v["state"], "not_ready");
}

#[tokio::test]
async fn login_logout_and_the_failure_limit() {
    let h = Harness::new().await;
    let (status, unknown) = h
        .call(
            "POST",
            "/api/login",
            None,
            Some(json!({"username": "ghost", "password": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, wrong) = h
        .call(
            "POST",
            "/api/login",
            None,
            Some(json!({"username": "sup", "password": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown, wrong,
        "same answer for unknown user and wrong password"
    );
    let s = h.login("admin").await;
    let (status, me) = h.call("GET", "/api/me", Some(&s), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (me["role"].as_str(), me["csrf_token"].as_str()),
        (Some("admin"), Some(s.csrf.as_str()))
    );
    let (status, _) = h.call("POST", "/api/logout", Some(&s), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = h.call("GET", "/api/me", Some(&s), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for _ in 0..4 {
        h.call(
            "POST",
            "/api/login",
            None,
            Some(json!({"username": "sup", "password": "y"})),
        )
        .await;
    }
    let (status, _) = h
        .call(
            "POST",
            "/api/login",
            None,
            Some(json!({"username": "sup", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn lawyers_see_their_own_and_supervisors_their_regions() {
    let h = Harness::new().await;
    h.file_call(
        "c-shicheng",
        "13800000001",
        "shicheng-qinjiang",
        "lai-zhiming",
        None,
    )
    .await;
    h.file_call("c-quwo", "13800000002", "quwo", "someone-else", None)
        .await;
    let lai = h.login("lai").await;
    let sup = h.login("sup").await;
    let admin = h.login("admin").await;
    let count = |v: &Value, k: &str| v[k].as_array().map_or(0, Vec::len);
    let (_, v) = h.call("GET", "/api/tickets", Some(&lai), None).await;
    assert_eq!(count(&v, "tickets"), 1);
    let (_, v) = h.call("GET", "/api/tickets", Some(&sup), None).await;
    assert_eq!(
        count(&v, "tickets"),
        1,
        "the township is below the supervisor's county"
    );
    let (_, v) = h.call("GET", "/api/tickets", Some(&admin), None).await;
    assert_eq!(count(&v, "tickets"), 2);
    let quwo_ticket = v["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["region"] == "quwo")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for s in [&lai, &sup] {
        let (status, _) = h
            .call("GET", &format!("/api/tickets/{quwo_ticket}"), Some(s), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = h.call("GET", "/api/calls/c-quwo", Some(s), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (_, v) = h.call("GET", "/api/calls", Some(&lai), None).await;
    assert_eq!(count(&v, "calls"), 1);
    let (_, v) = h
        .call("GET", "/api/calls/c-shicheng", Some(&lai), None)
        .await;
    assert_eq!(v["region"], "shicheng-qinjiang");
    assert!(v["ticket_id"].is_string());
    // the lawyer completes the ticket form
    let t = v["ticket_id"].as_str().unwrap().to_owned();
    let (status, v) = h
        .call("PATCH", &format!("/api/tickets/{t}"), Some(&lai),
              Some(json!({"category": "legal_aid", "note": "借款纠纷", "outcome": "advised", "status": "in_progress"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["category"].as_str(),
            v["status"].as_str(),
            v["outcome"].as_str()
        ),
        (Some("legal_aid"), Some("in_progress"), Some("advised"))
    );
    assert!(v["notes"].as_str().unwrap().contains("借款纠纷"));
    let (status, _) = h
        .call(
            "PATCH",
            &format!("/api/tickets/{t}"),
            Some(&lai),
            Some(json!({"status": "closed"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // callback tasks: the supervisor assigns one to the lawyer, who completes it
    let (_, v) = h.call("GET", "/api/tasks", Some(&sup), None).await;
    assert_eq!(count(&v, "tasks"), 1);
    let task = v["tasks"][0]["id"].as_str().unwrap().to_owned();
    let (_, v) = h.call("GET", "/api/tasks", Some(&lai), None).await;
    assert_eq!(count(&v, "tasks"), 0);
    let (status, _) = h
        .call("POST", &format!("/api/tasks/{task}/done"), Some(&lai), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    h.call(
        "POST",
        &format!("/api/tasks/{task}/assign"),
        Some(&sup),
        Some(json!({"to": "lai-zhiming"})),
    )
    .await;
    let (_, v) = h
        .call("GET", "/api/tasks?kind=callback", Some(&lai), None)
        .await;
    assert_eq!(v["tasks"][0]["assignee"], "lai-zhiming");
    let (status, v) = h
        .call("POST", &format!("/api/tasks/{task}/done"), Some(&lai), None)
        .await;
    assert_eq!(
        (status, v["status"].as_str()),
        (StatusCode::OK, Some("done"))
    );
    let (_, v) = h.call("GET", "/api/wallboard", Some(&sup), None).await;
    assert_eq!(v["calls_today"], 1);
    let (_, v) = h
        .call("GET", "/api/stats/daily?days=3", Some(&admin), None)
        .await;
    assert_eq!(v["days"].as_array().unwrap().len(), 3);
    assert_eq!(v["days"][2]["calls"], 2);
}

#[tokio::test]
async fn recordings_are_served_with_ranges() {
    let h = Harness::new().await;
    let wav = h.dir.join("rec.wav");
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&wav, &data).unwrap();
    h.file_call("c1", "13800000001", "shicheng", "lai-zhiming", Some(&wav))
        .await;
    let lai = h.login("lai").await;
    let req = |range: Option<&str>| {
        let mut r = Request::get("/api/calls/c1/recording")
            .header("cookie", format!("hotline_session={}", lai.cookie));
        if let Some(range) = range {
            r = r.header("range", range);
        }
        r.body(Body::empty()).unwrap()
    };
    let resp = h.app.clone().oneshot(req(None)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "audio/wav");
    assert_eq!(
        axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap(),
        data
    );
    let resp = h
        .app
        .clone()
        .oneshot(req(Some("bytes=100-199")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.headers()["content-range"], "bytes 100-199/1000");
    assert_eq!(
        axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap(),
        data[100..200]
    );
    let resp = h
        .app
        .clone()
        .oneshot(req(Some("bytes=5000-")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let (_, v) = h.call("GET", "/api/calls/c1", Some(&lai), None).await;
    assert_eq!(v["has_recording"], true);
}

#[tokio::test]
async fn qa_review_queue_and_admin() {
    let h = Harness::new().await;
    h.file_call("c1", "13800000001", "shicheng", "lai-zhiming", None)
        .await;
    h.store
        .add_to_review_queue("c1", hotline_cases::ReviewReason::RedAlert, 1)
        .await
        .unwrap();
    let sup = h.login("sup").await;
    let (_, form) = h.call("GET", "/api/qa/form", Some(&sup), None).await;
    let qs = form["questions"].as_array().unwrap();
    let answers: serde_json::Map<String, Value> = qs
        .iter()
        .map(|q| (q["id"].as_str().unwrap().to_owned(), q["max"].clone()))
        .collect();
    let (status, v) = h
        .call(
            "POST",
            "/api/calls/c1/qa",
            Some(&sup),
            Some(json!({"answers": answers, "comment": "good"})),
        )
        .await;
    assert_eq!(
        (status, v["score"].as_i64()),
        (StatusCode::OK, Some(100)),
        "{v}"
    );
    let (status, _) = h
        .call(
            "POST",
            "/api/calls/c1/qa",
            Some(&sup),
            Some(json!({"answers": {}, "comment": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, v) = h.call("GET", "/api/calls/c1/qa", Some(&sup), None).await;
    assert_eq!(v["evaluations"][0]["by"], "sup");
    let (_, v) = h.call("GET", "/api/review-queue", Some(&sup), None).await;
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["reason"] == "red_alert" && i["evaluated"] == true)
    );

    let admin = h.login("admin").await;
    let (status, v) = h.call("POST", "/api/users", Some(&admin),
        Some(json!({"username": "wen", "password": "long enough pw", "role": "lawyer", "lawyer_id": "wen-xiaohong"}))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "温晓红");
    let (status, _) = h.call("POST", "/api/users", Some(&admin),
        Some(json!({"username": "x", "password": "long enough pw", "role": "lawyer", "lawyer_id": "nobody"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h
        .call(
            "POST",
            "/api/users",
            Some(&admin),
            Some(json!({"username": "y", "password": "short", "role": "admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h
        .call("DELETE", "/api/users/admin", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = h.call("DELETE", "/api/users/wen", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);

    let (_, v) = h.call("GET", "/api/admin/roster", Some(&admin), None).await;
    let roster = v["toml"].as_str().unwrap().to_owned();
    let broken = format!(
        "{roster}\n[[shift]]\nlawyer = \"nobody\"\nregion = \"shicheng\"\ndays = [\"mon\"]\nfrom = \"08:00\"\nto = \"12:00\"\n"
    );
    let (status, v) = h
        .call(
            "PUT",
            "/api/admin/roster",
            Some(&admin),
            Some(json!({"toml": broken})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let p = v["problems"][0].as_str().expect(&v.to_string());
    assert!(p.starts_with("roster.toml:"), "{p}");
    let on_disk = std::fs::read_to_string(h.dir.join("dialplans/roster.toml")).unwrap();
    assert_eq!(on_disk, roster, "a refused edit changes nothing");
    let edited = roster.replacen("name = \"赖志明\"", "name = \"赖志明律师\"", 1);
    let (status, v) = h
        .call(
            "PUT",
            "/api/admin/roster",
            Some(&admin),
            Some(json!({"toml": edited})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        std::fs::read_to_string(h.dir.join("dialplans/roster.toml")).unwrap(),
        edited
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let h = Harness::new().await;
    let (status, doc) = h.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    for r in ROUTES {
        assert!(
            doc["paths"][r.path][r.method.to_lowercase()].is_object(),
            "{} {}",
            r.method,
            r.path
        );
    }
    let (status, _) = h.call("GET", "/api/nothing-here", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

//! What each role does through the API: scoped lists, ticket form, tasks, recordings with
//! Range, QA and the review queue, admin users and roster edits, the OpenAPI document.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::Harness;
use crate::routes::ROUTES;

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
              Some(json!({"category": "legal_aid", "note": "借款纠纷", "outcome": "resolved", "status": "in_progress"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["category"].as_str(),
            v["status"].as_str(),
            v["outcome"].as_str()
        ),
        (Some("legal_aid"), Some("in_progress"), Some("resolved"))
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
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "closing is the supervisors' step"
    );
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
    let (status, _) = h
        .call(
            "POST",
            &format!("/api/tasks/{task}/assign"),
            Some(&sup),
            Some(json!({"to": "nobody-at-all"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
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
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
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
        axum::body::to_bytes(resp.into_body(), 1 << 22)
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
    assert_eq!(resp.headers()["content-range"], "bytes 100-199/200000");
    assert_eq!(
        axum::body::to_bytes(resp.into_body(), 1 << 22)
            .await
            .unwrap(),
        data[100..200]
    );
    let resp = h
        .app
        .clone()
        .oneshot(req(Some("bytes=70000-")))
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-range"], "bytes 70000-199999/200000");
    assert_eq!(
        axum::body::to_bytes(resp.into_body(), 1 << 22)
            .await
            .unwrap(),
        data[70000..]
    );
    let resp = h
        .app
        .clone()
        .oneshot(req(Some("bytes=300000-")))
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
    let p = v["problems"][0].as_str().unwrap_or_else(|| panic!("{v}"));
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
    // every route that reads a JSON body documents it
    for (m, p) in [
        ("post", "/api/login"),
        ("patch", "/api/tickets/{id}"),
        ("post", "/api/calls/{id}/qa"),
        ("put", "/api/admin/roster"),
        ("post", "/api/users"),
        ("post", "/api/desk/state"),
    ] {
        assert!(
            doc["paths"][p][m]["requestBody"]["content"]["application/json"]["example"].is_object(),
            "{m} {p}"
        );
    }
    // and every JSON route shows an example answer
    for r in ROUTES {
        if matches!(
            r.path,
            "/api/live" | "/api/calls/{id}/recording" | "/api/openapi.json" | "/api/logout"
        ) || r.method == "DELETE"
        {
            continue;
        }
        let ok = &doc["paths"][r.path][r.method.to_lowercase()]["responses"]["200"];
        assert!(
            ok["content"]["application/json"]["example"].is_object(),
            "{} {}",
            r.method,
            r.path
        );
    }
    let params = doc["paths"]["/api/tickets"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "status" && p["in"] == "query")
    );
    let (status, _) = h.call("GET", "/api/nothing-here", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn transcripts_are_redacted_for_lawyers_and_alerts_reach_supervisors() {
    let h = Harness::new().await;
    h.file_call("c1", "13800000001", "shicheng", "lai-zhiming", None)
        .await;
    let lai = h.login("lai").await;
    let sup = h.login("sup").await;
    let (_, v) = h
        .call("GET", "/api/calls/c1/transcript", Some(&lai), None)
        .await;
    assert_eq!(v["status"], "none");
    let job = h
        .store
        .enqueue_transcription("c1", "/nowhere.wav", Some("zh"), 1)
        .await
        .unwrap();
    let (_, v) = h
        .call("GET", "/api/calls/c1/transcript", Some(&sup), None)
        .await;
    assert_eq!(v["status"], "queued");
    h.store.claim_transcription_job("w", 2).await.unwrap();
    let seg = hotline_cases::TranscriptSegment {
        start_ms: 1200,
        end_ms: 3400,
        speaker: hotline_cases::Speaker::Caller,
        text: "我的身份证是110101199003074514".into(),
        redacted_text: "我的身份证是****".into(),
    };
    let t = hotline_cases::NewTranscript {
        language: Some("zh".into()),
        segments: vec![seg],
        alerts: vec![hotline_cases::NewTranscriptAlert {
            keyword: "身份证".into(),
            speaker: hotline_cases::Speaker::Caller,
            offset_ms: 1200,
            excerpt: "我的身份证是****".into(),
        }],
    };
    let mut feed = crate::live::AlertFeed::new();
    h.store
        .finish_transcription(&job, "w", &t, hotline_cases::unix_now_ms() + 1)
        .await
        .unwrap();
    let (_, v) = h
        .call("GET", "/api/calls/c1/transcript", Some(&lai), None)
        .await;
    assert_eq!(v["status"], "done");
    assert_eq!(v["segments"][0]["text"], "我的身份证是****");
    assert_eq!(v["segments"][0]["speaker"], "caller");
    assert_eq!(v["segments"][0]["start_ms"], 1200);
    let (_, v) = h
        .call("GET", "/api/calls/c1/transcript", Some(&sup), None)
        .await;
    assert_eq!(v["segments"][0]["text"], "我的身份证是110101199003074514");
    assert_eq!(v["alerts"][0]["keyword"], "身份证");

    let sup_user = h.store.user("sup").await.unwrap().unwrap();
    let auth = crate::auth::Auth::for_test(sup_user);
    let sent = feed.poll(&h.state, &auth).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["type"], "alert");
    assert_eq!(sent[0]["call_id"], "c1");
    assert!(sent[0]["ticket_id"].is_string());
    assert!(
        feed.poll(&h.state, &auth).await.is_empty(),
        "each alert once"
    );
    let (_, v) = h.call("GET", "/api/review-queue", Some(&sup), None).await;
    assert_eq!(v["items"][0]["reason"], "red_alert");
}

#[tokio::test]
async fn other_dialplan_files_are_checked_the_same_way() {
    let h = Harness::new().await;
    let admin = h.login("admin").await;
    let (status, v) = h
        .call(
            "GET",
            "/api/admin/dialplan/hierarchy.toml",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let text = v["toml"].as_str().unwrap().to_owned();
    // an orphan region: its parent does not exist
    let broken = format!(
        "{text}\n[[region]]\nid = \"orphan\"\nlevel = \"county\"\nparent = \"nowhere\"\nzh = \"无\"\nen = \"None\"\n"
    );
    let (status, v) = h
        .call(
            "PUT",
            "/api/admin/dialplan/hierarchy.toml",
            Some(&admin),
            Some(json!({ "toml": broken })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().starts_with("hierarchy.toml:")),
        "{v}"
    );
    let (status, _) = h
        .call("GET", "/api/admin/dialplan/12348.toml", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h
        .call(
            "GET",
            "/api/admin/dialplan/..%2Fetc%2Fpasswd",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The review queue is scoped in the query: a busy region's newer items do not push a
/// supervisor's own region out of the newest 500.
#[tokio::test]
async fn the_review_queue_is_scoped_before_the_limit() {
    let h = Harness::new().await;
    h.file_call("c-own", "13800000001", "shicheng", "lai-zhiming", None)
        .await;
    h.store
        .add_to_review_queue("c-own", hotline_cases::ReviewReason::RedAlert, 1)
        .await
        .unwrap();
    for i in 0..500 {
        let id = format!("c-quwo-{i}");
        h.file_call(&id, "13800000002", "quwo", "someone-else", None)
            .await;
        h.store
            .add_to_review_queue(&id, hotline_cases::ReviewReason::RedAlert, 10 + i)
            .await
            .unwrap();
    }
    let sup = h.login("sup").await;
    let (status, v) = h.call("GET", "/api/review-queue", Some(&sup), None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let items = v["items"].as_array().unwrap();
    assert!(items.iter().all(|i| i["call_id"] == "c-own"), "{v}");
    assert!(
        items
            .iter()
            .any(|i| i["reason"] == "red_alert" && i["call_id"] == "c-own"),
        "the oldest item of the supervisor's region is listed: {v}"
    );
}

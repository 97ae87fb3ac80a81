//! The ticket form (`PATCH /api/tickets/{id}`): everything is checked before anything is
//! saved, outcomes are the wrap-up codes the web console offers, and a lawyer neither records
//! the supervisor's review nor closes.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Harness, Session};
use crate::cases_api::{MAX_NOTE_CHARS, OUTCOMES};

/// Files a call of `lai` and returns the harness, the lawyer's and the supervisor's sessions
/// and the call's ticket id.
async fn ticket() -> (Harness, Session, Session, String) {
    let h = Harness::new().await;
    h.file_call("c1", "13800000001", "shicheng", "lai-zhiming", None)
        .await;
    let lai = h.login("lai").await;
    let sup = h.login("sup").await;
    let (_, v) = h.call("GET", "/api/calls/c1", Some(&lai), None).await;
    let id = v["ticket_id"]
        .as_str()
        .expect("the call's ticket")
        .to_owned();
    (h, lai, sup, id)
}

async fn patch(h: &Harness, s: &Session, id: &str, body: Value) -> (StatusCode, Value) {
    h.call("PATCH", &format!("/api/tickets/{id}"), Some(s), Some(body))
        .await
}

async fn actions(h: &Harness, id: &str) -> Vec<(String, String)> {
    h.store
        .audit_entries("ticket", id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action))
        .collect()
}

#[tokio::test]
async fn a_refused_patch_saves_nothing() {
    let (h, lai, sup, id) = ticket().await;
    let before = actions(&h, &id).await;
    let (status, v) = patch(&h, &sup, &id, json!({"note": "n", "status": "closed"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "open -> closed: {v}");
    let (status, v) = patch(
        &h,
        &lai,
        &id,
        json!({"category": "legal_aid", "note": "n", "outcome": "advised"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("outcome"), "{v}");
    let long = "长".repeat(MAX_NOTE_CHARS + 1);
    let (status, v) = patch(
        &h,
        &lai,
        &id,
        json!({"category": "legal_aid", "note": long}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("note"), "{v}");
    let (_, t) = h
        .call("GET", &format!("/api/tickets/{id}"), Some(&sup), None)
        .await;
    assert_eq!(
        (t["notes"].as_str(), t["category"].as_str(), &t["outcome"]),
        (Some(""), Some("consultation"), &Value::Null),
        "{t}"
    );
    assert_eq!(actions(&h, &id).await, before);
    let exactly = "长".repeat(MAX_NOTE_CHARS);
    let (status, v) = patch(
        &h,
        &lai,
        &id,
        json!({"note": exactly, "outcome": "referred"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "referred");
}

#[tokio::test]
async fn a_lawyer_corrects_the_category_without_reviewing_and_does_not_close() {
    let (h, lai, sup, id) = ticket().await;
    let (status, v) = patch(&h, &lai, &id, json!({"category": "legal_aid"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["category"], "legal_aid");
    assert!(v["reviewed_at"].is_null(), "the review is still due: {v}");
    let log = actions(&h, &id).await;
    assert!(log.contains(&("lai".into(), "category".into())), "{log:?}");
    assert!(!log.iter().any(|(_, a)| a == "reviewed"), "{log:?}");

    // Through to resolved, then the lawyer may not close, the supervisor may.
    for s in ["in_progress", "resolved"] {
        let (status, v) = patch(&h, &sup, &id, json!({"status": s})).await;
        assert_eq!(status, StatusCode::OK, "{s}: {v}");
    }
    let (status, v) = patch(&h, &lai, &id, json!({"note": "done", "status": "closed"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(v["error"].as_str().unwrap().contains("supervisor"), "{v}");
    let (_, t) = h
        .call("GET", &format!("/api/tickets/{id}"), Some(&sup), None)
        .await;
    assert_eq!(t["status"], "resolved");
    assert!(!t["notes"].as_str().unwrap().contains("done"), "{t}");
    let (status, v) = patch(&h, &sup, &id, json!({"status": "closed"})).await;
    assert_eq!(
        (status, v["status"].as_str()),
        (StatusCode::OK, Some("closed"))
    );
}

#[tokio::test]
async fn a_supervisor_category_change_is_the_review() {
    let (h, _lai, sup, id) = ticket().await;
    let (status, v) = patch(&h, &sup, &id, json!({"category": "legal_aid"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(v["reviewed_at"].is_i64(), "{v}");
    assert!(
        actions(&h, &id)
            .await
            .contains(&("sup".into(), "reviewed".into()))
    );
}

/// The server's outcome codes are the ones the web console offers.
#[test]
fn outcomes_match_the_web_console() {
    let desk = include_str!("../../web/pages/desk.js");
    let line = desk
        .lines()
        .find(|l| l.starts_with("export const OUTCOMES"))
        .expect("OUTCOMES in desk.js");
    let list = &line[line.find('[').unwrap() + 1..line.rfind(']').unwrap()];
    let web: Vec<&str> = list
        .split(',')
        .map(|s| s.trim().trim_matches('\''))
        .collect();
    assert_eq!(web, OUTCOMES);
}

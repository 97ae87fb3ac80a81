//! Access: every route refuses the wrong role, state changes need the CSRF token, logins.

use axum::http::StatusCode;
use hotline_cases::Role;
use serde_json::json;

use super::{Harness, PASSWORD, Session};
use crate::routes::ROUTES;

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
            .replace("{file}", "hours.toml")
            .replace("{id}", "nope")
            .replace("{username}", "nobody");
        let body = (r.method != "GET" && r.method != "DELETE").then(|| json!({}));
        let (status, _) = h.call(r.method, &uri, None, body.clone()).await;
        if r.roles.is_empty() {
            // An empty body is a bad request for login, never "log in first" or "forbidden".
            assert!(
                !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
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
async fn malformed_requests_get_json_errors() {
    let h = Harness::new().await;
    let s = h.login("lai").await;
    let (status, v) = h
        .call(
            "POST",
            "/api/desk/state",
            Some(&s),
            Some(json!({"nope": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("state"), "{v}");
    let (status, v) = h
        .call("GET", "/api/tickets?limit=many", Some(&s), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["error"].is_string(), "{v}");
    let (status, v) = h
        .call("POST", "/api/login", None, Some(json!({"username": "lai"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["error"].is_string(), "{v}");
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

/// Wrong guesses sent at once cannot slip past the limiter while the slow verifications run:
/// each attempt is counted before its password is checked, so only the first five (the
/// limit) get an answer about the password.
#[tokio::test]
async fn concurrent_wrong_logins_are_limited() {
    let h = Harness::new().await;
    let guesses = (0..12).map(|i| {
        h.call(
            "POST",
            "/api/login",
            None,
            Some(json!({"username": "sup", "password": format!("guess {i}")})),
        )
    });
    let answers = futures_util::future::join_all(guesses).await;
    let refused = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    let limited = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((refused, limited), (5, 7), "{answers:?}");
    let (status, v) = h
        .call(
            "POST",
            "/api/login",
            None,
            Some(json!({"username": "sup", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert!(v["error"].as_str().unwrap().contains("too many"), "{v}");
}

/// A successful login clears the count, so a user who mistypes a few times is not locked
/// out by their own earlier typos once they got in.
#[tokio::test]
async fn a_successful_login_clears_the_failure_count() {
    let h = Harness::new().await;
    for _ in 0..4 {
        let (status, _) = h
            .call(
                "POST",
                "/api/login",
                None,
                Some(json!({"username": "lai", "password": "typo"})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    h.login("lai").await;
    for _ in 0..4 {
        let (status, _) = h
            .call(
                "POST",
                "/api/login",
                None,
                Some(json!({"username": "lai", "password": "typo"})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    h.login("lai").await;
}

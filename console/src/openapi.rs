//! `GET /api/openapi.json`: the OpenAPI 3 document, generated from the route table so it
//! lists every route with the roles that may call it (a test checks the router serves each).

use axum::Json;
use serde_json::{Map, Value, json};

use crate::routes::ROUTES;

/// The query parameters a route reads.
fn query_params(method: &str, path: &str) -> &'static [&'static str] {
    match (method, path) {
        ("GET", "/api/tickets") => &["status", "caller", "mine", "limit", "offset"],
        ("GET", "/api/calls") => &["from", "to", "limit"],
        ("GET", "/api/tasks") => &["kind", "status", "mine"],
        ("GET", "/api/stats/hourly") => &["day"],
        ("GET", "/api/stats/daily" | "/api/stats/categories" | "/api/stats/regions") => &["days"],
        _ => &[],
    }
}

/// An example request body of a route (what the handler reads).
fn request_example(method: &str, path: &str) -> Option<Value> {
    Some(match (method, path) {
        ("POST", "/api/login") => json!({ "username": "lai", "password": "..." }),
        ("POST", "/api/desk/state") => json!({ "state": "ready" }),
        ("PATCH", "/api/tickets/{id}") => {
            json!({ "category": "legal_aid", "note": "...", "outcome": "resolved", "status": "in_progress" })
        }
        ("POST", "/api/tickets/{id}/assign") => json!({ "lawyer_id": "lai-zhiming" }),
        ("POST", "/api/tasks/{id}/assign") => json!({ "to": "lai-zhiming" }),
        ("POST", "/api/calls/{id}/qa") => {
            json!({ "answers": { "greeting": 5, "legal_accuracy": 4 }, "comment": "..." })
        }
        ("POST", "/api/users") => {
            json!({ "username": "wang", "password": "at least 10 characters", "role": "supervisor", "lawyer_id": null, "region": "shicheng", "name": "王", "lang": "zh" })
        }
        ("PUT", "/api/admin/roster" | "/api/admin/dialplan/{file}") => {
            json!({ "toml": "[[lawyer]]\n..." })
        }
        _ => return None,
    })
}

/// An example of what a route answers (the bodies of the console contract).
fn response_example(method: &str, path: &str) -> Option<Value> {
    let ticket = json!({ "id": "019a...", "number": "12348-2026-000123", "category": "legal_aid",
        "region": "shicheng", "caller": "13800000001", "lawyer_id": "lai-zhiming", "status": "open",
        "notes": "[2026-01-01 08:05 lai] ...", "outcome": null, "red_alert": false,
        "created_at": 1767225600000_i64, "updated_at": 1767225600000_i64, "review_due": 1767229200000_i64,
        "assign_due": 1767229200000_i64, "return_visit_due": null, "sla_breaches": [] });
    let call = json!({ "id": "a84b4c76e66710@pc33", "caller": "13800000001", "region": "shicheng",
        "language": "zh", "category": "legal_aid", "arrived_at": 1767225600000_i64,
        "answered_at": 1767225612000_i64, "ended_at": 1767225900000_i64, "queue_wait_secs": 12,
        "overflow_steps": 0, "disposition": "answered", "lawyer_id": "lai-zhiming", "cut_off": false,
        "survey": "satisfied", "ticket_id": "019a...", "has_recording": true });
    let task = json!({ "id": "019b...", "kind": "callback", "reason": "callback_request",
        "ticket_id": "019a...", "caller": "13800000001", "due_at": 1767229200000_i64,
        "assigned_to": "lai-zhiming", "assignee": "lai-zhiming", "status": "open" });
    let me = json!({ "username": "lai", "name": "赖志明", "role": "lawyer", "lawyer_id": "lai-zhiming",
        "region": "", "lang": "zh", "csrf_token": "64 hex digits" });
    Some(match (method, path) {
        ("POST", "/api/login") | ("GET", "/api/me") => me,
        ("GET" | "POST", "/api/desk" | "/api/desk/state") => json!({ "lawyer_id": "lai-zhiming",
            "name": "赖志明", "state": "after_call_work", "since": null, "until": 1767225930000_i64, "registered": true }),
        ("GET", "/api/tickets") => json!({ "tickets": [ticket] }),
        ("GET", "/api/tickets/{id}") => {
            let mut t = ticket;
            t["calls"] = json!([call]);
            t["tasks"] = json!([task]);
            t["qa"] = json!([]);
            t
        }
        ("PATCH", "/api/tickets/{id}")
        | ("POST", "/api/tickets/{id}/assign" | "/api/tickets/{id}/review") => ticket,
        ("GET", "/api/calls") => json!({ "calls": [call] }),
        ("GET", "/api/calls/{id}") => call,
        ("GET", "/api/calls/{id}/transcript") => json!({ "status": "done", "language": "zh",
            "segments": [{ "start_ms": 1200, "end_ms": 3400, "speaker": "caller", "text": "..." }], "alerts": [] }),
        ("GET", "/api/calls/{id}/qa") => {
            json!({ "evaluations": [{ "score": 87, "comment": "", "by": "wang", "created_at": 1767229200000_i64 }] })
        }
        ("POST", "/api/calls/{id}/qa") => json!({ "score": 87 }),
        ("GET", "/api/tasks") => json!({ "tasks": [task] }),
        ("POST", "/api/tasks/{id}/done" | "/api/tasks/{id}/assign") => task,
        ("GET", "/api/lawyers") => json!({ "lawyers": [{ "id": "lai-zhiming", "name": "赖志明",
            "regions": ["shicheng"], "skills": ["consultation"], "languages": ["zh"], "registered": true,
            "state": "ready", "since": 1767225600000_i64 }] }),
        ("GET", "/api/regions") => {
            json!({ "regions": [{ "id": "shicheng", "level": "county", "parent": "ganzhou", "zh": "石城县", "en": "Shicheng County" }] })
        }
        ("GET", "/api/wallboard") => {
            json!({ "waiting": [{ "region": "shicheng", "name": "石城县", "count": 2, "longest_wait_secs": 41 }],
            "longest_wait_secs": 41, "lawyers_by_state": { "ready": 3, "busy": 2, "ringing": 0, "after_call_work": 1, "not_ready": 0, "logged_out": 20 },
            "calls_today": 120, "answered_today": 111, "answer_rate_today": 0.925, "overflow_today": 9,
            "sla_breaches": 1, "red_alerts_open": 0, "active_calls": 4 })
        }
        ("GET", "/api/stats/hourly") => {
            json!({ "hours": [{ "hour": 8, "calls": 14, "answered": 13 }] })
        }
        ("GET", "/api/stats/daily") => {
            json!({ "days": [{ "day": "2026-01-01", "calls": 120, "answered": 111,
            "answer_rate": 0.925, "satisfied": 70, "basically_satisfied": 20, "unsatisfied": 3 }] })
        }
        ("GET", "/api/stats/categories") => {
            json!({ "categories": [{ "category": "consultation", "calls": 80 }] })
        }
        ("GET", "/api/stats/regions") => {
            json!({ "regions": [{ "region": "shicheng", "name": "石城县", "calls": 40 }] })
        }
        ("GET", "/api/qa/form") => {
            json!({ "questions": [{ "id": "greeting", "text_zh": "规范问候，报工号",
            "text_en": "Standard greeting with staff number", "weight": 1.0, "max": 5 }] })
        }
        ("GET", "/api/review-queue") => {
            json!({ "items": [{ "call_id": "a84b4c76e66710@pc33", "ticket_id": "019a...",
            "reason": "sample", "added_at": 1767225900000_i64, "evaluated": false }] })
        }
        ("GET", "/api/users") => {
            json!({ "users": [{ "username": "lai", "role": "lawyer", "lawyer_id": "lai-zhiming", "region": "", "name": "赖志明", "lang": "zh" }] })
        }
        ("GET", "/api/admin/roster" | "/api/admin/dialplan/{file}") => {
            json!({ "toml": "[[lawyer]]\n..." })
        }
        ("POST", "/api/users") => {
            json!({ "username": "wang", "role": "supervisor", "lawyer_id": null,
            "region": "shicheng", "name": "王", "lang": "zh", "created_at": 1767225600000_i64 })
        }
        ("PUT", "/api/admin/roster" | "/api/admin/dialplan/{file}") => json!({ "ok": true }),
        _ => return None,
    })
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let roles: Vec<&str> = r.roles.iter().map(|r| r.as_str()).collect();
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .chain(query_params(r.method, r.path).iter().map(|name| {
                json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" } })
            }))
            .collect();
        let mut ok = json!({ "description": "OK" });
        if let Some(example) = response_example(r.method, r.path) {
            ok["content"] = json!({ "application/json": { "example": example } });
        }
        let mut responses = json!({
            "200": ok,
            "400": { "$ref": "#/components/responses/Error" },
            "404": { "$ref": "#/components/responses/Error" },
        });
        if !roles.is_empty() {
            responses["401"] = json!({ "$ref": "#/components/responses/Error" });
            responses["403"] = json!({ "$ref": "#/components/responses/Error" });
        }
        let mut op = json!({
            "tags": [r.tag],
            "summary": r.summary,
            "description": if roles.is_empty() { "Public.".to_owned() } else { format!("Roles: {}.{}", roles.join(", "),
                if r.method == "GET" { "" } else { " Needs the X-CSRF-Token header." }) },
            "x-roles": roles,
            "parameters": params,
            "responses": responses,
        });
        if !r.roles.is_empty() {
            op["security"] = json!([{ "session": [] }]);
        }
        if let Some(example) = request_example(r.method, r.path) {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": {
                "schema": { "type": "object" }, "example": example } } });
        }
        let entry = paths
            .entry(r.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[r.method.to_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "hotline console API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "REST API of the 12348 hotline's console. JSON everywhere; times are unix milliseconds; errors are {\"error\": \"...\"}. Log in with POST /api/login; send the returned csrf_token as X-CSRF-Token on every POST/PUT/PATCH/DELETE. See console/API-NOTES.md and the console contract for the bodies.",
        },
        "components": {
            "securitySchemes": { "session": { "type": "apiKey", "in": "cookie", "name": crate::auth::COOKIE_NAME } },
            "responses": { "Error": { "description": "Refused", "content": { "application/json": { "schema": {
                "type": "object", "properties": { "error": { "type": "string" } }, "required": ["error"] } } } } },
        },
        "paths": paths,
    })
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> Json<Value> {
    Json(document())
}

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
            json!({ "category": "legal_aid", "note": "...", "outcome": "advised", "status": "in_progress" })
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
        let mut responses = json!({
            "200": { "description": "OK (JSON unless stated)" },
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

//! The one table of API routes and who may call them. The guard (`auth.rs`) refuses every
//! request whose role is not listed here, the OpenAPI document is generated from it, and the
//! role tests call every entry with every role, so a route cannot exist without a rule.

use hotline_cases::Role;

/// One API route.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: &'static str,
    /// axum / OpenAPI path (`{id}` parameters).
    pub path: &'static str,
    /// Roles allowed; empty = public (no session needed).
    pub roles: &'static [Role],
    /// OpenAPI tag.
    pub tag: &'static str,
    /// What it does.
    pub summary: &'static str,
}

const PUBLIC: &[Role] = &[];
const L: &[Role] = &[Role::Lawyer];
const SA: &[Role] = &[Role::Supervisor, Role::Admin];
const LSA: &[Role] = &[Role::Lawyer, Role::Supervisor, Role::Admin];
const A: &[Role] = &[Role::Admin];

macro_rules! r {
    ($m:literal, $p:literal, $roles:expr, $tag:literal, $s:literal) => {
        RouteSpec {
            method: $m,
            path: $p,
            roles: $roles,
            tag: $tag,
            summary: $s,
        }
    };
}

/// Every `/api` route.
pub const ROUTES: &[RouteSpec] = &[
    r!(
        "GET",
        "/api/openapi.json",
        PUBLIC,
        "meta",
        "This OpenAPI document."
    ),
    r!(
        "POST",
        "/api/login",
        PUBLIC,
        "auth",
        "Log in with username and password; sets the session cookie."
    ),
    r!("POST", "/api/logout", LSA, "auth", "End the session."),
    r!(
        "GET",
        "/api/me",
        LSA,
        "auth",
        "The logged-in user and the CSRF token."
    ),
    r!("GET", "/api/desk", L, "desk", "The lawyer's ACD state."),
    r!(
        "POST",
        "/api/desk/state",
        L,
        "desk",
        "Set ready / not ready / logged out."
    ),
    r!(
        "GET",
        "/api/live",
        LSA,
        "live",
        "WebSocket: screen-pops, desk changes, call events, wallboard."
    ),
    r!(
        "GET",
        "/api/tickets",
        LSA,
        "tickets",
        "List tickets in the caller's scope."
    ),
    r!(
        "GET",
        "/api/tickets/{id}",
        LSA,
        "tickets",
        "A ticket with its calls, tasks and QA evaluations."
    ),
    r!(
        "PATCH",
        "/api/tickets/{id}",
        LSA,
        "tickets",
        "Change category, append a note (at most 4000 characters), set outcome (one of the \
         wrap-up codes) or status; all checked before anything is saved. Only supervisors \
         and admins close."
    ),
    r!(
        "POST",
        "/api/tickets/{id}/assign",
        SA,
        "tickets",
        "Assign the ticket to a lawyer."
    ),
    r!(
        "POST",
        "/api/tickets/{id}/review",
        SA,
        "tickets",
        "Record the supervisor's review."
    ),
    r!(
        "GET",
        "/api/calls",
        LSA,
        "calls",
        "List calls in the caller's scope."
    ),
    r!("GET", "/api/calls/{id}", LSA, "calls", "A call record."),
    r!(
        "GET",
        "/api/calls/{id}/recording",
        LSA,
        "calls",
        "The stereo WAV recording (HTTP Range supported)."
    ),
    r!(
        "GET",
        "/api/calls/{id}/transcript",
        LSA,
        "calls",
        "The call's transcript (PII-redacted for lawyers)."
    ),
    r!(
        "GET",
        "/api/calls/{id}/qa",
        SA,
        "qa",
        "QA evaluations of the call."
    ),
    r!(
        "POST",
        "/api/calls/{id}/qa",
        SA,
        "qa",
        "File a QA evaluation; returns the weighted score."
    ),
    r!(
        "GET",
        "/api/tasks",
        LSA,
        "tasks",
        "Callback and return-visit tasks."
    ),
    r!(
        "POST",
        "/api/tasks/{id}/done",
        LSA,
        "tasks",
        "Complete a task (assignee, supervisor, admin)."
    ),
    r!(
        "POST",
        "/api/tasks/{id}/assign",
        SA,
        "tasks",
        "Give a task to someone."
    ),
    r!(
        "GET",
        "/api/lawyers",
        SA,
        "lawyers",
        "The roster's lawyers with their live state."
    ),
    r!(
        "GET",
        "/api/regions",
        SA,
        "lawyers",
        "The regions of hierarchy.toml."
    ),
    r!(
        "GET",
        "/api/wallboard",
        SA,
        "wallboard",
        "Live wallboard figures."
    ),
    r!(
        "GET",
        "/api/stats/hourly",
        SA,
        "stats",
        "Calls per hour of a Beijing day."
    ),
    r!(
        "GET",
        "/api/stats/daily",
        SA,
        "stats",
        "Calls, answer rate and satisfaction per day."
    ),
    r!(
        "GET",
        "/api/stats/categories",
        SA,
        "stats",
        "Calls per category."
    ),
    r!(
        "GET",
        "/api/stats/regions",
        SA,
        "stats",
        "Calls per region."
    ),
    r!(
        "GET",
        "/api/qa/form",
        SA,
        "qa",
        "The QA questions and weights (dialplans/qa.toml)."
    ),
    r!(
        "GET",
        "/api/review-queue",
        SA,
        "qa",
        "Calls to review: samples, red alerts, unsatisfied."
    ),
    r!("GET", "/api/users", A, "admin", "Console users."),
    r!("POST", "/api/users", A, "admin", "Add a console user."),
    r!(
        "DELETE",
        "/api/users/{username}",
        A,
        "admin",
        "Remove a console user."
    ),
    r!(
        "GET",
        "/api/admin/roster",
        A,
        "admin",
        "roster.toml as text."
    ),
    r!(
        "PUT",
        "/api/admin/roster",
        A,
        "admin",
        "Replace roster.toml after the dialplan check."
    ),
    r!(
        "GET",
        "/api/admin/dialplan/{file}",
        A,
        "admin",
        "roster.toml, hierarchy.toml, regions.toml or hours.toml as text."
    ),
    r!(
        "PUT",
        "/api/admin/dialplan/{file}",
        A,
        "admin",
        "Replace one of those files after the dialplan check."
    ),
];

/// The rule for a matched route.
pub fn find(method: &str, path: &str) -> Option<&'static RouteSpec> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

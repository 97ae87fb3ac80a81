//! The web console and its API: lawyers' desk with live screen-pops, supervisors' wallboard,
//! tickets, recordings, QA and statistics, and administration, for the 12348 hotline.
//!
//! Every `/api` route is listed once in [`routes::ROUTES`] with the roles that may use it;
//! [`auth::guard`] enforces that table (session, role, CSRF) before any handler runs, and
//! handlers apply the row-level scope (a lawyer's own calls, a supervisor's regions). The
//! running system is reached through [`CallCenter`], so all of this is tested without SIP.

pub mod admin;
mod assets;
pub mod auth;
mod board;
mod cases_api;
pub mod center;
pub mod error;
mod json;
mod live;
pub mod openapi;
pub mod qa;
pub mod routes;
mod tasks_api;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use hotline_cases::Store;
use serde::Serialize;

pub use center::{CallCenter, LIVE_BUFFER, LiveEvent};
pub use qa::QaForm;

/// Live numbers the SIP side updates and the console reads without locking.
#[derive(Debug, Default)]
pub struct LiveStats {
    /// Calls in progress.
    pub active_calls: AtomicUsize,
    /// Calls answered since start.
    pub answered_calls: AtomicUsize,
    /// Free RTP ports.
    pub free_rtp_ports: AtomicUsize,
    /// Open media legs.
    pub media_legs: AtomicUsize,
    /// Median lateness of RTP sends against their 20 ms grid, microseconds.
    pub send_jitter_p50_us: AtomicUsize,
    /// 99th percentile of the same.
    pub send_jitter_p99_us: AtomicUsize,
    /// Media ticks that started more than a frame late.
    pub media_overruns: AtomicUsize,
    /// Times the media clock fell so far behind that it skipped ahead (audio was dropped).
    pub media_resyncs: AtomicUsize,
    /// Milliseconds of audio those skips dropped.
    pub media_skipped_ms: AtomicUsize,
}

/// Console settings from `hotline serve`.
#[derive(Debug, Clone, Default)]
pub struct ConsoleSettings {
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub cookie_secure: bool,
}

/// Everything a handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts of [`AppState`].
pub struct Inner {
    store: Store,
    center: Arc<dyn CallCenter>,
    stats: Arc<LiveStats>,
    settings: ConsoleSettings,
    qa: QaForm,
    limiter: auth::LoginLimiter,
    /// Bounds concurrent password verifications (see [`auth::VERIFY_PERMITS`]).
    login_verify: Arc<tokio::sync::Semaphore>,
    /// One roster edit at a time.
    roster_edit: tokio::sync::Mutex<()>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// The console's state over the store, the running system and the checked QA form.
    pub fn new(
        store: Store,
        center: Arc<dyn CallCenter>,
        stats: Arc<LiveStats>,
        settings: ConsoleSettings,
        qa: QaForm,
    ) -> AppState {
        AppState(Arc::new(Inner {
            store,
            center,
            stats,
            settings,
            qa,
            limiter: auth::LoginLimiter::default(),
            login_verify: Arc::new(tokio::sync::Semaphore::new(auth::VERIFY_PERMITS)),
            roster_edit: tokio::sync::Mutex::new(()),
        }))
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    active_calls: usize,
    answered_calls: usize,
    free_rtp_ports: usize,
    media_legs: usize,
    send_jitter_p50_us: usize,
    send_jitter_p99_us: usize,
    media_overruns: usize,
    media_resyncs: usize,
    media_skipped_ms: usize,
}

/// The console's routes: the SPA, `/healthz` and the guarded `/api`.
pub fn router(state: AppState) -> Router {
    use axum::routing::delete;
    let api = Router::new()
        .route("/api/openapi.json", get(openapi::openapi))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/desk", get(board::desk))
        .route("/api/desk/state", post(board::set_desk_state))
        .route("/api/live", get(live::live))
        .route("/api/tickets", get(cases_api::list_tickets))
        .route(
            "/api/tickets/{id}",
            get(cases_api::get_ticket).patch(cases_api::patch_ticket),
        )
        .route("/api/tickets/{id}/assign", post(cases_api::assign_ticket))
        .route("/api/tickets/{id}/review", post(cases_api::review_ticket))
        .route("/api/calls", get(cases_api::list_calls))
        .route("/api/calls/{id}", get(cases_api::get_call))
        .route("/api/calls/{id}/recording", get(cases_api::recording))
        .route("/api/calls/{id}/transcript", get(cases_api::transcript))
        .route(
            "/api/calls/{id}/qa",
            get(qa::evaluations).post(qa::evaluate),
        )
        .route("/api/tasks", get(tasks_api::list_tasks))
        .route("/api/tasks/{id}/done", post(tasks_api::task_done))
        .route("/api/tasks/{id}/assign", post(tasks_api::task_assign))
        .route("/api/lawyers", get(board::lawyers))
        .route("/api/regions", get(board::regions))
        .route("/api/wallboard", get(board::wallboard))
        .route("/api/stats/hourly", get(qa::hourly))
        .route("/api/stats/daily", get(qa::daily))
        .route("/api/stats/categories", get(qa::categories))
        .route("/api/stats/regions", get(qa::regions))
        .route("/api/qa/form", get(qa::form))
        .route("/api/review-queue", get(qa::review_queue))
        .route("/api/users", get(admin::users).post(admin::add_user))
        .route("/api/users/{username}", delete(admin::delete_user))
        .route(
            "/api/admin/roster",
            get(admin::roster).put(admin::put_roster),
        )
        .route(
            "/api/admin/dialplan/{file}",
            get(admin::dialplan_file).put(admin::put_dialplan_file),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        .fallback(api_not_found);
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{*path}", get(assets::asset))
        .route("/healthz", get(healthz))
        .nest("/api", Router::new().fallback(api_not_found))
        .merge(api)
        .with_state(state)
}

async fn api_not_found() -> error::ApiError {
    error::ApiError::NotFound("no such API route".into())
}

async fn healthz(State(state): State<AppState>) -> Json<Health> {
    let stats = &state.stats;
    Json(Health {
        status: "ok",
        active_calls: stats.active_calls.load(Ordering::Relaxed),
        answered_calls: stats.answered_calls.load(Ordering::Relaxed),
        free_rtp_ports: stats.free_rtp_ports.load(Ordering::Relaxed),
        media_legs: stats.media_legs.load(Ordering::Relaxed),
        send_jitter_p50_us: stats.send_jitter_p50_us.load(Ordering::Relaxed),
        send_jitter_p99_us: stats.send_jitter_p99_us.load(Ordering::Relaxed),
        media_overruns: stats.media_overruns.load(Ordering::Relaxed),
        media_resyncs: stats.media_resyncs.load(Ordering::Relaxed),
        media_skipped_ms: stats.media_skipped_ms.load(Ordering::Relaxed),
    })
}

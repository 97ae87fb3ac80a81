//! The web console and its API. For now it serves the health check that load balancers and
//! the test harness poll; the lawyers' desk and the supervisors' pages grow here ([console]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

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
}

/// The console's routes.
pub fn router(stats: Arc<LiveStats>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(stats)
}

async fn healthz(State(stats): State<Arc<LiveStats>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        active_calls: stats.active_calls.load(Ordering::Relaxed),
        answered_calls: stats.answered_calls.load(Ordering::Relaxed),
        free_rtp_ports: stats.free_rtp_ports.load(Ordering::Relaxed),
        media_legs: stats.media_legs.load(Ordering::Relaxed),
        send_jitter_p50_us: stats.send_jitter_p50_us.load(Ordering::Relaxed),
        send_jitter_p99_us: stats.send_jitter_p99_us.load(Ordering::Relaxed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    #[tokio::test]
    async fn healthz_reports_live_numbers() {
        let stats = Arc::new(LiveStats::default());
        stats.active_calls.store(3, Ordering::Relaxed);
        let resp = router(stats)
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["active_calls"], 3);
    }
}

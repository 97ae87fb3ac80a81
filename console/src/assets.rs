//! The single-page front-end from console/web, compiled into the binary (rust-embed; debug
//! builds read the folder live). `/` is index.html, `/assets/<path>` every other file.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/"]
#[exclude = "*.sh"]
struct Web;

/// Content type by extension (the SPA's files only).
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "wav" => "audio/wav",
        "woff2" => "font/woff2",
        _ => "text/plain; charset=utf-8",
    }
}

/// The page's Content-Security-Policy: only our own scripts, the WebSocket and the audio.
// wavesurfer.js (vendored 7.12.12) puts one constant <style> in its shadow DOM: allowed by hash.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'sha256-Y/8t1dAKa3ay+RZEiEFEDr8dFiQhpaFvYXXUfT3p6ZU='; img-src 'self' data:; connect-src 'self' ws: wss:; media-src 'self' blob:; worker-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn serve(path: &str) -> Response {
    match Web::get(path) {
        Some(file) => (
            [
                (header::CONTENT_TYPE, content_type(path)),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CONTENT_SECURITY_POLICY, CSP),
            ],
            Body::from(file.data.into_owned()),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found",
        )
            .into_response(),
    }
}

/// `GET /`.
pub async fn index() -> Response {
    serve("index.html")
}

/// `GET /assets/{*path}`.
pub async fn asset(Path(path): Path<String>) -> Response {
    if path.split('/').any(|seg| seg == ".." || seg.is_empty()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    serve(&path)
}

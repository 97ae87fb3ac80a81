//! API errors: every failure leaves as `{"error": "..."}` with the status the contract names.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hotline_cases::StoreError;

/// A refused or failed API request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request itself is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid session, or bad credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the role or scope does not allow it, or the CSRF token is missing.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409: the workflow does not allow it now.
    #[error("{0}")]
    Conflict(String),
    /// 422: well-formed but invalid, with the problems found.
    #[error("{message}")]
    Invalid {
        /// Summary.
        message: String,
        /// `file:line: ...` items.
        problems: Vec<String>,
    },
    /// 429: too many failed logins.
    #[error("{0}")]
    TooMany(String),
    /// 500: the store or the file system failed; logged, not shown in detail.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::InvalidTransition { .. } | StoreError::CallerHasOpenTicket(_) => {
                ApiError::Conflict(e.to_string())
            }
            StoreError::Duplicate => ApiError::Conflict(e.to_string()),
            StoreError::Invalid(m) => ApiError::BadRequest(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(m) => {
                tracing::warn!(error = %m, "console request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let body = match &self {
            ApiError::Invalid { message, problems } => {
                serde_json::json!({ "error": message, "problems": problems })
            }
            ApiError::Internal(_) => serde_json::json!({ "error": "internal error" }),
            other => serde_json::json!({ "error": other.to_string() }),
        };
        (status, Json(body)).into_response()
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

/// `Json<T>` whose rejections (bad JSON, missing fields, wrong content type) answer with the
/// API's `{"error": ...}` body (400) instead of axum's plain text.
pub struct ApiJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    axum::Json<T>:
        axum::extract::FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

/// `Query<T>` with the API's error body on a malformed query string.
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

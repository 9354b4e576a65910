//! One error type for handlers: 4xx with the message for the caller's mistakes, 5xx with a
//! generic message (and the cause in the log) for ours.

use axum::{Json, http::StatusCode, response::IntoResponse};

use crate::services::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Missing or wrong credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// A request body or parameter that does not parse.
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let (status, message) = match &self {
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, self.to_string()),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            AppError::Service(e) => match e {
                ServiceError::UnknownOrder(_) => (StatusCode::NOT_FOUND, e.to_string()),
                ServiceError::Concurrent => (StatusCode::CONFLICT, e.to_string()),
                e if e.is_user_error() => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
                e => {
                    tracing::error!(error = %e, "request failed");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal error; please try again".to_owned(),
                    )
                }
            },
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

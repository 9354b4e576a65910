//! One error type for every handler: 4xx with the message for the caller's mistakes, 5xx with
//! a generic message (and the cause in the log) for ours. Always `{"error": message}`.

use axum::{Json, http::StatusCode, response::IntoResponse};

use crate::services::{HandoffError, ServiceError, WarehouseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Missing or wrong credentials; the message says what to do (log in where).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A staff write request without the session's CSRF token.
    #[error("missing or wrong CSRF token")]
    Csrf,
    /// A request body or parameter that does not parse.
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Staff accounts, sessions and the console's conversations.
    #[error(transparent)]
    Staff(#[from] HandoffError),
    /// Picking and the warehouse.
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Service(e) => service_status(e),
            AppError::Staff(e) => match e {
                HandoffError::BadCredentials => StatusCode::UNAUTHORIZED,
                HandoffError::UnknownConversation | HandoffError::UnknownAgent(_) => {
                    StatusCode::NOT_FOUND
                }
                HandoffError::Taken { .. } | HandoffError::Closed => StatusCode::CONFLICT,
                HandoffError::NotHolder | HandoffError::WrongRole { .. } => StatusCode::FORBIDDEN,
                HandoffError::Invalid(_) => StatusCode::BAD_REQUEST,
                HandoffError::Service(s) => service_status(s),
            },
            AppError::Warehouse(e) => match e {
                WarehouseError::UnknownOrder(_) | WarehouseError::UnknownWave(_) => {
                    StatusCode::NOT_FOUND
                }
                WarehouseError::Concurrent => StatusCode::CONFLICT,
                e if e.is_user_error() => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }
}

fn service_status(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::UnknownOrder(_) => StatusCode::NOT_FOUND,
        ServiceError::Concurrent => StatusCode::CONFLICT,
        e if e.is_user_error() => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = self.status();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
            "internal error; please try again".to_owned()
        } else {
            self.to_string()
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callers_mistakes_are_4xx_and_ours_5xx() {
        let cases = [
            (AppError::Unauthorized("log in first"), 401),
            (AppError::Csrf, 403),
            (AppError::BadRequest("qty".into()), 400),
            (AppError::Staff(HandoffError::BadCredentials), 401),
            (AppError::Staff(HandoffError::Closed), 409),
            (
                AppError::Staff(HandoffError::WrongRole {
                    role: "picker".into(),
                }),
                403,
            ),
            (AppError::Service(ServiceError::Concurrent), 409),
            (
                AppError::Staff(HandoffError::Service(ServiceError::Concurrent)),
                409,
            ),
            (AppError::Warehouse(WarehouseError::Concurrent), 409),
        ];
        for (e, want) in cases {
            assert_eq!(e.status().as_u16(), want, "{e:?}");
        }
    }
}

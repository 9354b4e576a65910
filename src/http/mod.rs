//! The axum HTTP adapter: health checks, the operator API, the web chat API and its socket,
//! the tracking page, the agent console and the picker page. The Telegram and WeChat webhooks
//! mount their routers beside it (`app.rs`).

mod admin;
mod agent;
mod chat;
mod error;
pub mod observe;
mod pages;
mod picker;
mod staff_auth;
mod tracking;
mod ws_chat;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};

pub use error::AppError;

use crate::config::Secret;
use crate::services::Services;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub engine: crate::conversation::Engine,
    pub admin_token: Secret,
    pub senders: crate::channels::Senders,
    /// Wakes this instance's web chat sockets; tells them about shutdown.
    pub web: crate::channels::web::WebHub,
}

/// The whole HTTP surface; `main` serves it and tests call it on port 0.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(observe::metrics_page))
        .route("/api/catalog", get(admin::catalog))
        .route("/api/admin/orders/{number}/status", post(admin::set_status))
        .route("/api/chat/sessions", post(chat::create_session))
        .route("/api/chat/messages", post(chat::post_message))
        .route("/api/chat/orders", get(chat::orders))
        .route("/api/chat/conversation", get(chat::conversation))
        .merge(pages::routes())
        .merge(tracking::routes())
        .merge(ws_chat::routes())
        .merge(agent::routes())
        .merge(picker::routes())
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
}

/// Ready when the database answers.
async fn readyz(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, (StatusCode, Json<serde_json::Value>)> {
    match state.services.store().ping().await {
        Ok(()) => Ok(Json(
            serde_json::json!({ "status": "ready", "database": "ok" }),
        )),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            Err((
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "database": "unreachable" })),
            ))
        }
    }
}

//! `POST /telegram/webhook`: updates pushed by Telegram in webhook mode.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};
use teloxide::types::Update;

use super::Telegram;

pub const WEBHOOK_PATH: &str = "/telegram/webhook";

/// Telegram repeats the secret given to `setWebhook` in this header on every call.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Updates are small; a message is at most 4096 characters plus metadata.
const MAX_BODY: usize = 1024 * 1024;

pub(super) fn router(tg: Arc<Telegram>) -> Router {
    Router::new()
        .route(WEBHOOK_PATH, post(receive))
        .with_state(tg)
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// Handles the update before answering: Telegram resends it if the answer is not 2xx, and
/// the update id dedupe makes that resend harmless.
async fn receive(State(tg): State<Arc<Telegram>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some((_, secret)) = &tg.webhook else {
        return StatusCode::NOT_FOUND;
    };
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(given, secret.expose().as_bytes()) {
        tracing::warn!("Telegram webhook call without the right secret token; refused");
        return StatusCode::UNAUTHORIZED;
    }
    // teloxide reads unknown kinds of updates as `UpdateKind::Error`, so only broken JSON fails.
    let update: Update = match serde_json::from_slice(&body) {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "malformed Telegram webhook body");
            return StatusCode::BAD_REQUEST;
        }
    };
    match tg.handle(update).await {
        Ok(()) => StatusCode::OK,
        // Nothing was done: let Telegram deliver it again later.
        Err(e) => {
            tracing::error!(error = %e, "Telegram update not recorded");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// Compares without stopping at the first difference, so timing tells nothing about the secret.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn secrets_compare_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"abc"));
    }
}

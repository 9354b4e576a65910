//! `GET /ws/chat?token=TOKEN[&after=ID]`: the web chat customer's pushed messages, each a
//! reply `{"id", "text", "buttons": [{"label", "payload"}]}`; `id` is the cursor a page
//! passes as `after` when it reconnects, so nothing pushed in between is lost.

use std::time::Duration;

use axum::{
    Router,
    extract::{
        Query, State,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code, rejection},
    },
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use super::{AppError, AppState};
use crate::domain::Button;
use crate::services::{MAX_PUSH_PAGE, Services};

/// How often a socket re-reads the pushes table: the path by which pushes stored by another
/// instance arrive (this instance's own pushes wake the socket at once).
pub(super) const POLL: Duration = Duration::from_secs(2);
/// Keeps proxies from closing an idle socket and finds dead peers.
pub(super) const PING: Duration = Duration::from_secs(25);

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/ws/chat", get(ws_chat))
}

#[derive(Deserialize)]
pub struct WsChatQuery {
    token: Option<String>,
    after: Option<i64>,
}

#[derive(Serialize)]
struct PushJson<'a> {
    id: i64,
    text: &'a str,
    buttons: &'a [Button],
}

async fn ws_chat(
    State(state): State<AppState>,
    query: Result<Query<WsChatQuery>, axum::extract::rejection::QueryRejection>,
    ws: Result<WebSocketUpgrade, rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return AppError::BadRequest("after must be a push id (a non-negative integer)".into())
            .into_response();
    };
    // Credentials first: a bad token is refused before any upgrade.
    let token = q.token.as_deref().unwrap_or("").trim();
    let user = match state.services.web_session_user(token).await {
        Ok(Some(u)) => u,
        Ok(None) => return AppError::Unauthorized("unauthorized").into_response(),
        Err(e) => return AppError::from(e).into_response(),
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(r) => return r.into_response(),
    };
    if q.after.is_some_and(|a| a < 0) {
        return AppError::BadRequest("after must be a push id (a non-negative integer)".into())
            .into_response();
    }
    let Some(permit) = state.web.admit_socket() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many open sockets").into_response();
    };
    // Without `after`, the socket carries what is pushed from now on.
    let start = match q.after {
        Some(a) => a,
        None => match state.services.last_web_push_id(&user).await {
            Ok(id) => id,
            Err(e) => return AppError::from(e).into_response(),
        },
    };
    ws.on_upgrade(move |socket| async move {
        pushes(socket, state, user, start).await;
        drop(permit);
    })
}

/// Sends the pushes of `user` after `cursor` until the peer leaves or the server stops.
async fn pushes(mut socket: WebSocket, state: AppState, user: String, mut cursor: i64) {
    let mut woken = state.web.subscribe();
    let mut hub_open = true;
    let mut shutdown = state.web.shutdown_signal();
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING, PING);
    loop {
        let deliver = tokio::select! {
            _ = poll.tick() => true,
            w = woken.recv(), if hub_open => match w {
                Ok(u) => *u == *user,
                Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => {
                    hub_open = false;
                    false
                }
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
                false
            }
            _ = stopping(&mut shutdown) => {
                close(&mut socket, close_code::AWAY, "server shutting down").await;
                return;
            }
            m = socket.recv() => match m {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                // Pongs and anything the page says: the chat goes through POST, not here.
                Some(Ok(_)) => false,
            },
        };
        if deliver {
            match send_backlog(&mut socket, &state.services, &user, &mut cursor).await {
                Ok(()) => {}
                Err(Gone) => return,
            }
        }
    }
}

/// The peer went away.
struct Gone;

async fn send_backlog(
    socket: &mut WebSocket,
    services: &Services,
    user: &str,
    cursor: &mut i64,
) -> Result<(), Gone> {
    loop {
        let page = match services
            .web_pushes_after(user, *cursor, MAX_PUSH_PAGE)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                // The next tick tries again; the cursor has not moved, so nothing is lost.
                tracing::warn!(error = %e, "reading web pushes failed");
                return Ok(());
            }
        };
        for p in page.pushes {
            let json = serde_json::to_string(&PushJson {
                id: p.id,
                text: &p.reply.text,
                buttons: &p.reply.buttons,
            })
            .unwrap_or_default();
            socket
                .send(Message::Text(json.into()))
                .await
                .map_err(|_| Gone)?;
            *cursor = p.id;
        }
        *cursor = page.cursor;
        if !page.more {
            return Ok(());
        }
    }
}

/// Resolves when the server starts shutting down (no guard held across later awaits).
pub(super) async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

pub(super) async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

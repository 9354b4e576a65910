//! The public tracking page of one order: `/track/{token}` (HTML), `GET /api/track/{token}`
//! (its data) and `GET /ws/track/{token}` (the same data again whenever it changes).
//!
//! The token is the only key: every unknown or malformed token gets the same 404, so the
//! page tells nothing about whether other orders exist, and the view carries nothing about
//! the customer or other orders (see [`crate::services::TrackingView`]).

use axum::{
    Json, Router,
    extract::{
        Path, State,
        ws::{Message, WebSocket, WebSocketUpgrade, close_code, rejection},
    },
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;

use super::pages::{NOT_FOUND, TRACK};
use super::ws_chat::{PING, POLL, close, stopping};
use super::{AppError, AppState};
use crate::domain::{Lang, LatLon, OrderStatus, TZ, Unit};
use crate::services::TrackingView;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/track/{token}", get(page))
        .route("/api/track/{token}", get(json))
        .route("/ws/track/{token}", get(ws))
}

#[derive(Serialize, PartialEq)]
pub struct TrackingJson {
    number: String,
    status: OrderStatus,
    status_label: Labels,
    /// 0-4 along 已接单 -> 分拣中 -> 已发货 -> 配送中 -> 已送达; null once cancelled.
    stage: Option<usize>,
    slot: Slot,
    eta: Option<String>,
    dispatched_at: Option<String>,
    delivered_at: Option<String>,
    courier: Option<Courier>,
    destination: Option<Point>,
    depot: Point,
    lines: Vec<Line>,
}

#[derive(Serialize, PartialEq)]
struct Labels {
    zh: &'static str,
    en: &'static str,
}

#[derive(Serialize, PartialEq)]
struct Slot {
    start: String,
    end: String,
}

#[derive(Serialize, PartialEq)]
struct Point {
    lat: f64,
    lon: f64,
}

#[derive(Serialize, PartialEq)]
struct Courier {
    lat: f64,
    lon: f64,
    seen_at: Option<String>,
}

#[derive(Serialize, PartialEq)]
struct Line {
    name_zh: String,
    name_en: String,
    qty: f64,
    unit: Unit,
}

fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&TZ).to_rfc3339()
}

fn point(p: LatLon) -> Point {
    Point {
        lat: p.lat,
        lon: p.lon,
    }
}

impl From<&TrackingView> for TrackingJson {
    fn from(v: &TrackingView) -> Self {
        TrackingJson {
            number: v.number.to_string(),
            status: v.status,
            status_label: Labels {
                zh: v.status.label(Lang::Zh),
                en: v.status.label(Lang::En),
            },
            stage: v.stage,
            slot: Slot {
                start: local(v.slot_start),
                end: local(v.slot_end),
            },
            eta: v.eta.map(local),
            dispatched_at: v.dispatched_at.map(local),
            delivered_at: v.delivered_at.map(local),
            courier: v.courier.as_ref().map(|c| Courier {
                lat: c.at.lat,
                lon: c.at.lon,
                seen_at: c.seen_at.map(local),
            }),
            destination: v.destination.map(point),
            depot: point(v.depot),
            lines: v
                .lines
                .iter()
                .map(|l| Line {
                    name_zh: l.name_zh.clone(),
                    name_en: l.name_en.clone(),
                    qty: l.quantity.milli() as f64 / 1000.0,
                    unit: l.quantity.unit(),
                })
                .collect(),
        }
    }
}

async fn view(state: &AppState, token: &str) -> Result<Option<TrackingJson>, AppError> {
    Ok(state
        .services
        .tracking_view(token)
        .await?
        .as_ref()
        .map(TrackingJson::from))
}

fn not_found_json() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": "no such tracking link" })),
    )
        .into_response()
}

/// `GET /track/{token}`: the page (its script loads the data from the API).
async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match view(&state, &token).await {
        Ok(Some(_)) => TRACK.respond(StatusCode::OK),
        Ok(None) => NOT_FOUND.respond(StatusCode::NOT_FOUND),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/track/{token}`.
async fn json(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match view(&state, &token).await {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => not_found_json(),
        Err(e) => e.into_response(),
    }
}

/// `GET /ws/track/{token}`: the view now and on every change; closed with 1000 once the order
/// is delivered or cancelled (nothing more will change).
async fn ws(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ws: Result<WebSocketUpgrade, rejection::WebSocketUpgradeRejection>,
) -> Response {
    match view(&state, &token).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found_json(),
        Err(e) => return e.into_response(),
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(r) => return r.into_response(),
    };
    let Some(permit) = state.web.admit_socket() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many open sockets").into_response();
    };
    ws.on_upgrade(move |socket| async move {
        follow(socket, state, token).await;
        drop(permit);
    })
}

async fn follow(mut socket: WebSocket, state: AppState, token: String) {
    let mut shutdown = state.web.shutdown_signal();
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING, PING);
    let mut last_sent: Option<String> = None;
    loop {
        tokio::select! {
            _ = poll.tick() => {
                let current = match view(&state, &token).await {
                    Ok(Some(v)) => v,
                    Ok(None) => {
                        close(&mut socket, close_code::NORMAL, "gone").await;
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the tracking view failed");
                        continue;
                    }
                };
                let finished = current.status.is_terminal();
                let Ok(text) = serde_json::to_string(&current) else { continue };
                if last_sent.as_deref() != Some(text.as_str()) {
                    if socket.send(Message::Text(text.clone().into())).await.is_err() {
                        return;
                    }
                    last_sent = Some(text);
                }
                if finished {
                    close(&mut socket, close_code::NORMAL, "final").await;
                    return;
                }
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            _ = stopping(&mut shutdown) => {
                close(&mut socket, close_code::AWAY, "server shutting down").await;
                return;
            }
            m = socket.recv() => match m {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

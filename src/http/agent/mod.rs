//! The agent console at `/agent`: a login page, a JSON API under `/agent/api` and live
//! updates over `/agent/ws`.
//!
//! Sessions are an HttpOnly, SameSite=Strict cookie (Secure when the public URL is https).
//! Every POST except the login also carries the session's CSRF token in `X-CSRF-Token`, which
//! a page on another site cannot read. Customers' web chat bearer tokens mean nothing here.

use axum::{
    Json, Router,
    extract::{Path, State, WebSocketUpgrade, ws},
    http::{HeaderMap, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::staff_auth::StaffDoor;
use super::{AppError, AppState};
use crate::dialog::DialogState;
use crate::domain::{AddressId, CancelReason, Duty};
use crate::handoff::{CANNED_REPLIES, HandoffOutcome, Outgoing};
use crate::services::{AgentSession, HandoffError};

const DOOR: StaffDoor = StaffDoor {
    cookie: "freshbot_agent",
    path: "/agent",
    duty: Duty::Conversations,
    login_hint: "log in to the agent console",
};
const CONSOLE_HTML: &str = include_str!("console.html");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/agent", get(console))
        .route("/agent/", get(console))
        .route("/agent/ws", get(live))
        .route("/agent/api/login", post(login))
        .route("/agent/api/logout", post(logout))
        .route("/agent/api/me", get(me))
        .route("/agent/api/queue", get(queue))
        .route("/agent/api/agents", get(agents))
        .route("/agent/api/stats", get(stats))
        .route("/agent/api/canned", get(canned))
        .route("/agent/api/conversations/{id}", get(conversation))
        .route("/agent/api/conversations/{id}/claim", post(claim))
        .route("/agent/api/conversations/{id}/messages", post(message))
        .route("/agent/api/conversations/{id}/transfer", post(transfer))
        .route("/agent/api/conversations/{id}/release", post(release))
        .route(
            "/agent/api/conversations/{id}/orders/{number}/{action}",
            post(order_action),
        )
}

/// The agent of the request's session cookie.
async fn agent(state: &AppState, headers: &HeaderMap) -> Result<AgentSession, AppError> {
    DOOR.session(state, headers).await
}

/// The agent of a write request: a valid session and its CSRF token in the header.
async fn writer(state: &AppState, headers: &HeaderMap) -> Result<AgentSession, AppError> {
    DOOR.writer(state, headers).await
}

fn body<T>(b: Result<Json<T>, axum::extract::rejection::JsonRejection>) -> Result<T, AppError> {
    b.map(|Json(v)| v)
        .map_err(|e| AppError::BadRequest(e.body_text()))
}

/// Sends to the customer's own channel; the answer says whether it went out. A message that
/// could not be delivered stays in the transcript.
async fn deliver(state: &AppState, out: &Outgoing) -> Value {
    match state
        .senders
        .send(out.channel, &out.user, &out.replies)
        .await
    {
        Ok(()) => json!({ "delivered": true }),
        Err(e) => {
            tracing::warn!(channel = %out.channel, error = %e, "handoff message not delivered");
            json!({ "delivered": false, "error": e.to_string() })
        }
    }
}

async fn console() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
            ),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        Html(CONSOLE_HTML),
    )
}

#[derive(Deserialize)]
struct LoginBody {
    login: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    b: Result<Json<LoginBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    let b = body(b)?;
    let (cookie, session) = DOOR.login(&state, &b.login, &b.password).await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "agent": session, "csrf": session.csrf })),
    )
        .into_response())
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let cleared = DOOR.logout(&state, &headers).await?;
    Ok(([(header::SET_COOKIE, cleared)], Json(json!({ "ok": true }))).into_response())
}

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, AppError> {
    let a = agent(&state, &headers).await?;
    Ok(Json(json!({ "agent": a, "csrf": a.csrf })))
}

async fn queue(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, AppError> {
    agent(&state, &headers).await?;
    Ok(Json(
        json!({ "queue": state.services.handoff_queue().await? }),
    ))
}

async fn agents(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    agent(&state, &headers).await?;
    let list: Vec<Value> = state
        .services
        .agents()
        .await?
        .into_iter()
        .map(|(id, login, name)| json!({ "id": id, "login": login, "name": name }))
        .collect();
    Ok(Json(json!({ "agents": list })))
}

/// Per-agent handling records (JSON; the console shows them too).
async fn stats(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, AppError> {
    agent(&state, &headers).await?;
    Ok(Json(
        json!({ "agents": state.services.agent_stats().await? }),
    ))
}

async fn canned(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    agent(&state, &headers).await?;
    let list: Vec<Value> = CANNED_REPLIES
        .iter()
        .map(|(k, zh, en)| json!({ "key": k, "zh": zh, "en": en }))
        .collect();
    Ok(Json(json!({ "canned": list })))
}

async fn conversation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    let a = agent(&state, &headers).await?;
    let v = state
        .services
        .handoff_conversation::<DialogState>(id)
        .await?;
    let orders: Vec<Value> = v
        .orders
        .iter()
        .map(|o| {
            let mut j =
                serde_json::to_value(super::chat::OrderJson::from(o)).unwrap_or(Value::Null);
            j["status_label"] = json!(o.status.label(v.lang));
            j
        })
        .collect();
    let addresses: Vec<Value> = v
        .addresses
        .iter()
        .map(|(id, text)| json!({ "id": id, "text": text }))
        .collect();
    let mine = v.entry.agent_id == Some(a.agent_id)
        && v.entry.status == crate::handoff::HandoffStatus::Claimed;
    let slots = match v.orders.iter().find(|o| o.status.is_active()) {
        Some(o) => state
            .services
            .free_slots(&o.address.zone)
            .await?
            .into_iter()
            .map(|s| json!({ "start": s.start }))
            .collect(),
        None => vec![],
    };
    Ok(Json(json!({
        "entry": v.entry,
        "agent_name": v.agent_name,
        "mine": mine,
        "customer": { "name": v.customer_name, "phone": v.customer_phone, "lang": v.lang },
        "transcript": v.transcript,
        "orders": orders,
        "addresses": addresses,
        "free_slots": slots,
    })))
}

async fn claim(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    let a = writer(&state, &headers).await?;
    let out = state.services.claim_handoff::<DialogState>(&a, id).await?;
    Ok(Json(deliver(&state, &out).await))
}

#[derive(Deserialize)]
struct TextBody {
    text: String,
}

async fn message(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    b: Result<Json<TextBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let a = writer(&state, &headers).await?;
    let b = body(b)?;
    let out = state.services.agent_message(&a, id, &b.text).await?;
    Ok(Json(deliver(&state, &out).await))
}

#[derive(Deserialize)]
struct TransferBody {
    to: String,
}

async fn transfer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    b: Result<Json<TransferBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let a = writer(&state, &headers).await?;
    let b = body(b)?;
    state.services.transfer_handoff(&a, id, &b.to).await?;
    Ok(Json(json!({ "ok": true })))
}

#[derive(Deserialize)]
struct ReleaseBody {
    #[serde(default)]
    outcome: Option<HandoffOutcome>,
    #[serde(default)]
    summary: String,
}

async fn release(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    b: Result<Json<ReleaseBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let a = writer(&state, &headers).await?;
    let b = body(b)?;
    let out = state
        .services
        .release_handoff::<DialogState>(
            &a,
            id,
            b.outcome.unwrap_or(HandoffOutcome::Resolved),
            &b.summary,
        )
        .await?;
    Ok(Json(deliver(&state, &out).await))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OrderActionBody {
    slot_start: Option<chrono::DateTime<chrono::Utc>>,
    reason: Option<String>,
    waive_fee: bool,
    address_id: Option<i64>,
    amount_fen: Option<i64>,
    note: String,
}

async fn order_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, number, action)): Path<(i64, String, String)>,
    b: Result<Json<OrderActionBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let a = writer(&state, &headers).await?;
    let b = body(b)?;
    let s = &state.services;
    let missing = |f: &str| AppError::Staff(HandoffError::Invalid(format!("{f} is required")));
    let order = match action.as_str() {
        "reschedule" => {
            let slot = b.slot_start.ok_or_else(|| missing("slot_start"))?;
            s.agent_reschedule(&a, id, &number, slot).await?
        }
        "cancel" => {
            let reason: CancelReason = b
                .reason
                .as_deref()
                .unwrap_or("other")
                .parse()
                .map_err(|e: String| AppError::Staff(HandoffError::Invalid(e)))?;
            s.agent_cancel(&a, id, &number, reason, b.waive_fee)
                .await?
                .0
        }
        "address" => {
            let addr = b.address_id.ok_or_else(|| missing("address_id"))?;
            s.agent_change_address(&a, id, &number, AddressId(addr))
                .await?
        }
        "refund" => {
            let amount = b.amount_fen.ok_or_else(|| missing("amount_fen"))?;
            s.agent_note_refund(&a, id, &number, amount, &b.note)
                .await?;
            return Ok(Json(json!({ "ok": true })));
        }
        _ => {
            return Err(AppError::BadRequest(format!("unknown action {action:?}")));
        }
    };
    Ok(Json(
        json!({ "ok": true, "order": super::chat::OrderJson::from(&order) }),
    ))
}

/// `GET /agent/ws`: queue and transcript changes as JSON text frames, for logged-in agents.
async fn live(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, AppError> {
    agent(&state, &headers).await?;
    // Browsers send cookies on cross-site WebSocket handshakes in some cases: the origin must
    // be this host.
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
        if origin_host != host {
            return Err(AppError::Csrf);
        }
    }
    let mut events = state.services.handoff_events().subscribe();
    Ok(upgrade.on_upgrade(move |mut socket| async move {
        loop {
            tokio::select! {
                e = events.recv() => {
                    let text = match e {
                        Ok(e) => serde_json::to_string(&e).unwrap_or_default(),
                        // Fell behind: tell the page to reload everything.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            r#"{"type":"queue","handoff_id":0}"#.to_owned()
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    };
                    if socket.send(ws::Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                m = socket.recv() => match m {
                    Some(Ok(ws::Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                }
            }
        }
    }))
}

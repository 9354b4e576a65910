//! The web chat API of DESIGN.md: anonymous sessions with bearer tokens, messages, orders.

use axum::{Json, extract::State, http::HeaderMap};
use serde::{Deserialize, Serialize};

use super::{AppError, AppState};
use crate::conversation::{Content, Inbound};
use crate::domain::Reply;
use crate::domain::{Channel, Lang, LatLon, Order};

#[derive(Serialize)]
pub struct SessionReply {
    token: String,
}

/// `POST /api/chat/sessions`: a new anonymous web customer.
pub async fn create_session(State(state): State<AppState>) -> Result<Json<SessionReply>, AppError> {
    let (token, _user) = state.engine.services().create_web_session().await?;
    Ok(Json(SessionReply { token }))
}

async fn web_user(state: &AppState, headers: &HeaderMap) -> Result<String, AppError> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(AppError::Unauthorized("unauthorized"))?;
    state
        .engine
        .services()
        .web_session_user(token.trim())
        .await?
        .ok_or(AppError::Unauthorized("unauthorized"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    text: Option<String>,
    button: Option<String>,
    location: Option<LocationBody>,
    lang: Option<String>,
    message_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    lat: f64,
    lon: f64,
}

/// Longest text accepted from the web chat.
const MAX_TEXT_BYTES: usize = 4000;

impl MessageBody {
    fn into_inbound(self, user: String) -> Result<Inbound, AppError> {
        let bad = |m: &str| AppError::BadRequest(m.to_owned());
        let content = match (self.text, self.button, self.location) {
            (Some(t), None, None) => {
                if t.len() > MAX_TEXT_BYTES {
                    return Err(bad("the message is too long (at most 4000 bytes)"));
                }
                if t.trim().is_empty() {
                    return Err(bad("the message is empty"));
                }
                Content::Text(t)
            }
            (None, Some(b), None) => Content::Button(b),
            (None, None, Some(l)) => {
                Content::Location(LatLon::new(l.lat, l.lon).map_err(|e| bad(&e.to_string()))?)
            }
            _ => {
                return Err(bad(
                    "send exactly one of \"text\", \"button\" or \"location\"",
                ));
            }
        };
        let lang = match self.lang.as_deref() {
            None => None,
            Some(l) => Some(l.parse::<Lang>().map_err(|e| bad(&e))?),
        };
        if let Some(id) = &self.message_id
            && (id.is_empty() || id.len() > 100)
        {
            return Err(bad("message_id must be 1-100 characters"));
        }
        Ok(Inbound {
            channel: Channel::Web,
            user,
            message_id: self.message_id,
            lang,
            content,
        })
    }
}

#[derive(Serialize)]
pub struct MessageReply {
    replies: Vec<Reply>,
}

/// `POST /api/chat/messages`: one customer turn; a repeated `message_id` gets no replies and
/// has no effect.
pub async fn post_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<MessageBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<MessageReply>, AppError> {
    let user = web_user(&state, &headers).await?;
    let Json(body) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let inbound = body.into_inbound(user)?;
    let turn = state.engine.handle(inbound).await?;
    Ok(Json(MessageReply {
        replies: turn.replies,
    }))
}

#[derive(Serialize)]
pub struct OrderJson {
    number: String,
    status: crate::domain::OrderStatus,
    slot: SlotJson,
    address: String,
    lines: Vec<LineJson>,
    total_fen: i64,
    fee_fen: i64,
    cancel_reason: Option<crate::domain::CancelReason>,
    /// The reason in the customer's own words, when she gave it.
    cancel_note: Option<String>,
    /// Whether the shop may substitute a short item with a similar one.
    auto_substitute: bool,
}

#[derive(Serialize)]
pub struct SlotJson {
    start: String,
    end: String,
}

#[derive(Serialize)]
pub struct LineJson {
    sku: String,
    name_zh: String,
    name_en: String,
    qty: f64,
    unit: crate::domain::Unit,
    price_fen: i64,
    substitute_for: Option<String>,
}

impl From<&Order> for OrderJson {
    fn from(o: &Order) -> Self {
        let local =
            |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&crate::domain::TZ).to_rfc3339();
        OrderJson {
            number: o.number.to_string(),
            status: o.status,
            slot: SlotJson {
                start: local(o.slot_start),
                end: local(o.slot_end),
            },
            address: o.address.text.clone(),
            lines: o
                .lines
                .iter()
                .map(|l| LineJson {
                    sku: l.sku.to_string(),
                    name_zh: l.name_zh.clone(),
                    name_en: l.name_en.clone(),
                    qty: l.quantity.milli() as f64 / 1000.0,
                    unit: l.quantity.unit(),
                    price_fen: l.total.get(),
                    substitute_for: l.substitute_for.as_ref().map(|s| s.to_string()),
                })
                .collect(),
            total_fen: o.totals.total.get(),
            fee_fen: o.cancel_fee.get(),
            cancel_reason: o.cancel_reason,
            cancel_note: o.cancel_note.clone(),
            auto_substitute: o.auto_substitute,
        }
    }
}

/// `GET /api/chat/orders`: the customer's orders, newest first.
pub async fn orders(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<OrderJson>>, AppError> {
    let user = web_user(&state, &headers).await?;
    let services = state.engine.services();
    let customer = services.identify(Channel::Web, &user, Lang::Zh).await?;
    let orders = services.orders_of(&customer).await?;
    Ok(Json(orders.iter().map(OrderJson::from).collect()))
}

#[derive(Serialize)]
pub struct ConversationJson {
    /// `waiting` for a person, `claimed` by one, or absent while the bot answers.
    handoff: Option<String>,
}

/// `GET /api/chat/conversation`: whether a person has this conversation (the page shows it).
pub async fn conversation(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ConversationJson>, AppError> {
    let user = web_user(&state, &headers).await?;
    let handoff = state
        .engine
        .services()
        .handoff_status_of(Channel::Web, &user)
        .await?;
    Ok(Json(ConversationJson { handoff }))
}

//! The callback endpoints: `/wechat` (Official Account, plaintext or safe mode) and `/wecom`
//! (WeCom app, always encrypted).
//!
//! Order of checks, so that nothing unauthenticated is processed or stored: timestamp within the
//! allowed skew -> signature (the plain one, or `msg_signature` over the ciphertext) ->
//! decryption (with the receive-id check) -> XML parse -> dedupe -> turn.

use std::sync::Arc;
use std::time::Duration;

use axum::{
    Router,
    body::Bytes,
    extract::{Query, State, rejection::QueryRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use super::crypto::{CryptoError, WxCrypto, verify_signature};
use super::render;
use super::xml::{
    EventKind, Incoming, MessageKind, XmlError, encrypted_reply, parse_fields, text_reply,
};
use crate::channels::Senders;
use crate::conversation::{Content, Engine, Inbound};
use crate::domain::Reply;
use crate::domain::{Channel, LatLon};

/// Largest callback body accepted (WeChat's are a few KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// One account's callback settings.
#[derive(Clone)]
pub struct Account {
    pub channel: Channel,
    pub token: String,
    /// `None`: plaintext only (an Official Account without an EncodingAESKey).
    pub crypto: Option<WxCrypto>,
    /// WeCom: every callback, including the GET check, is encrypted.
    pub always_encrypted: bool,
    pub reply_timeout: Duration,
    pub max_skew_secs: i64,
}

#[derive(Clone)]
struct Hook {
    account: Arc<Account>,
    engine: Engine,
    senders: Senders,
}

/// The routes of one account at `path`.
pub fn routes(path: &str, account: Account, engine: Engine, senders: Senders) -> Router {
    Router::new()
        .route(path, get(verify).post(receive))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Hook {
            account: Arc::new(account),
            engine,
            senders,
        })
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    signature: Option<String>,
    msg_signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
    encrypt_type: Option<String>,
}

fn reject(status: StatusCode, why: &str) -> Response {
    (status, why.to_owned()).into_response()
}

fn forbidden() -> Response {
    reject(StatusCode::FORBIDDEN, "invalid signature")
}

/// `success` tells WeChat to stop retrying and expect nothing more in this answer.
fn success() -> Response {
    (StatusCode::OK, "success").into_response()
}

/// `GET`: the URL check WeChat runs when the server address is saved.
async fn verify(State(h): State<Hook>, params: Result<Query<Params>, QueryRejection>) -> Response {
    let Ok(Query(p)) = params else {
        return reject(StatusCode::BAD_REQUEST, "bad query string");
    };
    let (Some(ts), Some(nonce), Some(echostr)) = (&p.timestamp, &p.nonce, &p.echostr) else {
        return forbidden();
    };
    let a = &h.account;
    if a.always_encrypted {
        let (Some(crypto), Some(sig)) = (&a.crypto, &p.msg_signature) else {
            return forbidden();
        };
        // `+` in base64 arrives as a space when the caller did not percent-encode it.
        let echostr = echostr.replace(' ', "+");
        if !crypto.verify_msg_signature(sig, ts, nonce, &echostr) {
            return forbidden();
        }
        match crypto.decrypt(&echostr) {
            Ok(plain) => (StatusCode::OK, plain).into_response(),
            Err(CryptoError::WrongReceiver) => forbidden(),
            Err(_) => reject(StatusCode::BAD_REQUEST, "echostr does not decrypt"),
        }
    } else {
        let Some(sig) = &p.signature else {
            return forbidden();
        };
        if !verify_signature(sig, &[&a.token, ts, nonce]) {
            return forbidden();
        }
        (StatusCode::OK, echostr.clone()).into_response()
    }
}

fn bad_xml(e: XmlError) -> Response {
    reject(StatusCode::BAD_REQUEST, &e.to_string())
}

/// `POST`: one message or event.
async fn receive(
    State(h): State<Hook>,
    params: Result<Query<Params>, QueryRejection>,
    body: Bytes,
) -> Response {
    let Ok(Query(p)) = params else {
        return reject(StatusCode::BAD_REQUEST, "bad query string");
    };
    let a = &h.account;
    let (Some(ts), Some(nonce)) = (&p.timestamp, &p.nonce) else {
        return forbidden();
    };
    let Ok(sent_at) = ts.trim().parse::<i64>() else {
        return forbidden();
    };
    let now = h.engine.services().now().timestamp();
    if (now - sent_at).abs() > a.max_skew_secs {
        // A captured request replayed later carries its old, still valid signature.
        return reject(StatusCode::FORBIDDEN, "timestamp too far from now");
    }
    let encrypted = a.always_encrypted || p.encrypt_type.as_deref() == Some("aes");
    if !encrypted {
        // Checked before the body is even read as XML.
        let ok = p
            .signature
            .as_deref()
            .is_some_and(|s| verify_signature(s, &[&a.token, ts, nonce]));
        if !ok {
            return forbidden();
        }
    }
    let Ok(body) = std::str::from_utf8(&body) else {
        return reject(StatusCode::BAD_REQUEST, "the body is not UTF-8");
    };
    let xml = if encrypted {
        let Some(crypto) = &a.crypto else {
            return reject(
                StatusCode::BAD_REQUEST,
                "safe mode is not configured (no EncodingAESKey)",
            );
        };
        let Some(sig) = &p.msg_signature else {
            return forbidden();
        };
        let envelope = match parse_fields(body) {
            Ok(f) => f,
            Err(e) => return bad_xml(e),
        };
        let Some(encrypt) = envelope.get("Encrypt").map(|e| e.trim()) else {
            return bad_xml(XmlError::Missing("Encrypt"));
        };
        if !crypto.verify_msg_signature(sig, ts, nonce, encrypt) {
            return forbidden();
        }
        match crypto.decrypt(encrypt) {
            Ok(x) => x,
            Err(CryptoError::WrongReceiver) => {
                return reject(StatusCode::FORBIDDEN, "message for another account");
            }
            Err(e) => return reject(StatusCode::BAD_REQUEST, &e.to_string()),
        }
    } else {
        body.to_owned()
    };
    let msg = match Incoming::parse(&xml) {
        Ok(m) => m,
        Err(e) => return bad_xml(e),
    };
    match handle(&h, &msg).await {
        Ok(Some(text)) => passive_reply(&h, &msg, &text, encrypted),
        Ok(None) => success(),
        Err(e) => {
            tracing::error!(error = %e, channel = %a.channel, "wechat callback failed");
            // The store failed; WeChat shows the customer that the service is unavailable
            // and they can write again.
            reject(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// Menu keys an operator can configure (case-insensitive), and what they start.
pub fn menu_payload(key: &str) -> Option<&'static str> {
    Some(match key.trim().to_ascii_uppercase().as_str() {
        "TRACK_ORDER" | "TRACK" | "MY_ORDERS" | "ORDERS" => "start:track",
        "ORDER" | "NEW_ORDER" | "BUY" => "start:order",
        "HUMAN" | "AGENT" | "SERVICE" => "human",
        "CANCEL_ORDER" | "CANCEL" => "start:cancel",
        "RESCHEDULE" => "start:reschedule",
        "MEMBERSHIP" => "start:membership",
        "HELP" | "MENU" | "START" => "start:greet",
        _ => return None,
    })
}

const UNSUPPORTED: &str = "暂时只能看懂文字和位置,请打字告诉我您需要什么。\nFor now I understand text and locations only: please type what you need.";
const SORRY: &str = "抱歉,刚才出了点问题,请稍后再发一次。\nSorry, something went wrong: please send that again in a moment.";

/// Runs the message; `Some(text)` is answered passively, `None` with `success`.
async fn handle(h: &Hook, msg: &Incoming) -> Result<Option<String>, crate::services::ServiceError> {
    let a = &h.account;
    let services = h.engine.services();
    let user = msg.from.clone();
    if matches!(msg.kind, MessageKind::Event(EventKind::Unsubscribe)) {
        return Ok(None);
    }
    // Any authenticated message, even a duplicate, shows the customer is there.
    services.record_contact_inbound(a.channel, &user).await?;
    let key = match (&msg.msg_id, &msg.kind) {
        (Some(id), _) => format!("msg:{id}"),
        (None, MessageKind::Event(e)) => format!("evt:{user}:{}:{e:?}", msg.create_time),
        (None, k) => format!("evt:{user}:{}:{k:?}", msg.create_time),
    };
    // Recorded before the turn runs: a retry arriving while it still runs is dropped here.
    if !services.first_delivery(a.channel, &key).await? {
        tracing::debug!(key, "duplicate wechat delivery");
        return Ok(None);
    }
    let content = match &msg.kind {
        MessageKind::Text { content } => {
            let remembered = services.channel_contact(a.channel, &user).await?;
            match render::chosen(content, &remembered.last_buttons) {
                Some(p) => Content::Button(p.to_owned()),
                None => Content::Text(content.clone()),
            }
        }
        MessageKind::Location { lat, lon, .. } => match LatLon::new(*lat, *lon) {
            Ok(l) => Content::Location(l),
            Err(_) => return Ok(Some(UNSUPPORTED.to_owned())),
        },
        MessageKind::Event(EventKind::Subscribe) => Content::Button("start:greet".into()),
        MessageKind::Event(EventKind::Click(key)) => match menu_payload(key) {
            Some(p) => Content::Button(p.into()),
            None => {
                tracing::warn!(key, "unknown WeChat menu key");
                return Ok(None);
            }
        },
        MessageKind::Event(_) => return Ok(None),
        MessageKind::Unsupported(_) => return Ok(Some(UNSUPPORTED.to_owned())),
    };
    let inbound = Inbound {
        channel: a.channel,
        user: user.clone(),
        // Deduplicated above, with WeChat's own keys.
        message_id: None,
        lang: None,
        content,
    };
    let (tx, mut rx) = tokio::sync::oneshot::channel::<Vec<Reply>>();
    let engine = h.engine.clone();
    let senders = h.senders.clone();
    let channel = a.channel;
    let turn_user = user.clone();
    // The turn runs on its own task: if it outlives the passive-reply deadline it still
    // finishes, and its replies go out through the customer-service API.
    tokio::spawn(async move {
        let replies = match engine.handle(inbound).await {
            Ok(t) => t.replies,
            Err(e) => {
                tracing::error!(error = %e, "wechat turn failed");
                vec![Reply::text(SORRY)]
            }
        };
        if let Err(replies) = tx.send(replies) {
            deliver_later(&senders, channel, &turn_user, &replies).await;
        }
    });
    // A zero deadline means every answer goes through the API. (A turn can finish before a
    // zero timeout is even checked: with SQLite inline a question takes well under 1 ms.)
    if a.reply_timeout.is_zero() {
        rx.close();
        if let Ok(replies) = rx.try_recv() {
            let senders = h.senders.clone();
            tokio::spawn(async move { deliver_later(&senders, channel, &user, &replies).await });
        }
        return Ok(None);
    }
    let replies = match tokio::time::timeout(a.reply_timeout, &mut rx).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => return Ok(None),
        Err(_) => {
            // Close first, then look: a turn that finished in between is answered here,
            // otherwise its `send` fails and it delivers through the API itself.
            rx.close();
            match rx.try_recv() {
                Ok(r) => r,
                Err(_) => return Ok(None),
            }
        }
    };
    let rendered = render::render(&replies);
    if rendered.text.is_empty() {
        return Ok(None);
    }
    if rendered.text.len() > super::api::MAX_TEXT_BYTES {
        // Too long for one passive reply: several customer-service messages instead.
        let senders = h.senders.clone();
        tokio::spawn(async move { deliver_later(&senders, channel, &user, &replies).await });
        return Ok(None);
    }
    services
        .remember_buttons(a.channel, &user, &rendered.payloads)
        .await?;
    Ok(Some(rendered.text))
}

async fn deliver_later(senders: &Senders, channel: Channel, user: &str, replies: &[Reply]) {
    match senders.send(channel, user, replies).await {
        Ok(()) => tracing::info!(%channel, "slow turn answered through the message API"),
        Err(e) => tracing::warn!(%channel, error = %e, "could not deliver a slow turn's replies"),
    }
}

fn passive_reply(h: &Hook, msg: &Incoming, text: &str, encrypted: bool) -> Response {
    let now = h.engine.services().now().timestamp();
    let xml = text_reply(&msg.from, &msg.to, now, text);
    let body = match (&h.account.crypto, encrypted) {
        (Some(crypto), true) => {
            let ts = now.to_string();
            let nonce = format!("{}", rand::random_range(100_000_000u64..10_000_000_000));
            let enc = crypto.encrypt(&xml);
            let sig = crypto.msg_signature(&ts, &nonce, &enc);
            encrypted_reply(&enc, &sig, &ts, &nonce)
        }
        _ => xml,
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

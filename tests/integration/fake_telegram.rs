//! A fake Telegram Bot API of the tests' own on loopback: the real app polls it (or receives
//! webhook calls), and every Bot API call it makes is recorded. Used by the Telegram channel's
//! tests and by the delivery-day simulation.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::post,
};
use freshbot::config::{Secret, TelegramSettings};
use serde_json::{Value, json};

#[derive(Default)]
struct Inner {
    /// Updates waiting for the next getUpdates.
    updates: VecDeque<Value>,
    /// Every call: (method, JSON body).
    calls: Vec<(String, Value)>,
    next_message_id: i64,
    /// Canned failures: method -> (status, body), used once each.
    failures: HashMap<String, VecDeque<(u16, Value)>>,
}

#[derive(Clone)]
struct Fake {
    inner: Arc<Mutex<Inner>>,
    news: Arc<tokio::sync::Notify>,
    /// The bot's token (`<bot id>:<secret>`).
    token: &'static str,
}

impl Fake {
    /// The bot's user id: the token's part before the colon.
    fn bot_id(&self) -> i64 {
        bot_id(self.token)
    }
}

/// The bot's user id of a token: its part before the colon.
pub fn bot_id(token: &str) -> i64 {
    token
        .split(':')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_default()
}

pub struct FakeTelegram {
    url: String,
    fake: Fake,
}

impl FakeTelegram {
    /// Serves the Bot API of the bot with `token` (`<bot id>:<secret>`) on a loopback port.
    pub async fn start(token: &'static str) -> Self {
        let fake = Fake {
            inner: Arc::default(),
            news: Arc::default(),
            token,
        };
        let app = Router::new()
            .route("/{bot}/{method}", post(api).get(api))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeTelegram { url, fake }
    }

    pub fn settings(&self) -> TelegramSettings {
        TelegramSettings {
            token: Secret::new(self.fake.token),
            api_url: Some(self.url.clone()),
            ..TelegramSettings::default()
        }
    }

    pub fn push(&self, update: Value) {
        self.fake.inner.lock().unwrap().updates.push_back(update);
        self.fake.news.notify_waiters();
    }

    pub fn fail_next(&self, method: &str, status: u16, body: Value) {
        self.fake
            .inner
            .lock()
            .unwrap()
            .failures
            .entry(method.to_owned())
            .or_default()
            .push_back((status, body));
    }

    pub fn calls(&self, method: &str) -> Vec<Value> {
        self.fake
            .inner
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// Waits until `method` was called at least `n` times.
    pub async fn wait_calls(&self, method: &str, n: usize) -> Vec<Value> {
        for _ in 0..750 {
            let calls = self.calls(method);
            if calls.len() >= n {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let all: Vec<String> = self
            .fake
            .inner
            .lock()
            .unwrap()
            .calls
            .iter()
            .map(|(m, b)| format!("{m} {b}"))
            .collect();
        panic!(
            "{method} was not called {n} times; calls:\n{}",
            all.join("\n")
        );
    }

    /// Messages sent to `chat`.
    pub fn sent_to(&self, chat: i64) -> Vec<Value> {
        self.calls("sendMessage")
            .into_iter()
            .filter(|b| b["chat_id"] == json!(chat))
            .collect()
    }

    /// Messages sent to `chat` with the ids the fake gave them (ids count every sendMessage).
    pub fn sent_with_ids(&self, chat: i64) -> Vec<(i64, Value)> {
        self.calls("sendMessage")
            .into_iter()
            .enumerate()
            .filter(|(_, b)| b["chat_id"] == json!(chat))
            .map(|(i, b)| (i as i64 + 1, b))
            .collect()
    }
}

/// Reads a JSON body, or the fields of a multipart one (teloxide sends setWebhook as multipart).
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Value {
    if let Ok(v) = serde_json::from_slice(body) {
        return v;
    }
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(boundary) = ct.split("boundary=").nth(1) else {
        return Value::Null;
    };
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split(&format!("--{}", boundary.trim_matches('"'))) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
        else {
            continue;
        };
        let value = value.trim_end_matches("\r\n");
        let value = serde_json::from_str(value).unwrap_or_else(|_| json!(value));
        fields.insert(name.to_owned(), value);
    }
    Value::Object(fields)
}

async fn api(
    State(fake): State<Fake>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    // teloxide writes method names capitalised (Telegram ignores case): store them as documented.
    let mut method = method;
    if let Some(first) = method.get(..1) {
        method = first.to_ascii_lowercase() + &method[1..];
    }
    if bot != format!("bot{}", fake.token) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"ok": false, "error_code": 404, "description": "Not Found"})),
        );
    }
    let body = parse_body(&headers, &body);
    let failure = {
        let mut inner = fake.inner.lock().unwrap();
        inner.calls.push((method.clone(), body.clone()));
        inner
            .failures
            .get_mut(&method)
            .and_then(VecDeque::pop_front)
    };
    if let Some((status, body)) = failure {
        return (StatusCode::from_u16(status).unwrap(), Json(body));
    }
    let ok = |result: Value| (StatusCode::OK, Json(json!({"ok": true, "result": result})));
    match method.as_str() {
        "getMe" => ok(json!({
            "id": fake.bot_id(), "is_bot": true, "first_name": "freshbot", "username": "freshbot_test_bot",
            "can_join_groups": false, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "has_main_web_app": false
        })),
        "getWebhookInfo" => {
            ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}))
        }
        "getUpdates" => {
            // Long-poll-ish: wait a little for news instead of Telegram's full timeout.
            let waited = fake.news.notified();
            let empty = fake.inner.lock().unwrap().updates.is_empty();
            let timeout = body["timeout"].as_u64().unwrap_or(0);
            if empty && timeout > 0 {
                let _ = tokio::time::timeout(Duration::from_millis(300), waited).await;
            }
            let updates: Vec<Value> = fake.inner.lock().unwrap().updates.drain(..).collect();
            ok(json!(updates))
        }
        "sendMessage" | "editMessageText" | "editMessageReplyMarkup" => {
            let id = match body["message_id"].as_i64() {
                Some(id) => id,
                None => {
                    let mut inner = fake.inner.lock().unwrap();
                    inner.next_message_id += 1;
                    inner.next_message_id
                }
            };
            let mut msg = json!({
                "message_id": id, "date": 1_764_000_000,
                "chat": {"id": body["chat_id"], "type": "private", "first_name": "Li"},
                "from": {"id": fake.bot_id(), "is_bot": true, "first_name": "freshbot"},
                "text": body["text"].as_str().unwrap_or("(kept)"),
            });
            if !body["reply_markup"].is_null() {
                msg["reply_markup"] = body["reply_markup"].clone();
            }
            ok(msg)
        }
        "answerCallbackQuery" | "setWebhook" | "deleteWebhook" => ok(json!(true)),
        _ => (
            StatusCode::NOT_FOUND,
            Json(
                json!({"ok": false, "error_code": 404, "description": "Not Found: method not found"}),
            ),
        ),
    }
}

/// The text of a sendMessage body.
pub fn text(body: &Value) -> String {
    body["text"].as_str().unwrap_or_default().to_owned()
}

/// Buttons of a sendMessage body: (label, payload).
pub fn buttons(body: &Value) -> Vec<(String, String)> {
    body["reply_markup"]["inline_keyboard"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .flat_map(|r| r.as_array().cloned().unwrap_or_default())
                .map(|b| {
                    (
                        b["text"].as_str().unwrap_or_default().to_owned(),
                        b["callback_data"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

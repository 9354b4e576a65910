//! The Telegram channel against a fake Bot API of the test's own on loopback: the real app
//! polls it (or receives webhook calls), and every Bot API call it makes is recorded.

use std::time::Duration;

use freshbot::channels::telegram::{SECRET_HEADER, TelegramSender, WEBHOOK_PATH};
use freshbot::channels::{SendError, Sender};
use freshbot::config::{Secret, TelegramSettings};
use freshbot::domain::{Button, Reply};
use freshbot::domain::{Channel, Lang, OrderStatus};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, spawn_app_with};
use crate::fake_telegram::{FakeTelegram, buttons};
use crate::on_both_backends;

const TOKEN: &str = "123456:TEST-token_abc";
const BOT_ID: i64 = 123456;

// ---------------------------------------------------------------------------------------------
// Updates as Telegram sends them

fn user(chat: i64, lang: &str) -> Value {
    json!({"id": chat, "is_bot": false, "first_name": "Li", "language_code": lang})
}

fn message_update(update_id: u32, chat: i64, lang: &str, content: Value) -> Value {
    let mut msg = json!({
        "message_id": update_id, "date": 1_764_000_000,
        "chat": {"id": chat, "type": "private", "first_name": "Li"},
        "from": user(chat, lang),
    });
    if let (Some(m), Some(c)) = (msg.as_object_mut(), content.as_object()) {
        m.extend(c.clone());
    }
    json!({"update_id": update_id, "message": msg})
}

fn text_update(update_id: u32, chat: i64, lang: &str, text: &str) -> Value {
    message_update(update_id, chat, lang, json!({"text": text}))
}

/// A tap on the button with `payload` under the bot's message `sent` (a sendMessage body and
/// the message id the fake gave it).
fn tap_update(update_id: u32, chat: i64, lang: &str, sent: &(i64, Value), payload: &str) -> Value {
    let (message_id, body) = sent;
    json!({"update_id": update_id, "callback_query": {
    "id": format!("cb{update_id}"), "chat_instance": "ci", "data": payload,
    "from": user(chat, lang),
    "message": {
        "message_id": message_id, "date": 1_764_000_000,
        "chat": {"id": chat, "type": "private", "first_name": "Li"},
        "from": {"id": BOT_ID, "is_bot": true, "first_name": "freshbot"},
        "text": body["text"], "reply_markup": body["reply_markup"],
    }}})
}

/// One chat with the bot: pushes updates and collects the bot's answers.
struct Chat<'a> {
    tg: &'a FakeTelegram,
    chat: i64,
    lang: &'static str,
    next_update: u32,
}

impl<'a> Chat<'a> {
    fn new(tg: &'a FakeTelegram, chat: i64, lang: &'static str, first_update: u32) -> Self {
        Self {
            tg,
            chat,
            lang,
            next_update: first_update,
        }
    }

    fn next_id(&mut self) -> u32 {
        self.next_update += 1;
        self.next_update
    }

    /// Pushes an update and waits for a reply containing `expect`; returns the new messages as
    /// (message id, sendMessage body).
    async fn turn(&mut self, update: Value, expect: &str) -> Vec<(i64, Value)> {
        let before = self.tg.sent_to(self.chat).len();
        self.tg.push(update);
        for _ in 0..750 {
            let sent = self.tg.sent_to(self.chat);
            if sent[before..]
                .iter()
                .any(|b| b["text"].as_str().unwrap_or_default().contains(expect))
            {
                // Replies of one turn go out back to back; give the rest a moment.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return self.new_messages(before);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "no reply containing {expect:?}; got {:?}",
            &self.tg.sent_to(self.chat)[before..]
        );
    }

    /// Messages sent to this chat after the first `before`, with the ids the fake gave them.
    fn new_messages(&self, before: usize) -> Vec<(i64, Value)> {
        // The fake numbers messages in call order across all chats.
        let all = self.tg.calls("sendMessage");
        let mut numbered = Vec::new();
        let mut id = 0;
        for b in all {
            id += 1;
            if b["chat_id"] == json!(self.chat) {
                numbered.push((id, b));
            }
        }
        numbered.split_off(before)
    }

    async fn say(&mut self, text: &str, expect: &str) -> Vec<(i64, Value)> {
        let u = text_update(self.next_id(), self.chat, self.lang, text);
        self.turn(u, expect).await
    }

    /// Taps the first button whose payload starts with `prefix` among `sent`.
    async fn tap(
        &mut self,
        sent: &[(i64, Value)],
        prefix: &str,
        expect: &str,
    ) -> (String, Vec<(i64, Value)>) {
        let (msg, label, payload) = sent
            .iter()
            .find_map(|m| {
                buttons(&m.1)
                    .into_iter()
                    .find(|(_, p)| p.starts_with(prefix))
                    .map(|(l, p)| (m.clone(), l, p))
            })
            .unwrap_or_else(|| panic!("no {prefix} button in {sent:?}"));
        let u = tap_update(self.next_id(), self.chat, self.lang, &msg, &payload);
        let replies = self.turn(u, expect).await;
        (label, replies)
    }
}

fn texts(sent: &[(i64, Value)]) -> String {
    sent.iter()
        .map(|(_, b)| b["text"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

async fn app_with_telegram(backend: Backend, tg: &FakeTelegram) -> TestApp {
    let settings = tg.settings();
    spawn_app_with(backend, move |s| s.telegram = settings).await
}

// ---------------------------------------------------------------------------------------------
// Tests

/// A Chinese customer orders with typed text and inline-keyboard taps; each tap is answered
/// and its keyboard replaced by the choice; the order ends up in the database. A redelivered
/// update changes nothing.
async fn a_full_order_in_chinese_with_taps(backend: Backend) {
    let tg = FakeTelegram::start(TOKEN).await;
    let app = app_with_telegram(backend, &tg).await;
    let mut chat = Chat::new(&tg, 4242, "zh-hans", 1000);

    let hello = chat.say("/start", "您好").await;
    assert!(!buttons(&hello[0].1).is_empty(), "a menu: {hello:?}");

    let first = text_update(
        chat.next_id(),
        chat.chat,
        chat.lang,
        "我要两斤西红柿和一盒鸡蛋",
    );
    let asked = chat.turn(first.clone(), "送到哪里").await;
    // The same update again (Telegram redelivers after a timeout): no effect, no reply.
    tg.push(first);
    let asked_addr = chat.say("上海市黄浦区南京东路100号", "").await;
    let all = texts(
        &tg.sent_to(chat.chat)
            .into_iter()
            .map(|b| (0, b))
            .collect::<Vec<_>>(),
    );
    assert_eq!(all.matches("送到哪里").count(), 1, "{all}");
    assert!(!asked.is_empty());

    let (label, after_slot) = chat.tap(&asked_addr, "slot:", "").await;
    let answered = tg.wait_calls("answerCallbackQuery", 1).await;
    assert!(
        answered[0]["callback_query_id"]
            .as_str()
            .unwrap()
            .starts_with("cb")
    );
    let edits = tg.wait_calls("editMessageText", 1).await;
    let edited = edits[0]["text"].as_str().unwrap();
    assert!(edited.ends_with(&format!("✓ {label}")), "{edited}");
    assert!(
        edits[0]["reply_markup"].is_null(),
        "the used keyboard is gone"
    );

    let mut replies = after_slot;
    let mut taps = 1;
    // Follow the confirmations the flow asks for until the order is placed.
    while !texts(&replies).contains("下单成功") {
        assert!(taps < 6, "no order after {taps} taps: {}", texts(&replies));
        let (_, r) = chat.tap(&replies, "yes", "").await;
        replies = r;
        taps += 1;
    }
    assert_eq!(tg.calls("answerCallbackQuery").len(), taps);

    let customer = app
        .services
        .identify(Channel::Telegram, "4242", Lang::Zh)
        .await
        .unwrap();
    let orders = app.services.orders_of(&customer).await.unwrap();
    assert_eq!(orders.len(), 1, "one order, however often updates came");
    assert_eq!(orders[0].status, OrderStatus::Placed);
    assert!(orders[0].address.text.contains("南京东路100号"));

    // /orders shows it.
    chat.say("/orders", &orders[0].number.to_string()).await;
}
on_both_backends!(a_full_order_in_chinese_with_taps);

/// English from `language_code`, and a shared location accepted as the delivery address.
async fn english_from_language_code_and_a_location(backend: Backend) {
    let tg = FakeTelegram::start(TOKEN).await;
    let _app = app_with_telegram(backend, &tg).await;
    let mut chat = Chat::new(&tg, 777, "en-US", 2000);

    chat.say(
        "2 jin of tomatoes and a box of eggs please",
        "Where should we deliver",
    )
    .await;
    let u = message_update(
        chat.next_id(),
        chat.chat,
        chat.lang,
        json!({"location": {"latitude": 31.2352, "longitude": 121.48}}),
    );
    let slots = chat.turn(u, "").await;
    assert!(
        slots
            .iter()
            .any(|(_, b)| buttons(b).iter().any(|(_, p)| p.starts_with("slot:"))),
        "the location was taken as the address and slots offered: {}",
        texts(&slots)
    );
}
on_both_backends!(english_from_language_code_and_a_location);

/// Group chats are not served; the private chat next to it is.
async fn group_chats_are_ignored(backend: Backend) {
    let tg = FakeTelegram::start(TOKEN).await;
    let _app = app_with_telegram(backend, &tg).await;
    tg.push(json!({"update_id": 3000, "message": {
        "message_id": 1, "date": 1_764_000_000,
        "chat": {"id": -1001, "type": "group", "title": "family"},
        "from": user(55, "zh-hans"), "text": "我要两斤西红柿"}}));
    let mut chat = Chat::new(&tg, 55, "zh-hans", 3000);
    chat.say("/help", "您好").await;
    assert!(tg.sent_to(-1001).is_empty());
}
on_both_backends!(group_chats_are_ignored);

/// Webhook mode: setWebhook with the secret at start, no polling, the secret header checked
/// on every call, a resent update handled once.
async fn webhook_mode_checks_the_secret(backend: Backend) {
    let tg = FakeTelegram::start(TOKEN).await;
    let mut settings = tg.settings();
    settings.webhook_url = Some("https://bot.example.com/telegram/webhook".into());
    settings.webhook_secret = Secret::new("hook-Secret_42");
    let app = spawn_app_with(backend, move |s| s.telegram = settings).await;

    let set = tg.wait_calls("setWebhook", 1).await;
    assert_eq!(set[0]["url"], "https://bot.example.com/telegram/webhook");
    assert_eq!(set[0]["secret_token"], "hook-Secret_42");

    let http = reqwest::Client::new();
    let update = text_update(4001, 31, "zh-hans", "/start");
    let post = |secret: Option<&'static str>, body: String| {
        let mut r = http
            .post(app.url(WEBHOOK_PATH))
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = secret {
            r = r.header(SECRET_HEADER, s);
        }
        r.send()
    };
    for secret in [None, Some("wrong"), Some("hook-Secret_4"), Some("")] {
        let r = post(secret, update.to_string()).await.unwrap();
        assert_eq!(r.status(), 401, "{secret:?}");
    }
    let r = post(Some("hook-Secret_42"), "{not json".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(tg.sent_to(31).is_empty(), "refused calls did nothing");

    let r = post(Some("hook-Secret_42"), update.to_string())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(tg.sent_to(31).len(), 1, "answered before the 200");
    assert!(tg.sent_to(31)[0]["text"].as_str().unwrap().contains("您好"));
    // Telegram resends when it missed our answer: 200 again, nothing new.
    let r = post(Some("hook-Secret_42"), update.to_string())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(tg.sent_to(31).len(), 1);
    assert!(
        tg.calls("getUpdates").is_empty(),
        "no polling in webhook mode"
    );
}
on_both_backends!(webhook_mode_checks_the_secret);

/// Without webhook mode the route does not exist.
async fn no_webhook_route_when_polling(backend: Backend) {
    let tg = FakeTelegram::start(TOKEN).await;
    let app = app_with_telegram(backend, &tg).await;
    let r = reqwest::Client::new()
        .post(app.url(WEBHOOK_PATH))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    tg.wait_calls("getUpdates", 1).await;
}
on_both_backends!(no_webhook_route_when_polling);

/// Telegram refusing the token at start is logged; the web channel keeps working.
async fn a_refused_token_leaves_the_web_channel_running(backend: Backend) {
    let tg = FakeTelegram::start(TOKEN).await;
    tg.fail_next(
        "getMe",
        401,
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
    );
    let app = app_with_telegram(backend, &tg).await;
    tg.wait_calls("getMe", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let http = reqwest::Client::new();
    let r = http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(app.url("/api/chat/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        tg.calls("getUpdates").is_empty(),
        "no polling with a refused token"
    );
    assert_eq!(tg.calls("getMe").len(), 1, "a refused token is not retried");
}
on_both_backends!(a_refused_token_leaves_the_web_channel_running);

/// A reply Telegram refuses for now (a 502) is not lost: it goes into the outbox and the
/// dispatcher sends it once Telegram answers again.
async fn a_reply_telegram_refuses_for_now_arrives_later(backend: Backend) {
    let tg = FakeTelegram::start(TOKEN).await;
    let app = app_with_telegram(backend, &tg).await;
    let chat = 4242;
    tg.fail_next(
        "sendMessage",
        502,
        json!({"ok": false, "error_code": 502, "description": "Bad Gateway"}),
    );
    tg.push(text_update(3001, chat, "zh-CN", "你好"));
    let greetings = || {
        tg.sent_to(chat)
            .iter()
            .filter(|b| {
                b["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("鲜菜小助手")
            })
            .count()
    };
    for _ in 0..750 {
        if greetings() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(greetings(), 2, "refused once, then sent by the outbox");
    let mut statuses = vec![];
    for _ in 0..100 {
        statuses = app.services.outbox_statuses("chat_message").await.unwrap();
        if statuses.iter().all(|(_, st)| st == "done") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!(statuses[0].1, "done");
}
on_both_backends!(a_reply_telegram_refuses_for_now_arrives_later);

/// The sender: inline keyboards in rows, and Telegram's errors mapped for the outbox.
#[tokio::test]
async fn the_sender_renders_buttons_and_maps_errors() {
    let tg = FakeTelegram::start(TOKEN).await;
    let bot = freshbot::channels::telegram::bot(&tg.settings())
        .unwrap()
        .unwrap();
    let sender = TelegramSender::new(bot);
    assert_eq!(sender.channel(), Channel::Telegram);
    let reply = Reply {
        text: "选个时间".into(),
        buttons: ["是", "否", "人工", "菜单"]
            .iter()
            .map(|l| Button {
                label: (*l).into(),
                payload: "yes".into(),
            })
            .collect(),
    };
    sender
        .send("99", std::slice::from_ref(&reply))
        .await
        .unwrap();
    let sent = tg.sent_to(99);
    assert_eq!(sent.len(), 1);
    let rows: Vec<usize> = sent[0]["reply_markup"]["inline_keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().len())
        .collect();
    assert_eq!(rows, vec![3, 1]);

    tg.fail_next(
        "sendMessage",
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    );
    let e = sender.send("99", &[Reply::text("hi")]).await.unwrap_err();
    assert!(matches!(e, SendError::Undeliverable(_)), "{e:?}");

    tg.fail_next(
        "sendMessage",
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
    );
    let e = sender.send("98", &[Reply::text("hi")]).await.unwrap_err();
    assert!(matches!(e, SendError::Undeliverable(_)), "{e:?}");

    tg.fail_next(
        "sendMessage",
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3",
               "parameters": {"retry_after": 3}}),
    );
    let e = sender.send("99", &[Reply::text("hi")]).await.unwrap_err();
    match e {
        SendError::Retry(m) => assert!(m.contains("3 s"), "{m}"),
        other => panic!("{other:?}"),
    }

    let e = sender
        .send("not-a-chat", &[Reply::text("hi")])
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Undeliverable(_)));

    // Nothing listens on this port: a network failure is worth retrying.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let bot = freshbot::channels::telegram::bot(&TelegramSettings {
        api_url: Some(format!("http://127.0.0.1:{port}")),
        ..tg.settings()
    })
    .unwrap()
    .unwrap();
    let e = TelegramSender::new(bot)
        .send("99", &[Reply::text("hi")])
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Retry(_)), "{e:?}");
}

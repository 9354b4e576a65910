//! Human handoff: queue, claim race, relay both ways on the web and Telegram, release, the bot
//! staying silent while an agent holds the conversation, console security, the SLA apology.

use std::sync::{Arc, Mutex};

use freshbot::channels::{SendError, Sender, Senders};
use freshbot::conversation::{Content, Inbound};
use freshbot::dialog::DialogState;
use freshbot::domain::Reply;
use freshbot::domain::{Channel, StaffRole};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, spawn_app_with_senders};
use crate::on_both_backends;

/// Records what would have gone out on one channel.
struct Recorder {
    channel: Channel,
    sent: Mutex<Vec<(String, String)>>,
    /// Temporary failures still to produce, per user.
    failures: Mutex<std::collections::HashMap<String, usize>>,
}

impl Recorder {
    fn new(channel: Channel) -> Arc<Self> {
        Arc::new(Self {
            channel,
            sent: Mutex::new(vec![]),
            failures: Mutex::default(),
        })
    }

    fn fail_next(&self, user: &str, times: usize) {
        self.failures.lock().unwrap().insert(user.to_owned(), times);
    }

    /// Texts sent to `user` so far.
    fn texts(&self, user: &str) -> Vec<String> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(u, _)| u == user)
            .map(|(_, t)| t.clone())
            .collect()
    }
}

#[async_trait::async_trait]
impl Sender for Recorder {
    fn channel(&self) -> Channel {
        self.channel
    }

    async fn send(&self, user: &str, replies: &[Reply]) -> Result<(), SendError> {
        if let Some(n) = self.failures.lock().unwrap().get_mut(user)
            && *n > 0
        {
            *n -= 1;
            return Err(SendError::Retry("HTTP 502 from the channel".into()));
        }
        let mut s = self.sent.lock().unwrap();
        for r in replies {
            s.push((user.to_owned(), r.text.clone()));
        }
        Ok(())
    }
}

struct Setup {
    app: TestApp,
    web: Arc<Recorder>,
    telegram: Arc<Recorder>,
    http: reqwest::Client,
}

async fn setup(backend: Backend, tweak: impl FnOnce(&mut freshbot::config::Settings)) -> Setup {
    let web = Recorder::new(Channel::Web);
    let telegram = Recorder::new(Channel::Telegram);
    let senders = Senders::new().with(web.clone()).with(telegram.clone());
    let app = spawn_app_with_senders(backend, tweak, senders).await;
    // The demo agents have no password until one is set.
    app.services
        .add_agent("xiaomei", "小美", "mei-password-1", false, StaffRole::Agent)
        .await
        .unwrap();
    app.services
        .add_agent("alex", "Alex", "alex-password-1", false, StaffRole::Agent)
        .await
        .unwrap();
    Setup {
        app,
        web,
        telegram,
        http: reqwest::Client::new(),
    }
}

/// A logged-in console: the session cookie and the CSRF token.
struct Console {
    cookie: String,
    csrf: String,
}

impl Setup {
    async fn login(&self, login: &str, password: &str) -> Console {
        let r = self
            .http
            .post(self.app.url("/agent/api/login"))
            .json(&json!({ "login": login, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login of {login}");
        let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let j: Value = r.json().await.unwrap();
        Console {
            cookie,
            csrf: j["csrf"].as_str().unwrap().to_owned(),
        }
    }

    async fn get(&self, c: &Console, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.app.url(path))
            .header("cookie", &c.cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, c: &Console, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.app.url(path))
            .header("cookie", &c.cookie)
            .header("x-csrf-token", &c.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn web_session(&self) -> (String, String) {
        let r: Value = self
            .http
            .post(self.app.url("/api/chat/sessions"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = r["token"].as_str().unwrap().to_owned();
        let user = self
            .app
            .services
            .web_session_user(&token)
            .await
            .unwrap()
            .unwrap();
        (token, user)
    }

    async fn say(&self, token: &str, body: Value) -> Value {
        let r = self
            .http
            .post(self.app.url("/api/chat/messages"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// The id of the open queue entry of a conversation.
    async fn queue_id(&self, c: &Console, user: &str) -> i64 {
        let (s, q) = self.get(c, "/agent/api/queue").await;
        assert_eq!(s, 200, "{q}");
        q["queue"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["user"] == user)
            .unwrap_or_else(|| panic!("{user} not in the queue: {q}"))["id"]
            .as_i64()
            .unwrap()
    }
}

fn texts(replies: &Value) -> Vec<String> {
    replies["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Escalate over the web chat, race two agents for the claim, relay both ways, release, and
/// the bot answers again.
async fn web_handoff_end_to_end(backend: Backend) {
    let t = setup(backend, |_| {}).await;
    let (token, user) = t.web_session().await;

    let r = t.say(&token, json!({ "text": "我要找人工客服" })).await;
    let said = texts(&r).join("\n");
    assert!(said.contains("转接人工客服"), "{said}");
    assert!(
        said.contains("排第 1 位") && said.contains("预计等待"),
        "place and expected wait: {said}"
    );
    // While waiting the bot offers nothing but "keep waiting / back to the bot".
    let r = t.say(&token, json!({ "text": "我要两斤西红柿" })).await;
    let payloads: Vec<&str> = r["replies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|x| x["buttons"].as_array().unwrap())
        .map(|b| b["payload"].as_str().unwrap())
        .collect();
    assert_eq!(payloads, vec!["wait", "bot"], "{r}");

    let mei = t.login("xiaomei", "mei-password-1").await;
    let alex = t.login("alex", "alex-password-1").await;
    let id = t.queue_id(&mei, &user).await;
    let (_, q) = t.get(&mei, "/agent/api/queue").await;
    assert_eq!(q["queue"][0]["reason"], "requested");
    assert_eq!(q["queue"][0]["status"], "waiting");

    // Two agents click "claim" at the same moment: exactly one wins, the other hears who did.
    let claim = format!("/agent/api/conversations/{id}/claim");
    let (a, b) = tokio::join!(
        t.post(&mei, &claim, json!({})),
        t.post(&alex, &claim, json!({}))
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [200, 409], "{a:?} {b:?}");
    let (winner, loser, loser_body, winner_name) = if a.0 == 200 {
        (&mei, &alex, b.1, "小美")
    } else {
        (&alex, &mei, a.1, "Alex")
    };
    assert!(
        loser_body["error"]
            .as_str()
            .unwrap()
            .contains(&format!("already taken by {winner_name}")),
        "{loser_body}"
    );
    assert!(
        t.web.texts(&user).iter().any(|m| m.contains(winner_name)),
        "the customer is told who joined: {:?}",
        t.web.texts(&user)
    );

    // From now on the bot is silent and the agent gets every customer message.
    let r = t.say(&token, json!({ "text": "我的鸡蛋碎了三个" })).await;
    assert!(r["replies"].as_array().unwrap().is_empty(), "{r}");
    let r = t.say(&token, json!({ "button": "start:track" })).await;
    assert!(r["replies"].as_array().unwrap().is_empty(), "{r}");
    let (s, conv) = t
        .get(winner, &format!("/agent/api/conversations/{id}"))
        .await;
    assert_eq!(s, 200);
    let lines: Vec<(String, String)> = conv["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["role"].as_str().unwrap().to_owned(),
                l["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        lines.contains(&("customer".into(), "我要找人工客服".into())),
        "bot turns before the handoff are in the transcript: {lines:?}"
    );
    assert!(lines.iter().any(|(r, t)| r == "bot" && t.contains("转接")));
    assert!(lines.contains(&("customer".into(), "我的鸡蛋碎了三个".into())));
    assert_eq!(conv["mine"], true);

    // The other agent cannot write to, release or take over the conversation.
    let msg = format!("/agent/api/conversations/{id}/messages");
    let (s, _) = t.post(loser, &msg, json!({ "text": "hi" })).await;
    assert_eq!(s, 403);
    let (s, _) = t
        .post(
            loser,
            &format!("/agent/api/conversations/{id}/release"),
            json!({}),
        )
        .await;
    assert_eq!(s, 403);
    // A write without the CSRF token is refused, even with a valid session.
    let no_csrf = Console {
        cookie: winner.cookie.clone(),
        csrf: String::new(),
    };
    let (s, _) = t.post(&no_csrf, &msg, json!({ "text": "forged" })).await;
    assert_eq!(s, 403);
    assert!(!t.web.texts(&user).iter().any(|m| m == "forged"));

    let (s, r) = t
        .post(
            winner,
            &msg,
            json!({ "text": "很抱歉,我马上为您处理退款。" }),
        )
        .await;
    assert_eq!((s, &r["delivered"]), (200, &json!(true)), "{r}");
    assert!(
        t.web
            .texts(&user)
            .contains(&"很抱歉,我马上为您处理退款。".to_owned())
    );

    let (s, _) = t
        .post(
            winner,
            &format!("/agent/api/conversations/{id}/release"),
            json!({ "outcome": "resolved", "summary": "鸡蛋退款 3 元" }),
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        t.web
            .texts(&user)
            .last()
            .unwrap()
            .contains("小结:鸡蛋退款 3 元"),
        "{:?}",
        t.web.texts(&user)
    );
    // The bot is back.
    let r = t.say(&token, json!({ "text": "配送费多少" })).await;
    assert!(texts(&r).join("").contains("5 元"), "{r}");

    // Records: the winner handled one conversation, with a first reply and a handling time.
    let (_, stats) = t.get(&mei, "/agent/api/stats").await;
    let row = stats["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == winner_name)
        .unwrap()
        .clone();
    assert_eq!(row["handled"], 1, "{stats}");
    assert_eq!(row["resolved"], 1);
    assert!(row["avg_first_reply_secs"].is_i64(), "{row}");
    assert!(row["avg_handling_secs"].is_i64(), "{row}");

    // Every action is logged with the agent's id.
    let log = t.app.services.agent_action_log().await.unwrap();
    let acts: Vec<&str> = log
        .iter()
        .filter(|(_, h, _, _)| *h == Some(id))
        .map(|(_, _, a, _)| a.as_str())
        .collect();
    assert_eq!(acts, vec!["claim", "message", "release"], "{log:?}");
}
on_both_backends!(web_handoff_end_to_end);

/// Telegram: messages reach the agent, the agent's answers go out on Telegram.
async fn telegram_relay(backend: Backend) {
    let t = setup(backend, |_| {}).await;
    let engine = t.app.engine(crate::stories::NLU.clone());
    let inbound = |content: Content| Inbound {
        channel: Channel::Telegram,
        user: "4242".into(),
        message_id: None,
        lang: None,
        content,
    };
    let turn = engine
        .handle(inbound(Content::Button("human".into())))
        .await
        .unwrap();
    assert!(!turn.replies.is_empty());
    let mei = t.login("xiaomei", "mei-password-1").await;
    let id = t.queue_id(&mei, "4242").await;
    let (s, _) = t
        .post(
            &mei,
            &format!("/agent/api/conversations/{id}/claim"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);

    let turn = engine
        .handle(inbound(Content::Text("my order is late".into())))
        .await
        .unwrap();
    assert!(turn.replies.is_empty(), "the bot stays silent: {turn:?}");
    let (_, conv) = t.get(&mei, &format!("/agent/api/conversations/{id}")).await;
    assert!(conv["transcript"].to_string().contains("my order is late"));

    let (_, r) = t
        .post(
            &mei,
            &format!("/agent/api/conversations/{id}/messages"),
            json!({ "text": "It's on its way, 10 minutes." }),
        )
        .await;
    assert_eq!(r["delivered"], true, "{r}");
    assert!(
        t.telegram
            .texts("4242")
            .contains(&"It's on its way, 10 minutes.".to_owned())
    );
    assert!(
        t.web.texts("4242").is_empty(),
        "nothing leaks to another channel"
    );

    let (s, _) = t
        .post(
            &mei,
            &format!("/agent/api/conversations/{id}/release"),
            json!({ "outcome": "resolved" }),
        )
        .await;
    assert_eq!(s, 200);
    let turn = engine
        .handle(inbound(Content::Text("配送费多少".into())))
        .await
        .unwrap();
    assert!(!turn.replies.is_empty(), "the bot answers again");
}
on_both_backends!(telegram_relay);

/// Customers and strangers cannot reach the console API.
async fn console_requires_an_agent_session(backend: Backend) {
    let t = setup(backend, |_| {}).await;
    let (token, _) = t.web_session().await;
    for path in [
        "/agent/api/queue",
        "/agent/api/stats",
        "/agent/api/conversations/1",
    ] {
        let r = t.http.get(t.app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path} without a session");
        let r = t
            .http
            .get(t.app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path} with a customer's token");
    }
    let r = t
        .http
        .post(t.app.url("/agent/api/conversations/1/claim"))
        .bearer_auth(&token)
        .header("cookie", "freshbot_agent=forged")
        .header("x-csrf-token", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = t
        .http
        .post(t.app.url("/agent/api/login"))
        .json(&json!({ "login": "xiaomei", "password": "wrong-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("set-cookie").is_none());
    let page = t.http.get(t.app.url("/agent")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Agent console"));
}
on_both_backends!(console_requires_an_agent_session);

/// A customer unclaimed past the SLA hears one apology with an offer to leave a message, even
/// when two sweepers run at once and the channel fails the first time.
async fn sla_apology_is_sent_once(backend: Backend) {
    let t = setup(backend, |s| s.handoff.sla_secs = 120).await;
    let engine = t.app.engine(crate::stories::NLU.clone());
    engine
        .handle(Inbound {
            channel: Channel::Telegram,
            user: "77".into(),
            message_id: None,
            lang: None,
            content: Content::Button("human".into()),
        })
        .await
        .unwrap();
    let sweep = || t.app.services.sweep_handoff_sla::<DialogState>();
    assert_eq!(sweep().await.unwrap(), 0);
    t.telegram.fail_next("77", 1);
    t.app.clock.advance(chrono::Duration::seconds(121));
    let (a, b) = tokio::join!(sweep(), sweep());
    assert_eq!(a.unwrap() + b.unwrap(), 1, "two sweepers write one apology");
    // The app's dispatcher sends it; the failed first try is retried after its backoff.
    let mut heard = false;
    for _ in 0..100 {
        heard = t.telegram.texts("77").iter().any(|x| x.contains("留言"));
        if heard {
            break;
        }
        t.app.clock.advance(chrono::Duration::seconds(10));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(heard, "the apology arrives after the channel recovers");
    t.app.clock.advance(chrono::Duration::seconds(600));
    assert_eq!(sweep().await.unwrap(), 0, "one apology only");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let apologies = t
        .telegram
        .texts("77")
        .into_iter()
        .filter(|x| x.contains("留言"))
        .count();
    assert_eq!(apologies, 1);
}
on_both_backends!(sla_apology_is_sent_once);

/// The console in a real browser: log in, the queue fills without reloading, claim, reply,
/// the customer's next message arrives without reloading, release, and the bot answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn console_in_a_browser() {
    let Some(b) = crate::browser::browser().await else {
        return;
    };
    let t = setup(Backend::Sqlite, |_| {}).await;
    b.goto(&t.app.url("/agent")).await;
    b.type_into("#login", "xiaomei").await;
    b.type_into("#password", "mei-password-1").await;
    b.click("#login-btn").await;
    b.wait_for(
        "the console after login",
        "!document.getElementById('app').classList.contains('hidden')",
    )
    .await;

    let (token, user) = t.web_session().await;
    t.say(&token, json!({ "text": "我要找人工客服" })).await;
    b.wait_for(
        "the new queue entry, pushed over the WebSocket",
        "document.querySelector('#queue li[data-id]')",
    )
    .await;
    b.click("#queue li[data-id]").await;
    b.wait_for(
        "the claim button",
        "!document.getElementById('claim').disabled",
    )
    .await;
    b.click("#claim").await;
    b.wait_for(
        "the send button",
        "!document.getElementById('send').disabled",
    )
    .await;
    b.type_into("#reply", "您好,我是小美,请问怎么了?").await;
    b.click("#send").await;
    for _ in 0..100 {
        if t.web
            .sent
            .lock()
            .unwrap()
            .iter()
            .any(|(u, m)| u == &user && m.contains("我是小美"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        t.web
            .sent
            .lock()
            .unwrap()
            .iter()
            .any(|(u, m)| u == &user && m.contains("我是小美")),
        "the agent's reply went out on the customer's web channel"
    );

    let r = t.say(&token, json!({ "text": "我的西红柿是坏的" })).await;
    assert!(texts(&r).is_empty(), "the bot stays silent: {r}");
    b.wait_for_text("我的西红柿是坏的").await;

    b.click("#release").await;
    b.wait_for("the release", "document.getElementById('send').disabled")
        .await;
    let r = t.say(&token, json!({ "text": "运费多少" })).await;
    assert!(!texts(&r).is_empty(), "the bot answers again: {r}");
    b.close().await;
}

//! WeChat Official Account and WeCom webhooks end to end over HTTP, checked against an
//! independent implementation (wechatpy, via `tests/wechat/peer.py`) and a fake WeChat API on
//! loopback.
//!
//! The wechatpy peer comes from `scripts/ensure-wechatpy.sh`. Without it, the tests that need
//! it print why and skip, unless `FRESHBOT_REQUIRE_WECHATPY=1` (CI), where they fail.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{Json, Router, extract::Query, routing::get, routing::post};
use freshbot::channels::wechat::{Credentials, WxApi, WxSender, crypto, xml};
use freshbot::channels::{SendError, Sender};
use freshbot::config::{Secret, Settings, WechatSettings, WecomSettings};
use freshbot::domain::Channel;
use freshbot::domain::{Button, Reply};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, spawn_app_with};
use crate::on_both_backends;

const TOKEN: &str = "freshbotToken";
const AES_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
const APPID: &str = "wx5823bf96d3bd56c7";
const ACCOUNT: &str = "gh_freshbot";
const WECOM_TOKEN: &str = "wecomToken";
const WECOM_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const CORPID: &str = "wx5823bf96d3bd56c7ww";

// ---------------------------------------------------------------- the wechatpy peer

fn peer_python() -> Option<PathBuf> {
    let required = std::env::var("FRESHBOT_REQUIRE_WECHATPY").is_ok_and(|v| v == "1");
    let py = match std::env::var("FRESHBOT_WECHATPY_PYTHON") {
        Ok(p) if !p.trim().is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/wechatpy-venv/bin/python"),
    };
    let works = std::process::Command::new(&py)
        .args(["-c", "import wechatpy, xmltodict"])
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        return Some(py);
    }
    let why = format!(
        "no Python with wechatpy at {} (run scripts/ensure-wechatpy.sh or set FRESHBOT_WECHATPY_PYTHON)",
        py.display()
    );
    assert!(!required, "FRESHBOT_REQUIRE_WECHATPY=1 but {why}");
    eprintln!("SKIPPED: {why}");
    None
}

/// One request to the peer; panics with its error.
fn peer(py: &PathBuf, req: Value) -> Value {
    use std::io::Write;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/wechat/peer.py");
    let mut child = std::process::Command::new(py)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(req.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "peer said {:?} / {:?}: {e}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success() && v.get("error").is_none(),
        "peer failed: {v}"
    );
    v
}

fn sign(py: &PathBuf, token: &str, ts: &str, nonce: &str) -> String {
    peer(
        py,
        json!({"op": "sign", "token": token, "timestamp": ts, "nonce": nonce}),
    )["signature"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The same signature with its first hex digit changed.
fn tamper(sig: &str) -> String {
    let first = if sig.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &sig[1..])
}

// ---------------------------------------------------------------- a fake WeChat API

#[derive(Clone, Default)]
struct FakeApi {
    url: String,
    token_calls: Arc<AtomicUsize>,
    /// `(access_token used, JSON body)` of every message sent.
    sent: Arc<Mutex<Vec<(String, Value)>>>,
    /// errcodes to answer the next sends with (then 0).
    errcodes: Arc<Mutex<VecDeque<i64>>>,
}

impl FakeApi {
    async fn start() -> (Self, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeApi {
            url: url.clone(),
            ..FakeApi::default()
        };
        let f1 = fake.clone();
        let f2 = fake.clone();
        let send = move |Query(q): Query<std::collections::HashMap<String, String>>,
                         Json(body): Json<Value>| {
            let f = f2.clone();
            async move {
                let code = f.errcodes.lock().unwrap().pop_front().unwrap_or(0);
                if code == 0 {
                    let token = q.get("access_token").cloned().unwrap_or_default();
                    f.sent.lock().unwrap().push((token, body));
                }
                Json(json!({"errcode": code, "errmsg": if code == 0 { "ok" } else { "error" }}))
            }
        };
        let token = move || {
            let f = f1.clone();
            async move {
                let n = f.token_calls.fetch_add(1, Ordering::SeqCst) + 1;
                Json(
                    json!({"errcode": 0, "access_token": format!("TOKEN-{n}"), "expires_in": 7200}),
                )
            }
        };
        let router = Router::new()
            .route("/cgi-bin/token", get(token.clone()))
            .route("/cgi-bin/gettoken", get(token))
            .route("/cgi-bin/message/custom/send", post(send.clone()))
            .route("/cgi-bin/message/send", post(send));
        tokio::spawn(async move { axum::serve(listener, router).await });
        (fake, url)
    }

    fn sent(&self) -> Vec<(String, Value)> {
        self.sent.lock().unwrap().clone()
    }

    async fn wait_for_sends(&self, n: usize) -> Vec<(String, Value)> {
        for _ in 0..200 {
            if self.sent.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.sent()
    }
}

// ---------------------------------------------------------------- the app

fn configure(s: &mut Settings, api: &str) {
    s.wechat = WechatSettings {
        token: Secret::new(TOKEN),
        aes_key: Secret::new(AES_KEY),
        appid: APPID.into(),
        secret: Secret::new("app-secret"),
        api_url: api.into(),
        ..WechatSettings::default()
    };
    s.wecom = WecomSettings {
        token: Secret::new(WECOM_TOKEN),
        aes_key: Secret::new(WECOM_KEY),
        corpid: CORPID.into(),
        agentid: "1000002".into(),
        secret: Secret::new("corp-secret"),
        api_url: api.into(),
        ..WecomSettings::default()
    };
}

async fn app_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> (TestApp, FakeApi) {
    let (fake, url) = FakeApi::start().await;
    let app = spawn_app_with(backend, |s| {
        configure(s, &url);
        tweak(s);
    })
    .await;
    (app, fake)
}

/// A sender of our own against the fake (the app's own is inside the app).
fn sender_for(app: &TestApp, fake: &FakeApi, channel: Channel) -> WxSender {
    let creds = match channel {
        Channel::Wecom => Credentials::Wecom {
            corpid: CORPID.into(),
            secret: "corp-secret".into(),
            agentid: 1000002,
        },
        _ => Credentials::OfficialAccount {
            appid: APPID.into(),
            secret: "app-secret".into(),
        },
    };
    let api = Arc::new(WxApi::new(&fake.url, creds).unwrap());
    WxSender::new(channel, api, app.services.clone())
}

fn now(app: &TestApp) -> String {
    app.services.now().timestamp().to_string()
}

fn text_xml(user: &str, content: &str, msg_id: &str, at: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>\
         <CreateTime>{at}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
}

fn event_xml(user: &str, event: &str, key: &str, at: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>\
         <CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[{event}]]></Event><EventKey><![CDATA[{key}]]></EventKey></xml>"
    )
}

/// POSTs a plaintext callback signed by wechatpy; returns status and body.
async fn post_plain(py: &PathBuf, app: &TestApp, body: &str) -> (u16, String) {
    let ts = now(app);
    let nonce = "123456789";
    let sig = sign(py, TOKEN, &ts, nonce);
    post_raw(
        app,
        "/wechat",
        &[("signature", &sig), ("timestamp", &ts), ("nonce", nonce)],
        body,
    )
    .await
}

async fn post_raw(app: &TestApp, path: &str, query: &[(&str, &str)], body: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(app.url(path))
        .query(query)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The text of a plaintext passive reply, read by wechatpy; checks it is addressed right.
fn reply_text(py: &PathBuf, body: &str, user: &str) -> String {
    let m = &peer(py, json!({"op": "parse", "kind": "oa", "xml": body}))["message"];
    assert_eq!(
        (m["type"].as_str(), m["target"].as_str()),
        (Some("text"), Some(user)),
        "{m}"
    );
    assert_eq!(m["source"], ACCOUNT);
    m["content"].as_str().unwrap().to_owned()
}

/// Encrypts a callback with wechatpy and POSTs it in safe mode; returns status, body and the
/// query it was sent with.
async fn post_encrypted(py: &PathBuf, app: &TestApp, kind: &str, inner: &str) -> (u16, String) {
    let (path, token, key, id) = match kind {
        "wecom" => ("/wecom", WECOM_TOKEN, WECOM_KEY, CORPID),
        _ => ("/wechat", TOKEN, AES_KEY, APPID),
    };
    let ts = now(app);
    let e = peer(
        py,
        json!({"op": "encrypt", "kind": kind, "token": token, "aes_key": key, "appid": id,
               "xml": inner, "nonce": "987654321", "timestamp": ts}),
    );
    post_raw(
        app,
        path,
        &[
            ("encrypt_type", "aes"),
            ("msg_signature", e["msg_signature"].as_str().unwrap()),
            ("timestamp", &ts),
            ("nonce", "987654321"),
        ],
        e["body"].as_str().unwrap(),
    )
    .await
}

/// Decrypts and verifies an encrypted passive reply with wechatpy.
fn decrypt_reply(py: &PathBuf, kind: &str, body: &str) -> Value {
    let (token, key, id) = match kind {
        "wecom" => (WECOM_TOKEN, WECOM_KEY, CORPID),
        _ => (TOKEN, AES_KEY, APPID),
    };
    let f = xml::parse_fields(body).unwrap();
    peer(
        py,
        json!({"op": "decrypt", "kind": kind, "token": token, "aes_key": key, "appid": id,
               "body": body, "msg_signature": f["MsgSignature"], "timestamp": f["TimeStamp"],
               "nonce": f["Nonce"]}),
    )["message"]
        .clone()
}

async fn nothing_stored_for(app: &TestApp, channel: Channel, user: &str) {
    let tx = app.services.store().begin_read().await.unwrap();
    assert!(
        tx.customer_by_identity(channel, user)
            .await
            .unwrap()
            .is_none(),
        "a customer was created"
    );
    assert!(
        tx.channel_contact(channel, user).await.unwrap().is_none(),
        "a contact was recorded"
    );
    let (_, version) = app
        .services
        .load_conversation::<Value>(channel, user)
        .await
        .unwrap();
    assert_eq!(version, None, "a conversation was saved");
}

// ---------------------------------------------------------------- tests

#[test]
fn the_official_signature_example_agrees_with_wechatpy() {
    let ours = crypto::signature(&["AAAAA", "1714037059", "486452656"]);
    assert!(
        ours.starts_with("899cf89e") && ours.ends_with("aa78"),
        "{ours}"
    );
    if let Some(py) = peer_python() {
        assert_eq!(sign(&py, "AAAAA", "1714037059", "486452656"), ours);
    }
}

/// The URL checks WeChat and WeCom run when the server address is saved.
async fn url_verification(backend: Backend) {
    let Some(py) = peer_python() else { return };
    let (app, _) = app_with(backend, |_| {}).await;
    let http = reqwest::Client::new();
    let ts = now(&app);
    let sig = sign(&py, TOKEN, &ts, "42");
    let get = |path: &'static str, q: Vec<(&'static str, String)>| {
        let http = http.clone();
        let url = app.url(path);
        async move {
            let r = http.get(url).query(&q).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let ok = get(
        "/wechat",
        vec![
            ("signature", sig.clone()),
            ("timestamp", ts.clone()),
            ("nonce", "42".into()),
            ("echostr", "hello-7".into()),
        ],
    )
    .await;
    assert_eq!(ok, (200, "hello-7".to_owned()));
    let bad = get(
        "/wechat",
        vec![
            ("signature", tamper(&sig)),
            ("timestamp", ts.clone()),
            ("nonce", "42".into()),
            ("echostr", "hello-7".into()),
        ],
    )
    .await;
    assert_eq!(bad.0, 403);

    // WeCom: the echostr itself is encrypted, and the answer is its plaintext.
    let e = peer(
        &py,
        json!({"op": "encrypt_echostr", "token": WECOM_TOKEN, "aes_key": WECOM_KEY, "appid": CORPID,
               "echostr": "8417382057213931", "nonce": "77", "timestamp": ts}),
    );
    let q = |sig: &str| {
        vec![
            ("msg_signature", sig.to_owned()),
            ("timestamp", ts.clone()),
            ("nonce", "77".to_owned()),
            ("echostr", e["echostr"].as_str().unwrap().to_owned()),
        ]
    };
    let sig = e["msg_signature"].as_str().unwrap();
    assert_eq!(
        get("/wecom", q(sig)).await,
        (200, "8417382057213931".to_owned())
    );
    assert_eq!(get("/wecom", q(&tamper(sig))).await.0, 403);
}
on_both_backends!(url_verification);

/// A plaintext text message gets a passive reply with numbered options, and a number taps the
/// button. The offered buttons are read back from the database (the contact's
/// `last_buttons`), not from this process's memory; no second instance is started here.
async fn plaintext_numbered_options(backend: Backend) {
    let Some(py) = peer_python() else { return };
    let (app, _) = app_with(backend, |_| {}).await;
    let user = "oUser-plain-1";
    let ts = now(&app);
    let (s, body) = post_plain(&py, &app, &text_xml(user, "你好", "1001", &ts)).await;
    assert_eq!(s, 200, "{body}");
    let text = reply_text(&py, &body, user);
    assert!(text.contains("回复数字选择:"), "{text}");
    assert!(
        text.contains("1 买菜") && text.contains("6 人工客服"),
        "{text}"
    );
    let contact = app
        .services
        .channel_contact(Channel::Wechat, user)
        .await
        .unwrap();
    assert_eq!(contact.last_buttons[4], "start:faq_delivery_fee");

    // "5" is the delivery-fee button, not the number five.
    let (s, body) = post_plain(&py, &app, &text_xml(user, "5", "1002", &ts)).await;
    assert_eq!(s, 200, "{body}");
    let text = reply_text(&py, &body, user);
    assert!(text.contains("59"), "the delivery-fee answer: {text}");
}
on_both_backends!(plaintext_numbered_options);

/// Safe mode: wechatpy encrypts and signs the message; the encrypted reply is decrypted and its
/// signature verified by wechatpy.
async fn safe_mode_round_trip(backend: Backend) {
    let Some(py) = peer_python() else { return };
    let (app, _) = app_with(backend, |_| {}).await;
    let user = "oUser-aes-1";
    let (s, body) =
        post_encrypted(&py, &app, "oa", &text_xml(user, "你好", "2001", &now(&app))).await;
    assert_eq!(s, 200, "{body}");
    assert!(
        !body.contains("回复数字选择"),
        "the reply is encrypted: {body}"
    );
    let m = decrypt_reply(&py, "oa", &body);
    assert_eq!(
        (
            m["type"].as_str(),
            m["target"].as_str(),
            m["source"].as_str()
        ),
        (Some("text"), Some(user), Some(ACCOUNT))
    );
    assert!(
        m["content"].as_str().unwrap().contains("回复数字选择:"),
        "{m}"
    );
}
on_both_backends!(safe_mode_round_trip);

/// Forged or tampered signatures get 403 and leave no trace; so do stale timestamps.
async fn tampered_signatures_are_refused(backend: Backend) {
    let Some(py) = peer_python() else { return };
    let (app, _) = app_with(backend, |_| {}).await;
    let user = "oUser-forger";
    let ts = now(&app);
    let body = text_xml(user, "取消我的订单", "3001", &ts);
    let sig = sign(&py, TOKEN, &ts, "1");
    let bad = tamper(&sig);
    let (s, _) = post_raw(
        &app,
        "/wechat",
        &[("signature", &bad), ("timestamp", &ts), ("nonce", "1")],
        &body,
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = post_raw(
        &app,
        "/wechat",
        &[("timestamp", &ts), ("nonce", "1")],
        &body,
    )
    .await;
    assert_eq!(s, 403, "no signature at all");
    // The right signature over other parameters.
    let (s, _) = post_raw(
        &app,
        "/wechat",
        &[("signature", &sig), ("timestamp", &ts), ("nonce", "2")],
        &body,
    )
    .await;
    assert_eq!(s, 403);

    // Safe mode: a valid envelope whose ciphertext was swapped for another.
    let e = peer(
        &py,
        json!({"op": "encrypt", "kind": "oa", "token": TOKEN, "aes_key": AES_KEY, "appid": APPID,
               "xml": body, "nonce": "5", "timestamp": ts}),
    );
    let other = peer(
        &py,
        json!({"op": "encrypt", "kind": "oa", "token": TOKEN, "aes_key": AES_KEY, "appid": APPID,
               "xml": text_xml(user, "另一条", "3002", &ts), "nonce": "5", "timestamp": ts}),
    );
    let swapped = e["body"].as_str().unwrap().replace(
        e["encrypt"].as_str().unwrap(),
        other["encrypt"].as_str().unwrap(),
    );
    let q = [
        ("encrypt_type", "aes"),
        ("msg_signature", e["msg_signature"].as_str().unwrap()),
        ("timestamp", ts.as_str()),
        ("nonce", "5"),
    ];
    let (s, _) = post_raw(&app, "/wechat", &q, &swapped).await;
    assert_eq!(s, 403);

    // A message encrypted for another AppID, correctly signed.
    let foreign = peer(
        &py,
        json!({"op": "encrypt", "kind": "oa", "token": TOKEN, "aes_key": AES_KEY, "appid": "wxSomeoneElse",
               "xml": body, "nonce": "5", "timestamp": ts}),
    );
    let q = [
        ("encrypt_type", "aes"),
        ("msg_signature", foreign["msg_signature"].as_str().unwrap()),
        ("timestamp", ts.as_str()),
        ("nonce", "5"),
    ];
    let (s, _) = post_raw(&app, "/wechat", &q, foreign["body"].as_str().unwrap()).await;
    assert_eq!(s, 403);

    // A correctly signed request captured and replayed ten minutes later.
    app.clock.advance(chrono::Duration::minutes(10));
    let (s, _) = post_raw(
        &app,
        "/wechat",
        &[("signature", &sig), ("timestamp", &ts), ("nonce", "1")],
        &body,
    )
    .await;
    assert_eq!(s, 403);

    nothing_stored_for(&app, Channel::Wechat, user).await;
}
on_both_backends!(tampered_signatures_are_refused);

/// WeChat redelivers a message it got no answer for: the same MsgId, even arriving while the
/// first delivery still runs, has one effect.
async fn replayed_msg_id_has_one_effect(backend: Backend) {
    let Some(py) = peer_python() else { return };
    let (app, _) = app_with(backend, |_| {}).await;
    let user = "oUser-replay";
    let ts = now(&app);
    let msg = text_xml(user, "我要两斤西红柿", "4001", &ts);
    let (a, b, c) = tokio::join!(
        post_plain(&py, &app, &msg),
        post_plain(&py, &app, &msg),
        post_plain(&py, &app, &msg)
    );
    let answers = [&a, &b, &c];
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let replies: Vec<_> = answers
        .iter()
        .filter(|(_, body)| body != "success")
        .collect();
    assert_eq!(replies.len(), 1, "exactly one delivery ran: {answers:?}");
    let (_, version) = app
        .services
        .load_conversation::<Value>(Channel::Wechat, user)
        .await
        .unwrap();

    // And again later (WeChat's third try).
    let (s, body) = post_plain(&py, &app, &msg).await;
    assert_eq!((s, body.as_str()), (200, "success"));
    let (_, again) = app
        .services
        .load_conversation::<Value>(Channel::Wechat, user)
        .await
        .unwrap();
    assert_eq!(again, version, "no second turn");

    // Events carry no MsgId: the same user and CreateTime is the same event.
    let ev = event_xml(user, "CLICK", "TRACK_ORDER", &ts);
    let (_, first) = post_plain(&py, &app, &ev).await;
    assert_ne!(first, "success");
    let (_, second) = post_plain(&py, &app, &ev).await;
    assert_eq!(second, "success");
}
on_both_backends!(replayed_msg_id_has_one_effect);

/// Malformed XML gets 400, oversized bodies 413, and entity declarations are refused so a
/// file named in one is never read.
async fn hostile_bodies_are_refused(backend: Backend) {
    let Some(py) = peer_python() else { return };
    let (app, _) = app_with(backend, |_| {}).await;
    let user = "oUser-hostile";
    let ts = now(&app);
    let (s, _) = post_plain(&py, &app, "<xml><FromUserName>oops</xml>").await;
    assert_eq!(s, 400);
    let (s, _) = post_plain(&py, &app, "definitely not xml").await;
    assert_eq!(s, 400);

    let huge = text_xml(user, &"西".repeat(30_000), "5001", &ts);
    assert!(huge.len() > 64 * 1024);
    let (s, _) = post_plain(&py, &app, &huge).await;
    assert_eq!(s, 413);

    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\
         <xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{user}</FromUserName>\
         <CreateTime>{ts}</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>5002</MsgId></xml>"
    );
    let (s, body) = post_plain(&py, &app, &xxe).await;
    assert_eq!(s, 400);
    assert!(!body.contains("root:"), "{body}");
    // The same inside an encrypted message.
    let (s, body) = post_encrypted(&py, &app, "oa", &xxe).await;
    assert_eq!(s, 400);
    assert!(!body.contains("root:"), "{body}");
    // A billion-laughs style internal entity is refused the same way.
    let laughs = format!(
        "<!DOCTYPE xml [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>\
         <xml><FromUserName>{user}</FromUserName><CreateTime>{ts}</CreateTime><MsgType>text</MsgType><Content>&b;</Content></xml>"
    );
    assert_eq!(post_plain(&py, &app, &laughs).await.0, 400);

    nothing_stored_for(&app, Channel::Wechat, user).await;
}
on_both_backends!(hostile_bodies_are_refused);

/// A turn slower than the passive-reply deadline is answered `success`, then through the
/// customer-service API, with one access_token for several messages.
async fn slow_turns_go_through_the_message_api(backend: Backend) {
    let Some(py) = peer_python() else { return };
    // A zero deadline sends every answer through the API, however fast the turn (on SQLite a
    // question can be answered before a zero timeout is even looked at).
    let (app, fake) = app_with(backend, |s| s.wechat.reply_timeout_ms = 0).await;
    let user = "oUser-slow";
    let ts = now(&app);
    let (s, body) = post_plain(&py, &app, &text_xml(user, "你好", "6001", &ts)).await;
    assert_eq!((s, body.as_str()), (200, "success"));
    let sent = fake.wait_for_sends(1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (token, msg) = &sent[0];
    assert_eq!(token, "TOKEN-1");
    assert_eq!(
        (msg["touser"].as_str(), msg["msgtype"].as_str()),
        (Some(user), Some("text"))
    );
    assert!(
        msg["text"]["content"].as_str().unwrap().contains("1 买菜"),
        "{msg}"
    );
    // The sender remembers the options once WeChat accepted the message.
    for _ in 0..100 {
        let c = app
            .services
            .channel_contact(Channel::Wechat, user)
            .await
            .unwrap();
        if !c.last_buttons.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The options of an API-delivered answer work the same way.
    let (s, body) = post_plain(&py, &app, &text_xml(user, "5", "6002", &ts)).await;
    assert_eq!((s, body.as_str()), (200, "success"));
    let sent = fake.wait_for_sends(2).await;
    assert!(
        sent[1].1["text"]["content"]
            .as_str()
            .unwrap()
            .contains("59"),
        "{sent:?}"
    );
    assert_eq!(sent[1].0, "TOKEN-1", "the cached token is reused");
    assert_eq!(fake.token_calls.load(Ordering::SeqCst), 1);
}
on_both_backends!(slow_turns_go_through_the_message_api);

/// Subscribing greets; a menu key starts its intent; a location is a location.
async fn events_and_locations(backend: Backend) {
    let Some(py) = peer_python() else { return };
    let (app, _) = app_with(backend, |_| {}).await;
    let user = "oUser-events";
    let ts = now(&app);
    let (_, body) = post_plain(&py, &app, &event_xml(user, "subscribe", "", &ts)).await;
    assert!(
        reply_text(&py, &body, user).contains("鲜菜小助手"),
        "{body}"
    );
    let (_, body) = post_plain(
        &py,
        &app,
        &event_xml(
            user,
            "CLICK",
            "HUMAN",
            &(ts.parse::<i64>().unwrap() + 1).to_string(),
        ),
    )
    .await;
    let text = reply_text(&py, &body, user);
    assert!(text.contains("人工") || text.contains("客服"), "{text}");
    let (s, body) = post_plain(&py, &app, &event_xml(user, "unsubscribe", "", &ts)).await;
    assert_eq!((s, body.as_str()), (200, "success"));
    let loc = format!(
        "<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{user}</FromUserName><CreateTime>{ts}</CreateTime>\
         <MsgType>location</MsgType><Location_X>31.2352</Location_X><Location_Y>121.48</Location_Y>\
         <Scale>15</Scale><Label><![CDATA[南京东路300号]]></Label><MsgId>7001</MsgId></xml>"
    );
    let (s, body) = post_plain(&py, &app, &loc).await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = post_plain(
        &py,
        &app,
        &text_xml(user, "", "7002", &ts).replace("text", "image"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(reply_text(&py, &body, user).contains("文字和位置"));
}
on_both_backends!(events_and_locations);

/// The sender: one token for many messages, a fresh one after WeChat calls it expired, the
/// 48-hour window, and errors sorted into retry / undeliverable.
async fn sender_tokens_window_and_errors(backend: Backend) {
    let (app, fake) = app_with(backend, |_| {}).await;
    let sender = sender_for(&app, &fake, Channel::Wechat);
    let user = "oUser-push";
    let reply = [Reply::with_buttons(
        "您的订单已出发,预计10:30送达",
        vec![Button {
            label: "查看".into(),
            payload: "start:track".into(),
        }],
    )];

    // Never wrote: the window is closed and the API is not called.
    assert_eq!(
        sender.send(user, &reply).await,
        Err(SendError::Undeliverable(
            "outside WeChat's 48-hour window".into()
        ))
    );
    assert_eq!(
        (fake.token_calls.load(Ordering::SeqCst), fake.sent().len()),
        (0, 0)
    );

    app.services
        .record_contact_inbound(Channel::Wechat, user)
        .await
        .unwrap();
    sender.send(user, &reply).await.unwrap();
    sender.send(user, &reply).await.unwrap();
    assert_eq!(
        fake.token_calls.load(Ordering::SeqCst),
        1,
        "the token is cached"
    );
    let sent = fake.sent();
    assert_eq!(sent.len(), 2);
    assert!(
        sent[0].1["text"]["content"]
            .as_str()
            .unwrap()
            .contains("回复数字选择: 1 查看")
    );
    assert_eq!(
        app.services
            .channel_contact(Channel::Wechat, user)
            .await
            .unwrap()
            .last_buttons,
        ["start:track"]
    );

    // WeChat says the token expired: one refetch, and the message goes out.
    fake.errcodes.lock().unwrap().push_back(42001);
    sender.send(user, &reply).await.unwrap();
    assert_eq!(fake.token_calls.load(Ordering::SeqCst), 2);
    assert_eq!(fake.sent().last().unwrap().0, "TOKEN-2");

    // WeChat's own window verdict, and a busy system.
    fake.errcodes.lock().unwrap().push_back(45015);
    assert!(matches!(
        sender.send(user, &reply).await,
        Err(SendError::Undeliverable(_))
    ));
    fake.errcodes.lock().unwrap().push_back(-1);
    assert!(matches!(
        sender.send(user, &reply).await,
        Err(SendError::Retry(_))
    ));

    // 47 hours later the window is still open; 49 hours later it closed.
    app.clock.advance(chrono::Duration::hours(47));
    sender.send(user, &reply).await.unwrap();
    app.clock.advance(chrono::Duration::hours(2));
    let before = fake.sent().len();
    assert!(matches!(
        sender.send(user, &reply).await,
        Err(SendError::Undeliverable(_))
    ));
    assert_eq!(fake.sent().len(), before);

    // Nobody listening: try again later.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let api = Arc::new(
        WxApi::new(
            &dead,
            Credentials::OfficialAccount {
                appid: APPID.into(),
                secret: "s".into(),
            },
        )
        .unwrap(),
    );
    let sender = WxSender::new(Channel::Wechat, api, app.services.clone());
    app.services
        .record_contact_inbound(Channel::Wechat, user)
        .await
        .unwrap();
    assert!(matches!(
        sender.send(user, &reply).await,
        Err(SendError::Retry(_))
    ));
}
on_both_backends!(sender_tokens_window_and_errors);

/// WeCom: an encrypted message with its AgentID in, an encrypted passive reply out (checked by
/// wechatpy's WeCom crypto), and pushes through the app message API with the agentid.
async fn wecom_round_trip(backend: Backend) {
    let Some(py) = peer_python() else { return };
    let (app, fake) = app_with(backend, |s| s.wecom.reply_timeout_ms = 4500).await;
    let user = "zhangsan";
    let ts = now(&app);
    let inner = format!(
        "<xml><ToUserName><![CDATA[{CORPID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>\
         <CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content>\
         <MsgId>8001</MsgId><AgentID>1000002</AgentID></xml>"
    );
    let (s, body) = post_encrypted(&py, &app, "wecom", &inner).await;
    assert_eq!(s, 200, "{body}");
    let m = decrypt_reply(&py, "wecom", &body);
    assert_eq!(
        (
            m["type"].as_str(),
            m["target"].as_str(),
            m["source"].as_str()
        ),
        (Some("text"), Some(user), Some(CORPID))
    );
    assert!(m["content"].as_str().unwrap().contains("1 买菜"), "{m}");
    // WeCom customers are their own channel.
    assert!(
        app.services
            .store()
            .begin_read()
            .await
            .unwrap()
            .customer_by_identity(Channel::Wecom, user)
            .await
            .unwrap()
            .is_some()
    );

    // A plaintext POST is not accepted by WeCom's endpoint.
    let sig = sign(&py, WECOM_TOKEN, &ts, "1");
    let (s, _) = post_raw(
        &app,
        "/wecom",
        &[("signature", &sig), ("timestamp", &ts), ("nonce", "1")],
        &inner,
    )
    .await;
    assert_eq!(s, 403);

    // Outbound: the app message API with the agentid; WeCom has no 48-hour window.
    let sender = sender_for(&app, &fake, Channel::Wecom);
    sender
        .send("lisi", &[Reply::text("您的订单已出发")])
        .await
        .unwrap();
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1["agentid"], 1000002);
    assert_eq!(sent[0].1["touser"], "lisi");
    assert_eq!(fake.token_calls.load(Ordering::SeqCst), 1);
}
on_both_backends!(wecom_round_trip);

//! The web channel's pages and sockets: the chat page and the tracking page driven in headless
//! Chromium, and the `/ws/chat`, `/ws/track` and `/api/track` contracts over plain HTTP.

use std::time::Duration;

use freshbot::domain::{Button, Reply};
use freshbot::domain::{Channel, Lang, Quantity, Unit};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::browser::browser;
use crate::common::{ADMIN_TOKEN, Backend, TestApp, spawn_app};
use crate::on_both_backends;

async fn new_session(app: &TestApp) -> (String, String) {
    let r: Value = reqwest::Client::new()
        .post(app.url("/api/chat/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["token"].as_str().unwrap().to_owned();
    let user = app
        .services
        .web_session_user(&token)
        .await
        .unwrap()
        .unwrap();
    (token, user)
}

/// A placed order of two jin of tomatoes and a box of eggs for a new customer; returns its number and token.
async fn placed_order(app: &TestApp, name: &str) -> (String, String) {
    let o = app.placed_order(name).await;
    (o.number.to_string(), o.tracking_token)
}

async fn set_status(app: &TestApp, number: &str, status: &str) {
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/admin/orders/{number}/status")))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({ "status": status }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{status}: {}", r.text().await.unwrap());
}

/// Puts courier 1 (demo data) on an order, where dispatch would, with a position and an ETA.
async fn assign_courier(app: &TestApp, number: &str, lat: f64, lon: f64, eta: &str) {
    use freshbot::store::entities::{couriers, orders};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let db = app.services.store().conn();
    let courier = couriers::Entity::find().one(db).await.unwrap().unwrap();
    couriers::Entity::update_many()
        .col_expr(couriers::Column::LastLat, lat.into())
        .col_expr(couriers::Column::LastLon, lon.into())
        .filter(couriers::Column::Id.eq(courier.id))
        .exec(db)
        .await
        .unwrap();
    let eta: chrono::DateTime<chrono::Utc> = eta.parse().unwrap();
    orders::Entity::update_many()
        .col_expr(orders::Column::CourierId, courier.id.into())
        .col_expr(orders::Column::EtaAt, Some(eta).into())
        .filter(orders::Column::Number.eq(number))
        .exec(db)
        .await
        .unwrap();
}

fn ws_url(app: &TestApp, path: &str) -> String {
    format!("ws://{}{}", app.addr, path)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame as JSON, skipping pings; `None` after `wait` without one.
async fn next_json(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        match frame.unwrap() {
            Message::Text(t) => return Some(serde_json::from_str(&t).unwrap()),
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

fn refused_status(
    r: Result<(Socket, tungstenite::handshake::client::Response), tungstenite::Error>,
) -> u16 {
    match r {
        Err(tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("the socket was accepted"),
    }
}

/// `/ws/chat` refuses missing and bad tokens before upgrading.
async fn ws_chat_refuses_bad_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/ws/chat", "/ws/chat?token=", "/ws/chat?token=nope"] {
        let r = tokio_tungstenite::connect_async(ws_url(&app, path)).await;
        assert_eq!(refused_status(r), 401, "{path}");
    }
    let (token, _) = new_session(&app).await;
    let r = tokio_tungstenite::connect_async(ws_url(
        &app,
        &format!("/ws/chat?token={token}&after=minus-one"),
    ))
    .await;
    assert_eq!(refused_status(r), 400);
    // A plain GET with a good token is not a WebSocket: refused, nothing happens.
    let r = reqwest::get(app.url(&format!("/ws/chat?token={token}")))
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
}
on_both_backends!(ws_chat_refuses_bad_tokens);

/// Pushes stored while no page was open are replayed from `after`; a socket without `after`
/// carries only what is pushed after it connected, whichever instance stored it.
async fn pushes_are_durable_and_resumable(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, user) = new_session(&app).await;
    let (_, other_user) = new_session(&app).await;
    let ids = app
        .services
        .push_web(
            &user,
            &[
                Reply::text("您的订单已出发，预计10:30送达"),
                Reply {
                    text: "需要换货吗？".into(),
                    buttons: vec![Button {
                        label: "好的".into(),
                        payload: "yes".into(),
                    }],
                },
            ],
        )
        .await
        .unwrap();
    app.services
        .push_web(&other_user, &[Reply::text("someone else's news")])
        .await
        .unwrap();

    let (mut s, _) =
        tokio_tungstenite::connect_async(ws_url(&app, &format!("/ws/chat?token={token}&after=0")))
            .await
            .unwrap();
    let first = next_json(&mut s, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        first,
        json!({"id": ids[0], "text": "您的订单已出发，预计10:30送达", "buttons": []})
    );
    let second = next_json(&mut s, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        second,
        json!({"id": ids[1], "text": "需要换货吗？", "buttons": [{"label": "好的", "payload": "yes"}]})
    );
    assert_eq!(next_json(&mut s, Duration::from_millis(2500)).await, None);

    // Resuming after the first push gives the second only.
    let (mut resumed, _) = tokio_tungstenite::connect_async(ws_url(
        &app,
        &format!("/ws/chat?token={token}&after={}", ids[0]),
    ))
    .await
    .unwrap();
    assert_eq!(
        next_json(&mut resumed, Duration::from_secs(5))
            .await
            .unwrap()["id"],
        json!(ids[1])
    );

    // Without `after`: nothing old; a push through the registered web sender arrives at once,
    // and one written straight to the database (where another instance's push would land; no
    // second instance is started) within the polling interval.
    let (mut fresh, _) =
        tokio_tungstenite::connect_async(ws_url(&app, &format!("/ws/chat?token={token}")))
            .await
            .unwrap();
    app.senders
        .send(Channel::Web, &user, &[Reply::text("已送达，祝您用餐愉快")])
        .await
        .unwrap();
    let got = next_json(&mut fresh, Duration::from_secs(5)).await.unwrap();
    assert_eq!(got["text"], "已送达，祝您用餐愉快");
    app.services
        .push_web(&user, &[Reply::text("from another instance")])
        .await
        .unwrap();
    let got = next_json(&mut fresh, Duration::from_secs(5)).await.unwrap();
    assert_eq!(got["text"], "from another instance");
    // Both sockets of the user got it too; the other user's push went to nobody here.
    for sock in [&mut s, &mut resumed] {
        let texts: Vec<Value> = [
            next_json(sock, Duration::from_secs(5)).await.unwrap(),
            next_json(sock, Duration::from_secs(5)).await.unwrap(),
        ]
        .into_iter()
        .map(|v| v["text"].clone())
        .collect();
        assert_eq!(
            texts,
            [
                json!("已送达，祝您用餐愉快"),
                json!("from another instance")
            ]
        );
    }
}
on_both_backends!(pushes_are_durable_and_resumable);

/// The tracking JSON of one order says nothing about its customer or any other order, and every
/// unknown token looks the same.
async fn tracking_shows_one_order_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let (number_a, token_a) = placed_order(&app, "track-a").await;
    let (number_b, token_b) = placed_order(&app, "track-b").await;
    let http = reqwest::Client::new();

    let r = http
        .get(app.url(&format!("/api/track/{token_a}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "courier",
            "delivered_at",
            "depot",
            "destination",
            "dispatched_at",
            "eta",
            "lines",
            "number",
            "slot",
            "stage",
            "status",
            "status_label"
        ]
    );
    assert_eq!(v["number"], number_a);
    assert_eq!(v["status"], "placed");
    assert_eq!(v["stage"], 0);
    assert_eq!(v["status_label"], json!({"zh": "已下单", "en": "placed"}));
    assert_eq!(
        v["lines"][0],
        json!({"name_zh": "西红柿", "name_en": "tomato", "qty": 2.0, "unit": "jin"})
    );
    assert_eq!(v["courier"], Value::Null);
    assert!(v["slot"]["start"].as_str().unwrap().ends_with("+08:00"));
    for secret in [
        number_b.as_str(),
        token_b.as_str(),
        "南京东路",
        "track-a",
        "track-b",
    ] {
        assert!(!body.contains(secret), "{secret} leaked: {body}");
    }

    // A courier's position shows only while the order is on its way.
    assign_courier(&app, &number_a, 31.2330, 121.4770, "2026-11-25T02:30:00Z").await;
    let v: Value = http
        .get(app.url(&format!("/api/track/{token_a}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["courier"].clone(), v["eta"].clone()),
        (Value::Null, json!("2026-11-25T10:30:00+08:00"))
    );
    for s in ["confirmed", "picking", "packed", "out_for_delivery"] {
        set_status(&app, &number_a, s).await;
    }
    let v: Value = http
        .get(app.url(&format!("/api/track/{token_a}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["courier"]["lat"].clone(), v["stage"].clone()),
        (json!(31.233), json!(3))
    );
    set_status(&app, &number_a, "delivered").await;
    let v: Value = http
        .get(app.url(&format!("/api/track/{token_a}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["courier"].clone(), v["stage"].clone()),
        (Value::Null, json!(4))
    );

    // Unknown, malformed and other-shaped tokens: one identical 404.
    let unknown = format!("{:032x}", 0xfeed_u128);
    let mut bodies = Vec::new();
    for t in [
        unknown.as_str(),
        "abc",
        "..%2Fadmin",
        &number_a,
        &token_a.to_uppercase(),
    ] {
        let r = http
            .get(app.url(&format!("/api/track/{t}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{t}");
        bodies.push(r.text().await.unwrap());
        let page = http
            .get(app.url(&format!("/track/{t}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 404, "{t}");
        assert!(page.headers().contains_key("content-security-policy"));
        let text = page.text().await.unwrap();
        assert!(
            text.contains("找不到") && !text.contains(&number_a),
            "{text}"
        );
        let r = tokio_tungstenite::connect_async(ws_url(&app, &format!("/ws/track/{t}"))).await;
        assert_eq!(refused_status(r), 404, "{t}");
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
}
on_both_backends!(tracking_shows_one_order_only);

/// `/ws/track` sends the view at once and again on a change.
async fn tracking_socket_follows_the_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let (number, token) = placed_order(&app, "follow").await;
    let (mut s, _) = tokio_tungstenite::connect_async(ws_url(&app, &format!("/ws/track/{token}")))
        .await
        .unwrap();
    let v = next_json(&mut s, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        (v["number"].as_str().unwrap(), v["stage"].clone()),
        (number.as_str(), json!(0))
    );
    set_status(&app, &number, "confirmed").await;
    set_status(&app, &number, "picking").await;
    let v = next_json(&mut s, Duration::from_secs(6)).await.unwrap();
    assert_eq!(
        (v["status"].clone(), v["stage"].clone()),
        (json!("picking"), json!(1))
    );
}
on_both_backends!(tracking_socket_follows_the_order);

/// The pages carry a strict Content-Security-Policy and no referrer.
#[tokio::test]
async fn pages_are_served_with_a_strict_policy() {
    let app = spawn_app(Backend::Sqlite).await;
    let r = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert!(r.text().await.unwrap().contains("/ws/chat"));
}

// ---- in the browser ----

/// The last bot message's button to press next in the order flow: a slot, else "yes", else the
/// first offered (e.g. "substitute if out of stock");
/// "done" once the order is placed.
const NEXT_STEP: &str = r#"(function () {
  if (document.body.innerText.indexOf('下单成功') >= 0) { return 'done'; }
  var m = document.querySelector('#log > .msg:last-child');
  if (!m || !m.classList.contains('bot')) { return null; }
  var b = m.querySelector('button[data-payload^="slot:"]') || m.querySelector('button[data-payload="yes"]') || m.querySelector('button');
  return b && !b.disabled ? b.dataset.payload : null;
})()"#;

/// A customer orders on the chat page by typing and tapping, then sees pushes arrive without
/// reloading; a reload keeps the conversation and shows no push twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_page_orders_and_shows_pushes() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(Backend::Sqlite).await;
    b.goto(&app.url("/")).await;
    b.wait_for(
        "the push socket to open",
        "document.getElementById('status').dataset.state === 'open'",
    )
    .await;
    // Tomatoes alone are below the minimum order; eggs make it.
    b.type_into("#text", "我要两斤西红柿和一盒鸡蛋").await;
    b.click("#send").await;
    b.wait_for_text("送到哪里").await;
    b.type_into("#text", "上海市黄浦区南京东路100号").await;
    b.click("#send").await;
    for _ in 0..8 {
        let next = b.wait_for("the next button to tap", NEXT_STEP).await;
        let payload = next.as_str().unwrap().to_owned();
        if payload == "done" {
            break;
        }
        b.click(&format!(
            "#log > .msg:last-child button[data-payload=\"{payload}\"]"
        ))
        .await;
        // Wait until the tap's reply has replaced the message we tapped on.
        b.wait_for(
            "the reply to the tap",
            "document.querySelector('#log > .msg:last-child').classList.contains('bot') && !document.getElementById('send').disabled",
        )
        .await;
    }
    b.wait_for_text("下单成功").await;
    assert_eq!(
        b.js("return document.getElementById('text').value").await,
        json!("")
    );

    // The order is in the database, for the page's customer.
    let token = b.js("return localStorage.getItem('freshbot.token')").await;
    let user = app
        .services
        .web_session_user(token.as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let customer = app
        .services
        .identify(Channel::Web, &user, Lang::Zh)
        .await
        .unwrap();
    let orders = app.services.orders_of(&customer).await.unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].lines[0].sku.to_string(), "VEG-TOMATO");
    assert_eq!(
        orders[0].lines[0].quantity,
        Quantity::parse("2", Unit::Jin).unwrap()
    );

    // Pushes: through the registered sender (this instance wakes the socket) and stored
    // directly (as another instance would), both shown without a reload; markup stays text.
    app.senders
        .send(
            Channel::Web,
            &user,
            &[Reply::text(
                "您的订单已出发，预计10:30送达 <img src=x onerror=alert(1)>",
            )],
        )
        .await
        .unwrap();
    b.wait_for_text("您的订单已出发，预计10:30送达").await;
    app.services
        .push_web(&user, &[Reply::text("骑手已到小区门口")])
        .await
        .unwrap();
    b.wait_for_text("骑手已到小区门口").await;
    assert_eq!(
        b.js("return document.querySelectorAll('#log img').length")
            .await,
        json!(0)
    );
    assert!(b.text().await.contains("<img src=x onerror=alert(1)>"));

    b.goto(&app.url("/")).await;
    b.wait_for(
        "the push socket to reopen",
        "document.getElementById('status').dataset.state === 'open'",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let text = b.text().await;
    assert!(text.contains("下单成功"), "{text}");
    assert_eq!(text.matches("骑手已到小区门口").count(), 1, "{text}");
    b.close().await;
}

/// A failed request keeps the typed text and offers a retry that does not act twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_page_keeps_text_when_sending_fails() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(Backend::Sqlite).await;
    b.goto(&app.url("/")).await;
    b.wait_for("a session", "localStorage.getItem('freshbot.token')")
        .await;
    // Make the next POST fail as a dropped connection would.
    b.js("window.__realFetch = window.fetch; window.fetch = function (u, o) { if (String(u).indexOf('/api/chat/messages') >= 0) { window.fetch = window.__realFetch; return Promise.reject(new TypeError('offline')); } return window.__realFetch(u, o); }; return true;").await;
    b.type_into("#text", "运费多少").await;
    b.click("#send").await;
    b.wait_for("the error", "!document.getElementById('error').hidden")
        .await;
    assert_eq!(
        b.js("return document.getElementById('text').value").await,
        json!("运费多少")
    );
    assert!(b.text().await.contains("网络连接失败"));
    b.click("#retry").await;
    b.wait_for(
        "the error to clear",
        "document.getElementById('error').hidden",
    )
    .await;
    b.wait_for(
        "an answer",
        "document.querySelector('#log > .msg:last-child').classList.contains('bot')",
    )
    .await;
    assert_eq!(
        b.js("return document.getElementById('text').value").await,
        json!("")
    );
    b.close().await;
}

/// The tracking page shows the stage and follows status changes live; the courier appears on
/// the map once the order is on its way; an unknown link is a plain 404 page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_page_updates_live() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(Backend::Sqlite).await;
    let (number, token) = placed_order(&app, "live").await;
    b.goto(&app.url(&format!("/track/{token}"))).await;
    b.wait_for("stage 0", "document.body.dataset.stage === '0'")
        .await;
    let text = b.text().await;
    assert!(text.contains(&number) && text.contains("已接单"), "{text}");
    assert_eq!(
        b.js("return document.querySelector('#steps li.current').textContent")
            .await,
        json!("已接单")
    );
    assert_eq!(
        b.js("return document.getElementById('map-card').hidden")
            .await,
        json!(true)
    );

    set_status(&app, &number, "confirmed").await;
    set_status(&app, &number, "picking").await;
    b.wait_for(
        "stage 1 without a reload",
        "document.body.dataset.stage === '1'",
    )
    .await;
    assert_eq!(
        b.js("return document.querySelector('#steps li.current').textContent")
            .await,
        json!("分拣中")
    );
    set_status(&app, &number, "packed").await;
    assign_courier(&app, &number, 31.2330, 121.4770, "2026-11-25T02:30:00Z").await;
    set_status(&app, &number, "out_for_delivery").await;
    b.wait_for("stage 3", "document.body.dataset.stage === '3'")
        .await;
    b.wait_for(
        "the courier on the map",
        "document.getElementById('map-courier')",
    )
    .await;
    assert!(
        b.js(
            "return !!document.getElementById('map-depot') && !!document.getElementById('map-dest')"
        )
        .await
        .as_bool()
        .unwrap()
    );
    let text = b.text().await;
    assert!(text.contains("配送中") && text.contains("10:30"), "{text}");

    set_status(&app, &number, "delivered").await;
    b.wait_for("stage 4", "document.body.dataset.stage === '4'")
        .await;
    b.wait_for_text("订单已结束").await;

    b.goto(&app.url("/track/0123456789abcdef0123456789abcdef"))
        .await;
    b.wait_for_text("找不到").await;
    b.close().await;
}

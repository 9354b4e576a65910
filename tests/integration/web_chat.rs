//! The web chat HTTP contract of DESIGN.md, end to end over HTTP.

use serde_json::{Value, json};

use crate::common::{Backend, spawn_app};
use crate::on_both_backends;

async fn session(http: &reqwest::Client, app: &crate::common::TestApp) -> String {
    let r: Value = http
        .post(app.url("/api/chat/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_owned()
}

async fn say(
    http: &reqwest::Client,
    app: &crate::common::TestApp,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let r = http
        .post(app.url("/api/chat/messages"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn first_payload(replies: &Value, prefix: &str) -> String {
    replies["replies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["buttons"].as_array().unwrap().iter())
        .map(|b| b["payload"].as_str().unwrap().to_owned())
        .find(|p| p.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} button in {replies}"))
}

/// A customer orders through the API, sees the order, and a second customer sees nothing.
async fn order_through_the_web_chat_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let http = reqwest::Client::new();
    let token = session(&http, &app).await;

    let (s, r) = say(
        &http,
        &app,
        &token,
        json!({"text": "我要两斤西红柿和一盒鸡蛋", "message_id": "a1"}),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        r["replies"][0]["text"]
            .as_str()
            .unwrap()
            .contains("送到哪里"),
        "{r}"
    );
    // The same message id again: no second effect, no replies.
    let (s, again) = say(
        &http,
        &app,
        &token,
        json!({"text": "我要两斤西红柿和一盒鸡蛋", "message_id": "a1"}),
    )
    .await;
    assert_eq!((s, again["replies"].as_array().unwrap().len()), (200, 0));

    let (_, r) = say(
        &http,
        &app,
        &token,
        json!({"location": {"lat": 31.2352, "lon": 121.48}}),
    )
    .await;
    let slot = first_payload(&r, "slot:");
    let (_, r) = say(&http, &app, &token, json!({"button": slot})).await;
    let (_, r) = say(
        &http,
        &app,
        &token,
        json!({"button": first_payload(&r, "yes")}),
    )
    .await;
    assert!(
        r["replies"][0]["text"]
            .as_str()
            .unwrap()
            .contains("请确认订单"),
        "{r}"
    );
    let (_, r) = say(
        &http,
        &app,
        &token,
        json!({"button": "yes", "message_id": "a2"}),
    )
    .await;
    assert!(
        r["replies"][0]["text"]
            .as_str()
            .unwrap()
            .contains("下单成功"),
        "{r}"
    );

    let orders: Value = http
        .get(app.url("/api/chat/orders"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let o = &orders[0];
    assert_eq!(o["status"], "placed");
    assert!(o["number"].as_str().unwrap().starts_with("FB"));
    assert_eq!(o["total_fen"], 2990);
    assert_eq!(o["fee_fen"], 0);
    assert!(
        o["slot"]["start"].as_str().unwrap().ends_with("+08:00"),
        "{o}"
    );
    assert_eq!(
        o["lines"][0],
        json!({"sku": "VEG-TOMATO", "name_zh": "西红柿", "name_en": "tomato", "qty": 2.0, "unit": "jin", "price_fen": 900, "substitute_for": null})
    );
    assert_eq!(o["cancel_reason"], Value::Null);

    // English replies on request; another customer sees none of this.
    let other = session(&http, &app).await;
    let (_, r) = say(
        &http,
        &app,
        &other,
        json!({"text": "where is my order", "lang": "en"}),
    )
    .await;
    assert!(
        r["replies"][0]["text"]
            .as_str()
            .unwrap()
            .contains("no order"),
        "{r}"
    );
    let theirs: Value = http
        .get(app.url("/api/chat/orders"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs, json!([]));
}
on_both_backends!(order_through_the_web_chat_api);

/// Missing or bad credentials and malformed bodies get clear 4xx answers.
async fn bad_requests_get_clear_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let http = reqwest::Client::new();
    let token = session(&http, &app).await;
    let r = http
        .post(app.url("/api/chat/messages"))
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(app.url("/api/chat/messages"))
        .bearer_auth("nope")
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http.get(app.url("/api/chat/orders")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    for (body, needle) in [
        (json!({}), "exactly one"),
        (json!({"text": "a", "button": "yes"}), "exactly one"),
        (json!({"text": "   "}), "empty"),
        (json!({"text": "x".repeat(5000)}), "too long"),
        (
            json!({"location": {"lat": 200.0, "lon": 0.0}}),
            "not a valid location",
        ),
        (json!({"text": "hi", "lang": "fr"}), "unknown language"),
        (json!({"text": "hi", "surprise": 1}), "unknown field"),
    ] {
        let (s, r) = say(&http, &app, &token, body.clone()).await;
        assert_eq!(s, 400, "{body}");
        assert!(
            r["error"].as_str().unwrap_or_default().contains(needle),
            "{body}: {r}"
        );
    }
    let r = http
        .post(app.url("/api/chat/messages"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{broken")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A forged button is answered, not an error.
    let (s, r) = say(&http, &app, &token, json!({"button": "order:FB0000000001"})).await;
    assert_eq!(s, 200, "{r}");
}
on_both_backends!(bad_requests_get_clear_errors);

//! What an operator's monitoring sees: `/metrics` behind the admin token, with chat turn
//! latency per channel, HTTP counts per route (not per path), business figures from the
//! database, and a request id on every response.

use serde_json::json;

use crate::common::{ADMIN_TOKEN, Backend, spawn_app};
use crate::on_both_backends;

async fn metrics_show_turns_requests_and_orders(backend: Backend) {
    let app = spawn_app(backend).await;
    let http = reqwest::Client::new();
    let anonymous = http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "business figures are not public");

    app.placed_order("metrics").await;
    let session: serde_json::Value = http
        .post(app.url("/api/chat/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap();
    let said = http
        .post(app.url("/api/chat/messages"))
        .bearer_auth(token)
        .header("x-request-id", "lb-req-42")
        .json(&json!({"text": "运费多少", "message_id": "m1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(said.status(), 200);
    assert_eq!(
        said.headers()["x-request-id"],
        "lb-req-42",
        "a load balancer's request id is kept"
    );
    let tracked = http
        .get(app.url("/track/not-a-real-token"))
        .send()
        .await
        .unwrap();
    assert!(tracked.headers().contains_key("x-request-id"));

    let page = http
        .get(app.url("/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    for expected in [
        r#"freshbot_turn_duration_seconds_bucket{channel="web""#,
        r#"route="/api/chat/messages""#,
        r#"route="/track/{token}""#,
        r#"freshbot_orders{status="placed"}"#,
        "freshbot_outbox_pending ",
        "freshbot_handoff_waiting ",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(
        !text.contains("not-a-real-token"),
        "paths with tokens are reported by their route"
    );
}
on_both_backends!(metrics_show_turns_requests_and_orders);

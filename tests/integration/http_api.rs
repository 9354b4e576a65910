//! The HTTP surface of the foundation: health, readiness, catalog, operator status changes.

use serde_json::{Value, json};

use crate::common::{ADMIN_TOKEN, Backend, spawn_app};
use crate::on_both_backends;

async fn health_catalog_and_operator_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    let ready: Value = http
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "ok");

    let catalog: Vec<Value> = http
        .get(app.url("/api/catalog"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(catalog.len() >= 80);
    assert!(
        catalog
            .iter()
            .any(|p| p["name_zh"] == "西红柿" && p["in_stock"] == true)
    );
    assert!(
        catalog
            .iter()
            .any(|p| p["sku"] == "FRUIT-PINEAPPLE" && p["in_stock"] == false)
    );

    let o = app.placed_order("ops").await;
    let url = app.url(&format!("/api/admin/orders/{}/status", o.number));

    let r = http
        .post(&url)
        .json(&json!({"status": "confirmed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no token");
    let r = http
        .post(&url)
        .bearer_auth("wrong")
        .json(&json!({"status": "confirmed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "wrong token");

    let r = http
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"status": "confirmed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "confirmed");

    let r = http
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"status": "delivered"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"],
        "an order that is confirmed cannot become delivered"
    );

    let r = http
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"status": "teleported"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .post(&url)
        .bearer_auth(ADMIN_TOKEN)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .post(app.url("/api/admin/orders/FB9999999999/status"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"status": "confirmed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
on_both_backends!(health_catalog_and_operator_status);

//! The picker's page and API: staff log in, see the day's waves and a wave's pick list in
//! route order, confirm lines by sku and quantity, and see the mis-pick verdict, the batch's
//! progress and the day's errors and shortages at once.

use chrono::DateTime;
use chrono::Utc;
use freshbot::domain::{Order, OrderStatus, StaffRole, TZ, Unit};
use freshbot::services::{Actor, WarehouseConfig};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, line, order, spawn_app};
use crate::on_both_backends;

async fn confirmed_order(
    app: &TestApp,
    name: &str,
    lines: Vec<freshbot::services::OrderLineRequest>,
    slot: DateTime<Utc>,
) -> Order {
    let (c, addr) = app.customer(name).await;
    // no substitution consent: a short pick asks the customer instead of adding a line
    let mut req = order(lines, slot, addr);
    req.auto_substitute = false;
    let o = app.services.place_order(&c, req).await.unwrap();
    app.services
        .advance_status(Actor::Operator, o.number.as_str(), OrderStatus::Confirmed)
        .await
        .unwrap()
}

/// A logged-in picker: the session cookie and the CSRF token.
struct Picker {
    http: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl Picker {
    async fn login(app: &TestApp) -> Picker {
        app.services
            .add_agent("lin", "小林", "picker-password-1", false, StaffRole::Picker)
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let r = http
            .post(app.url("/picker/api/login"))
            .json(&json!({ "login": "lin", "password": "picker-password-1" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        for part in [
            "freshbot_picker=",
            "Path=/picker",
            "HttpOnly",
            "SameSite=Strict",
        ] {
            assert!(set_cookie.contains(part), "{set_cookie}");
        }
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let body: Value = r.json().await.unwrap();
        Picker {
            http,
            cookie,
            csrf: body["csrf"].as_str().unwrap().to_owned(),
        }
    }

    async fn get(&self, app: &TestApp, path: &str) -> Value {
        let r = self
            .http
            .get(app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }

    async fn scan(&self, app: &TestApp, order: &str, sku: &str, qty: &str) -> (u16, Value) {
        let r = self
            .http
            .post(app.url("/picker/api/scan"))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&json!({ "order": order, "sku": sku, "qty": qty }))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }
}

fn lines_of(wave: &Value) -> Vec<Value> {
    wave["wave"]["batches"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["lines"].as_array().unwrap().clone())
        .collect()
}

/// One wave of two orders picked through the API: wrong sku and too much are flagged in
/// red and change nothing, a short pick says a substitute was proposed, good lines are
/// picked; progress and the day's counters follow; the orders end packed.
async fn a_picker_works_through_a_wave(backend: Backend) {
    let app = spawn_app(backend).await;
    let slot = app.slot_starts("huangpu").await[0];
    let day = slot.with_timezone(&TZ).date_naive();
    let a = confirmed_order(
        &app,
        "pick-a",
        vec![
            line("VEG-TOMATO", "2", Unit::Jin),
            line("EGG-CHICKEN", "1", Unit::Box),
        ],
        slot,
    )
    .await;
    let b = confirmed_order(
        &app,
        "pick-b",
        vec![
            line("VEG-POTATO", "3", Unit::Jin),
            line("VEG-TOMATO", "4", Unit::Jin),
        ],
        slot,
    )
    .await;
    let cfg = WarehouseConfig::demo().unwrap();
    let planned = app.services.plan_picking_wave(&cfg, slot).await.unwrap();

    // nothing without a session; no writes without the CSRF token
    let anon = reqwest::Client::new();
    let r = anon.get(app.url("/picker/api/waves")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = anon
        .post(app.url("/picker/api/login"))
        .json(&json!({ "login": "lin", "password": "nope-nope-nope" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let p = Picker::login(&app).await;
    let r = p
        .http
        .post(app.url("/picker/api/scan"))
        .header("cookie", &p.cookie)
        .json(&json!({ "order": a.number.as_str(), "sku": "VEG-TOMATO", "qty": "2" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let waves = p.get(&app, &format!("/picker/api/waves?date={day}")).await;
    let list = waves["waves"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], json!(planned.id));
    assert_eq!(list[0]["progress"]["lines"], json!(4));
    assert_eq!(list[0]["progress"]["pending"], json!(4));

    let wave = p
        .get(&app, &format!("/picker/api/waves/{}", planned.id))
        .await;
    for batch in wave["wave"]["batches"].as_array().unwrap() {
        let seqs: Vec<i64> = batch["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as i64).collect::<Vec<_>>(),
            "route order"
        );
    }
    let lines = lines_of(&wave);
    assert_eq!(lines.len(), 4);
    for l in &lines {
        assert!(l["aisle"].as_i64().unwrap() >= 1, "{l}");
        assert!(l["position"].as_f64().is_some(), "{l}");
        assert!(!l["name_zh"].as_str().unwrap().is_empty(), "{l}");
        assert_eq!(l["status"], "pending");
    }
    let tomato_a = lines
        .iter()
        .find(|l| l["order"] == a.number.as_str() && l["sku"] == "VEG-TOMATO")
        .unwrap();
    assert_eq!(tomato_a["qty_milli"], json!(2000));
    assert_eq!(tomato_a["unit"], "jin");

    // wrong product: red, nothing picked
    let (status, r) = p.scan(&app, a.number.as_str(), "VEG-CARROT", "2").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["mispick"], json!(true));
    assert_eq!(r["verdict"]["kind"], "error");
    assert!(
        r["verdict"]["en"]
            .as_str()
            .unwrap()
            .contains("Wrong product"),
        "{r}"
    );
    // too much: red again
    let (_, r) = p.scan(&app, a.number.as_str(), "VEG-TOMATO", "3.5").await;
    assert_eq!(r["verdict"]["kind"], "error");
    assert!(
        r["verdict"]["en"]
            .as_str()
            .unwrap()
            .contains("Wrong quantity"),
        "{r}"
    );
    // right: picked
    let (_, r) = p.scan(&app, a.number.as_str(), "veg-tomato", "2").await;
    assert_eq!(r["verdict"]["kind"], "ok", "{r}");
    assert_eq!(r["report"]["remaining"], json!(1));
    let (_, r) = p.scan(&app, a.number.as_str(), "EGG-CHICKEN", "1").await;
    assert_eq!(r["verdict"]["kind"], "ok", "{r}");
    assert_eq!(r["report"]["order_status"], "packed");

    // short: the customer is offered a substitute (or told it is missing)
    let (_, r) = p.scan(&app, b.number.as_str(), "VEG-POTATO", "1").await;
    assert_eq!(r["verdict"]["kind"], "short", "{r}");
    let en = r["verdict"]["en"].as_str().unwrap();
    assert!(en.starts_with("Short by 2"), "{en}");
    assert!(en.contains("substitute") || en.contains("missing"), "{en}");
    let offered = en.contains("substitute");
    assert_eq!(r["mispick"], json!(false));

    // typos are refused before they reach the check
    let (status, r) = p.scan(&app, b.number.as_str(), "VEG-TOMATO", "one").await;
    assert_eq!(status, 400, "{r}");
    let (status, _) = p.scan(&app, "FB-NOPE", "VEG-TOMATO", "1").await;
    assert_eq!(status, 404);

    let wave = p
        .get(&app, &format!("/picker/api/waves/{}", planned.id))
        .await;
    assert_eq!(wave["wave"]["progress"]["picked"], json!(2));
    assert_eq!(wave["wave"]["progress"]["short"], json!(1));
    assert_eq!(wave["wave"]["progress"]["pending"], json!(1));
    let picked = lines_of(&wave)
        .into_iter()
        .find(|l| l["order"] == a.number.as_str() && l["sku"] == "VEG-TOMATO")
        .unwrap();
    assert_eq!(picked["status"], "picked");
    assert_eq!(picked["scanned_by"], "lin");

    let (_, r) = p.scan(&app, b.number.as_str(), "VEG-TOMATO", "4").await;
    // with a substitute offered, the bag waits for the customer's answer
    let expected = if offered { "picking" } else { "packed" };
    assert_eq!(r["report"]["order_status"], expected, "{r}");

    // today's counters: the scans above happened now (the app's clock)
    let today = app.services.now().with_timezone(&TZ).date_naive();
    let d = p.get(&app, &format!("/picker/api/day?date={today}")).await;
    assert_eq!(d["day"]["errors"], json!(2), "{d}");
    assert_eq!(d["day"]["shortages"], json!(1), "{d}");
    assert_eq!(d["day"]["ok"], json!(3), "{d}");

    let r = anon.get(app.url("/picker")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'sha256-") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(r.text().await.unwrap().contains("width=device-width"));
}
on_both_backends!(a_picker_works_through_a_wave);

/// Each page takes only the accounts whose role covers it: a support agent cannot log in to
/// the picker page, a picker cannot log in to the agent console nor use its API with the
/// picker session's token, and a lead can do both.
async fn staff_roles_keep_each_page_to_its_people(backend: Backend) {
    let app = spawn_app(backend).await;
    for (login, role) in [
        ("mei", StaffRole::Agent),
        ("lin", StaffRole::Picker),
        ("chen", StaffRole::Lead),
    ] {
        app.services
            .add_agent(login, login, "staff-password-1", false, role)
            .await
            .unwrap();
    }
    let http = reqwest::Client::new();
    let login = |page: &'static str, who: &'static str| {
        let http = http.clone();
        let url = app.url(&format!("/{page}/api/login"));
        async move {
            http.post(url)
                .json(&json!({ "login": who, "password": "staff-password-1" }))
                .send()
                .await
                .unwrap()
        }
    };
    let r = login("picker", "mei").await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("agent"));
    assert_eq!(login("agent", "lin").await.status(), 403);
    assert_eq!(login("agent", "mei").await.status(), 200);
    assert_eq!(login("agent", "chen").await.status(), 200);
    let picker = login("picker", "lin").await;
    assert_eq!(picker.status(), 200);
    assert_eq!(login("picker", "chen").await.status(), 200);
    // The picker's session token, replayed as the console's cookie, opens nothing there.
    let cookie = picker.headers()["set-cookie"].to_str().unwrap().to_owned();
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("freshbot_picker=")
        .to_owned();
    let console_cookie = app
        .services
        .agent_session(&token)
        .await
        .unwrap()
        .map(|_| format!("freshbot_agent={token}"))
        .unwrap();
    let r = http
        .get(app.url("/agent/api/queue"))
        .header("cookie", console_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

on_both_backends!(staff_roles_keep_each_page_to_its_people);

/// The page on a 375 px phone: log in, open today's wave, a wrong product shows red at once,
/// the right one moves the batch on, and nothing is wider than the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn picker_page_in_a_browser() {
    let Some(b) = crate::browser::browser().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let slot = app.slot_starts("huangpu").await[0];
    let o = confirmed_order(
        &app,
        "browser-pick",
        vec![
            line("VEG-TOMATO", "2", Unit::Jin),
            line("EGG-CHICKEN", "1", Unit::Box),
        ],
        slot,
    )
    .await;
    app.services
        .plan_picking_wave(&WarehouseConfig::demo().unwrap(), slot)
        .await
        .unwrap();
    app.services
        .add_agent("lin", "小林", "picker-password-1", false, StaffRole::Picker)
        .await
        .unwrap();
    // the page lists the waves of the device's "today": use the slot's day through the clock
    app.clock.set(slot - chrono::Duration::hours(1));

    b.goto(&app.url("/picker")).await;
    b.type_into("#login-name", "lin").await;
    b.type_into("#login-pass", "picker-password-1").await;
    b.click("#login-form button[type=submit]").await;
    b.wait_for(
        "the day's waves",
        "document.querySelector('#wave-list button[data-wave]')",
    )
    .await;
    b.click("#wave-list button[data-wave]").await;
    b.wait_for(
        "the current line",
        "document.getElementById('cur-name').textContent.length > 0",
    )
    .await;
    let first = b
        .js("return document.getElementById('cur-name').textContent")
        .await;
    let first_sku = first
        .as_str()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    b.type_into("#scan-sku", "VEG-NOTHING").await;
    b.click("#scan-btn").await;
    b.wait_for(
        "the red verdict",
        "document.getElementById('verdict').classList.contains('error')",
    )
    .await;
    b.wait_for_text("Wrong product").await;
    b.type_into("#scan-sku", &first_sku).await;
    b.click("#scan-btn").await;
    b.wait_for(
        "the green verdict",
        "document.getElementById('verdict').classList.contains('ok')",
    )
    .await;
    b.wait_for(
        "progress after one good line",
        "document.getElementById('batch-progress').textContent.includes('1 /') || document.getElementById('wave-progress').textContent.includes('1 /')",
    )
    .await;
    let wide = b
        .js("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(
        wide,
        serde_json::json!(true),
        "no sideways scrolling at 375 px"
    );
    let tx = app.services.store().begin_read().await.unwrap();
    let tasks = tx.pick_tasks_of_order(o.id).await.unwrap();
    assert_eq!(
        tasks.iter().filter(|t| t.status == "picked").count(),
        1,
        "{tasks:?}"
    );
    drop(tx);
    b.close().await;
}

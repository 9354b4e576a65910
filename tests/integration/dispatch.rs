//! A simulated delivery day against a fake Telegram Bot API on loopback: orders are placed by
//! Telegram customers and packed, the wave is dispatched, the courier's chat gets the route
//! with buttons, the courier's live location moves ETAs (and a delay alerts the customers),
//! taps deliver orders, and customers hear about each step on Telegram.

use std::time::Duration;

use chrono::{DateTime, Utc};
use freshbot::domain::{Channel, Lang, LatLon, Order, OrderStatus, Unit};
use freshbot::services::{CourierInput, DispatchSettings};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, line, order, spawn_app_with};
use crate::fake_telegram::{FakeTelegram, buttons, text};
use crate::on_both_backends;

const TOKEN: &str = "654321:DISPATCH-token";
const BOT_ID: i64 = 654321;
const COURIER_CHAT: i64 = 9001;

/// Waits until `chat` got a message containing `needle`; returns all its messages.
async fn wait_for(tg: &FakeTelegram, chat: i64, needle: &str) -> Vec<(i64, Value)> {
    wait_for_n(tg, chat, needle, 1).await
}

async fn wait_for_n(tg: &FakeTelegram, chat: i64, needle: &str, n: usize) -> Vec<(i64, Value)> {
    for _ in 0..750 {
        let sent = tg.sent_with_ids(chat);
        if sent
            .iter()
            .filter(|(_, b)| text(b).contains(needle))
            .count()
            >= n
        {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "chat {chat} never got {n} x {needle:?}; got:\n{}",
        tg.sent_with_ids(chat)
            .iter()
            .map(|(_, b)| text(b))
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
}

fn courier_user() -> Value {
    json!({"id": COURIER_CHAT, "is_bot": false, "first_name": "Wang", "language_code": "zh-hans"})
}

fn courier_chat() -> Value {
    json!({"id": COURIER_CHAT, "type": "private", "first_name": "Wang"})
}

/// The courier taps the button with `payload` under message `sent`.
fn tap(update_id: i64, sent: &(i64, Value), payload: &str) -> Value {
    json!({"update_id": update_id, "callback_query": {
        "id": format!("cb{update_id}"), "chat_instance": "ci", "data": payload,
        "from": courier_user(),
        "message": {
            "message_id": sent.0, "date": 1_764_000_000, "chat": courier_chat(),
            "from": {"id": BOT_ID, "is_bot": true, "first_name": "freshbot"},
            "text": sent.1["text"], "reply_markup": sent.1["reply_markup"]}}})
}

/// A location message (`edit`: a live-location update, as Telegram sends them).
fn location(update_id: i64, lat: f64, lon: f64, edit: bool) -> Value {
    let msg = json!({
        "message_id": 500, "date": 1_764_000_000, "chat": courier_chat(), "from": courier_user(),
        "location": {"latitude": lat, "longitude": lon, "live_period": 3600}});
    if edit {
        let mut m = msg;
        m["edit_date"] = json!(1_764_000_100);
        json!({"update_id": update_id, "edited_message": m})
    } else {
        json!({"update_id": update_id, "message": msg})
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Three Telegram customers near Nanjing East Road order for the same slot; the orders are
/// packed. Returns them with their chat ids.
async fn packed_orders(app: &TestApp) -> Vec<(i64, Order)> {
    let spots = [
        (31.2352, 121.4800),
        (31.2330, 121.4850),
        (31.2385, 121.4770),
    ];
    let mut slot = None;
    let mut out = Vec::new();
    for (k, (lat, lon)) in spots.into_iter().enumerate() {
        let chat = 5001 + k as i64;
        let c = app
            .services
            .identify(Channel::Telegram, &chat.to_string(), Lang::Zh)
            .await
            .unwrap();
        let a = app
            .services
            .add_address(
                &c,
                &format!("上海市黄浦区南京东路{}号", 100 + k * 100),
                Some(LatLon::new(lat, lon).unwrap()),
            )
            .await
            .unwrap();
        let s = *slot.get_or_insert(app.slot_starts(&a.zone).await[0]);
        let o = app
            .services
            .place_order(
                &c,
                order(
                    vec![
                        line("VEG-TOMATO", "2", Unit::Jin),
                        line("EGG-CHICKEN", "1", Unit::Box),
                    ],
                    s,
                    a.id.unwrap(),
                ),
            )
            .await
            .unwrap();
        for to in [
            OrderStatus::Confirmed,
            OrderStatus::Picking,
            OrderStatus::Packed,
        ] {
            app.services
                .advance_status(
                    freshbot::services::Actor::Operator,
                    &o.number.to_string(),
                    to,
                )
                .await
                .unwrap();
        }
        out.push((chat, o));
    }
    out
}

async fn add_courier(app: &TestApp) -> freshbot::services::Courier {
    // 40 bags: more than any demo courier, so the largest route is this courier's.
    app.services
        .add_courier(CourierInput {
            name: "测试师傅".into(),
            phone: "13912345678".into(),
            telegram_user_id: Some(COURIER_CHAT.to_string()),
            capacity_bags: 40,
            shift: "07:00-21:00".into(),
        })
        .await
        .unwrap()
}

async fn status_of(app: &TestApp, o: &Order) -> OrderStatus {
    let tx = app.services.store().begin_read().await.unwrap();
    tx.order(o.id).await.unwrap().unwrap().status
}

async fn eta_of(app: &TestApp, o: &Order) -> Option<DateTime<Utc>> {
    let tx = app.services.store().begin_read().await.unwrap();
    tx.order_dispatch_facts(o.id).await.unwrap().unwrap().eta
}

// ---------------------------------------------------------------------------------------------

/// The delivery day, end to end.
async fn a_delivery_day_on_telegram(backend: Backend) {
    let tg = FakeTelegram::start(TOKEN).await;
    let tgs = tg.settings();
    let app = spawn_app_with(backend, move |s| s.telegram = tgs).await;
    let courier = add_courier(&app).await;
    let orders = packed_orders(&app).await;
    let settings = DispatchSettings::default();

    // Dispatch the wave (what `freshbot dispatch --slot` and the cut-off sweeper do).
    let slot = orders[0].1.slot_start;
    let report = app.services.dispatch_slot(&settings, slot).await.unwrap();
    assert_eq!(report.orders, 3);
    assert!(report.unserved.is_empty(), "{report:?}");
    let mine: Vec<_> = report
        .routes
        .iter()
        .filter(|r| r.courier_id == courier.id)
        .collect();
    assert_eq!(mine.len(), 1, "{report:?}");
    assert_eq!(mine[0].stops.len(), 3, "one short route: {report:?}");
    for (_, o) in &orders {
        assert_eq!(status_of(&app, o).await, OrderStatus::OutForDelivery);
        assert!(eta_of(&app, o).await.is_some());
    }
    // A second dispatch of the same slot finds nothing left to plan.
    let again = app.services.dispatch_slot(&settings, slot).await.unwrap();
    assert_eq!((again.orders, again.routes.len()), (0, 0));

    // The courier's chat: a header, then one message per stop with three buttons.
    let sent = wait_for_n(&tg, COURIER_CHAT, " 订单 ", 3).await;
    assert!(text(&sent[0].1).contains("共 3 站"), "{}", text(&sent[0].1));
    let stops: Vec<(i64, Value)> = sent
        .iter()
        .filter(|(_, b)| text(b).contains(" 订单 "))
        .cloned()
        .collect();
    assert_eq!(stops.len(), 3);
    let first_number = &mine[0].stops[0].0;
    assert!(text(&stops[0].1).contains(first_number.as_str()));
    assert!(text(&stops[0].1).contains("南京东路"));
    assert!(text(&stops[0].1).contains("uri.amap.com"));
    let payloads: Vec<String> = buttons(&stops[0].1).into_iter().map(|(_, p)| p).collect();
    assert_eq!(payloads.len(), 3);
    assert!(payloads[0].starts_with("cs:a:") && payloads[1].starts_with("cs:d:"));

    // Every customer hears the ETA on Telegram.
    for (chat, o) in &orders {
        let eta = eta_of(&app, o).await.unwrap();
        let hhmm = eta
            .with_timezone(&freshbot::domain::TZ)
            .format("%H:%M")
            .to_string();
        wait_for(&tg, *chat, &format!("已出发,预计 {hhmm} 送达")).await;
    }

    // The courier starts sharing a live location at the depot: stored, acknowledged once.
    tg.push(location(100, 31.2304, 121.4737, false));
    wait_for(&tg, COURIER_CHAT, "已收到实时位置").await;
    // Live updates come as edited messages; they are stored silently.
    tg.push(location(101, 31.2320, 121.4760, true));
    let first = orders
        .iter()
        .find(|(_, o)| &o.number.to_string() == first_number)
        .unwrap();
    for _ in 0..200 {
        let tx = app.services.store().begin_read().await.unwrap();
        let fix = tx.courier_fix(courier.id).await.unwrap();
        if fix.is_some_and(|f| (f.at.lat - 31.2320).abs() < 1e-9) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let acks = tg
        .sent_to(COURIER_CHAT)
        .iter()
        .filter(|b| text(b).contains("已收到实时位置"))
        .count();
    assert_eq!(acks, 1, "live edits are not answered");

    // Late morning: the courier is still far away in Pudong. Every ETA slips past the window:
    // each customer gets one delay alert with the new time.
    app.clock.set(at("2026-11-25T03:40:00Z"));
    tg.push(location(102, 31.2200, 121.6000, true));
    for (chat, _) in &orders {
        wait_for(&tg, *chat, "会晚一点到").await;
    }
    let late_eta = eta_of(&app, &first.1).await.unwrap();
    assert!(late_eta > first.1.slot_end, "{late_eta}");
    // The same position again: nothing new to tell.
    tg.push(location(103, 31.2200, 121.6000, true));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for (chat, _) in &orders {
        let alerts = tg
            .sent_to(*chat)
            .iter()
            .filter(|b| text(b).contains("会晚一点到"))
            .count();
        assert_eq!(alerts, 1, "one alert per material change (chat {chat})");
    }

    // At the first door: "arrived" keeps the two other buttons; "delivered" closes the stop.
    let first_stop = stops
        .iter()
        .find(|(_, b)| text(b).contains(first_number.as_str()))
        .unwrap()
        .clone();
    let arrived = buttons(&first_stop.1)[0].1.clone();
    let delivered = buttons(&first_stop.1)[1].1.clone();
    tg.push(tap(104, &first_stop, &arrived));
    let edits = tg.wait_calls("editMessageText", 1).await;
    assert!(text(&edits[0]).contains("已到达"), "{}", edits[0]);
    assert_eq!(buttons(&edits[0]).len(), 2);
    let edited = (first_stop.0, edits[0].clone());
    tg.push(tap(105, &edited, &delivered));
    let edits = tg.wait_calls("editMessageText", 2).await;
    assert!(text(&edits[1]).contains("已送达"), "{}", edits[1]);
    assert!(!text(&edits[1]).contains("已到达"));
    assert!(
        buttons(&edits[1]).is_empty(),
        "a finished stop has no buttons"
    );
    wait_for(&tg, first.0, "已送达").await;
    assert_eq!(status_of(&app, &first.1).await, OrderStatus::Delivered);

    // The same tap delivered again (Telegram redelivery) changes nothing; a stale tap on the
    // finished stop is refused with an alert, not applied twice.
    tg.push(tap(105, &edited, &delivered));
    tg.push(tap(106, &edited, &delivered));
    let answers = tg.wait_calls("answerCallbackQuery", 3).await;
    assert_eq!(answers[2]["show_alert"], json!(true), "{:?}", answers[2]);
    assert!(answers[2]["text"].as_str().unwrap().contains("已送达"));

    // The customer who could not be reached: failed delivery, and they are told.
    let second = stops
        .iter()
        .find(|(_, b)| !text(b).contains(first_number.as_str()))
        .unwrap()
        .clone();
    let not_reachable = buttons(&second.1)[2].1.clone();
    tg.push(tap(107, &second, &not_reachable));
    tg.wait_calls("editMessageText", 3).await;
    let second_order = orders
        .iter()
        .find(|(_, o)| text(&second.1).contains(&o.number.to_string()))
        .unwrap();
    for _ in 0..200 {
        if status_of(&app, &second_order.1).await == OrderStatus::FailedDelivery {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        status_of(&app, &second_order.1).await,
        OrderStatus::FailedDelivery
    );

    // Text from the courier gets the courier help, never the customer dialog.
    tg.push(json!({"update_id": 108, "message": {
        "message_id": 600, "date": 1_764_000_000, "chat": courier_chat(), "from": courier_user(),
        "text": "我要两斤西红柿"}}));
    wait_for(&tg, COURIER_CHAT, "配送助手").await;
}
on_both_backends!(a_delivery_day_on_telegram);

/// With `auto`, `serve` dispatches a slot's packed orders once its cut-off has passed.
async fn the_wave_leaves_at_the_cut_off(backend: Backend) {
    let tg = FakeTelegram::start(TOKEN).await;
    let tgs = tg.settings();
    let app = spawn_app_with(backend, move |s| {
        s.telegram = tgs;
        s.dispatch.auto = true;
        s.dispatch.sweep_secs = 1;
    })
    .await;
    add_courier(&app).await;
    let orders = packed_orders(&app).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // 07:00: the 10:00 slot closes for orders at 09:00; nothing leaves yet.
    for (_, o) in &orders {
        assert_eq!(status_of(&app, o).await, OrderStatus::Packed);
    }
    app.clock
        .set(orders[0].1.slot_start - chrono::Duration::minutes(59));
    wait_for(&tg, COURIER_CHAT, "新的配送路线").await;
    for (chat, o) in &orders {
        assert_eq!(status_of(&app, o).await, OrderStatus::OutForDelivery);
        wait_for(&tg, *chat, "已出发").await;
    }
}
on_both_backends!(the_wave_leaves_at_the_cut_off);

/// A late courier's remaining stops are re-planned from where they are: the stop they stand
/// at stays first, every open stop keeps a place and a fresh ETA in visiting order, the new
/// order is stored, and the courier gets it as a chat message.
async fn a_late_courier_is_replanned_from_where_they_are(backend: Backend) {
    let tg = FakeTelegram::start(TOKEN).await;
    let tgs = tg.settings();
    let app = spawn_app_with(backend, move |s| s.telegram = tgs).await;
    let courier = add_courier(&app).await;
    let orders = packed_orders(&app).await;
    let settings = DispatchSettings::default();
    let report = app
        .services
        .dispatch_slot(&settings, orders[0].1.slot_start)
        .await
        .unwrap();
    let mine = report
        .routes
        .iter()
        .find(|r| r.courier_id == courier.id)
        .expect("the test courier has the route");
    assert_eq!(mine.stops.len(), 3);
    wait_for_n(&tg, COURIER_CHAT, " 订单 ", 3).await;

    // The courier stands at the route's last stop, out of order.
    let last_number = mine.stops[2].0.clone();
    let last_order = &orders
        .iter()
        .find(|(_, o)| o.number.to_string() == last_number)
        .unwrap()
        .1;
    let stop_of = |rows: &[freshbot::store::repo::StopRow], o: &Order| {
        rows.iter().find(|s| s.order_id == o.id.0).cloned().unwrap()
    };
    let rows = {
        let tx = app.services.store().begin_read().await.unwrap();
        tx.open_stops_of(courier.id).await.unwrap()
    };
    app.services
        .courier_stop(
            &settings,
            courier.id,
            stop_of(&rows, last_order).id,
            freshbot::domain::events::StopAction::Arrived,
        )
        .await
        .unwrap();
    // Later than planned, and north of every stop.
    app.clock.set(at("2026-11-25T02:30:00Z"));
    app.services
        .courier_location(
            &settings,
            courier.id,
            LatLon::new(31.2500, 121.4700).unwrap(),
        )
        .await
        .unwrap();

    let re = app
        .services
        .replan_courier(&settings, courier.id)
        .await
        .unwrap();
    assert_eq!(re.stops.len(), 3, "{re:?}");
    assert_eq!(
        re.stops[0].0, last_number,
        "the stop the courier is at stays first"
    );
    let mut numbers: Vec<&String> = re.stops.iter().map(|(n, _)| n).collect();
    numbers.sort();
    let mut all: Vec<String> = orders.iter().map(|(_, o)| o.number.to_string()).collect();
    all.sort();
    assert_eq!(
        numbers,
        all.iter().collect::<Vec<_>>(),
        "every stop keeps a place"
    );
    assert!(
        re.stops.windows(2).all(|w| w[0].1 <= w[1].1),
        "ETAs follow the visiting order: {re:?}"
    );
    // The stored order is the new one.
    let rows = {
        let tx = app.services.store().begin_read().await.unwrap();
        tx.open_stops_of(courier.id).await.unwrap()
    };
    for (seq, (number, eta)) in re.stops.iter().enumerate() {
        let o = &orders
            .iter()
            .find(|(_, o)| &o.number.to_string() == number)
            .unwrap()
            .1;
        let row = stop_of(&rows, o);
        assert_eq!(row.seq as usize, seq + 1, "{number}");
        assert_eq!(row.eta, *eta, "{number}");
    }
    // The courier reads the new order in the chat.
    let sent = wait_for(&tg, COURIER_CHAT, "重新排序").await;
    let header = sent
        .iter()
        .map(|(_, b)| text(b))
        .find(|t| t.contains("重新排序"))
        .unwrap();
    assert!(header.contains("剩余 3 站"), "{header}");
}
on_both_backends!(a_late_courier_is_replanned_from_where_they_are);

/// Telegram refusing the first messages of a wave (a 502 storm) delays the route and the
/// departure notes; it loses and repeats nothing: the courier gets the header and each stop
/// once, and each customer one departure note.
async fn a_route_reaches_the_courier_after_telegram_fails(backend: Backend) {
    let tg = FakeTelegram::start(TOKEN).await;
    let tgs = tg.settings();
    let app = spawn_app_with(backend, move |s| s.telegram = tgs).await;
    add_courier(&app).await;
    let orders = packed_orders(&app).await;
    // The picking notes go first, so the failures below hit the wave's messages.
    for (chat, _) in &orders {
        wait_for(&tg, *chat, "开始分拣").await;
    }
    for _ in 0..4 {
        tg.fail_next(
            "sendMessage",
            502,
            json!({"ok": false, "error_code": 502, "description": "Bad Gateway"}),
        );
    }
    app.services
        .dispatch_slot(&DispatchSettings::default(), orders[0].1.slot_start)
        .await
        .unwrap();
    // Delivered (status 200) messages only: the fake records refused calls too.
    let count = |chat: i64, needle: &str| {
        tg.sent_to(chat)
            .iter()
            .filter(|b| text(b).contains(needle))
            .count()
    };
    let done = || {
        count(COURIER_CHAT, " 订单 ") >= 3
            && orders.iter().all(|(chat, _)| count(*chat, "已出发") >= 1)
    };
    for _ in 0..300 {
        if done() {
            break;
        }
        // Retries wait for their backoff on the app's clock.
        app.clock.advance(chrono::Duration::seconds(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(done(), "the route and the notes got through");
    // Let any stray retry run before counting.
    app.clock.advance(chrono::Duration::minutes(30));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let refused = 4;
    let calls = |chat: i64, needle: &str| count(chat, needle);
    let stops = calls(COURIER_CHAT, " 订单 ");
    let headers = calls(COURIER_CHAT, "共 3 站");
    let notes: usize = orders.iter().map(|(chat, _)| calls(*chat, "已出发")).sum();
    // Every refused call was one of these messages, sent again once.
    assert_eq!(
        stops + headers + notes,
        3 + 1 + 3 + refused,
        "stops {stops}, headers {headers}, notes {notes}"
    );
    let statuses = app.services.outbox_statuses("courier_route").await.unwrap();
    assert!(statuses.iter().all(|(_, st)| st == "done"), "{statuses:?}");
}
on_both_backends!(a_route_reaches_the_courier_after_telegram_fails);

/// Two dispatches of one wave at once (two instances' sweepers, or an operator and the
/// sweeper): the wave is planned outside any transaction, so the second writer must find the
/// orders gone and the courier taken. Each order gets one stop, one route carries them, and a
/// dispatch that lost is an error or a report with no route, never a second route.
async fn two_dispatches_of_one_wave_plan_each_order_once(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    add_courier(&app).await;
    let orders = packed_orders(&app).await;
    let settings = DispatchSettings::default();
    let slot = orders[0].1.slot_start;
    let (a, b) = tokio::join!(
        app.services.dispatch_slot(&settings, slot),
        app.services.dispatch_slot(&settings, slot)
    );
    let routed: Vec<String> = [a, b]
        .into_iter()
        .filter_map(Result::ok)
        .flat_map(|r| r.routes)
        .flat_map(|r| r.stops.into_iter().map(|(n, _)| n))
        .collect();
    let mut once = routed.clone();
    once.sort();
    once.dedup();
    assert_eq!(
        routed.len(),
        once.len(),
        "an order on two routes: {routed:?}"
    );
    assert_eq!(once.len(), 3, "{routed:?}");
    for (_, o) in &orders {
        assert_eq!(status_of(&app, o).await, OrderStatus::OutForDelivery);
    }
}
on_both_backends!(two_dispatches_of_one_wave_plan_each_order_once);

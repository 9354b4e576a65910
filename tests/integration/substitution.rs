//! A short pick proposes a substitute in the chat; the customer's answer, by button or in
//! words, changes the order and the picker's list; an unanswered offer expires and the bag is
//! packed without it; consent given when ordering applies it at once. And the risk rules: a
//! large first order is marked for a person.

use chrono::Duration;
use freshbot::conversation::{Content, Engine, Inbound};
use freshbot::dialog::notices::notice;
use freshbot::domain::Reply;
use freshbot::domain::{Channel, Customer, Lang, Order, OrderStatus, Unit};
use freshbot::fulfillment::picking::ScanOutcome;
use freshbot::services::{Actor, ScanRequest, WarehouseConfig};

use crate::common::{Backend, TestApp, line, morning, order, spawn_app, stock};
use crate::on_both_backends;
use crate::stories::NLU;

/// A confirmed order of 2 jin of lettuce and a box of eggs, in picking, whose lettuce was
/// found short (0.5 jin on the shelf). Returns the customer, the order and the offer's event.
async fn short_picked(
    app: &TestApp,
    name: &str,
    auto_substitute: bool,
) -> (Customer, Order, serde_json::Value) {
    let (c, addr) = app.customer(name).await;
    let slot = app.slot_starts("huangpu").await[0];
    let mut req = order(
        vec![
            line("VEG-LETTUCE", "2", Unit::Jin),
            line("EGG-CHICKEN", "1", Unit::Box),
        ],
        slot,
        addr,
    );
    req.auto_substitute = auto_substitute;
    let o = app.services.place_order(&c, req).await.unwrap();
    app.services
        .advance_status(Actor::Operator, o.number.as_str(), OrderStatus::Confirmed)
        .await
        .unwrap();
    app.services
        .plan_picking_wave(&WarehouseConfig::demo().unwrap(), slot)
        .await
        .unwrap();
    let r = app
        .services
        .scan(scan(&o, "VEG-LETTUCE", 500))
        .await
        .unwrap();
    assert!(matches!(r.outcome, ScanOutcome::Short { .. }), "{r:?}");
    let tx = app.services.store().begin_read().await.unwrap();
    let event = tx
        .outbox_events_since("substitute_needed", morning() - Duration::days(1))
        .await
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .rfind(|p| p["number"] == o.number.as_str())
        .unwrap();
    (c, o, event)
}

fn scan(o: &Order, sku: &str, qty_milli: i64) -> ScanRequest {
    ScanRequest {
        order: o.number.to_string(),
        sku: sku.into(),
        qty_milli,
        picker: "picker-1".into(),
    }
}

async fn now_order(app: &TestApp, o: &Order) -> Order {
    let tx = app.services.store().begin_read().await.unwrap();
    tx.order(o.id).await.unwrap().unwrap()
}

/// What the customer is pushed about the shortage (as the dispatcher renders it).
async fn pushed(app: &TestApp, o: &Order, event: &serde_json::Value) -> Reply {
    let now = now_order(app, o).await;
    let mut r = notice("substitute_needed", event, Some(&now), Lang::Zh, "http://x");
    assert_eq!(r.len(), 1);
    r.remove(0)
}

async fn say(engine: &Engine, user: &str, content: Content) -> Vec<Reply> {
    engine
        .handle(Inbound {
            channel: Channel::Web,
            user: user.into(),
            message_id: None,
            lang: None,
            content,
        })
        .await
        .unwrap()
        .replies
}

fn texts(r: &[Reply]) -> String {
    r.iter()
        .map(|r| r.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The customer taps "换成空心菜": the substitute becomes a line (priced, stock reserved,
/// marked as replacing the lettuce), the picker gets a task for it in the same batch, and the
/// bag is packed only once that is picked too.
async fn accepting_by_button_adds_the_substitute_to_order_and_pick_list(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, o, event) = short_picked(&app, "sub-yes", false).await;
    let push = pushed(&app, &o, &event).await;
    assert!(
        push.text.contains("生菜") && push.text.contains("空心菜"),
        "{}",
        push.text
    );
    let yes = push
        .buttons
        .iter()
        .find(|b| b.label.contains("空心菜"))
        .unwrap()
        .payload
        .clone();
    assert!(push.buttons.iter().any(|b| b.label == "不用换"));
    let before = stock(&app, "VEG-WATERSPINACH").await;

    let engine = app.engine(NLU.clone());
    let replies = say(&engine, "sub-yes", Content::Button(yes.clone())).await;
    assert!(
        texts(&replies).contains("已为您换成空心菜"),
        "{}",
        texts(&replies)
    );

    let after = now_order(&app, &o).await;
    let sub = after
        .lines
        .iter()
        .find(|l| l.sku.as_str() == "VEG-WATERSPINACH")
        .expect("substitute line");
    assert_eq!(sub.quantity.milli(), 1500);
    assert_eq!(
        sub.substitute_for.as_ref().map(|s| s.as_str()),
        Some("VEG-LETTUCE")
    );
    // 0.5 jin lettuce at 5.20 + eggs 15.90 + 1.5 jin water spinach at 5.00
    assert_eq!(after.totals.goods.get(), 260 + 1590 + 750);
    let reserved = stock(&app, "VEG-WATERSPINACH").await;
    assert_eq!(
        reserved.1 - before.1,
        1500,
        "the substitute's stock is reserved"
    );

    // the same button again does nothing more
    let again = say(&engine, "sub-yes", Content::Button(yes)).await;
    assert!(texts(&again).contains("已经处理过"), "{}", texts(&again));
    assert_eq!(now_order(&app, &o).await.lines.len(), 3);

    let r = app
        .services
        .scan(scan(&o, "EGG-CHICKEN", 1000))
        .await
        .unwrap();
    assert_eq!(
        r.order_status,
        OrderStatus::Picking,
        "the substitute is still to pick"
    );
    let r = app
        .services
        .scan(scan(&o, "VEG-WATERSPINACH", 1500))
        .await
        .unwrap();
    assert_eq!(
        (r.outcome, r.order_status),
        (ScanOutcome::Ok, OrderStatus::Packed)
    );
}
on_both_backends!(accepting_by_button_adds_the_substitute_to_order_and_pick_list);

/// The bag waits for the answer; "不用了" typed in the chat declines and the order is packed
/// with what was found.
async fn declining_in_words_packs_the_waiting_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, o, _) = short_picked(&app, "sub-no", false).await;
    let r = app
        .services
        .scan(scan(&o, "EGG-CHICKEN", 1000))
        .await
        .unwrap();
    assert_eq!(
        (r.remaining, r.order_status),
        (0, OrderStatus::Picking),
        "nothing left to pick, but the customer has not answered yet"
    );
    let engine = app.engine(NLU.clone());
    let replies = say(&engine, "sub-no", Content::Text("不用了".into())).await;
    assert!(texts(&replies).contains("不换了"), "{}", texts(&replies));
    let after = now_order(&app, &o).await;
    assert_eq!(after.status, OrderStatus::Packed);
    assert_eq!(after.lines.len(), 2);
    assert_eq!(after.totals.goods.get(), 260 + 1590);
}
on_both_backends!(declining_in_words_packs_the_waiting_order);

/// Nobody answers: after the offer's time the sweeper packs the bag; a late tap is told the
/// offer is over and changes nothing.
async fn an_unanswered_offer_expires_and_the_order_goes_without(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, o, event) = short_picked(&app, "sub-late", false).await;
    app.services
        .scan(scan(&o, "EGG-CHICKEN", 1000))
        .await
        .unwrap();
    assert_eq!(app.services.expire_substitution_offers().await.unwrap(), 0);
    app.clock.advance(Duration::minutes(16));
    assert_eq!(app.services.expire_substitution_offers().await.unwrap(), 1);
    assert_eq!(now_order(&app, &o).await.status, OrderStatus::Packed);

    let offer = event["offer"].as_i64().unwrap();
    let engine = app.engine(NLU.clone());
    let late = say(
        &engine,
        "sub-late",
        Content::Button(format!("sub:{offer}:y")),
    )
    .await;
    assert!(texts(&late).contains("过期"), "{}", texts(&late));
    assert_eq!(now_order(&app, &o).await.lines.len(), 2);
}
on_both_backends!(an_unanswered_offer_expires_and_the_order_goes_without);

/// With "缺货自动替换" agreed when ordering, the substitute is added at once and the push says
/// so instead of asking.
async fn consent_at_order_time_applies_the_substitute_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, o, event) = short_picked(&app, "sub-auto", true).await;
    assert_eq!(event["applied"], true);
    let push = pushed(&app, &o, &event).await;
    assert!(
        push.text.contains("已为您换成同类的空心菜"),
        "{}",
        push.text
    );
    assert!(!push.buttons.iter().any(|b| b.payload.starts_with("sub:")));
    let after = now_order(&app, &o).await;
    assert!(
        after
            .lines
            .iter()
            .any(|l| l.sku.as_str() == "VEG-WATERSPINACH")
    );
    app.services
        .scan(scan(&o, "EGG-CHICKEN", 1000))
        .await
        .unwrap();
    let r = app
        .services
        .scan(scan(&o, "VEG-WATERSPINACH", 1500))
        .await
        .unwrap();
    assert_eq!(r.order_status, OrderStatus::Packed);
}
on_both_backends!(consent_at_order_time_applies_the_substitute_at_once);

/// Another customer cannot answer someone else's offer, whatever they send.
async fn a_stranger_cannot_answer_the_offer(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, o, event) = short_picked(&app, "sub-owner", false).await;
    let _ = app.customer("sub-stranger").await;
    let offer = event["offer"].as_i64().unwrap();
    let engine = app.engine(NLU.clone());
    let r = say(
        &engine,
        "sub-stranger",
        Content::Button(format!("sub:{offer}:y")),
    )
    .await;
    assert!(texts(&r).contains("过期"), "{}", texts(&r));
    let r = say(&engine, "sub-stranger", Content::Text("好的".into())).await;
    assert!(!texts(&r).contains("换成"), "{}", texts(&r));
    assert_eq!(now_order(&app, &o).await.lines.len(), 2);
}
on_both_backends!(a_stranger_cannot_answer_the_offer);

/// A first order far above a household basket is flagged by the risk rules; the verdict is
/// stored; a regular basket is not.
async fn a_large_first_order_is_flagged_for_a_person(backend: Backend) {
    let app = spawn_app(backend).await;
    let (c, addr) = app.customer("risk-big").await;
    let slot = app.slot_starts("huangpu").await[0];
    let big = app
        .services
        .place_order(
            &c,
            order(vec![line("EGG-CHICKEN", "40", Unit::Box)], slot, addr),
        )
        .await
        .unwrap();
    let v = app
        .services
        .assess_order_risk(&c, big.number.as_str())
        .await
        .unwrap();
    assert!(v.flagged, "{v:?}");
    let tx = app.services.store().begin_read().await.unwrap();
    let stored = tx.order_risk(big.id).await.unwrap().unwrap();
    assert!(stored.2, "flagged");
    assert!(stored.1.contains(&"first_order_large".to_owned()));
    drop(tx);

    let small = app.placed_order("risk-small").await;
    let c2 = app
        .services
        .identify(Channel::Web, "risk-small", Lang::Zh)
        .await
        .unwrap();
    let v = app
        .services
        .assess_order_risk(&c2, small.number.as_str())
        .await
        .unwrap();
    assert!(!v.flagged, "{v:?}");
    // someone else's order number is not found
    assert!(
        app.services
            .assess_order_risk(&c2, big.number.as_str())
            .await
            .is_err()
    );
}
on_both_backends!(a_large_first_order_is_flagged_for_a_person);

/// The thresholds come from `[business.risk]`: with a lower "very large" amount, a regular
/// basket is flagged for a person.
async fn risk_thresholds_come_from_the_settings(backend: Backend) {
    let app = crate::common::spawn_app_with(backend, |s| {
        s.business.risk.very_large_fen = 1_000;
        s.business.risk.flag_at = 30;
    })
    .await;
    let o = app.placed_order("risk-config").await;
    let c = app
        .services
        .identify(Channel::Web, "risk-config", Lang::Zh)
        .await
        .unwrap();
    let v = app
        .services
        .assess_order_risk(&c, o.number.as_str())
        .await
        .unwrap();
    assert!(v.flagged, "{v:?}");
    assert!(
        v.reasons
            .contains(&freshbot::analytics::risk::RiskReason::VeryLarge),
        "{v:?}"
    );
}
on_both_backends!(risk_thresholds_come_from_the_settings);

//! Orders end to end through the services on a real database.

use chrono::Duration;
use freshbot::domain::{CancelDecision, CancelReason, Fen, OrderStatus, Unit};
use freshbot::services::{Actor, LineChange, ServiceError};

use crate::common::{Backend, booked, line, order, spawn_app, spawn_app_with, stock};
use crate::on_both_backends;

const SPINACH: &str = "VEG-SPINACH"; // 8 bunches in the demo stock
const EGGS: &str = "EGG-CHICKEN";

/// 50 customers order the last 10 bunches of spinach at the same moment: exactly 10 orders
/// succeed, the rest are told it is out of stock, and the books balance.
async fn concurrent_orders_never_oversell(backend: Backend) {
    let app = spawn_app(backend).await;
    {
        let tx = app.services.store().begin_write().await.unwrap();
        tx.restock(&freshbot::domain::Sku::parse(SPINACH).unwrap(), 2000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(stock(&app, SPINACH).await, (10_000, 0));
    let slots = app.slot_starts("huangpu").await;
    let mut customers = Vec::new();
    for i in 0..50 {
        customers.push(app.customer(&format!("rush-{i}")).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (c, addr)) in customers.into_iter().enumerate() {
        let services = app.services.clone();
        let slot = slots[i % slots.len()];
        tasks.spawn(async move {
            services
                .place_order(
                    &c,
                    order(
                        vec![line(SPINACH, "1", Unit::Bunch), line(EGGS, "1", Unit::Box)],
                        slot,
                        addr,
                    ),
                )
                .await
        });
    }
    let (mut ok, mut out_of_stock) = (Vec::new(), 0);
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(o) => ok.push(o),
            Err(ServiceError::OutOfStock { sku, .. }) => {
                assert_eq!(sku, SPINACH);
                out_of_stock += 1;
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((ok.len(), out_of_stock), (10, 40));
    assert_eq!(
        stock(&app, SPINACH).await,
        (10_000, 10_000),
        "all ten reserved, none sold yet"
    );

    // Three orders leave the warehouse: reservations become sales, stock never negative.
    for o in &ok[..3] {
        for to in [
            OrderStatus::Confirmed,
            OrderStatus::Picking,
            OrderStatus::Packed,
            OrderStatus::OutForDelivery,
        ] {
            app.services
                .advance_status(Actor::Operator, o.number.as_str(), to)
                .await
                .unwrap();
        }
    }
    let (on_hand, reserved) = stock(&app, SPINACH).await;
    assert_eq!((on_hand, reserved), (7_000, 7_000));
    assert_eq!(on_hand + 3_000, 10_000, "on hand + sold = what we had");
}
on_both_backends!(concurrent_orders_never_oversell);

/// Cancelling at each stage of the lifecycle gives the policy's outcome and fee, and a
/// successful cancel gives back the stock and the slot place.
async fn cancel_follows_the_policy_at_every_stage(backend: Backend) {
    let app = spawn_app(backend).await;
    let (c, addr) = app.customer("canceller").await;
    let slot = app.slot_starts("huangpu").await[2];
    // 2 jin of tomatoes (¥9.00) + 2 boxes of eggs (¥31.80) = ¥40.80 goods, ¥5 delivery.
    let lines = || {
        vec![
            line("VEG-TOMATO", "2", Unit::Jin),
            line(EGGS, "2", Unit::Box),
        ]
    };
    let fee = Fen::new(408); // 10% of ¥40.80
    let stages: [(&[OrderStatus], i64, Option<Fen>); 6] = [
        (&[], 0, Some(Fen::ZERO)),
        (&[OrderStatus::Confirmed], 0, Some(Fen::ZERO)),
        (
            &[OrderStatus::Confirmed, OrderStatus::Picking],
            0,
            Some(fee),
        ),
        (
            &[
                OrderStatus::Confirmed,
                OrderStatus::Picking,
                OrderStatus::Packed,
                OrderStatus::OutForDelivery,
            ],
            30,
            Some(fee),
        ),
        (
            &[
                OrderStatus::Confirmed,
                OrderStatus::Picking,
                OrderStatus::Packed,
                OrderStatus::OutForDelivery,
            ],
            61,
            None,
        ),
        (
            &[
                OrderStatus::Confirmed,
                OrderStatus::Picking,
                OrderStatus::Packed,
                OrderStatus::OutForDelivery,
                OrderStatus::Delivered,
            ],
            0,
            None,
        ),
    ];
    for (path, minutes_after, want) in stages {
        app.clock.set(crate::common::morning());
        let before_stock = stock(&app, "VEG-TOMATO").await;
        let before_slot = booked(&app, slot, "huangpu").await;
        let o = app
            .services
            .place_order(&c, order(lines(), slot, addr))
            .await
            .unwrap();
        assert_eq!(o.totals.goods, Fen::new(4080));
        assert_eq!(o.totals.total, Fen::new(4580));
        for to in path {
            app.services
                .advance_status(Actor::Operator, o.number.as_str(), *to)
                .await
                .unwrap();
        }
        app.clock.advance(Duration::minutes(minutes_after));
        let quote = app
            .services
            .quote_cancel(&c, o.number.as_str())
            .await
            .unwrap();
        let result = app
            .services
            .cancel(&c, o.number.as_str(), CancelReason::TooSlow, None)
            .await;
        let stage = format!("{path:?} +{minutes_after}min");
        match want {
            Some(expected_fee) => {
                let expected_quote = if expected_fee == Fen::ZERO {
                    CancelDecision::Free
                } else {
                    CancelDecision::WithFee(expected_fee)
                };
                assert_eq!(quote.decision, expected_quote, "{stage}");
                let (cancelled, charged) = result.unwrap_or_else(|e| panic!("{stage}: {e}"));
                assert_eq!(charged, expected_fee, "{stage}");
                assert_eq!(cancelled.status, OrderStatus::Cancelled);
                assert_eq!(cancelled.cancel_reason, Some(CancelReason::TooSlow));
                assert_eq!(cancelled.cancel_fee, expected_fee);
                assert_eq!(
                    stock(&app, "VEG-TOMATO").await,
                    before_stock,
                    "{stage}: stock given back"
                );
                assert_eq!(
                    booked(&app, slot, "huangpu").await,
                    before_slot,
                    "{stage}: slot place given back"
                );
            }
            None => {
                assert!(
                    matches!(quote.decision, CancelDecision::Refused(_)),
                    "{stage}: {:?}",
                    quote.decision
                );
                let err = result.unwrap_err();
                assert!(
                    matches!(err, ServiceError::CancelRefused(_)),
                    "{stage}: {err}"
                );
                let again = app.services.order_of(&c, o.number.as_str()).await.unwrap();
                assert_ne!(
                    again.status,
                    OrderStatus::Cancelled,
                    "{stage}: a refused cancel changes nothing"
                );
            }
        }
    }
}
on_both_backends!(cancel_follows_the_policy_at_every_stage);

/// Every kind of bad request is a typed error with a clear message, and leaves no trace.
async fn bad_requests_are_refused_and_write_nothing(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.business.slots.capacity_per_zone = 1).await;
    let (alice, alice_addr) = app.customer("alice").await;
    let (bob, _) = app.customer("bob").await;
    let slots = app.slot_starts("huangpu").await;
    let good = || {
        vec![
            line("VEG-TOMATO", "2", Unit::Jin),
            line(EGGS, "1", Unit::Box),
        ]
    };
    let before = stock(&app, "VEG-TOMATO").await;

    let err = |r: Result<freshbot::domain::Order, ServiceError>| r.unwrap_err();
    let e = err(app
        .services
        .place_order(
            &alice,
            order(
                vec![line("VEG-UNICORN", "1", Unit::Jin)],
                slots[0],
                alice_addr,
            ),
        )
        .await);
    assert!(
        matches!(e, ServiceError::UnknownProduct(ref s) if s == "VEG-UNICORN"),
        "{e}"
    );

    let e = err(app
        .services
        .place_order(
            &alice,
            order(
                vec![
                    line("VEG-TOMATO", "3", Unit::Piece),
                    line(EGGS, "2", Unit::Box),
                ],
                slots[0],
                alice_addr,
            ),
        )
        .await);
    assert!(e.to_string().contains("sold by the jin"), "{e}");

    let e = err(app
        .services
        .place_order(
            &alice,
            order(
                vec![line("VEG-CHILI", "1", Unit::Liang)],
                slots[0],
                alice_addr,
            ),
        )
        .await);
    assert!(
        matches!(e, ServiceError::Pricing(_)) && e.to_string().contains("minimum order"),
        "{e}"
    );

    let e = err(app
        .services
        .place_order(&alice, order(vec![], slots[0], alice_addr))
        .await);
    assert!(matches!(e, ServiceError::EmptyOrder), "{e}");

    let past = crate::common::morning() - Duration::hours(3);
    let e = err(app
        .services
        .place_order(&alice, order(good(), past, alice_addr))
        .await);
    assert!(matches!(e, ServiceError::Slot(_)), "{e}");

    let odd = slots[0] + Duration::minutes(30);
    let e = err(app
        .services
        .place_order(&alice, order(good(), odd, alice_addr))
        .await);
    assert!(e.to_string().contains("no delivery window"), "{e}");

    let e = err(app
        .services
        .place_order(&bob, order(good(), slots[0], alice_addr))
        .await);
    assert!(
        matches!(e, ServiceError::UnknownAddress(_)),
        "someone else's address: {e}"
    );

    let e = err(app
        .services
        .place_order(
            &alice,
            order(
                vec![
                    line("FRUIT-PINEAPPLE", "1", Unit::Piece),
                    line(EGGS, "1", Unit::Box),
                ],
                slots[0],
                alice_addr,
            ),
        )
        .await);
    assert!(matches!(e, ServiceError::OutOfStock { .. }), "{e}");

    assert_eq!(
        stock(&app, "VEG-TOMATO").await,
        before,
        "failed orders reserve nothing"
    );
    assert_eq!(
        stock(&app, EGGS).await.1,
        0,
        "not even the lines before the failing one"
    );
    assert!(app.services.orders_of(&alice).await.unwrap().is_empty());
    assert_eq!(
        booked(&app, slots[0], "huangpu").await,
        0,
        "no slot place taken"
    );

    // Capacity 1: the first order fills the slot, the second is told it is full.
    let first = app
        .services
        .place_order(&alice, order(good(), slots[0], alice_addr))
        .await
        .unwrap();
    let e = err(app
        .services
        .place_order(&alice, order(good(), slots[0], alice_addr))
        .await);
    assert!(e.to_string().contains("full"), "{e}");

    // Orders that are not yours, or do not exist, look the same: unknown.
    for number in [first.number.as_str(), "FB0000000000", "not-a-number"] {
        let e = app
            .services
            .cancel(&bob, number, CancelReason::Other, None)
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::UnknownOrder(_)), "{number}: {e}");
        let e = app
            .services
            .reschedule(&bob, number, slots[1])
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::UnknownOrder(_)), "{number}: {e}");
    }
    assert_eq!(
        app.services
            .order_of(&alice, first.number.as_str())
            .await
            .unwrap()
            .status,
        OrderStatus::Placed
    );

    // An illegal lifecycle jump is an error naming both states.
    let e = app
        .services
        .advance_status(
            Actor::Operator,
            first.number.as_str(),
            OrderStatus::Delivered,
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "an order that is placed cannot become delivered"
    );
}
on_both_backends!(bad_requests_are_refused_and_write_nothing);

/// Changing lines, rescheduling and moving an order keep reservations, slot places and totals
/// right, and stop once the order is too far along.
async fn changes_before_picking_keep_the_books_right(backend: Backend) {
    let app = spawn_app(backend).await;
    let (c, addr) = app.customer("changer").await;
    let slots = app.slot_starts("huangpu").await;
    let o = app
        .services
        .place_order(
            &c,
            order(
                vec![
                    line("VEG-TOMATO", "2", Unit::Jin),
                    line(EGGS, "1", Unit::Box),
                ],
                slots[0],
                addr,
            ),
        )
        .await
        .unwrap();
    assert_eq!(stock(&app, "VEG-TOMATO").await.1, 2_000);

    // 1 kg is 2 jin more: 4 jin reserved; cucumbers added; eggs removed.
    let changed = app
        .services
        .change_lines(
            &c,
            o.number.as_str(),
            vec![
                LineChange::Set(line("VEG-TOMATO", "1", Unit::Kg).clone()),
                LineChange::Set(line("VEG-CUCUMBER", "3", Unit::Jin)),
                LineChange::Remove(freshbot::domain::Sku::parse(EGGS).unwrap()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        stock(&app, "VEG-TOMATO").await.1,
        2_000,
        "1 kg = 2 jin: unchanged"
    );
    assert_eq!(stock(&app, EGGS).await.1, 0);
    assert_eq!(changed.lines.len(), 2);
    assert_eq!(changed.totals.goods, Fen::new(2 * 450 + 3 * 380));

    let moved = app
        .services
        .reschedule(&c, o.number.as_str(), slots[3])
        .await
        .unwrap();
    assert_eq!(moved.slot_start, slots[3]);
    assert_eq!(booked(&app, slots[0], "huangpu").await, 0);
    assert_eq!(booked(&app, slots[3], "huangpu").await, 1);

    let jingan = app
        .services
        .add_address(&c, "上海市静安区愚园路88弄3号", None)
        .await
        .unwrap();
    assert_eq!(jingan.zone, "jingan");
    let moved = app
        .services
        .change_address(&c, o.number.as_str(), jingan.id.unwrap())
        .await
        .unwrap();
    assert_eq!(moved.address.zone, "jingan");
    assert_eq!(booked(&app, slots[3], "huangpu").await, 0);
    assert_eq!(booked(&app, slots[3], "jingan").await, 1);

    app.services
        .advance_status(Actor::Operator, o.number.as_str(), OrderStatus::Confirmed)
        .await
        .unwrap();
    app.services
        .advance_status(Actor::Operator, o.number.as_str(), OrderStatus::Picking)
        .await
        .unwrap();
    let e = app
        .services
        .change_lines(
            &c,
            o.number.as_str(),
            vec![LineChange::Set(line("VEG-TOMATO", "5", Unit::Jin))],
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::TooLateToChange { .. }), "{e}");
    for to in [OrderStatus::Packed, OrderStatus::OutForDelivery] {
        app.services
            .advance_status(Actor::Operator, o.number.as_str(), to)
            .await
            .unwrap();
    }
    let e = app
        .services
        .reschedule(&c, o.number.as_str(), slots[4])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("out_for_delivery"), "{e}");

    // Far away or unknown places are refused with the reason.
    let far = freshbot::domain::LatLon::new(31.1979, 121.3363).unwrap();
    let e = app
        .services
        .add_address(&c, "虹桥机场", Some(far))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("km"), "{e}");
    let e = app
        .services
        .add_address(&c, "北京市朝阳区", None)
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::UnknownAddress(_)), "{e}");

    // Every change left an event for the notifier, in order.
    let tx = app.services.store().begin_read().await.unwrap();
    let kinds = tx.outbox_kinds_for_order(o.id).await.unwrap();
    assert_eq!(
        kinds[..4],
        [
            "order_placed",
            "order_changed",
            "order_rescheduled",
            "order_address_changed"
        ]
    );
    assert!(kinds[4..].iter().all(|k| k == "order_status_changed"));
    let history = tx.status_history(o.id).await.unwrap();
    assert_eq!(history.len(), 5, "placed + four moves");
}
on_both_backends!(changes_before_picking_keep_the_books_right);

/// Tiers follow delivered and cancelled orders in the window; points follow what was paid.
async fn membership_rewards_completed_orders_not_cancellations(backend: Backend) {
    let app = spawn_app(backend).await;
    let (c, addr) = app.customer("regular").await;
    let slots = app.slot_starts("huangpu").await;
    let m = app.services.membership(&c).await.unwrap();
    assert_eq!((m.tier.code.as_str(), m.points), ("regular", 0));
    let lines = || {
        vec![
            line("VEG-TOMATO", "2", Unit::Jin),
            line(EGGS, "2", Unit::Box),
        ]
    };
    for slot in &slots[..3] {
        let o = app
            .services
            .place_order(&c, order(lines(), *slot, addr))
            .await
            .unwrap();
        for to in [
            OrderStatus::Confirmed,
            OrderStatus::Picking,
            OrderStatus::Packed,
            OrderStatus::OutForDelivery,
            OrderStatus::Delivered,
        ] {
            app.services
                .advance_status(Actor::Operator, o.number.as_str(), to)
                .await
                .unwrap();
        }
    }
    let m = app.services.membership(&c).await.unwrap();
    assert_eq!(m.tier.code, "silver");
    assert_eq!(m.points, 137, "3 x ¥45.80 = ¥137.40 paid -> 137 points");
    // Cancelling two of the next three orders puts the cancel rate at 40%: back to regular.
    for (i, slot) in slots[3..6].iter().enumerate() {
        let o = app
            .services
            .place_order(&c, order(lines(), *slot, addr))
            .await
            .unwrap();
        if i < 2 {
            app.services
                .cancel(&c, o.number.as_str(), CancelReason::NoLongerNeeded, None)
                .await
                .unwrap();
        }
    }
    let m = app.services.membership(&c).await.unwrap();
    assert_eq!((m.completed_in_window, m.cancelled_in_window), (3, 2));
    assert_eq!(m.tier.code, "regular");
}
on_both_backends!(membership_rewards_completed_orders_not_cancellations);

/// A chat turn's confirmation saves its dialog state, places its order and saves its answer
/// in one transaction: all or, on a duplicate message id or a stale state version, nothing;
/// and nothing of it is seen before the turn commits. A placement that fails (here: more
/// tomatoes than are left) still saves the state, and says why it failed.
async fn state_and_order_are_saved_together(backend: Backend) {
    use freshbot::domain::Channel;
    use freshbot::domain::Reply;
    use freshbot::services::{SavedWith, StateSave};
    let app = spawn_app(backend).await;
    let (c, addr) = app.customer("saver").await;
    let slot = app.slot_starts("huangpu").await[0];
    let two_jin = || crate::common::tomatoes_and_eggs(slot, addr);
    let state = serde_json::json!({ "step": "confirming" });
    let answered = serde_json::json!({ "step": "placed" });
    let save = |expected, id| StateSave::new(Channel::Web, "saver", &state, expected, id).unwrap();
    let version = || async {
        app.services
            .load_conversation::<serde_json::Value>(Channel::Web, "saver")
            .await
            .unwrap()
            .1
    };

    let placed = app
        .services
        .place_order_saving_state(&save(None, Some("m1")), &c, two_jin())
        .await
        .unwrap();
    let SavedWith::Open(turn, (placed_order, _)) = placed else {
        panic!("{placed:?}")
    };
    assert_eq!(turn.version(), 1);
    assert_eq!(placed_order.lines.len(), 2);
    // Until the turn commits, nobody else sees the order or the state.
    assert!(app.services.orders_of(&c).await.unwrap().is_empty());
    assert_eq!(version().await, None);
    // The turn reads its own order before it answers.
    let view = app
        .services
        .open_turn_view::<serde_json::Value>(&turn)
        .await
        .unwrap();
    assert_eq!(view.orders.len(), 1);
    assert_eq!(view.version, Some(1));
    let reply = [Reply::text(format!("已下单 {}", placed_order.number))];
    let v = app
        .services
        .finish_turn(turn, &answered, Some(("确认", &reply)))
        .await
        .unwrap();
    assert_eq!(v, 2);
    assert_eq!(app.services.orders_of(&c).await.unwrap().len(), 1);
    let (stored, _) = app
        .services
        .load_conversation::<serde_json::Value>(Channel::Web, "saver")
        .await
        .unwrap();
    assert_eq!(stored, answered);
    let transcript = app
        .services
        .transcript(Channel::Web, "saver")
        .await
        .unwrap();
    let texts: Vec<&str> = transcript.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["确认", reply[0].text.as_str()]);

    // The same message again, or a state saved from a stale version: nothing happens.
    let again = app
        .services
        .place_order_saving_state(&save(Some(2), Some("m1")), &c, two_jin())
        .await
        .unwrap();
    assert!(matches!(again, SavedWith::Duplicate), "{again:?}");
    let stale = app
        .services
        .place_order_saving_state(&save(Some(1), Some("m2")), &c, two_jin())
        .await
        .unwrap();
    assert!(matches!(stale, SavedWith::Conflict), "{stale:?}");
    assert_eq!(app.services.orders_of(&c).await.unwrap().len(), 1);
    // Neither recorded its message: "m2" is still new.
    assert!(
        app.services
            .first_delivery(Channel::Web, "m2")
            .await
            .unwrap()
    );

    // A turn that stops before it finishes (an error while answering) keeps nothing: no
    // order, no state, and its message may be delivered again.
    let abandoned = app
        .services
        .place_order_saving_state(&save(Some(2), Some("m3")), &c, two_jin())
        .await
        .unwrap();
    assert!(matches!(abandoned, SavedWith::Open(..)), "{abandoned:?}");
    drop(abandoned);
    assert_eq!(app.services.orders_of(&c).await.unwrap().len(), 1);
    assert_eq!(version().await, Some(2));
    assert!(
        app.services
            .first_delivery(Channel::Web, "m3")
            .await
            .unwrap()
    );

    // Half a jin of tomatoes left, two asked for: no order, but the state is saved.
    let (on_hand, reserved) = stock(&app, "VEG-TOMATO").await;
    app.services
        .record_spoilage(
            Actor::Operator,
            "VEG-TOMATO",
            on_hand - reserved - 500,
            "frost",
        )
        .await
        .unwrap();
    let short = app
        .services
        .place_order_saving_state(&save(Some(2), Some("m4")), &c, two_jin())
        .await
        .unwrap();
    let SavedWith::Refused(3, ServiceError::OutOfStock { .. }) = short else {
        panic!("{short:?}")
    };
    assert_eq!(app.services.orders_of(&c).await.unwrap().len(), 1);
    assert_eq!(version().await, Some(3));
}
on_both_backends!(state_and_order_are_saved_together);

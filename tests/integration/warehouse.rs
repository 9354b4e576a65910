//! Warehouse end to end through the services: picking waves, the mis-pick check, short
//! picks and substitutes, stock received and spoiled, and the replenishment plan.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use freshbot::domain::{Lang, Order, OrderStatus, Sku, TZ, Unit};
use freshbot::fulfillment::picking::ScanOutcome;
use freshbot::fulfillment::replenishment::SalesSeries;
use freshbot::services::{Actor, PartialTerms, ScanRequest, WarehouseConfig, WarehouseError};

use crate::common::{Backend, TestApp, line, morning, order, spawn_app, stock};
use crate::on_both_backends;

/// Places an order in `slot` for a new customer and confirms it.
async fn confirmed_order(
    app: &TestApp,
    name: &str,
    lines: Vec<freshbot::services::OrderLineRequest>,
    slot: DateTime<Utc>,
) -> Order {
    let (c, addr) = app.customer(name).await;
    let o = app
        .services
        .place_order(&c, order(lines, slot, addr))
        .await
        .unwrap();
    app.services
        .advance_status(Actor::Operator, o.number.as_str(), OrderStatus::Confirmed)
        .await
        .unwrap()
}

fn scan(order: &Order, sku: &str, qty_milli: i64) -> ScanRequest {
    ScanRequest {
        order: order.number.to_string(),
        sku: sku.into(),
        qty_milli,
        picker: "picker-1".into(),
    }
}

async fn status_of(app: &TestApp, o: &Order) -> OrderStatus {
    let tx = app.services.store().begin_read().await.unwrap();
    tx.order(o.id).await.unwrap().unwrap().status
}

async fn events(app: &TestApp, kind: &str) -> Vec<serde_json::Value> {
    let tx = app.services.store().begin_read().await.unwrap();
    tx.outbox_events_since(kind, morning() - Duration::days(1))
        .await
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

fn today() -> NaiveDate {
    morning().with_timezone(&TZ).date_naive()
}

/// The confirmed orders of a slot become batches that never exceed the picker's capacity
/// and never mix zones; the orders move to picking (分拣中) with an event each; orders of
/// other slots or not yet confirmed stay where they are.
async fn wave_moves_confirmed_orders_to_picking_within_capacity(backend: Backend) {
    let app = spawn_app(backend).await;
    let slots = app.slot_starts("huangpu").await;
    let mut in_wave = Vec::new();
    for i in 0..5 {
        let lines = vec![
            line("VEG-TOMATO", &format!("{}", 2 + i), Unit::Jin),
            line("VEG-POTATO", "3", Unit::Jin),
            line("EGG-CHICKEN", "1", Unit::Box),
            line("VEG-LETTUCE", "1", Unit::Jin),
        ];
        in_wave.push(confirmed_order(&app, &format!("wave-{i}"), lines, slots[0]).await);
    }
    // 10 kg of potatoes: heavier than one cart (4 kg below), still planned as its own batch
    let heavy = confirmed_order(
        &app,
        "heavy",
        vec![
            line("VEG-POTATO", "20", Unit::Jin),
            line("EGG-CHICKEN", "1", Unit::Box),
        ],
        slots[0],
    )
    .await;
    in_wave.push(heavy.clone());
    let (c, addr) = app.customer("not-confirmed").await;
    let placed = app
        .services
        .place_order(
            &c,
            order(vec![line("EGG-CHICKEN", "2", Unit::Box)], slots[0], addr),
        )
        .await
        .unwrap();
    let later = confirmed_order(
        &app,
        "later-slot",
        vec![line("EGG-CHICKEN", "2", Unit::Box)],
        slots[1],
    )
    .await;

    let mut cfg = WarehouseConfig::demo().unwrap();
    cfg.picker_capacity_kg = 4.0;
    let wave = app
        .services
        .plan_picking_wave(&cfg, slots[0])
        .await
        .unwrap();
    let mut numbers: Vec<String> = in_wave.iter().map(|o| o.number.to_string()).collect();
    numbers.sort();
    let mut planned = wave.orders.clone();
    planned.sort();
    assert_eq!(planned, numbers);
    assert!(wave.batches.len() >= 3, "zones A, B and F at least");
    let layout = cfg.layout_for(
        &app.services
            .catalog()
            .await
            .unwrap()
            .iter()
            .map(|(p, _)| p.clone())
            .collect::<Vec<_>>(),
    );
    for b in &wave.batches {
        assert!(
            b.load_kg <= cfg.picker_capacity_kg + 1e-9,
            "batch over capacity: {b:?}"
        );
        for p in &b.picks {
            assert_eq!(
                layout.locations[&p.sku].zone, b.zone,
                "batches never mix zones"
            );
        }
        let seqs: Vec<i32> = b.picks.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, (1..=b.picks.len() as i32).collect::<Vec<_>>());
    }
    let picks: usize = wave.batches.iter().map(|b| b.picks.len()).sum();
    assert_eq!(picks, 5 * 4 + 2, "one pick per order line");
    let heavy_batch = wave
        .batches
        .iter()
        .find(|b| {
            b.picks
                .iter()
                .any(|p| p.order == heavy.number.as_str() && p.sku == "VEG-POTATO")
        })
        .unwrap();
    assert_eq!(
        heavy_batch.picks.len(),
        1,
        "the heavy part is a batch of its own"
    );
    assert_eq!(app.services.pick_list(wave.id).await.unwrap().len(), picks);

    let tx = app.services.store().begin_read().await.unwrap();
    for o in &in_wave {
        let now = tx.order(o.id).await.unwrap().unwrap();
        assert_eq!(now.status, OrderStatus::Picking);
        assert_eq!(now.status.label(Lang::Zh), "分拣中");
        assert_eq!(
            tx.outbox_kinds_for_order(o.id)
                .await
                .unwrap()
                .last()
                .map(String::as_str),
            Some("order_status_changed")
        );
        let history = tx.status_history(o.id).await.unwrap();
        assert_eq!(history.last().unwrap().1, "picking");
    }
    drop(tx);
    assert_eq!(status_of(&app, &placed).await, OrderStatus::Placed);
    assert_eq!(status_of(&app, &later).await, OrderStatus::Confirmed);

    // a second wave for the same slot has nothing left to pick
    assert!(matches!(
        app.services.plan_picking_wave(&cfg, slots[0]).await,
        Err(WarehouseError::NothingToPick { .. })
    ));
}
on_both_backends!(wave_moves_confirmed_orders_to_picking_within_capacity);

/// The mis-pick check through the service layer: a wrong product and too much are flagged at
/// once, change nothing and are counted; right scans (within the scale tolerance) complete
/// the order, which moves to packed.
async fn wrong_sku_and_quantity_scans_are_flagged_and_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let slot = app.slot_starts("huangpu").await[0];
    let o = confirmed_order(
        &app,
        "mispick",
        vec![
            line("VEG-TOMATO", "2", Unit::Jin),
            line("EGG-CHICKEN", "1", Unit::Box),
        ],
        slot,
    )
    .await;
    // no wave yet: nothing to scan
    assert!(matches!(
        app.services.scan(scan(&o, "VEG-TOMATO", 2000)).await,
        Err(WarehouseError::NotPicking { .. })
    ));
    let cfg = WarehouseConfig::demo().unwrap();
    app.services.plan_picking_wave(&cfg, slot).await.unwrap();

    let r = app
        .services
        .scan(scan(&o, "VEG-CUCUMBER", 2000))
        .await
        .unwrap();
    assert!(r.is_mispick());
    assert!(
        matches!(r.outcome, ScanOutcome::WrongSku { ref scanned, .. } if scanned == "VEG-CUCUMBER")
    );
    assert_eq!((r.remaining, r.order_status), (2, OrderStatus::Picking));

    let r = app
        .services
        .scan(scan(&o, "EGG-CHICKEN", 2000))
        .await
        .unwrap();
    assert_eq!(
        r.outcome,
        ScanOutcome::WrongQuantity {
            expected: 1000,
            scanned: 2000
        }
    );
    assert_eq!(r.remaining, 2, "a flagged scan picks nothing");

    // weighed produce within 5 %: fine
    let r = app
        .services
        .scan(scan(&o, "veg-tomato\n", 1950))
        .await
        .unwrap();
    assert_eq!((r.outcome.clone(), r.remaining), (ScanOutcome::Ok, 1));
    let r = app
        .services
        .scan(scan(&o, "EGG-CHICKEN", 1000))
        .await
        .unwrap();
    assert_eq!(
        (r.outcome, r.order_status),
        (ScanOutcome::Ok, OrderStatus::Packed)
    );
    assert_eq!(status_of(&app, &o).await, OrderStatus::Packed);
    assert!(matches!(
        app.services.scan(scan(&o, "EGG-CHICKEN", 1000)).await,
        Err(WarehouseError::NotPicking { .. })
    ));

    let day = app.services.picking_day(today()).await.unwrap();
    assert_eq!(
        (
            day.scans,
            day.ok,
            day.wrong_sku,
            day.wrong_quantity,
            day.errors,
            day.shortages
        ),
        (4, 2, 1, 1, 2, 0)
    );
    let yesterday = app
        .services
        .picking_day(today() - Duration::days(1))
        .await
        .unwrap();
    assert_eq!(yesterday.scans, 0);
}
on_both_backends!(wrong_sku_and_quantity_scans_are_flagged_and_counted);

/// A short pick writes off the missing stock, charges only what was picked, writes a
/// `substitute_needed` event with the closest in-stock substitute of the same category; the
/// customer agreed to substitutes when ordering, so it is added to the order and the pick list
/// at once, and the order reaches packed once everything, the substitute included, is picked.
/// (Offers that need the customer's answer: tests/integration/substitution.rs.)
async fn short_pick_offers_a_substitute_and_the_order_still_gets_packed(backend: Backend) {
    let app = spawn_app(backend).await;
    let slot = app.slot_starts("huangpu").await[0];
    let o = confirmed_order(
        &app,
        "short",
        vec![
            line("VEG-LETTUCE", "2", Unit::Jin),
            line("EGG-CHICKEN", "1", Unit::Box),
        ],
        slot,
    )
    .await;
    assert_eq!(stock(&app, "VEG-LETTUCE").await, (50_000, 2_000));
    let cfg = WarehouseConfig::demo().unwrap();
    app.services.plan_picking_wave(&cfg, slot).await.unwrap();

    let r = app
        .services
        .scan(scan(&o, "VEG-LETTUCE", 500))
        .await
        .unwrap();
    assert_eq!(
        r.outcome,
        ScanOutcome::Short {
            expected: 2000,
            scanned: 500,
            missing: 1500
        }
    );
    // leafy, sold by the jin, in stock, closest to lettuce's 5.20: water spinach at 5.00
    // (油麦菜 at 4.80 is out of stock)
    assert_eq!(r.substitute.as_deref(), Some("VEG-WATERSPINACH"));
    assert_eq!(
        (r.remaining, r.order_status),
        (2, OrderStatus::Picking),
        "the eggs and the substitute are left to pick"
    );
    assert_eq!(stock(&app, "VEG-LETTUCE").await, (48_500, 500));

    let subs = events(&app, "substitute_needed").await;
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["number"], o.number.as_str());
    assert_eq!(subs[0]["sku"], "VEG-LETTUCE");
    assert_eq!(subs[0]["missing_milli"], 1500);
    assert_eq!(subs[0]["substitute"], "VEG-WATERSPINACH");
    assert_eq!(subs[0]["applied"], true);

    let r = app
        .services
        .scan(scan(&o, "EGG-CHICKEN", 1000))
        .await
        .unwrap();
    assert_eq!(
        (r.outcome, r.order_status),
        (ScanOutcome::Ok, OrderStatus::Picking)
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
    let tx = app.services.store().begin_read().await.unwrap();
    let packed = tx.order(o.id).await.unwrap().unwrap();
    drop(tx);
    let lettuce = packed
        .lines
        .iter()
        .find(|l| l.sku.as_str() == "VEG-LETTUCE")
        .unwrap();
    assert_eq!(
        lettuce.quantity.milli(),
        500,
        "the customer pays for what was picked"
    );
    assert_eq!(
        packed.totals.goods.get(),
        260 + 1590 + 750,
        "what was picked, water spinach included"
    );

    // dispatch consumes exactly what was picked
    app.services
        .advance_status(
            Actor::Operator,
            o.number.as_str(),
            OrderStatus::OutForDelivery,
        )
        .await
        .unwrap();
    assert_eq!(stock(&app, "VEG-LETTUCE").await, (48_000, 0));
    let day = app.services.picking_day(today()).await.unwrap();
    assert_eq!((day.shortages, day.errors), (1, 0));
}
on_both_backends!(short_pick_offers_a_substitute_and_the_order_still_gets_packed);

/// Receipts add stock, spoilage removes it, and spoilage can never take more than the free
/// stock (typed error, nothing changed); crossing the threshold alerts operators once.
async fn spoilage_cannot_go_negative_and_receipts_add_stock(backend: Backend) {
    let app = spawn_app(backend).await;
    const SPINACH: &str = "VEG-SPINACH"; // 8 bunches, low below 10
    let level = app
        .services
        .receive_stock(Actor::Operator, SPINACH, 5_000)
        .await
        .unwrap();
    assert_eq!(level.on_hand_milli, 13_000);
    assert_eq!(stock(&app, SPINACH).await, (13_000, 0));

    match app
        .services
        .record_spoilage(Actor::Operator, SPINACH, 20_000, "wilted")
        .await
    {
        Err(WarehouseError::SpoilageExceedsStock {
            free_milli,
            requested_milli,
            ..
        }) => assert_eq!((free_milli, requested_milli), (13_000, 20_000)),
        other => panic!("expected SpoilageExceedsStock, got {other:?}"),
    }
    assert_eq!(stock(&app, SPINACH).await, (13_000, 0));

    // reserved goods are not free to spoil
    let slot = app.slot_starts("huangpu").await[0];
    confirmed_order(
        &app,
        "spinach-buyer",
        vec![
            line(SPINACH, "2", Unit::Bunch),
            line("EGG-CHICKEN", "1", Unit::Box),
        ],
        slot,
    )
    .await;
    assert!(matches!(
        app.services
            .record_spoilage(Actor::Operator, SPINACH, 12_000, "wilted")
            .await,
        Err(WarehouseError::SpoilageExceedsStock {
            free_milli: 11_000,
            reserved_milli: 2_000,
            ..
        })
    ));
    let level = app
        .services
        .record_spoilage(Actor::Operator, SPINACH, 1_000, "wilted")
        .await
        .unwrap();
    assert_eq!((level.on_hand_milli, level.reserved_milli), (12_000, 2_000));
    assert_eq!(
        events(&app, "stock_low")
            .await
            .iter()
            .filter(|e| e["sku"] == SPINACH)
            .count(),
        1,
        "10 bunches free: low, alerted once"
    );
    app.services
        .record_spoilage(Actor::Operator, SPINACH, 1_000, "")
        .await
        .unwrap();
    assert_eq!(
        events(&app, "stock_low")
            .await
            .iter()
            .filter(|e| e["sku"] == SPINACH)
            .count(),
        1,
        "already low: no second alert"
    );

    for (bad, qty) in [("VEG-NOPE", 1000), (SPINACH, 0), (SPINACH, -5)] {
        assert!(
            app.services
                .record_spoilage(Actor::Operator, bad, qty, "x")
                .await
                .is_err()
        );
        assert!(
            app.services
                .receive_stock(Actor::Operator, bad, qty)
                .await
                .is_err()
        );
    }
    let tx = app.services.store().begin_read().await.unwrap();
    let moves = tx
        .stock_movements_since(&Sku::parse(SPINACH).unwrap(), morning() - Duration::days(1))
        .await
        .unwrap();
    let kinds: Vec<(&str, i64)> = moves.iter().map(|(k, q, _, _)| (k.as_str(), *q)).collect();
    assert_eq!(
        kinds,
        vec![
            ("spoiled", -1_000),
            ("spoiled", -1_000),
            ("received", 5_000)
        ]
    );
    assert_eq!(moves[0].2.as_deref(), Some("unspecified"));
}
on_both_backends!(spoilage_cannot_go_negative_and_receipts_add_stock);

/// 16 weeks of weekly-patterned sales of a leafy green with an empty shelf: the plan orders
/// whole supplier packs, never more than sells before it spoils (a longer shelf life allows
/// more), stores the drafts, and alerts operators once.
async fn replenishment_respects_shelf_life_and_pack_sizes(backend: Backend) {
    let app = spawn_app(backend).await;
    const YOUMAI: &str = "VEG-YOUMAI"; // leafy: 2 days, packs of 5 jin; nothing on hand
    let pattern = [10.0, 12.0, 9.0, 11.0, 14.0, 20.0, 22.0];
    let date = today();
    let days = 16 * 7;
    let history = SalesSeries {
        id: YOUMAI.to_lowercase(),
        start: date - Duration::days(days),
        quantities: (0..days as usize).map(|t| pattern[t % 7]).collect(),
    };
    let cfg = WarehouseConfig::demo().unwrap();
    let plan = app
        .services
        .replenishment_plan(&cfg, date, std::slice::from_ref(&history))
        .await
        .unwrap();
    assert_eq!(plan.planned, 1);
    let l = plan.lines.iter().find(|l| l.sku == YOUMAI).unwrap();
    assert_eq!((l.pack_size, l.shelf_life_days), (5.0, 2));
    assert!(l.packs >= 1);
    assert_eq!(l.quantity, f64::from(l.packs) * 5.0);
    assert_eq!(l.qty_milli, i64::from(l.packs) * 5_000);
    assert_eq!(l.arrives, date + Duration::days(1));
    assert!(
        l.quantity <= 2.0 * 22.0,
        "never more than two days of the best sales: {l:?}"
    );
    assert_eq!(plan.alerts.len(), 1);
    assert!(plan.alerts[0].new_event);
    let tx = app.services.store().begin_read().await.unwrap();
    let drafts = tx.purchase_drafts(date).await.unwrap();
    drop(tx);
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].qty_milli, l.qty_milli);

    // the same product keeping a week: more may be ordered, still in whole packs
    let mut week = cfg.clone();
    week.terms.sku.insert(
        YOUMAI.into(),
        PartialTerms {
            shelf_life_days: Some(7),
            ..PartialTerms::default()
        },
    );
    let longer = app
        .services
        .replenishment_plan(&week, date, std::slice::from_ref(&history))
        .await
        .unwrap();
    let l7 = longer.lines.iter().find(|l| l.sku == YOUMAI).unwrap();
    assert!(l7.quantity >= l.quantity, "{l7:?} vs {l:?}");
    assert_eq!(l7.quantity % 5.0, 0.0);
    // the alert is still pending: not written twice
    assert!(!longer.alerts[0].new_event);
    assert_eq!(
        events(&app, "stock_low")
            .await
            .iter()
            .filter(|e| e["sku"] == YOUMAI)
            .count(),
        1
    );
}
on_both_backends!(replenishment_respects_shelf_life_and_pack_sizes);

fn youmai_history(date: NaiveDate) -> SalesSeries {
    let pattern = [10.0, 12.0, 9.0, 11.0, 14.0, 20.0, 22.0];
    let days = 16 * 7;
    SalesSeries {
        id: "VEG-YOUMAI".into(),
        start: date - Duration::days(days),
        quantities: (0..days as usize).map(|t| pattern[t % 7]).collect(),
    }
}

/// A shelf full of leafy greens that were delivered yesterday (2-day shelf life) spoils
/// tonight: the plan warns that tomorrow's shelf is empty, and the purchase list orders for
/// tomorrow (before the fix the full shelf counted as stock and the alert came without a line).
async fn stock_about_to_expire_is_reordered_and_the_alert_says_so(backend: Backend) {
    let app = spawn_app(backend).await;
    const YOUMAI: &str = "VEG-YOUMAI";
    let date = today();
    app.clock.set(morning() - Duration::days(1));
    app.services
        .receive_stock(Actor::Operator, YOUMAI, 80_000)
        .await
        .unwrap();
    app.clock.set(morning());
    let history = youmai_history(date);
    let cfg = WarehouseConfig::demo().unwrap();
    let plan = app
        .services
        .replenishment_plan(&cfg, date, std::slice::from_ref(&history))
        .await
        .unwrap();
    let l = plan
        .lines
        .iter()
        .find(|l| l.sku == YOUMAI)
        .expect("80 jin on the shelf expire tonight: order for tomorrow");
    assert!(l.on_hand >= 80.0);
    assert!(l.usable_stock < 25.0, "only today's sales count: {l:?}");
    assert!(l.quantity >= 5.0 && l.quantity <= 2.0 * 22.0, "{l:?}");
    let alert = plan
        .alerts
        .iter()
        .find(|a| a.sku == YOUMAI)
        .expect("tomorrow's shelf is empty without the delivery");
    assert_eq!(alert.ordered, l.quantity);
    assert_eq!(alert.no_order, None);
    let ev = events(&app, "stock_low").await;
    let e = ev.iter().find(|e| e["sku"] == YOUMAI).unwrap();
    assert_eq!(e["ordered"], serde_json::json!(l.quantity));
}
on_both_backends!(stock_about_to_expire_is_reordered_and_the_alert_says_so);

/// The purchase cycle: a draft confirmed to a supplier becomes an open purchase order (once);
/// the next plan counts it as on the way and orders nothing more; deliveries may come in
/// parts, go on hand with their expiry and never exceed what was ordered.
async fn purchase_orders_are_stock_on_the_way_until_received(backend: Backend) {
    let app = spawn_app(backend).await;
    const YOUMAI: &str = "VEG-YOUMAI"; // leafy: 2 days, packs of 5 jin; nothing on hand
    let date = today();
    let history = youmai_history(date);
    let cfg = WarehouseConfig::demo().unwrap();
    let plan = app
        .services
        .replenishment_plan(&cfg, date, std::slice::from_ref(&history))
        .await
        .unwrap();
    let line = plan.lines.iter().find(|l| l.sku == YOUMAI).unwrap().clone();
    let overview = app.services.purchase_overview(date).await.unwrap();
    assert_eq!(overview.drafts.len(), 1);
    assert!(overview.orders.is_empty());
    let draft = &overview.drafts[0];
    assert_eq!(
        (draft.sku.as_str(), draft.qty_milli),
        (YOUMAI, line.qty_milli)
    );

    assert!(matches!(
        app.services
            .confirm_purchase(Actor::Operator, draft.draft_id, "  ")
            .await,
        Err(WarehouseError::BadInput(_))
    ));
    let po = app
        .services
        .confirm_purchase(Actor::Operator, draft.draft_id, "江桥批发市场")
        .await
        .unwrap();
    assert_eq!(po.supplier, "江桥批发市场");
    assert_eq!(
        (po.qty_milli, po.outstanding_milli),
        (line.qty_milli, line.qty_milli)
    );
    assert_eq!(po.arrives, date + Duration::days(1));
    assert!(matches!(
        app.services
            .confirm_purchase(Actor::Operator, draft.draft_id, "again")
            .await,
        Err(WarehouseError::UnknownDraft(_))
    ));
    let overview = app.services.purchase_overview(date).await.unwrap();
    assert!(overview.drafts.is_empty());
    assert_eq!(overview.orders.len(), 1);

    // re-planning the same day: the confirmed quantity is on the way, nothing is ordered twice
    let again = app
        .services
        .replenishment_plan(&cfg, date, std::slice::from_ref(&history))
        .await
        .unwrap();
    assert!(
        again.lines.iter().all(|l| l.sku != YOUMAI),
        "ordered twice: {:?}",
        again.lines
    );

    // a partial delivery, then too much, then the rest
    assert!(
        line.qty_milli > 5_000,
        "more than one pack to split: {line:?}"
    );
    let first = app
        .services
        .receive_purchase(
            &cfg,
            Actor::Operator,
            po.purchase_order_id,
            Some(5_000),
            false,
        )
        .await
        .unwrap();
    assert_eq!(first.received_milli, 5_000);
    assert_eq!(first.order.outstanding_milli, line.qty_milli - 5_000);
    assert_eq!(
        first.order.status,
        freshbot::store::repo::PurchaseStatus::Open
    );
    assert_eq!(
        first.expires_on,
        Some(date + Duration::days(1)),
        "2-day shelf life"
    );
    assert_eq!(stock(&app, YOUMAI).await.0, 5_000);
    let too_much = app
        .services
        .receive_purchase(
            &cfg,
            Actor::Operator,
            po.purchase_order_id,
            Some(line.qty_milli),
            false,
        )
        .await;
    assert!(
        matches!(too_much, Err(WarehouseError::BadQuantity(_))),
        "{too_much:?}"
    );
    assert_eq!(stock(&app, YOUMAI).await.0, 5_000, "nothing changed");
    if line.qty_milli > 5_000 {
        let rest = app
            .services
            .receive_purchase(&cfg, Actor::Operator, po.purchase_order_id, None, false)
            .await
            .unwrap();
        assert_eq!(rest.received_milli, line.qty_milli - 5_000);
        assert_eq!(rest.order.outstanding_milli, 0);
        assert_eq!(
            rest.order.status,
            freshbot::store::repo::PurchaseStatus::Received
        );
    }
    assert_eq!(stock(&app, YOUMAI).await.0, line.qty_milli);
    assert!(matches!(
        app.services
            .receive_purchase(&cfg, Actor::Operator, po.purchase_order_id, None, false)
            .await,
        Err(WarehouseError::PurchaseClosed(_))
    ));
    assert!(matches!(
        app.services
            .receive_purchase(&cfg, Actor::Operator, 999_999, None, false)
            .await,
        Err(WarehouseError::UnknownPurchaseOrder(999_999))
    ));
    let tx = app.services.store().begin_read().await.unwrap();
    let receipts = tx
        .receipts_since(&Sku::parse(YOUMAI).unwrap(), morning() - Duration::days(1))
        .await
        .unwrap();
    drop(tx);
    assert!(
        receipts
            .iter()
            .all(|r| r.expires_on == Some(date + Duration::days(1)))
    );
    assert_eq!(
        receipts.iter().map(|r| r.qty_milli).sum::<i64>(),
        line.qty_milli
    );
}
on_both_backends!(purchase_orders_are_stock_on_the_way_until_received);

/// An order closed short: part delivered, the rest will never come; it stops counting as on
/// the way, so the next plan orders again.
async fn a_purchase_closed_short_is_no_longer_on_the_way(backend: Backend) {
    let app = spawn_app(backend).await;
    const YOUMAI: &str = "VEG-YOUMAI";
    let date = today();
    let history = youmai_history(date);
    let cfg = WarehouseConfig::demo().unwrap();
    app.services
        .replenishment_plan(&cfg, date, std::slice::from_ref(&history))
        .await
        .unwrap();
    let draft = app.services.purchase_overview(date).await.unwrap().drafts[0].clone();
    let po = app
        .services
        .confirm_purchase(Actor::Operator, draft.draft_id, "farm")
        .await
        .unwrap();
    assert!(matches!(
        app.services
            .receive_purchase(&cfg, Actor::Operator, po.purchase_order_id, Some(0), false)
            .await,
        Err(WarehouseError::BadQuantity(_))
    ));
    let closed = app
        .services
        .receive_purchase(&cfg, Actor::Operator, po.purchase_order_id, Some(0), true)
        .await
        .unwrap();
    assert_eq!(closed.order.outstanding_milli, 0);
    assert_eq!(closed.expires_on, None);
    assert_eq!(stock(&app, YOUMAI).await.0, 0);
    let again = app
        .services
        .replenishment_plan(&cfg, date, std::slice::from_ref(&history))
        .await
        .unwrap();
    assert!(
        again
            .lines
            .iter()
            .any(|l| l.sku == YOUMAI && l.on_order == 0.0)
    );
}
on_both_backends!(a_purchase_closed_short_is_no_longer_on_the_way);

//! Warehouse: picking waves, pick tasks and scans, stock movements and purchase drafts.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::corrupt;
use crate::domain::{OrderId, OrderStatus, Sku};
use crate::store::entities::{
    order_lines, orders, outbox, pick_events, pick_tasks, pick_waves, purchase_drafts, stock,
    stock_movements,
};
use crate::store::{StoreError, Tx};

/// Why stock moved outside of orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockMovementKind {
    /// A supplier delivery.
    Received,
    /// Goods thrown away (wilted, damaged).
    Spoiled,
    /// A correction: a short pick found less on the shelf than the books said, a count.
    Adjustment,
}

impl StockMovementKind {
    pub fn code(self) -> &'static str {
        match self {
            StockMovementKind::Received => "received",
            StockMovementKind::Spoiled => "spoiled",
            StockMovementKind::Adjustment => "adjustment",
        }
    }
}

/// A pick task to store: one order line in a batch, at its place in the route.
#[derive(Debug, Clone)]
pub struct NewPickTask {
    pub batch_no: i32,
    pub zone: Option<String>,
    pub route_method: String,
    pub route_seq: i32,
    pub order: OrderId,
    pub order_number: String,
    pub line_no: i32,
    pub sku: Sku,
    pub expected_milli: i64,
    pub tolerance_milli: i64,
    /// Aisle and position along it (metres from the front) of the product's location.
    pub aisle: Option<i32>,
    pub position: Option<f64>,
}

/// A stored pick task.
#[derive(Debug, Clone, PartialEq)]
pub struct PickTaskRow {
    pub id: i64,
    pub wave_id: i64,
    pub batch_no: i32,
    pub zone: Option<String>,
    pub route_method: String,
    pub route_seq: i32,
    pub order: OrderId,
    pub order_number: String,
    pub line_no: i32,
    pub sku: Sku,
    pub expected_milli: i64,
    pub tolerance_milli: i64,
    pub picked_milli: Option<i64>,
    /// `pending`, `picked` or `short`.
    pub status: String,
    pub scanned_by: Option<String>,
    pub scanned_at: Option<DateTime<Utc>>,
    pub aisle: Option<i32>,
    pub position: Option<f64>,
}

/// A stored picking wave.
#[derive(Debug, Clone, PartialEq)]
pub struct PickWaveRow {
    pub id: i64,
    pub slot_start: DateTime<Utc>,
    pub capacity: f64,
    pub orders: i32,
    pub batches: i32,
    pub total_length: f64,
    pub created_at: DateTime<Utc>,
}

/// One scan and its verdict.
#[derive(Debug, Clone)]
pub struct PickEventRow {
    pub task_id: i64,
    pub order: OrderId,
    pub expected_sku: String,
    pub scanned_sku: String,
    pub expected_milli: i64,
    pub scanned_milli: i64,
    /// `ok`, `wrong_sku`, `wrong_quantity` or `short`.
    pub outcome: &'static str,
    pub picker: String,
}

/// A purchase line of a day's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseDraftRow {
    pub sku: Sku,
    pub packs: i32,
    pub qty_milli: i64,
    pub arrives: chrono::NaiveDate,
    pub total_fen: i64,
    pub capped_by_shelf_life: bool,
}

fn wave_from_row(w: pick_waves::Model) -> PickWaveRow {
    PickWaveRow {
        id: w.id,
        slot_start: w.slot_start,
        capacity: w.capacity,
        orders: w.orders,
        batches: w.batches,
        total_length: w.total_length,
        created_at: w.created_at,
    }
}

fn task_from_row(r: pick_tasks::Model) -> Result<PickTaskRow, StoreError> {
    Ok(PickTaskRow {
        id: r.id,
        wave_id: r.wave_id,
        batch_no: r.batch_no,
        zone: r.zone,
        route_method: r.route_method,
        route_seq: r.route_seq,
        order: OrderId(r.order_id),
        order_number: r.order_number,
        line_no: r.line_no,
        sku: Sku::parse(&r.sku).map_err(|e| corrupt("pick_tasks", e))?,
        expected_milli: r.expected_milli,
        tolerance_milli: r.tolerance_milli,
        picked_milli: r.picked_milli,
        status: r.status,
        scanned_by: r.scanned_by,
        scanned_at: r.scanned_at,
        aisle: r.aisle,
        position: r.position,
    })
}

impl Tx {
    /// Records a planned wave and returns its id.
    pub async fn insert_pick_wave(
        &self,
        slot_start: DateTime<Utc>,
        capacity: f64,
        orders: usize,
        batches: usize,
        total_length: f64,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let row = pick_waves::Entity::insert(pick_waves::ActiveModel {
            slot_start: Set(slot_start),
            capacity: Set(capacity),
            orders: Set(i32::try_from(orders).unwrap_or(i32::MAX)),
            batches: Set(i32::try_from(batches).unwrap_or(i32::MAX)),
            total_length: Set(total_length),
            created_at: Set(now),
            ..Default::default()
        })
        .exec_with_returning(self.c())
        .await?;
        Ok(row.id)
    }

    /// Waves whose delivery slot starts in `[from, to)`, by slot then id.
    pub async fn pick_waves_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PickWaveRow>, StoreError> {
        Ok(pick_waves::Entity::find()
            .filter(pick_waves::Column::SlotStart.gte(from))
            .filter(pick_waves::Column::SlotStart.lt(to))
            .order_by_asc(pick_waves::Column::SlotStart)
            .order_by_asc(pick_waves::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(wave_from_row)
            .collect())
    }

    pub async fn pick_wave(&self, id: i64) -> Result<Option<PickWaveRow>, StoreError> {
        Ok(pick_waves::Entity::find_by_id(id)
            .one(self.c())
            .await?
            .map(wave_from_row))
    }

    pub async fn insert_pick_task(&self, wave: i64, t: &NewPickTask) -> Result<(), StoreError> {
        pick_tasks::Entity::insert(pick_tasks::ActiveModel {
            wave_id: Set(wave),
            batch_no: Set(t.batch_no),
            zone: Set(t.zone.clone()),
            route_method: Set(t.route_method.clone()),
            route_seq: Set(t.route_seq),
            order_id: Set(t.order.0),
            order_number: Set(t.order_number.clone()),
            line_no: Set(t.line_no),
            sku: Set(t.sku.to_string()),
            expected_milli: Set(t.expected_milli),
            tolerance_milli: Set(t.tolerance_milli),
            picked_milli: Set(None),
            status: Set("pending".to_owned()),
            scanned_by: Set(None),
            scanned_at: Set(None),
            aisle: Set(t.aisle),
            position: Set(t.position),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// The pick tasks of an order in walking order (batch, then route position).
    pub async fn pick_tasks_of_order(
        &self,
        order: OrderId,
    ) -> Result<Vec<PickTaskRow>, StoreError> {
        pick_tasks::Entity::find()
            .filter(pick_tasks::Column::OrderId.eq(order.0))
            .order_by_asc(pick_tasks::Column::BatchNo)
            .order_by_asc(pick_tasks::Column::RouteSeq)
            .all(self.c())
            .await?
            .into_iter()
            .map(task_from_row)
            .collect()
    }

    /// The pick list of a wave: batch by batch, each in route order.
    pub async fn pick_tasks_of_wave(&self, wave: i64) -> Result<Vec<PickTaskRow>, StoreError> {
        pick_tasks::Entity::find()
            .filter(pick_tasks::Column::WaveId.eq(wave))
            .order_by_asc(pick_tasks::Column::BatchNo)
            .order_by_asc(pick_tasks::Column::RouteSeq)
            .all(self.c())
            .await?
            .into_iter()
            .map(task_from_row)
            .collect()
    }

    /// Closes a pending task as `picked` or `short`; `false` if it was no longer pending
    /// (a concurrent scan got there first).
    pub async fn close_pick_task(
        &self,
        task: i64,
        status: &str,
        picked_milli: i64,
        picker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let r = pick_tasks::Entity::update_many()
            .col_expr(pick_tasks::Column::Status, status.into())
            .col_expr(pick_tasks::Column::PickedMilli, Some(picked_milli).into())
            .col_expr(
                pick_tasks::Column::ScannedBy,
                Some(picker.to_owned()).into(),
            )
            .col_expr(pick_tasks::Column::ScannedAt, Some(now).into())
            .filter(pick_tasks::Column::Id.eq(task))
            .filter(pick_tasks::Column::Status.eq("pending"))
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Records the picked quantity on the order line itself (what the customer gets).
    pub async fn set_line_picked(
        &self,
        order: OrderId,
        line_no: i32,
        picked_milli: i64,
    ) -> Result<(), StoreError> {
        order_lines::Entity::update_many()
            .col_expr(order_lines::Column::PickedMilli, Some(picked_milli).into())
            .filter(order_lines::Column::OrderId.eq(order.0))
            .filter(order_lines::Column::LineNo.eq(line_no))
            .exec(self.c())
            .await?;
        Ok(())
    }

    pub async fn insert_pick_event(
        &self,
        e: &PickEventRow,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        pick_events::Entity::insert(pick_events::ActiveModel {
            task_id: Set(e.task_id),
            order_id: Set(e.order.0),
            expected_sku: Set(e.expected_sku.clone()),
            scanned_sku: Set(e.scanned_sku.clone()),
            expected_milli: Set(e.expected_milli),
            scanned_milli: Set(e.scanned_milli),
            outcome: Set(e.outcome.to_owned()),
            picker: Set(e.picker.clone()),
            at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// Number of scans per outcome in `[from, to)`.
    pub async fn pick_outcome_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut out = BTreeMap::new();
        for r in pick_events::Entity::find()
            .filter(pick_events::Column::At.gte(from))
            .filter(pick_events::Column::At.lt(to))
            .all(self.c())
            .await?
        {
            *out.entry(r.outcome).or_insert(0) += 1;
        }
        Ok(out)
    }

    /// Writes a stock movement row (signed: receipts positive, spoilage negative).
    pub async fn insert_stock_movement(
        &self,
        sku: &Sku,
        kind: StockMovementKind,
        qty_milli: i64,
        reason: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        stock_movements::Entity::insert(stock_movements::ActiveModel {
            sku: Set(sku.to_string()),
            kind: Set(kind.code().to_owned()),
            qty_milli: Set(qty_milli),
            reason: Set(reason.map(str::to_owned)),
            actor: Set(actor.to_owned()),
            at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// Adds to on-hand stock; `false` when the product has no stock row.
    pub async fn add_on_hand(
        &self,
        sku: &Sku,
        milli: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.stock_changed();
        let r = stock::Entity::update_many()
            .col_expr(
                stock::Column::OnHandMilli,
                Expr::col(stock::Column::OnHandMilli).add(milli),
            )
            .col_expr(stock::Column::UpdatedAt, now.into())
            .filter(stock::Column::Sku.eq(sku.to_string()))
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Takes `milli` off the unreserved on-hand stock if that much is free; `false` (nothing
    /// changed) otherwise. One conditional UPDATE, like reservations.
    pub async fn remove_free_on_hand(
        &self,
        sku: &Sku,
        milli: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.stock_changed();
        let r = stock::Entity::update_many()
            .col_expr(
                stock::Column::OnHandMilli,
                Expr::col(stock::Column::OnHandMilli).sub(milli),
            )
            .col_expr(stock::Column::UpdatedAt, now.into())
            .filter(stock::Column::Sku.eq(sku.to_string()))
            .filter(
                Expr::col(stock::Column::OnHandMilli)
                    .sub(Expr::col(stock::Column::ReservedMilli))
                    .gte(milli),
            )
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Writes off reserved stock that was not on the shelf (a short pick): on hand and
    /// reserved both fall. `false` (nothing changed) if less than `milli` is reserved.
    pub async fn write_off_reserved(
        &self,
        sku: &Sku,
        milli: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.stock_changed();
        let r = stock::Entity::update_many()
            .col_expr(
                stock::Column::OnHandMilli,
                Expr::col(stock::Column::OnHandMilli).sub(milli),
            )
            .col_expr(
                stock::Column::ReservedMilli,
                Expr::col(stock::Column::ReservedMilli).sub(milli),
            )
            .col_expr(stock::Column::UpdatedAt, now.into())
            .filter(stock::Column::Sku.eq(sku.to_string()))
            .filter(stock::Column::ReservedMilli.gte(milli))
            .filter(stock::Column::OnHandMilli.gte(milli))
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Stock movements of a sku since `since`, newest first: `(kind, qty_milli, reason, at)`.
    pub async fn stock_movements_since(
        &self,
        sku: &Sku,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, i64, Option<String>, DateTime<Utc>)>, StoreError> {
        Ok(stock_movements::Entity::find()
            .filter(stock_movements::Column::Sku.eq(sku.to_string()))
            .filter(stock_movements::Column::At.gte(since))
            .order_by_desc(stock_movements::Column::At)
            .order_by_desc(stock_movements::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(|r| (r.kind, r.qty_milli, r.reason, r.at))
            .collect())
    }

    /// Quantities of delivered order lines with their delivery time, for orders delivered
    /// in `[from, to)`: `(sku, delivered_at, qty_milli)`.
    pub async fn delivered_sales(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(Sku, DateTime<Utc>, i64)>, StoreError> {
        let delivered: BTreeMap<i64, DateTime<Utc>> = orders::Entity::find()
            .filter(orders::Column::Status.eq(OrderStatus::Delivered.code()))
            .filter(orders::Column::DeliveredAt.gte(from))
            .filter(orders::Column::DeliveredAt.lt(to))
            .all(self.c())
            .await?
            .into_iter()
            .filter_map(|o| o.delivered_at.map(|at| (o.id, at)))
            .collect();
        let ids: Vec<i64> = delivered.keys().copied().collect();
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            for l in order_lines::Entity::find()
                .filter(order_lines::Column::OrderId.is_in(chunk.to_vec()))
                .filter(order_lines::Column::Removed.eq(false))
                .all(self.c())
                .await?
            {
                let Some(at) = delivered.get(&l.order_id) else {
                    continue;
                };
                let sku = Sku::parse(&l.sku).map_err(|e| corrupt("order_lines", e))?;
                out.push((sku, *at, l.picked_milli.unwrap_or(l.qty_milli)));
            }
        }
        Ok(out)
    }

    /// Replaces the purchase drafts of `date` with `lines`.
    pub async fn replace_purchase_drafts(
        &self,
        date: chrono::NaiveDate,
        lines: &[PurchaseDraftRow],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let day = date.format("%Y-%m-%d").to_string();
        purchase_drafts::Entity::delete_many()
            .filter(purchase_drafts::Column::PlanDate.eq(day.clone()))
            .exec(self.c())
            .await?;
        for l in lines {
            purchase_drafts::Entity::insert(purchase_drafts::ActiveModel {
                plan_date: Set(day.clone()),
                sku: Set(l.sku.to_string()),
                packs: Set(l.packs),
                qty_milli: Set(l.qty_milli),
                arrives: Set(l.arrives.format("%Y-%m-%d").to_string()),
                total_fen: Set(l.total_fen),
                capped_by_shelf_life: Set(l.capped_by_shelf_life),
                created_at: Set(now),
                ..Default::default()
            })
            .exec_without_returning(self.c())
            .await?;
        }
        Ok(())
    }

    /// The purchase drafts of `date`, by sku.
    pub async fn purchase_drafts(
        &self,
        date: chrono::NaiveDate,
    ) -> Result<Vec<PurchaseDraftRow>, StoreError> {
        purchase_drafts::Entity::find()
            .filter(purchase_drafts::Column::PlanDate.eq(date.format("%Y-%m-%d").to_string()))
            .order_by_asc(purchase_drafts::Column::Sku)
            .all(self.c())
            .await?
            .into_iter()
            .map(|r| {
                Ok(PurchaseDraftRow {
                    sku: Sku::parse(&r.sku).map_err(|e| corrupt("purchase_drafts", e))?,
                    packs: r.packs,
                    qty_milli: r.qty_milli,
                    arrives: r
                        .arrives
                        .parse()
                        .map_err(|e| corrupt("purchase_drafts", e))?,
                    total_fen: r.total_fen,
                    capped_by_shelf_life: r.capped_by_shelf_life,
                })
            })
            .collect()
    }

    /// Skus with a `stock_low` event still pending that was written since `since`.
    pub async fn pending_stock_low_skus(
        &self,
        since: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, StoreError> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::Kind.eq(crate::domain::events::kinds::STOCK_LOW))
            .filter(outbox::Column::Status.eq("pending"))
            .filter(outbox::Column::CreatedAt.gte(since))
            .all(self.c())
            .await?
            .into_iter()
            .filter_map(|r| {
                serde_json::from_str::<serde_json::Value>(&r.payload)
                    .ok()
                    .and_then(|v| v.get("sku").and_then(|s| s.as_str()).map(str::to_owned))
            })
            .collect())
    }

    /// Outbox events of a kind written since `since`, oldest first: `(order id, payload)`
    /// (operator views and tests).
    pub async fn outbox_events_since(
        &self,
        kind: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<(Option<OrderId>, serde_json::Value)>, StoreError> {
        outbox::Entity::find()
            .filter(outbox::Column::Kind.eq(kind))
            .filter(outbox::Column::CreatedAt.gte(since))
            .order_by_asc(outbox::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(|r| {
                let payload = serde_json::from_str(&r.payload).map_err(|e| corrupt("outbox", e))?;
                Ok((r.order_id.map(OrderId), payload))
            })
            .collect()
    }
}

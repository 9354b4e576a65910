//! Picking waves and the scan check.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use super::{WarehouseConfig, WarehouseError, local_day_start, move_order};
use crate::domain::events::kinds;
use crate::domain::{
    CustomerId, Order, OrderId, OrderNumber, OrderStatus, Product, Quantity, Sku, StockLevel,
};
use crate::fulfillment::picking::{
    CustomerOrder, ExpectedLine, RoutingMethod, ScanOutcome, check_scan, plan_waves,
};
use crate::services::{Actor, Services};
use crate::store::Tx;
use crate::store::repo::{NewPickTask, OutboxEvent, PickEventRow, PickTaskRow, StockMovementKind};

/// A planned picking wave: the batches pickers walk, each in route order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PickingWave {
    pub id: i64,
    pub slot_start: DateTime<Utc>,
    /// Order numbers moved to picking.
    pub orders: Vec<String>,
    pub capacity_kg: f64,
    pub batches: Vec<WaveBatch>,
    /// Sum of the batches' route lengths (metres).
    pub total_length: f64,
}

/// What one picker collects in one tour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveBatch {
    pub batch_no: i32,
    pub zone: Option<String>,
    pub load_kg: f64,
    pub route_method: RoutingMethod,
    pub route_length: f64,
    /// Picks in walking order.
    pub picks: Vec<PickInstruction>,
}

/// One line of a pick list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PickInstruction {
    pub seq: i32,
    pub order: String,
    pub line_no: i32,
    pub sku: String,
    pub name_zh: String,
    pub aisle: usize,
    pub position: f64,
    pub qty_milli: i64,
    pub unit: String,
}

/// A picker's scan (or tap) of one line.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRequest {
    /// Order number of the tote being filled.
    pub order: String,
    /// What the scanner read (a sku; anything else is a wrong sku).
    pub sku: String,
    /// Quantity put in the tote, in thousandths of the line's unit.
    pub qty_milli: i64,
    /// Who scanned.
    pub picker: String,
}

/// The verdict on a scan and what it changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanReport {
    pub order: String,
    /// The pick-list line the scan was checked against.
    pub expected_sku: String,
    pub line_no: i32,
    /// `ok`, `wrong_sku`, `wrong_quantity` (flagged, nothing changed: pick again) or `short`
    /// (recorded, the customer is offered a substitute).
    pub outcome: ScanOutcome,
    /// Lines of the order still to pick.
    pub remaining: usize,
    /// The order's status after the scan (`packed` once every line is resolved).
    pub order_status: OrderStatus,
    /// For a short pick: the substitute suggested to the customer, if any.
    pub substitute: Option<String>,
}

impl ScanReport {
    /// Whether the scan was a mis-pick (wrong product or too much) that must be redone.
    pub fn is_mispick(&self) -> bool {
        matches!(
            self.outcome,
            ScanOutcome::WrongSku { .. } | ScanOutcome::WrongQuantity { .. }
        )
    }
}

/// Picking quality of one day (Asia/Shanghai).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PickingDay {
    pub date: NaiveDate,
    pub scans: u64,
    pub ok: u64,
    pub wrong_sku: u64,
    pub wrong_quantity: u64,
    /// Mis-picks caught by the check: wrong sku + wrong quantity.
    pub errors: u64,
    pub shortages: u64,
}

fn outcome_code(o: &ScanOutcome) -> &'static str {
    match o {
        ScanOutcome::Ok => "ok",
        ScanOutcome::WrongSku { .. } => "wrong_sku",
        ScanOutcome::WrongQuantity { .. } => "wrong_quantity",
        ScanOutcome::Short { .. } => "short",
    }
}

/// The lines of an order grouped by layout zone in first-appearance order, exactly as
/// `plan_waves` splits it, so pick indices map back to lines.
fn zone_parts(
    order: &Order,
    zone_of: &BTreeMap<String, Option<String>>,
) -> Vec<(Option<String>, Vec<usize>)> {
    let mut parts: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    for (i, l) in order.lines.iter().enumerate() {
        let zone = zone_of.get(l.sku.as_str()).cloned().flatten();
        match parts.iter_mut().find(|(z, _)| *z == zone) {
            Some((_, list)) => list.push(i),
            None => parts.push((zone, vec![i])),
        }
    }
    parts
}

/// The best substitute for a short line: the shared rule, excluding what is already in the order.
pub(crate) fn suggest_substitute<'a>(
    catalog: &'a [(Product, StockLevel)],
    sku: &Sku,
    need_milli: i64,
    in_order: &[Sku],
) -> Option<&'a Product> {
    crate::domain::substitute::best_substitute(catalog, sku, need_milli, in_order, None)
}

impl Services {
    /// Plans the picking wave of a delivery slot: its confirmed orders are split by zone and
    /// batched under the picker's capacity, every batch gets the shortest pick route, the
    /// pick tasks are stored in route order and the orders move to picking (customers see
    /// 分拣中). One transaction.
    #[tracing::instrument(skip(self, cfg))]
    pub async fn plan_picking_wave(
        &self,
        cfg: &WarehouseConfig,
        slot_start: DateTime<Utc>,
    ) -> Result<PickingWave, WarehouseError> {
        cfg.validate()?;
        let now = self.now();
        let tx = self.store().begin_write().await?;
        let orders = tx
            .orders_in_slot(
                OrderStatus::Confirmed,
                slot_start,
                slot_start + Duration::seconds(1),
            )
            .await?;
        if orders.is_empty() {
            return Err(WarehouseError::NothingToPick {
                slot: slot_start.to_rfc3339(),
            });
        }
        let catalog = tx.catalog().await?;
        let products: Vec<Product> = catalog.iter().map(|(p, _)| p.clone()).collect();
        let layout = cfg.layout_for(&products);
        let zone_of: BTreeMap<String, Option<String>> = layout
            .locations
            .iter()
            .map(|(sku, l)| (sku.clone(), l.zone.clone()))
            .collect();
        let capacity = cfg.picker_capacity_kg;

        // Loads per line; a zone part heavier than one cart is scaled to just under the
        // capacity: it becomes a batch of its own (picked in several trips).
        let mut customer_orders = Vec::with_capacity(orders.len());
        let mut parts_lines: Vec<(usize, Vec<usize>)> = Vec::new();
        for (oi, o) in orders.iter().enumerate() {
            let mut loads: Vec<f64> = o.lines.iter().map(|l| cfg.load_kg(l.quantity)).collect();
            for (_, members) in zone_parts(o, &zone_of) {
                let total: f64 = members.iter().map(|&i| loads[i]).sum();
                if total > capacity {
                    let scale = capacity * (1.0 - 1e-9) / total;
                    for &i in &members {
                        loads[i] *= scale;
                    }
                }
                parts_lines.push((oi, members));
            }
            customer_orders.push(CustomerOrder {
                id: o.number.to_string(),
                lines: o
                    .lines
                    .iter()
                    .zip(&loads)
                    .map(|(l, load)| (l.sku.to_string(), *load))
                    .collect(),
            });
        }
        let (parts, batches) = plan_waves(&layout, &customer_orders, capacity)?;
        if parts.len() != parts_lines.len()
            || parts
                .iter()
                .zip(&parts_lines)
                .any(|(p, (oi, m))| p.id != customer_orders[*oi].id || p.picks.len() != m.len())
        {
            return Err(WarehouseError::Internal(
                "wave parts do not match the order lines".into(),
            ));
        }

        let mut wave_batches = Vec::with_capacity(batches.len());
        let mut tasks = Vec::new();
        for (bi, b) in batches.iter().enumerate() {
            let batch_no = i32::try_from(bi + 1).unwrap_or(i32::MAX);
            // pick index (concatenated over the batch's parts) -> (order, line)
            let lines: Vec<(usize, usize)> = b
                .orders
                .iter()
                .flat_map(|&pi| {
                    let (oi, members) = &parts_lines[pi];
                    members.iter().map(move |&li| (*oi, li))
                })
                .collect();
            let mut picks = Vec::with_capacity(lines.len());
            for (seq, &pick) in b.route.sequence.iter().enumerate() {
                let Some(&(oi, li)) = lines.get(pick) else {
                    return Err(WarehouseError::Internal(
                        "route visits an unknown pick".into(),
                    ));
                };
                let o = &orders[oi];
                let l = &o.lines[li];
                let loc = layout.locations.get(l.sku.as_str());
                let seq = i32::try_from(seq + 1).unwrap_or(i32::MAX);
                let line_no = i32::try_from(li + 1).unwrap_or(i32::MAX);
                tasks.push(NewPickTask {
                    batch_no,
                    zone: b.zone.clone(),
                    route_method: format!("{:?}", b.route.method),
                    route_seq: seq,
                    order: o.id,
                    order_number: o.number.to_string(),
                    line_no,
                    sku: l.sku.clone(),
                    expected_milli: l.quantity.milli(),
                    tolerance_milli: cfg.tolerance_milli(l.quantity),
                    aisle: loc.and_then(|l| i32::try_from(l.aisle).ok()),
                    position: loc.map(|l| l.position),
                });
                picks.push(PickInstruction {
                    seq,
                    order: o.number.to_string(),
                    line_no,
                    sku: l.sku.to_string(),
                    name_zh: l.name_zh.clone(),
                    aisle: loc.map(|l| l.aisle).unwrap_or(0),
                    position: loc.map(|l| l.position).unwrap_or(0.0),
                    qty_milli: l.quantity.milli(),
                    unit: l.quantity.unit().code().to_owned(),
                });
            }
            wave_batches.push(WaveBatch {
                batch_no,
                zone: b.zone.clone(),
                load_kg: b.load,
                route_method: b.route.method,
                route_length: b.route.length,
                picks,
            });
        }
        let total_length: f64 = batches.iter().map(|b| b.route.length).sum();
        let wave_id = tx
            .insert_pick_wave(
                slot_start,
                capacity,
                orders.len(),
                batches.len(),
                total_length,
                now,
            )
            .await?;
        for t in &tasks {
            tx.insert_pick_task(wave_id, t).await?;
        }
        for o in &orders {
            let row = tx
                .order_row(o.id)
                .await?
                .ok_or(WarehouseError::Concurrent)?;
            move_order(&tx, &row, OrderStatus::Picking, &Actor::System, now).await?;
        }
        tx.commit().await?;
        tracing::info!(
            wave = wave_id,
            orders = orders.len(),
            batches = wave_batches.len(),
            "picking wave planned"
        );
        Ok(PickingWave {
            id: wave_id,
            slot_start,
            orders: orders.iter().map(|o| o.number.to_string()).collect(),
            capacity_kg: capacity,
            batches: wave_batches,
            total_length,
        })
    }

    /// Checks one scan against the order's pick list (the mis-pick check) and records it.
    /// A wrong sku or too much is flagged at once and changes nothing else; a short pick
    /// records the shortage, writes off the missing stock, reduces the line to what was
    /// picked and writes a `substitute_needed` event for the customer; when no line is left
    /// to pick the order moves to packed. One transaction.
    #[tracing::instrument(skip(self))]
    pub async fn scan(&self, req: ScanRequest) -> Result<ScanReport, WarehouseError> {
        let now = self.now();
        let number = OrderNumber::parse(&req.order)
            .map_err(|_| WarehouseError::UnknownOrder(req.order.clone()))?;
        if req.qty_milli < 0 {
            return Err(WarehouseError::BadQuantity(format!(
                "{} is negative",
                req.qty_milli
            )));
        }
        let scanned_qty = u32::try_from(req.qty_milli)
            .map_err(|_| WarehouseError::BadQuantity(format!("{} is too large", req.qty_milli)))?;
        let picker = req.picker.trim();
        let picker = if picker.is_empty() { "picker" } else { picker };
        let scanned_sku = req.sku.trim().to_ascii_uppercase();

        let tx = self.store().begin_write().await?;
        let row = tx
            .order_row_by_number(&number)
            .await?
            .ok_or_else(|| WarehouseError::UnknownOrder(req.order.clone()))?;
        if row.status != OrderStatus::Picking.code() {
            return Err(WarehouseError::NotPicking {
                number: row.number,
                status: row.status,
            });
        }
        let order_id = OrderId(row.id);
        let tasks = tx.pick_tasks_of_order(order_id).await?;
        let pending: Vec<&PickTaskRow> = tasks.iter().filter(|t| t.status == "pending").collect();
        let Some(task) = pending
            .iter()
            .find(|t| t.sku.as_str() == scanned_sku)
            .or_else(|| pending.first())
            .copied()
        else {
            return Err(WarehouseError::NothingPending(row.number));
        };
        let expected = ExpectedLine {
            sku: task.sku.to_string(),
            quantity: u32::try_from(task.expected_milli).unwrap_or(u32::MAX),
            tolerance: u32::try_from(task.tolerance_milli).unwrap_or(0),
        };
        let outcome = check_scan(&expected, &scanned_sku, scanned_qty);
        tx.insert_pick_event(
            &PickEventRow {
                task_id: task.id,
                order: order_id,
                expected_sku: task.sku.to_string(),
                scanned_sku: scanned_sku.clone(),
                expected_milli: task.expected_milli,
                scanned_milli: req.qty_milli,
                outcome: outcome_code(&outcome),
                picker: picker.to_owned(),
            },
            now,
        )
        .await?;

        let mut substitute = None;
        match &outcome {
            ScanOutcome::WrongSku { .. } | ScanOutcome::WrongQuantity { .. } => {
                tracing::warn!(order = %row.number, ?outcome, "mis-pick flagged");
            }
            ScanOutcome::Ok => {
                if !tx
                    .close_pick_task(task.id, "picked", req.qty_milli, picker, now)
                    .await?
                {
                    return Err(WarehouseError::Concurrent);
                }
                tx.set_line_picked(order_id, task.line_no, req.qty_milli)
                    .await?;
            }
            ScanOutcome::Short { missing, .. } => {
                if !tx
                    .close_pick_task(task.id, "short", req.qty_milli, picker, now)
                    .await?
                {
                    return Err(WarehouseError::Concurrent);
                }
                substitute = self
                    .record_short(&tx, &row, task, i64::from(*missing), req.qty_milli, now)
                    .await?;
            }
        }

        // Counted again: an applied substitute adds a task.
        let remaining = tx
            .pick_tasks_of_order(order_id)
            .await?
            .iter()
            .filter(|t| t.status == "pending")
            .count();
        let mut order_status = OrderStatus::Picking;
        if remaining == 0 {
            let order = tx
                .order(order_id)
                .await?
                .ok_or(WarehouseError::Concurrent)?;
            if tx.open_offer_count(order_id).await? > 0 {
                // the customer is being asked about a substitute: the bag waits for the answer
                // (or the offer's expiry), then it is packed
                tracing::info!(order = %row.number, "waiting for the customer's substitute answer");
            } else if order.lines.is_empty() {
                // nothing at all could be picked and nothing can replace it
                tracing::warn!(order = %row.number, "every line was short; order left in picking");
            } else {
                let row = tx
                    .order_row(order_id)
                    .await?
                    .ok_or(WarehouseError::Concurrent)?;
                move_order(&tx, &row, OrderStatus::Packed, &Actor::System, now).await?;
                order_status = OrderStatus::Packed;
            }
        }
        tx.commit().await?;
        Ok(ScanReport {
            order: row.number,
            expected_sku: task.sku.to_string(),
            line_no: task.line_no,
            outcome,
            remaining,
            order_status,
            substitute,
        })
    }

    /// The shortage of a line: stock write-off, the line reduced to what was picked (the
    /// customer pays for what arrives; the delivery fee stays as quoted), and the
    /// `substitute_needed` event with a suggested substitute.
    async fn record_short(
        &self,
        tx: &Tx,
        row: &crate::store::repo::OrderRow,
        task: &PickTaskRow,
        missing: i64,
        picked: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, WarehouseError> {
        let order_id = OrderId(row.id);
        let order = tx
            .order(order_id)
            .await?
            .ok_or(WarehouseError::Concurrent)?;
        let Some(line) = order.lines.iter().find(|l| l.sku == task.sku) else {
            return Err(WarehouseError::Concurrent);
        };
        let unit = line.quantity.unit();
        if tx.write_off_reserved(&task.sku, missing, now).await? {
            tx.insert_stock_movement(
                &task.sku,
                StockMovementKind::Adjustment,
                -missing,
                Some(&format!("short pick of order {}", row.number)),
                "system",
                now,
            )
            .await?;
        } else {
            tracing::warn!(sku = %task.sku, missing, "short pick: reservation smaller than the shortage");
        }
        let kept = match picked {
            0 => None,
            m => Some(
                Quantity::new(m, unit)
                    .map_err(|e| WarehouseError::BadQuantity(format!("{m}: {e}")))?,
            ),
        };
        tx.set_line_quantity(order_id, &task.sku, kept).await?;
        tx.set_line_picked(order_id, task.line_no, picked).await?;
        super::substitution::retotal(tx, order_id, now).await?;
        let order = tx
            .order(order_id)
            .await?
            .ok_or(WarehouseError::Concurrent)?;

        let catalog = tx.catalog().await?;
        let in_order: Vec<Sku> = order.lines.iter().map(|l| l.sku.clone()).collect();
        let sub = suggest_substitute(&catalog, &task.sku, missing, &in_order);
        let offer = match sub {
            Some(p) => Some(
                super::substitution::offer_substitute(
                    tx,
                    row,
                    order.auto_substitute,
                    &task.sku,
                    missing,
                    p,
                    now,
                )
                .await?,
            ),
            None => None,
        };
        tx.enqueue(
            &OutboxEvent {
                kind: kinds::SUBSTITUTE_NEEDED,
                customer: Some(CustomerId(row.customer_id)),
                order: Some(order_id),
                payload: json!({
                    "number": row.number,
                    "sku": task.sku.as_str(),
                    "name_zh": line.name_zh,
                    "name_en": line.name_en,
                    "missing_milli": missing,
                    "picked_milli": picked,
                    "unit": unit.code(),
                    "substitute": sub.map(|p| p.sku.as_str()),
                    "substitute_name_zh": sub.map(|p| p.name_zh.as_str()),
                    "substitute_name_en": sub.map(|p| p.name_en.as_str()),
                    "substitute_price_fen": sub.map(|p| p.price.get()),
                    "auto_substitute": order.auto_substitute,
                    "offer": offer.map(|o| o.id),
                    "applied": offer.is_some_and(|o| o.applied),
                    "expires_at": offer.filter(|o| !o.applied).map(|o| o.expires_at),
                }),
            },
            now,
        )
        .await?;
        Ok(sub.map(|p| p.sku.to_string()))
    }

    /// The pick list of a wave, batch by batch in route order (for the picker's screen).
    pub async fn pick_list(&self, wave: i64) -> Result<Vec<PickTaskRow>, WarehouseError> {
        let tx = self.store().begin_read().await?;
        Ok(tx.pick_tasks_of_wave(wave).await?)
    }

    /// Scans, mis-picks and shortages of one local day.
    pub async fn picking_day(&self, date: NaiveDate) -> Result<PickingDay, WarehouseError> {
        let from = local_day_start(date);
        let to = local_day_start(date + Duration::days(1));
        let tx = self.store().begin_read().await?;
        let counts = tx.pick_outcome_counts(from, to).await?;
        let get = |k: &str| counts.get(k).copied().unwrap_or(0);
        Ok(PickingDay {
            date,
            scans: counts.values().sum(),
            ok: get("ok"),
            wrong_sku: get("wrong_sku"),
            wrong_quantity: get("wrong_quantity"),
            errors: get("wrong_sku") + get("wrong_quantity"),
            shortages: get("short"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Fen, Unit};

    fn p(sku: &str, category: &str, price: i64, substitutable: bool) -> Product {
        Product {
            sku: Sku::parse(sku).unwrap(),
            name_zh: "菜".into(),
            name_en: "veg".into(),
            aliases: vec![],
            category: category.into(),
            warehouse_zone: "B".into(),
            unit: Unit::Jin,
            price: Fen::new(price),
            substitutable,
        }
    }

    fn s(available: i64) -> StockLevel {
        StockLevel {
            on_hand_milli: available,
            reserved_milli: 0,
            low_threshold_milli: 0,
        }
    }

    #[test]
    fn substitute_is_same_category_closest_price_in_stock() {
        let catalog = vec![
            (p("A", "leafy", 500, true), s(10_000)),
            (p("B", "leafy", 900, true), s(10_000)),
            (p("C", "leafy", 550, true), s(100)),
            (p("D", "leafy", 450, true), s(10_000)),
            (p("E", "leafy", 560, true), s(20_000)),
            (p("F", "fruit", 500, true), s(10_000)),
        ];
        let a = Sku::parse("A").unwrap();
        // C is closest but has too little; D and E: D is 50 away, E 60
        assert_eq!(
            suggest_substitute(&catalog, &a, 1000, std::slice::from_ref(&a))
                .map(|p| p.sku.as_str()),
            Some("D")
        );
        // D already in the order
        let d = Sku::parse("D").unwrap();
        assert_eq!(
            suggest_substitute(&catalog, &a, 1000, &[a.clone(), d]).map(|p| p.sku.as_str()),
            Some("E")
        );
        let mut no = catalog.clone();
        no[0].0.substitutable = false;
        assert_eq!(suggest_substitute(&no, &a, 1000, &[]), None);
    }
}

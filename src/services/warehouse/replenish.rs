//! The daily replenishment plan: sales history -> forecast -> purchase drafts and
//! low-stock alerts.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use serde_json::json;

use super::{WarehouseConfig, WarehouseError, local_day_start};
use crate::domain::events::kinds;
use crate::domain::{Product, Sku, StockLevel, TZ};
use crate::fulfillment::replenishment::evaluation::MIN_SERIES_FOR_CLOSURE;
use crate::fulfillment::replenishment::{
    Arrival, NoOrderReason, ProductTerms, PurchasePlan, SalesSeries, StockBatch, StockPosition,
    closed_days, plan_purchase,
};
use crate::services::Services;
use crate::store::repo::{OutboxEvent, PurchaseDraftRow};

/// Days of sales history read from delivered orders.
const HISTORY_DAYS: i64 = 730;

/// One product to order today. Quantities in the product's selling unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurchaseLine {
    pub sku: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    pub packs: u32,
    pub pack_size: f64,
    pub quantity: f64,
    pub qty_milli: i64,
    pub arrives: NaiveDate,
    pub total_fen: i64,
    /// What the service level asked for before the shelf-life cap and packing.
    pub wanted: f64,
    pub capped_by_shelf_life: bool,
    pub shelf_life_days: usize,
    pub on_hand: f64,
    /// Confirmed purchase orders not yet received.
    pub on_order: f64,
    /// On hand and on order, less what is projected to spoil before it sells.
    pub usable_stock: f64,
    pub reorder_point: f64,
    pub order_up_to: f64,
    /// The forecasting model used.
    pub model: String,
}

/// A product whose stock runs below its reorder point before an order placed today can
/// arrive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LowStockAlert {
    pub sku: String,
    /// First morning the projected stock is below the threshold.
    pub date: NaiveDate,
    pub projected: f64,
    pub threshold: f64,
    /// What today's purchase list orders of the sku (0 when nothing).
    pub ordered: f64,
    /// Why nothing is ordered despite the alert (fresh stock covers what a delivery could
    /// sell before spoiling, or one pack is more than sells in time).
    pub no_order: Option<NoOrderReason>,
    /// False when a `stock_low` event for the sku was already pending today.
    pub new_event: bool,
}

/// The purchase list of a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplenishmentPlan {
    pub date: NaiveDate,
    pub lines: Vec<PurchaseLine>,
    pub alerts: Vec<LowStockAlert>,
    /// Products with a sales history that were planned.
    pub planned: usize,
    /// Active products without any sale to forecast from (not planned).
    pub without_history: usize,
    pub total_fen: i64,
}

/// Everything one product's plan needs, gathered from the database.
struct Input {
    product: Product,
    terms: ProductTerms,
    history: SalesSeries,
    position: StockPosition,
    on_hand: f64,
    on_order: f64,
}

/// Daily sales per sku from `(sku, date, quantity)` records up to `date - 1`.
fn daily_series(
    records: impl Iterator<Item = (String, NaiveDate, f64)>,
    date: NaiveDate,
) -> BTreeMap<String, SalesSeries> {
    let mut days: BTreeMap<String, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    for (sku, d, q) in records {
        if d < date && q.is_finite() {
            *days.entry(sku).or_default().entry(d).or_insert(0.0) += q;
        }
    }
    days.into_iter()
        .filter_map(|(sku, per_day)| {
            let start = *per_day.keys().next()?;
            let len = usize::try_from((date - start).num_days()).ok()?;
            let mut quantities = vec![0.0; len];
            for (d, q) in per_day {
                if let Ok(i) = usize::try_from((d - start).num_days())
                    && i < len
                {
                    quantities[i] += q;
                }
            }
            quantities.iter().any(|&q| q > 0.0).then(|| {
                (
                    sku.clone(),
                    SalesSeries {
                        id: sku,
                        start,
                        quantities,
                    },
                )
            })
        })
        .collect()
}

/// A receipt for [`stock_position`]: day received, quantity, last sellable day if recorded.
type Receipt = (NaiveDate, f64, Option<NaiveDate>);

/// On-hand stock split into batches by age: the newest receipts within the shelf life are
/// what is left (stock sells oldest first), each sellable until its recorded expiry (or its
/// receipt day + shelf life); stock of unknown age (older receipts, opening stock) is assumed
/// to be half way through its shelf life.
fn stock_position(
    on_hand: f64,
    receipts: &[Receipt],
    shelf_life_days: usize,
    date: NaiveDate,
) -> StockPosition {
    let mut left = on_hand.max(0.0);
    let mut on_hand_batches = Vec::new();
    for (received, q, expires) in receipts {
        if left <= 0.0 {
            break;
        }
        let last_day = expires.unwrap_or(*received + Duration::days(shelf_life_days as i64 - 1));
        let Ok(sellable_days) = usize::try_from((last_day - date).num_days() + 1) else {
            continue;
        };
        if sellable_days == 0 {
            continue;
        }
        let take = q.min(left);
        on_hand_batches.push(StockBatch {
            quantity: take,
            sellable_days,
        });
        left -= take;
    }
    if left > 0.0 {
        on_hand_batches.push(StockBatch {
            quantity: left,
            sellable_days: shelf_life_days.div_ceil(2).max(1),
        });
    }
    StockPosition {
        on_hand: on_hand_batches,
        on_order: vec![],
    }
}

impl Services {
    /// Plans the purchases of `date` (a local day): for every active product with sales
    /// (delivered orders, plus `extra_sales` keyed by sku, e.g. an imported history), the
    /// forecast-driven draft line respecting shelf life and pack sizes, stored as that day's
    /// purchase drafts; a `stock_low` event for every product projected below its reorder
    /// point before today's order can arrive, unless one is already pending today.
    #[tracing::instrument(skip(self, cfg, extra_sales), fields(extra = extra_sales.len()))]
    pub async fn replenishment_plan(
        &self,
        cfg: &WarehouseConfig,
        date: NaiveDate,
        extra_sales: &[SalesSeries],
    ) -> Result<ReplenishmentPlan, WarehouseError> {
        cfg.validate()?;
        let now = self.now();
        let day_start = local_day_start(date);

        // 1. a consistent snapshot of catalog, stock, sales and receipts
        let tx = self.store().begin_read().await?;
        let catalog: Vec<(Product, StockLevel)> = tx.catalog().await?;
        let sales = tx
            .delivered_sales(
                local_day_start(date - Duration::days(HISTORY_DAYS)),
                day_start,
            )
            .await?;
        let mut records: Vec<(String, NaiveDate, f64)> = sales
            .into_iter()
            .map(|(sku, at, milli)| {
                (
                    sku.to_string(),
                    at.with_timezone(&TZ).date_naive(),
                    milli as f64 / 1000.0,
                )
            })
            .collect();
        for s in extra_sales {
            let Ok(sku) = Sku::parse(&s.id) else {
                tracing::warn!(series = %s.id, "sales series is not a sku; ignored");
                continue;
            };
            records.extend(
                s.quantities
                    .iter()
                    .enumerate()
                    .map(|(i, q)| (sku.to_string(), s.date_at(i), *q)),
            );
        }
        let series = daily_series(records.into_iter(), date);
        let all: Vec<SalesSeries> = series.values().cloned().collect();
        let closed = closed_days(&all, MIN_SERIES_FOR_CLOSURE);

        let mut inputs = Vec::new();
        let mut without_history = 0;
        for (p, level) in &catalog {
            let Some(history) = series.get(p.sku.as_str()) else {
                without_history += 1;
                continue;
            };
            let terms = cfg.terms_for(p);
            let since = local_day_start(date - Duration::days(terms.shelf_life_days as i64));
            let receipts: Vec<Receipt> = tx
                .receipts_since(&p.sku, since)
                .await?
                .into_iter()
                .map(|r| {
                    (
                        r.at.with_timezone(&TZ).date_naive(),
                        r.qty_milli as f64 / 1000.0,
                        r.expires_on,
                    )
                })
                .collect();
            let on_hand = level.on_hand_milli as f64 / 1000.0;
            let mut position = stock_position(on_hand, &receipts, terms.shelf_life_days, date);
            // confirmed and not yet received: on the way (a late one is expected tomorrow)
            position.on_order = tx
                .open_purchase_orders_of(&p.sku)
                .await?
                .into_iter()
                .filter(|o| o.outstanding_milli() > 0)
                .map(|o| Arrival {
                    in_days: usize::try_from((o.arrives - date).num_days())
                        .unwrap_or(1)
                        .max(1),
                    quantity: o.outstanding_milli() as f64 / 1000.0,
                    sellable_days: terms.shelf_life_days,
                })
                .collect();
            let on_order = position.on_order.iter().map(|a| a.quantity).sum();
            inputs.push(Input {
                product: p.clone(),
                position,
                terms,
                history: history.clone(),
                on_hand,
                on_order,
            });
        }
        drop(tx);

        // 2. forecasts and policies: CPU work, outside any transaction
        let planned: Vec<(Input, PurchasePlan)> = tokio::task::spawn_blocking(move || {
            inputs
                .into_iter()
                .map(
                    |i| match plan_purchase(&i.history, &closed, &i.terms, &i.position, date) {
                        Ok(plan) => Ok((i, plan)),
                        Err(e) => Err((e, i.terms.sku)),
                    },
                )
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| WarehouseError::Internal(e.to_string()))?
        .map_err(|(source, sku)| WarehouseError::Plan { sku, source })?;

        let mut lines = Vec::new();
        let mut lows = Vec::new();
        for (i, plan) in &planned {
            if let Some(o) = &plan.order {
                lines.push(PurchaseLine {
                    sku: o.sku.clone(),
                    name_zh: i.product.name_zh.clone(),
                    name_en: i.product.name_en.clone(),
                    unit: i.product.unit.code().to_owned(),
                    packs: o.packs,
                    pack_size: i.terms.pack_size,
                    quantity: o.quantity,
                    qty_milli: (o.quantity * 1000.0).round() as i64,
                    arrives: o.arrives,
                    total_fen: o.total_fen,
                    wanted: o.wanted,
                    capped_by_shelf_life: o.capped_by_shelf_life,
                    shelf_life_days: i.terms.shelf_life_days,
                    on_hand: i.on_hand,
                    on_order: i.on_order,
                    usable_stock: plan.usable_stock,
                    reorder_point: plan.levels.reorder_point,
                    order_up_to: plan.levels.order_up_to,
                    model: plan.model.clone(),
                });
            }
            if let Some(w) = &plan.low_stock
                && w.date <= date + Duration::days(i.terms.lead_time_days as i64)
            {
                let ordered = plan.order.as_ref().map_or(0.0, |o| o.quantity);
                lows.push((w.clone(), ordered, plan.no_order));
            }
        }

        // 3. drafts and alerts in one write transaction
        let tx = self.store().begin_write().await?;
        let drafts: Vec<PurchaseDraftRow> = lines
            .iter()
            .filter_map(|l| {
                Some(PurchaseDraftRow {
                    sku: Sku::parse(&l.sku).ok()?,
                    packs: i32::try_from(l.packs).ok()?,
                    qty_milli: l.qty_milli,
                    arrives: l.arrives,
                    total_fen: l.total_fen,
                    capped_by_shelf_life: l.capped_by_shelf_life,
                })
            })
            .collect();
        tx.replace_purchase_drafts(date, &drafts, now).await?;
        let today = local_day_start(now.with_timezone(&TZ).date_naive());
        let mut pending: BTreeSet<String> = tx.pending_stock_low_skus(today).await?;
        let mut alerts = Vec::with_capacity(lows.len());
        for (w, ordered, no_order) in lows {
            let new_event = pending.insert(w.sku.clone());
            if new_event {
                tx.enqueue(
                    &OutboxEvent {
                        kind: kinds::STOCK_LOW,
                        customer: None,
                        order: None,
                        payload: json!({
                            "sku": w.sku,
                            "source": "replenishment",
                            "plan_date": date,
                            "low_on": w.date,
                            "projected": w.projected,
                            "threshold": w.threshold,
                            "ordered": ordered,
                            "no_order": no_order,
                        }),
                    },
                    now,
                )
                .await?;
            }
            alerts.push(LowStockAlert {
                sku: w.sku,
                date: w.date,
                projected: w.projected,
                threshold: w.threshold,
                ordered,
                no_order,
                new_event,
            });
        }
        tx.commit().await?;
        let total_fen = lines.iter().map(|l| l.total_fen).sum();
        tracing::info!(%date, lines = lines.len(), alerts = alerts.len(), "replenishment planned");
        Ok(ReplenishmentPlan {
            date,
            lines,
            alerts,
            planned: planned.len(),
            without_history,
            total_fen,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn daily_series_adds_records_fills_gaps_and_stops_before_the_plan_date() {
        let recs = vec![
            ("A".to_string(), d("2026-11-20"), 2.0),
            ("A".to_string(), d("2026-11-20"), 1.0),
            ("A".to_string(), d("2026-11-22"), 4.0),
            ("A".to_string(), d("2026-11-24"), 9.0),
            ("B".to_string(), d("2026-11-21"), 0.0),
        ];
        let s = daily_series(recs.into_iter(), d("2026-11-24"));
        assert_eq!(s.len(), 1, "B never sold");
        assert_eq!(s["A"].start, d("2026-11-20"));
        assert_eq!(s["A"].quantities, vec![3.0, 0.0, 4.0, 0.0]);
    }

    #[test]
    fn stock_is_aged_by_its_newest_receipts() {
        let today = d("2026-11-24");
        let receipts = [
            (d("2026-11-24"), 3.0, None),
            (d("2026-11-23"), 5.0, None),
            (d("2026-11-20"), 9.0, None),
        ];
        let pos = stock_position(10.0, &receipts, 3, today);
        assert_eq!(
            pos.on_hand,
            vec![
                StockBatch {
                    quantity: 3.0,
                    sellable_days: 3
                },
                StockBatch {
                    quantity: 5.0,
                    sellable_days: 2
                },
                StockBatch {
                    quantity: 2.0,
                    sellable_days: 2
                },
            ]
        );
    }

    #[test]
    fn a_recorded_expiry_beats_the_receipt_age() {
        let today = d("2026-11-24");
        // received yesterday with a 1-day expiry recorded: gone; today's expires tomorrow
        let receipts = [
            (d("2026-11-24"), 4.0, Some(d("2026-11-25"))),
            (d("2026-11-23"), 5.0, Some(d("2026-11-23"))),
        ];
        let pos = stock_position(6.0, &receipts, 5, today);
        assert_eq!(
            pos.on_hand,
            vec![
                StockBatch {
                    quantity: 4.0,
                    sellable_days: 2
                },
                StockBatch {
                    quantity: 2.0,
                    sellable_days: 3
                },
            ]
        );
    }
}

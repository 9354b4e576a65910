//! Replenishment policy for perishable produce: reorder point, order-up-to level, draft
//! purchase-order lines and the projected low-stock check.
//!
//! Timing convention: a decision is taken on the morning of day 0, after the day's deliveries
//! were received; `forecast[k]` is the expected demand of day `k`. An order placed on day 0
//! arrives on the morning of day `lead_time_days` and can be sold for `shelf_life_days` days
//! (day of arrival included), then whatever is left is spoiled. The next order is placed
//! `review_period_days` later. Stock is sold oldest first.
//!
//! The order-up-to level covers expected demand until the next order arrives plus a safety
//! stock for the chosen service level; the order is then capped so that the delivery plus the
//! stock still fresh on arrival does not exceed what is expected to sell before the delivery
//! spoils, and rounded to whole supplier packs without breaking that cap.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

/// Supplier and product terms for one product.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductTerms {
    /// Product sku.
    pub sku: String,
    /// Days from order to delivery (0 = same morning).
    pub lead_time_days: usize,
    /// Days between two orders (1 = order every day).
    pub review_period_days: usize,
    /// Days a delivered batch can be sold, the delivery day included (leafy greens: 1-3).
    pub shelf_life_days: usize,
    /// The supplier sells whole packs of this quantity (kg or pieces).
    pub pack_size: f64,
    /// Price of one pack in fen.
    pub pack_price_fen: i64,
    /// Probability of not running out before the next delivery, e.g. 0.9.
    pub service_level: f64,
}

/// Stock that can still be sold for `sellable_days` days (today included).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StockBatch {
    /// Quantity (kg or pieces).
    pub quantity: f64,
    /// Days left to sell it, today included.
    pub sellable_days: usize,
}

/// A delivery already ordered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Arrival {
    /// Days from today until it arrives (at least 1: this morning's deliveries are on hand).
    pub in_days: usize,
    /// Quantity.
    pub quantity: f64,
    /// Days it can be sold from its arrival, the arrival day included.
    pub sellable_days: usize,
}

/// What is on the shelf and on the way.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StockPosition {
    /// Batches on hand, any order.
    pub on_hand: Vec<StockBatch>,
    /// Orders not yet delivered.
    pub on_order: Vec<Arrival>,
}

impl StockPosition {
    /// On hand plus on order.
    pub fn inventory_position(&self) -> f64 {
        self.on_hand.iter().map(|b| b.quantity).sum::<f64>()
            + self.on_order.iter().map(|a| a.quantity).sum::<f64>()
    }
}

/// Reorder point and order-up-to level of one product.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReorderLevels {
    /// Expected demand over the lead time plus its safety stock: below this (inventory
    /// position) the product will run short before an order placed now can arrive.
    pub reorder_point: f64,
    /// Expected demand until the next order arrives plus its safety stock.
    pub order_up_to: f64,
    /// The safety stock included in `order_up_to`.
    pub safety_stock: f64,
}

/// Why a policy computation was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// The forecast does not reach far enough.
    #[error(
        "the forecast covers {have} days but the policy needs {need} (lead time + review period + shelf life)"
    )]
    ForecastTooShort {
        /// Days needed.
        need: usize,
        /// Days given.
        have: usize,
    },
    /// Nonsensical terms.
    #[error("invalid terms for `{sku}`: {problem}")]
    BadTerms {
        /// Product sku.
        sku: String,
        /// What is wrong.
        problem: &'static str,
    },
}

/// Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Daily demand forecast with a per-day standard deviation, as the policy needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandOutlook {
    /// Expected demand per day from today.
    pub mean: Vec<f64>,
    /// Standard deviation per day.
    pub sd: Vec<f64>,
}

impl DemandOutlook {
    /// From a forecast with a central band of `coverage` (e.g. 0.8): sd = band width / (2 z).
    pub fn from_forecast(f: &super::Forecast, coverage: f64) -> Self {
        let z = normal_quantile(0.5 + coverage / 2.0).max(1e-9);
        Self {
            mean: f.point.clone(),
            sd: f
                .lower
                .iter()
                .zip(&f.upper)
                .map(|(l, u)| (u - l).max(0.0) / (2.0 * z))
                .collect(),
        }
    }

    fn sum(&self, from: usize, to: usize) -> f64 {
        self.mean[from.min(self.mean.len())..to.min(self.mean.len())]
            .iter()
            .sum()
    }

    fn sd_sum(&self, from: usize, to: usize) -> f64 {
        self.sd[from.min(self.sd.len())..to.min(self.sd.len())]
            .iter()
            .map(|s| s * s)
            .sum::<f64>()
            .sqrt()
    }
}

fn check_terms(terms: &ProductTerms, outlook: &DemandOutlook) -> Result<(), PolicyError> {
    let bad = |problem| PolicyError::BadTerms {
        sku: terms.sku.clone(),
        problem,
    };
    if terms.review_period_days == 0 {
        return Err(bad("review_period_days must be at least 1"));
    }
    if terms.shelf_life_days == 0 {
        return Err(bad("shelf_life_days must be at least 1"));
    }
    if !(terms.pack_size.is_finite() && terms.pack_size > 0.0) {
        return Err(bad("pack_size must be positive"));
    }
    if !(terms.service_level > 0.0 && terms.service_level < 1.0) {
        return Err(bad("service_level must lie strictly between 0 and 1"));
    }
    let need = terms.lead_time_days + terms.review_period_days.max(terms.shelf_life_days);
    if outlook.mean.len() < need || outlook.sd.len() < need {
        return Err(PolicyError::ForecastTooShort {
            need,
            have: outlook.mean.len().min(outlook.sd.len()),
        });
    }
    Ok(())
}

/// Reorder point and order-up-to level from the demand outlook.
pub fn reorder_levels(
    terms: &ProductTerms,
    outlook: &DemandOutlook,
) -> Result<ReorderLevels, PolicyError> {
    check_terms(terms, outlook)?;
    let z = normal_quantile(terms.service_level).max(0.0);
    let l = terms.lead_time_days;
    let p = l + terms.review_period_days;
    // the lead-time window always includes today, whose demand the current stock must cover
    let lead = l.max(1);
    let safety_lead = z * outlook.sd_sum(0, lead);
    let safety = z * outlook.sd_sum(0, p);
    Ok(ReorderLevels {
        reorder_point: outlook.sum(0, lead) + safety_lead,
        order_up_to: outlook.sum(0, p) + safety,
        safety_stock: safety,
    })
}

/// Projects the stock day by day: for each of `days` days, the stock at the start of the day
/// (after arrivals), selling the expected demand oldest first and discarding what expires.
/// Returns the start-of-day stock per day and the batches left after the last day.
pub fn project_stock(
    position: &StockPosition,
    demand: &[f64],
    days: usize,
) -> (Vec<f64>, Vec<StockBatch>) {
    let p = projection(position, demand, days);
    (p.start_of_day, p.left)
}

/// What [`project_stock`] computes, plus what expired unsold on the way.
struct Projection {
    start_of_day: Vec<f64>,
    left: Vec<StockBatch>,
    spoiled: f64,
}

fn projection(position: &StockPosition, demand: &[f64], days: usize) -> Projection {
    let mut batches: Vec<StockBatch> = position.on_hand.clone();
    let mut start_of_day = Vec::with_capacity(days);
    let mut spoiled = 0.0;
    for day in 0..days {
        for a in &position.on_order {
            if a.in_days == day && day > 0 {
                batches.push(StockBatch {
                    quantity: a.quantity,
                    sellable_days: a.sellable_days,
                });
            }
        }
        batches.sort_by_key(|b| b.sellable_days);
        start_of_day.push(batches.iter().map(|b| b.quantity).sum());
        let mut need = demand.get(day).copied().unwrap_or(0.0);
        for b in &mut batches {
            let take = need.min(b.quantity);
            b.quantity -= take;
            need -= take;
        }
        for b in &mut batches {
            b.sellable_days = b.sellable_days.saturating_sub(1);
            if b.sellable_days == 0 {
                spoiled += b.quantity.max(0.0);
            }
        }
        batches.retain(|b| b.quantity > 1e-12 && b.sellable_days > 0);
    }
    Projection {
        start_of_day,
        left: batches,
        spoiled,
    }
}

/// The inventory position without the stock projected to expire unsold within the first
/// `days` days (expected demand, oldest first): stock that spoils before it can sell is not
/// available stock, however much of it is on the shelf this morning.
pub fn usable_position(position: &StockPosition, demand: &[f64], days: usize) -> f64 {
    (position.inventory_position() - projection(position, demand, days).spoiled).max(0.0)
}

/// A draft purchase-order line for the operator to confirm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DraftOrderLine {
    /// Product sku.
    pub sku: String,
    /// Whole packs to order.
    pub packs: u32,
    /// Quantity ordered (`packs * pack_size`).
    pub quantity: f64,
    /// Expected delivery date.
    pub arrives: NaiveDate,
    /// Price of the line in fen.
    pub total_fen: i64,
    /// The quantity the service level asked for, before the shelf-life cap and packing.
    pub wanted: f64,
    /// True when the order was cut so it does not spoil before it sells.
    pub capped_by_shelf_life: bool,
}

/// Why the policy orders nothing today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoOrderReason {
    /// The usable stock (on hand and on order, less what will spoil unsold) reaches the
    /// order-up-to level.
    Covered,
    /// The stock still fresh when a delivery would arrive already covers everything expected
    /// to sell during that delivery's shelf life: more would spoil.
    WouldSpoil,
    /// Less than one supplier pack would sell before spoiling.
    PackLargerThanSells,
}

/// The policy's decision for one product and day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderDecision {
    /// What to order, if anything.
    pub line: Option<DraftOrderLine>,
    /// Why nothing is ordered (`None` exactly when `line` is `Some`).
    pub no_order: Option<NoOrderReason>,
    /// The quantity the service level asks for (order-up-to minus usable stock), >= 0.
    pub wanted: f64,
    /// On hand plus on order, less what is projected to spoil unsold before the next order
    /// arrives.
    pub usable_stock: f64,
}

/// The draft order of one product for `today`, or `None` when nothing should be ordered.
/// `outlook` starts today and must cover lead time + max(review period, shelf life) days.
pub fn draft_purchase_order(
    terms: &ProductTerms,
    position: &StockPosition,
    outlook: &DemandOutlook,
    today: NaiveDate,
) -> Result<Option<DraftOrderLine>, PolicyError> {
    Ok(order_decision(terms, position, outlook, today)?.line)
}

/// [`draft_purchase_order`] with the reason when nothing is ordered.
pub fn order_decision(
    terms: &ProductTerms,
    position: &StockPosition,
    outlook: &DemandOutlook,
    today: NaiveDate,
) -> Result<OrderDecision, PolicyError> {
    let levels = reorder_levels(terms, outlook)?;
    let l = terms.lead_time_days;
    // the order-up-to level covers demand until the next order arrives; stock expiring
    // unsold before then covers none of it
    let usable_stock = usable_position(position, &outlook.mean, l + terms.review_period_days);
    let wanted = (levels.order_up_to - usable_stock).max(0.0);
    let nothing = |reason| OrderDecision {
        line: None,
        no_order: Some(reason),
        wanted,
        usable_stock,
    };
    if wanted <= 0.0 {
        return Ok(nothing(NoOrderReason::Covered));
    }
    // stock still fresh when the order arrives sells first; the delivery may only cover what
    // remains of the demand during its shelf life
    let (_, left_at_arrival) = project_stock(position, &outlook.mean, l);
    let fresh_at_arrival: f64 = left_at_arrival
        .iter()
        .filter(|b| b.sellable_days > 0)
        .map(|b| b.quantity)
        .sum::<f64>()
        + position
            .on_order
            .iter()
            .filter(|a| a.in_days >= l)
            .map(|a| a.quantity)
            .sum::<f64>();
    let sellable = outlook.sum(l, l + terms.shelf_life_days);
    let cap = (sellable - fresh_at_arrival).max(0.0);
    if cap <= 1e-9 {
        return Ok(nothing(NoOrderReason::WouldSpoil));
    }
    let capped = wanted > cap;
    let quantity = wanted.min(cap);
    let mut packs = (quantity / terms.pack_size - 1e-9).ceil().max(0.0);
    if packs * terms.pack_size > cap + 1e-9 {
        packs = (cap / terms.pack_size + 1e-9).floor();
    }
    if packs < 1.0 {
        return Ok(nothing(NoOrderReason::PackLargerThanSells));
    }
    let packs = packs.min(f64::from(u32::MAX)) as u32;
    Ok(OrderDecision {
        line: Some(DraftOrderLine {
            sku: terms.sku.clone(),
            packs,
            quantity: f64::from(packs) * terms.pack_size,
            arrives: today + Duration::days(l as i64),
            total_fen: i64::from(packs) * terms.pack_price_fen,
            wanted,
            capped_by_shelf_life: capped,
        }),
        no_order: None,
        wanted,
        usable_stock,
    })
}

/// A product whose projected stock falls below its threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LowStockWarning {
    /// Product sku.
    pub sku: String,
    /// First day the projected start-of-day stock is below the threshold.
    pub date: NaiveDate,
    /// Projected stock that morning.
    pub projected: f64,
    /// The threshold.
    pub threshold: f64,
}

/// Projects stock over the outlook (expected demand, known deliveries) and warns on the first
/// morning it is below `threshold` (e.g. the reorder point's safety stock).
pub fn projected_low_stock(
    sku: &str,
    position: &StockPosition,
    outlook: &DemandOutlook,
    threshold: f64,
    today: NaiveDate,
) -> Option<LowStockWarning> {
    let (days, _) = project_stock(position, &outlook.mean, outlook.mean.len());
    days.iter()
        .position(|&s| s < threshold)
        .map(|k| LowStockWarning {
            sku: sku.to_string(),
            date: today + Duration::days(k as i64),
            projected: days[k],
            threshold,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(shelf: usize, pack: f64) -> ProductTerms {
        ProductTerms {
            sku: "spinach".into(),
            lead_time_days: 1,
            review_period_days: 1,
            shelf_life_days: shelf,
            pack_size: pack,
            pack_price_fen: 1200,
            service_level: 0.95,
        }
    }

    fn flat(mean: f64, sd: f64, days: usize) -> DemandOutlook {
        DemandOutlook {
            mean: vec![mean; days],
            sd: vec![sd; days],
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 6, 1).unwrap()
    }

    #[test]
    fn normal_quantiles_match_tables() {
        assert!((normal_quantile(0.95) - 1.644_853_6).abs() < 1e-6);
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        assert!((normal_quantile(0.01) + 2.326_347_9).abs() < 1e-6);
    }

    #[test]
    fn levels_cover_lead_time_and_review_period_with_safety_stock() {
        let l = reorder_levels(&terms(3, 1.0), &flat(10.0, 2.0, 10)).unwrap();
        let z = normal_quantile(0.95);
        assert!((l.reorder_point - (10.0 + z * 2.0)).abs() < 1e-9);
        assert!((l.order_up_to - (20.0 + z * 2.0 * 2f64.sqrt())).abs() < 1e-9);
    }

    #[test]
    fn orders_are_whole_packs() {
        let line = draft_purchase_order(
            &terms(5, 4.0),
            &StockPosition::default(),
            &flat(10.0, 1.0, 10),
            today(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(line.quantity, f64::from(line.packs) * 4.0);
        assert!(line.quantity >= line.wanted);
        assert_eq!(line.total_fen, i64::from(line.packs) * 1200);
        assert_eq!(line.arrives, today() + Duration::days(1));
    }

    #[test]
    fn never_orders_more_than_sells_before_spoiling() {
        // one-day shelf life: the delivery can only serve its arrival day (10 kg), even though
        // the service level and a 2-day review period would ask for more
        let mut t = terms(1, 1.0);
        t.review_period_days = 2;
        let line =
            draft_purchase_order(&t, &StockPosition::default(), &flat(10.0, 5.0, 10), today())
                .unwrap()
                .unwrap();
        assert!(line.capped_by_shelf_life);
        assert!(line.quantity <= 10.0 + 1e-9, "{line:?}");
        // a pack larger than what sells in the shelf life is not ordered at all
        let none = draft_purchase_order(
            &terms(1, 25.0),
            &StockPosition::default(),
            &flat(10.0, 1.0, 10),
            today(),
        )
        .unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn fresh_stock_on_hand_reduces_the_order() {
        let position = StockPosition {
            on_hand: vec![StockBatch {
                quantity: 25.0,
                sellable_days: 3,
            }],
            on_order: vec![],
        };
        let line =
            draft_purchase_order(&terms(3, 1.0), &position, &flat(10.0, 1.0, 10), today()).unwrap();
        // 25 on hand, 10 sold today, 15 still fresh tomorrow: up-to level ~ 20 + safety
        assert!(line.as_ref().is_none_or(|l| l.quantity <= 10.0), "{line:?}");
    }

    #[test]
    fn low_stock_is_flagged_on_the_first_short_morning() {
        let position = StockPosition {
            on_hand: vec![StockBatch {
                quantity: 25.0,
                sellable_days: 5,
            }],
            on_order: vec![],
        };
        let w =
            projected_low_stock("spinach", &position, &flat(10.0, 1.0, 5), 8.0, today()).unwrap();
        // mornings: 25, 15, 5 -> below 8 on day 2
        assert_eq!(w.date, today() + Duration::days(2));
        assert!((w.projected - 5.0).abs() < 1e-9);
        assert_eq!(
            projected_low_stock("spinach", &position, &flat(1.0, 0.0, 5), 8.0, today()),
            None
        );
    }

    #[test]
    fn stock_about_to_expire_is_not_available_stock() {
        // 50 kg on the shelf that must go today: 10 sell, 40 spoil tonight; tomorrow's
        // demand needs a delivery although the shelf looks full this morning
        let position = StockPosition {
            on_hand: vec![StockBatch {
                quantity: 50.0,
                sellable_days: 1,
            }],
            on_order: vec![],
        };
        let outlook = flat(10.0, 1.0, 10);
        let t = terms(2, 1.0);
        let d = order_decision(&t, &position, &outlook, today()).unwrap();
        assert!((d.usable_stock - 10.0).abs() < 1e-9, "{d:?}");
        let line = d.line.expect("an order for tomorrow");
        assert!(line.quantity >= 10.0 && line.quantity <= 20.0, "{line:?}");
        // the low-stock projection agrees: tomorrow morning the shelf is empty
        let levels = reorder_levels(&t, &outlook).unwrap();
        let w = projected_low_stock(
            "spinach",
            &position,
            &outlook,
            levels.reorder_point,
            today(),
        )
        .unwrap();
        assert_eq!(w.date, today() + Duration::days(1));
        // the same 50 kg keeping a week: enough, nothing to order
        let keeps = StockPosition {
            on_hand: vec![StockBatch {
                quantity: 50.0,
                sellable_days: 7,
            }],
            on_order: vec![],
        };
        let d = order_decision(&t, &keeps, &outlook, today()).unwrap();
        assert_eq!((d.line, d.no_order), (None, Some(NoOrderReason::Covered)));
    }

    #[test]
    fn no_order_says_why() {
        let fresh = StockPosition {
            on_hand: vec![StockBatch {
                quantity: 25.0,
                sellable_days: 3,
            }],
            on_order: vec![],
        };
        // a 3-day review period wants more, but the 15 kg still fresh tomorrow exceed the
        // 10 kg a delivery with a 1-day shelf life could sell: ordering would only spoil
        let mut t = terms(1, 1.0);
        t.review_period_days = 3;
        let d = order_decision(&t, &fresh, &flat(10.0, 1.0, 10), today()).unwrap();
        assert!(d.wanted > 0.0);
        assert_eq!(d.no_order, Some(NoOrderReason::WouldSpoil), "{d:?}");
        let d = order_decision(
            &terms(1, 25.0),
            &StockPosition::default(),
            &flat(10.0, 1.0, 10),
            today(),
        )
        .unwrap();
        assert_eq!(d.no_order, Some(NoOrderReason::PackLargerThanSells));
    }

    #[test]
    fn bad_terms_are_refused() {
        let mut t = terms(0, 1.0);
        assert!(matches!(
            reorder_levels(&t, &flat(1.0, 1.0, 10)),
            Err(PolicyError::BadTerms { .. })
        ));
        t.shelf_life_days = 3;
        assert_eq!(
            reorder_levels(&t, &flat(1.0, 1.0, 2)),
            Err(PolicyError::ForecastTooShort { need: 4, have: 2 })
        );
    }
}

//! One call for the replenishment service: forecast a product's demand from its sales
//! history and turn it into the reorder levels, the draft purchase-order line and the
//! projected low-stock warning for today.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::policy::{
    DemandOutlook, DraftOrderLine, LowStockWarning, NoOrderReason, PolicyError, ProductTerms,
    ReorderLevels, StockPosition, order_decision, projected_low_stock, reorder_levels,
};
use super::selection::{ForecastConfig, ForecastError, forecast_series};
use super::series::SalesSeries;

/// Everything the operator needs to decide today's purchase of one product.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurchasePlan {
    /// Product sku.
    pub sku: String,
    /// The model the forecast used.
    pub model: String,
    /// Expected demand per day from today.
    pub expected_demand: Vec<f64>,
    /// Reorder point, order-up-to level and safety stock.
    pub levels: ReorderLevels,
    /// What to order today, if anything.
    pub order: Option<DraftOrderLine>,
    /// Why nothing is ordered (`None` exactly when `order` is `Some`).
    pub no_order: Option<NoOrderReason>,
    /// Usable stock: on hand and on order less what is projected to spoil unsold.
    pub usable_stock: f64,
    /// First morning the projected stock (known deliveries only, not today's order; expired
    /// batches gone) falls below the reorder point, if it does within the outlook. Only when
    /// the usable stock does not cover the order-up-to level: a warning always comes with
    /// an order line or with the reason none could be ordered.
    pub low_stock: Option<LowStockWarning>,
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The forecast failed.
    #[error(transparent)]
    Forecast(#[from] ForecastError),
    /// The policy refused the terms.
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// Plans today's purchase of one product. `history` must end the day before `today` (sales
/// up to yesterday); `closed` lists store-closed days, past and planned.
pub fn plan_purchase(
    history: &SalesSeries,
    closed: &BTreeSet<NaiveDate>,
    terms: &ProductTerms,
    position: &StockPosition,
    today: NaiveDate,
) -> Result<PurchasePlan, PlanError> {
    let horizon = terms.lead_time_days + terms.review_period_days.max(terms.shelf_life_days) + 1;
    let config = ForecastConfig::for_horizon(horizon);
    let forecast = forecast_series(history, closed, &config)?;
    let outlook = DemandOutlook::from_forecast(&forecast, config.band_coverage);
    let levels = reorder_levels(terms, &outlook)?;
    let decision = order_decision(terms, position, &outlook, today)?;
    // a dip in the projection that the stock on hand and on order still covers until the
    // next delivery (demand falling over the week) is no shortage: no warning
    let low_stock = match decision.no_order {
        Some(NoOrderReason::Covered) => None,
        _ => projected_low_stock(&terms.sku, position, &outlook, levels.reorder_point, today),
    };
    Ok(PurchasePlan {
        sku: terms.sku.clone(),
        model: forecast.model,
        expected_demand: outlook.mean,
        levels,
        order: decision.line,
        no_order: decision.no_order,
        usable_stock: decision.usable_stock,
        low_stock,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fulfillment::replenishment::policy::StockBatch;

    #[test]
    fn an_empty_shelf_gets_an_order_and_a_warning() {
        let pattern = [10.0, 12.0, 11.0, 9.0, 14.0, 20.0, 22.0];
        let history = SalesSeries {
            id: "spinach".into(),
            start: NaiveDate::from_ymd_opt(2023, 1, 2).unwrap(),
            quantities: (0..120).map(|t| pattern[t % 7]).collect(),
        };
        let today = history.date_at(120);
        let terms = ProductTerms {
            sku: "spinach".into(),
            lead_time_days: 1,
            review_period_days: 1,
            shelf_life_days: 2,
            pack_size: 2.0,
            pack_price_fen: 800,
            service_level: 0.9,
        };
        let empty = StockPosition::default();
        let plan = plan_purchase(&history, &BTreeSet::new(), &terms, &empty, today).unwrap();
        let order = plan.order.unwrap();
        assert_eq!(order.arrives, today.succ_opt().unwrap());
        assert_eq!(order.quantity % 2.0, 0.0);
        assert_eq!(plan.low_stock.unwrap().date, today);
        // a full shelf: no warning today
        let full = StockPosition {
            on_hand: vec![StockBatch {
                quantity: 100.0,
                sellable_days: 2,
            }],
            on_order: vec![],
        };
        let plan = plan_purchase(&history, &BTreeSet::new(), &terms, &full, today).unwrap();
        assert!(plan.low_stock.is_none_or(|w| w.date > today));
    }

    #[test]
    fn a_warning_always_comes_with_an_order_or_its_reason() {
        // many shelves, fresh and about to expire, against a weekly pattern: whenever the
        // plan warns, it orders, unless it says why it cannot
        let pattern = [10.0, 12.0, 11.0, 9.0, 14.0, 20.0, 22.0];
        let history = SalesSeries {
            id: "spinach".into(),
            start: NaiveDate::from_ymd_opt(2023, 1, 2).unwrap(),
            quantities: (0..120).map(|t| pattern[t % 7]).collect(),
        };
        let mut warnings = 0;
        for day in 100..107 {
            let h = SalesSeries {
                quantities: history.quantities[..day].to_vec(),
                ..history.clone()
            };
            let today = h.date_at(day);
            for shelf in [1, 2, 4] {
                let terms = ProductTerms {
                    sku: "spinach".into(),
                    lead_time_days: 1,
                    review_period_days: 1,
                    shelf_life_days: shelf,
                    pack_size: 1.0,
                    pack_price_fen: 800,
                    service_level: 0.9,
                };
                for on_hand in [0.0, 5.0, 15.0, 30.0, 60.0] {
                    for left in 1..=shelf {
                        let pos = StockPosition {
                            on_hand: vec![StockBatch {
                                quantity: on_hand,
                                sellable_days: left,
                            }],
                            on_order: vec![],
                        };
                        let plan =
                            plan_purchase(&h, &BTreeSet::new(), &terms, &pos, today).unwrap();
                        assert_eq!(plan.order.is_some(), plan.no_order.is_none());
                        if let Some(w) = &plan.low_stock
                            && w.date <= today + chrono::Duration::days(1)
                        {
                            warnings += 1;
                            assert!(
                                plan.order.is_some()
                                    || plan.no_order != Some(NoOrderReason::Covered),
                                "{plan:?}"
                            );
                        }
                        if on_hand >= 30.0 && left == 1 {
                            // a full shelf that expires tonight still needs tomorrow's delivery
                            assert!(plan.order.is_some(), "{plan:?}");
                        }
                    }
                }
            }
        }
        assert!(warnings > 10, "the scenarios do warn: {warnings}");
    }
}

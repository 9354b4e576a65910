//! One call for the replenishment service: forecast a product's demand from its sales
//! history and turn it into the reorder levels, the draft purchase-order line and the
//! projected low-stock warning for today.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::policy::{
    DemandOutlook, DraftOrderLine, LowStockWarning, PolicyError, ProductTerms, ReorderLevels,
    StockPosition, draft_purchase_order, projected_low_stock, reorder_levels,
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
    /// First morning the projected stock (known deliveries only, not today's order) falls
    /// below the reorder point, if it does within the outlook.
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
    let order = draft_purchase_order(terms, position, &outlook, today)?;
    let low_stock =
        projected_low_stock(&terms.sku, position, &outlook, levels.reorder_point, today);
    Ok(PurchasePlan {
        sku: terms.sku.clone(),
        model: forecast.model,
        expected_demand: outlook.mean,
        levels,
        order,
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
}

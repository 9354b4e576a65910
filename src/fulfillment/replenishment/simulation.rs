//! Day-by-day replay of a sales history to compare replenishment policies on stock-outs and
//! spoilage. The recorded sales of each day are taken as that day's demand (sales lost to
//! real stock-outs are not visible in the data, so stock-outs are if anything undercounted).
//!
//! Each simulated morning the deliveries due arrive with the product's full shelf life, the
//! policy may order (delivered `lead_time_days` later), the day's demand is served oldest
//! stock first, and in the evening stock that reached the end of its shelf life is spoiled.
//! A warm-up period before the measured days lets both policies build their stock.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::policy::{
    Arrival, DemandOutlook, ProductTerms, StockBatch, StockPosition, draft_purchase_order,
};
use super::selection::{ForecastConfig, ForecastError, forecast_series};
use super::series::SalesSeries;

/// A replenishment policy to simulate.
#[derive(Debug, Clone, PartialEq)]
pub enum SimPolicy {
    /// Forecast every review day and order with [`draft_purchase_order`].
    Forecast,
    /// The same quantity once a week (rounded up to whole packs).
    FixedWeekly {
        /// Quantity ordered every 7 days.
        quantity: f64,
    },
}

/// Outcome of one product under one policy over the measured days.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct SimulationResult {
    /// Product sku.
    pub sku: String,
    /// Days measured.
    pub days: usize,
    /// Days with demand that could not be served in full.
    pub stockout_days: usize,
    /// Demand not served.
    pub lost_sales: f64,
    /// Demand served.
    pub sold: f64,
    /// Stock thrown away at the end of its shelf life.
    pub spoiled: f64,
    /// Quantity delivered.
    pub received: f64,
}

/// Days simulated before the measured window so stock levels settle.
pub const WARM_UP_DAYS: usize = 14;

/// The fixed weekly quantity a shop would set by hand: the mean weekly sales of the four
/// weeks before day `before`.
pub fn usual_weekly_quantity(series: &SalesSeries, before: usize) -> f64 {
    let from = before.saturating_sub(28);
    let sum: f64 = series.quantities[from..before]
        .iter()
        .map(|q| q.max(0.0))
        .sum();
    sum * 7.0 / (before - from).max(1) as f64
}

/// Simulates the last `days` days of `series` under `policy`. `closed` are store-closed days
/// (no demand, no orders).
pub fn simulate(
    series: &SalesSeries,
    closed: &BTreeSet<NaiveDate>,
    terms: &ProductTerms,
    days: usize,
    policy: &SimPolicy,
) -> Result<SimulationResult, ForecastError> {
    let n = series.quantities.len();
    let measured_from = n.saturating_sub(days);
    let start = measured_from.saturating_sub(WARM_UP_DAYS).max(28);
    let horizon = terms.lead_time_days + terms.review_period_days.max(terms.shelf_life_days) + 1;
    let config = ForecastConfig::for_horizon(horizon);
    let mut on_hand: Vec<StockBatch> = Vec::new();
    let mut pipeline: Vec<(usize, f64)> = Vec::new(); // (arrival day index, quantity)
    let mut result = SimulationResult {
        sku: series.id.clone(),
        days: n - measured_from,
        ..Default::default()
    };
    for t in start..n {
        let measured = t >= measured_from;
        let date = series.date_at(t);
        // morning deliveries
        let (arriving, waiting): (Vec<_>, Vec<_>) = pipeline.iter().partition(|(d, _)| *d == t);
        pipeline = waiting;
        for (_, q) in arriving {
            on_hand.push(StockBatch {
                quantity: q,
                sellable_days: terms.shelf_life_days,
            });
            if measured {
                result.received += q;
            }
        }
        // ordering
        let day = t - start;
        let order = match policy {
            SimPolicy::Forecast if day.is_multiple_of(terms.review_period_days.max(1)) => {
                let history = series.head(t);
                let f = forecast_series(&history, closed, &config)?;
                let outlook = DemandOutlook::from_forecast(&f, config.band_coverage);
                let position = StockPosition {
                    on_hand: on_hand.clone(),
                    on_order: pipeline
                        .iter()
                        .map(|&(d, q)| Arrival {
                            in_days: d - t,
                            quantity: q,
                            sellable_days: terms.shelf_life_days,
                        })
                        .collect(),
                };
                draft_purchase_order(terms, &position, &outlook, date)
                    .ok()
                    .flatten()
                    .map(|line| line.quantity)
            }
            SimPolicy::FixedWeekly { quantity } if day.is_multiple_of(7) => {
                let packs = (quantity / terms.pack_size).ceil();
                Some(packs * terms.pack_size)
            }
            _ => None,
        };
        if let Some(q) = order.filter(|q| *q > 0.0 && !closed.contains(&date)) {
            if terms.lead_time_days == 0 {
                on_hand.push(StockBatch {
                    quantity: q,
                    sellable_days: terms.shelf_life_days,
                });
                if measured {
                    result.received += q;
                }
            } else {
                pipeline.push((t + terms.lead_time_days, q));
            }
        }
        // sales, oldest stock first
        let demand = if closed.contains(&date) {
            0.0
        } else {
            series.quantities[t].max(0.0)
        };
        on_hand.sort_by_key(|b| b.sellable_days);
        let mut need = demand;
        for b in &mut on_hand {
            let take = need.min(b.quantity);
            b.quantity -= take;
            need -= take;
        }
        if measured {
            result.sold += demand - need;
            result.lost_sales += need;
            if need > 1e-6 {
                result.stockout_days += 1;
            }
        }
        // evening: age the stock, throw away what expired
        for b in &mut on_hand {
            b.sellable_days = b.sellable_days.saturating_sub(1);
            if b.sellable_days == 0 && measured {
                result.spoiled += b.quantity;
            }
        }
        on_hand.retain(|b| b.sellable_days > 0 && b.quantity > 1e-12);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(shelf: usize) -> ProductTerms {
        ProductTerms {
            sku: "greens".into(),
            lead_time_days: 1,
            review_period_days: 1,
            shelf_life_days: shelf,
            pack_size: 1.0,
            pack_price_fen: 500,
            service_level: 0.9,
        }
    }

    fn weekly(days: usize) -> SalesSeries {
        let pattern = [10.0, 12.0, 11.0, 9.0, 14.0, 20.0, 22.0];
        SalesSeries {
            id: "greens".into(),
            start: NaiveDate::from_ymd_opt(2023, 1, 2).unwrap(),
            quantities: (0..days).map(|t| pattern[t % 7]).collect(),
        }
    }

    #[test]
    fn forecast_policy_beats_a_fixed_weekly_order_for_short_shelf_life() {
        let s = weekly(140);
        let closed = BTreeSet::new();
        let t = terms(2);
        let ours = simulate(&s, &closed, &t, 28, &SimPolicy::Forecast).unwrap();
        let weekly_q = usual_weekly_quantity(&s, 140 - 28 - WARM_UP_DAYS);
        let fixed = simulate(
            &s,
            &closed,
            &t,
            28,
            &SimPolicy::FixedWeekly { quantity: weekly_q },
        )
        .unwrap();
        assert!(
            ours.stockout_days < fixed.stockout_days,
            "{ours:?} {fixed:?}"
        );
        assert!(ours.spoiled < fixed.spoiled, "{ours:?} {fixed:?}");
        // served + lost = demand
        let demand: f64 = s.quantities[112..].iter().sum();
        assert!((ours.sold + ours.lost_sales - demand).abs() < 1e-6);
    }
}

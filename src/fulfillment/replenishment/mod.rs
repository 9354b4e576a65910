//! Demand forecasting and replenishment for fresh produce.
//!
//! Everything here is pure: callers pass the sales history, the calendar of closed days,
//! stock positions and supplier terms; nothing reads files, clocks or random generators.
//!
//! * [`sales_csv`] parses `series_id,date,quantity` text into [`SalesSeries`].
//! * [`series`] prepares a history for the models: trims the days before the first sale,
//!   fills closed days, clips returns.
//! * [`models`], [`holt_winters`] and [`intermittent`] are the candidate forecasting models.
//! * [`selection`] picks a model (or a combination) per series by rolling-origin validation on
//!   the series' own training history and attaches an uncertainty band.
//! * [`metrics`] and [`evaluation`] score held-out forecasts (MASE, sMAPE) the way the anchors do.
//! * [`policy`] turns a forecast into a reorder point, an order-up-to level and draft
//!   purchase-order lines, respecting shelf life and pack sizes; it also checks projected stock.
//! * [`plan`] is the one call a service makes per product and day: forecast, levels, draft
//!   order line and low-stock warning together.
//! * [`simulation`] replays a sales history day by day to compare replenishment policies.

pub mod evaluation;
pub mod holt_winters;
pub mod intermittent;
pub mod metrics;
pub mod models;
pub mod plan;
pub mod policy;
pub mod sales_csv;
pub mod selection;
pub mod series;
pub mod simulation;

pub use evaluation::{EvaluationReport, HoldoutProtocol, evaluate_holdout};
pub use models::ModelKind;
pub use plan::{PlanError, PurchasePlan, plan_purchase};
pub use policy::{
    Arrival, DemandOutlook, DraftOrderLine, LowStockWarning, NoOrderReason, OrderDecision,
    PolicyError, ProductTerms, ReorderLevels, StockBatch, StockPosition, draft_purchase_order,
    order_decision, projected_low_stock, reorder_levels, usable_position,
};
pub use sales_csv::{SalesParseError, parse_sales_csv};
pub use selection::{Forecast, ForecastConfig, ForecastError, forecast_series};
pub use series::{SalesSeries, closed_days};

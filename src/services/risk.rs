//! Risk scoring of new orders (rules in [`crate::analytics::risk`]): the facts come from the
//! customer's order history; the verdict is stored with the order for the operators' reports,
//! in the transaction that places it.

use crate::analytics::risk::{RiskAssessment, RiskFacts, assess};
use crate::domain::{CancelReason, Customer, Order, OrderNumber, OrderStatus};
use crate::services::{ServiceError, Services};
use crate::store::Tx;

impl Services {
    /// Scores one of the customer's orders and records the verdict. One transaction.
    /// (Placing an order already scores it: this re-scores, e.g. after the rules changed.)
    pub async fn assess_order_risk(
        &self,
        customer: &Customer,
        number: &str,
    ) -> Result<RiskAssessment, ServiceError> {
        let n =
            OrderNumber::parse(number).map_err(|_| ServiceError::UnknownOrder(number.into()))?;
        let tx = self.store().begin_write().await?;
        let orders = tx.orders_of(customer.id).await?;
        let order = orders
            .iter()
            .find(|o| o.number == n)
            .ok_or_else(|| ServiceError::UnknownOrder(number.into()))?;
        let verdict = self.record_risk(&tx, order, &orders).await?;
        tx.commit().await?;
        Ok(verdict)
    }

    /// Scores `order` against the rest of the customer's `orders` (which may include it) and
    /// records the verdict in `tx`.
    pub(super) async fn record_risk(
        &self,
        tx: &Tx,
        order: &Order,
        orders: &[Order],
    ) -> Result<RiskAssessment, ServiceError> {
        let others = orders.iter().filter(|o| o.number != order.number);
        let count = |f: &dyn Fn(&&Order) -> bool| {
            u32::try_from(others.clone().filter(|o| f(o)).count()).unwrap_or(u32::MAX)
        };
        let depot = &self.rules().depot;
        let facts = RiskFacts {
            total: order.totals.total,
            delivered_before: count(&|o| o.status == OrderStatus::Delivered),
            // a cancel for our shortage is not the customer's habit
            cancelled_before: count(&|o| {
                o.status == OrderStatus::Cancelled
                    && o.cancel_reason != Some(CancelReason::OutOfStock)
            }),
            failed_before: count(&|o| o.status == OrderStatus::FailedDelivery),
            open_orders: count(&|o| o.status.is_active()),
            distance_km: order
                .address
                .location
                .map(|p| depot.location().haversine_m(p) / 1000.0),
            radius_km: depot.radius_km,
        };
        let verdict = assess(&facts, &self.rules().risk);
        let codes: Vec<&str> = verdict.reasons.iter().map(|r| r.code()).collect();
        tx.save_order_risk(order.id, verdict.score, &codes, verdict.flagged, self.now())
            .await?;
        if verdict.flagged {
            tracing::info!(number = %order.number, score = verdict.score, reasons = ?codes, "order flagged by risk rules");
        }
        Ok(verdict)
    }
}

//! Risk scoring of new orders (rules in [`crate::analytics::risk`]): the facts come from the
//! customer's order history; the verdict is stored with the order for the operators' reports.

use crate::analytics::risk::{RiskAssessment, RiskFacts, assess};
use crate::domain::{CancelReason, Customer, OrderNumber, OrderStatus};
use crate::services::{ServiceError, Services};

impl Services {
    /// Scores one of the customer's orders and records the verdict. One transaction.
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
        let others = orders.iter().filter(|o| o.number != n);
        let count = |f: &dyn Fn(&&crate::domain::Order) -> bool| {
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
        tx.commit().await?;
        if verdict.flagged {
            tracing::info!(number = %n, score = verdict.score, reasons = ?codes, "order flagged by risk rules");
        }
        Ok(verdict)
    }
}

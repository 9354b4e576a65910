//! Membership standing: tier from the recent window, points from what was paid.

use chrono::Duration;

use crate::domain::{Customer, Fen, Membership, OrderStatus};
use crate::services::{ServiceError, Services};

impl Services {
    pub async fn membership(&self, customer: &Customer) -> Result<Membership, ServiceError> {
        let rules = &self.rules.membership;
        let since = self.now() - Duration::days(i64::from(rules.window_days));
        let tx = self.store.begin_read().await?;
        let (completed, cancelled) = tx.ended_order_counts(customer.id, since).await?;
        let paid: Fen = tx
            .orders_of(customer.id)
            .await?
            .iter()
            .filter(|o| o.status == OrderStatus::Delivered)
            .map(|o| o.totals.total)
            .sum();
        // Settings validation guarantees a last tier that accepts everyone.
        let tier = rules
            .tier(completed, cancelled)
            .or(rules.tiers.last())
            .cloned()
            .ok_or_else(|| ServiceError::State("membership has no tiers".into()))?;
        Ok(Membership {
            tier,
            completed_in_window: completed,
            cancelled_in_window: cancelled,
            points: rules.points_for(paid),
        })
    }
}

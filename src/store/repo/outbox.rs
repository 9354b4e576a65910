//! The transactional outbox: events written in the same transaction as the change they report.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde::Serialize;

use crate::domain::{CustomerId, OrderId};
use crate::store::entities::outbox;
use crate::store::{StoreError, Tx};

/// An event someone must hear about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEvent {
    /// `order_placed`, `order_status_changed`, `order_cancelled`, `order_changed`, `stock_low`...
    pub kind: &'static str,
    pub customer: Option<CustomerId>,
    pub order: Option<OrderId>,
    pub payload: serde_json::Value,
}

impl Tx {
    pub async fn enqueue(&self, e: &OutboxEvent, now: DateTime<Utc>) -> Result<(), StoreError> {
        outbox::Entity::insert(outbox::ActiveModel {
            kind: Set(e.kind.to_owned()),
            payload: Set(e.payload.to_string()),
            customer_id: Set(e.customer.map(|c| c.0)),
            order_id: Set(e.order.map(|o| o.0)),
            status: Set("pending".to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            locked_until: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            done_at: Set(None),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// Pending events of an order, oldest first (for tests and the operator view).
    pub async fn outbox_kinds_for_order(&self, order: OrderId) -> Result<Vec<String>, StoreError> {
        use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
        Ok(outbox::Entity::find()
            .filter(outbox::Column::OrderId.eq(order.0))
            .order_by_asc(outbox::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(|r| r.kind)
            .collect())
    }
}

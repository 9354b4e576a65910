//! Counts an operator's monitoring reads at each scrape (`/metrics`): read from the database,
//! so every instance reports the same business figures and a restart loses none.

use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;

use crate::store::entities::{cancellations, handoff_queue, orders, outbox};
use crate::store::{StoreError, Tx};

/// The figures behind the scrape-time gauges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationalCounts {
    /// Outbox events still to deliver, and the age in seconds of the oldest one that is due.
    pub outbox_pending: i64,
    pub outbox_oldest_due_secs: i64,
    /// Events given up after their last attempt.
    pub outbox_failed: i64,
    /// Conversations waiting for an agent, and held by one.
    pub handoff_waiting: i64,
    pub handoff_claimed: i64,
    /// Orders by their current status.
    pub orders_by_status: Vec<(String, i64)>,
    /// Cancellations by reason code.
    pub cancellations_by_reason: Vec<(String, i64)>,
}

/// One group of a `GROUP BY` count, read by name (tuples of the inline SQLite path come in
/// column-name order).
#[derive(sea_orm::FromQueryResult)]
struct Group {
    key: String,
    n: i64,
}

impl Tx {
    pub async fn operational_counts(
        &self,
        now: DateTime<Utc>,
    ) -> Result<OperationalCounts, StoreError> {
        use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
        let count_outbox = |status: &'static str| {
            outbox::Entity::find()
                .filter(outbox::Column::Status.eq(status))
                .count(self.c())
        };
        let outbox_pending = count_outbox("pending").await?;
        let outbox_failed = count_outbox("failed").await?;
        let oldest: Option<DateTime<Utc>> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::CreatedAt)
            .filter(outbox::Column::Status.eq("pending"))
            .filter(outbox::Column::NextAttemptAt.lte(now))
            .order_by_asc(outbox::Column::Id)
            .into_tuple()
            .one(self.c())
            .await?;
        let count_handoff = |status: &'static str| {
            handoff_queue::Entity::find()
                .filter(handoff_queue::Column::Status.eq(status))
                .count(self.c())
        };
        let handoff_waiting = count_handoff("waiting").await?;
        let handoff_claimed = count_handoff("claimed").await?;
        let orders_by_status = orders::Entity::find()
            .select_only()
            .column_as(orders::Column::Status, "key")
            .column_as(orders::Column::Id.count(), "n")
            .group_by(orders::Column::Status)
            .order_by_asc(orders::Column::Status)
            .into_model::<Group>()
            .all(self.c())
            .await?;
        let cancellations_by_reason = cancellations::Entity::find()
            .select_only()
            .column_as(cancellations::Column::Reason, "key")
            .column_as(cancellations::Column::Id.count(), "n")
            .group_by(cancellations::Column::Reason)
            .order_by_asc(cancellations::Column::Reason)
            .into_model::<Group>()
            .all(self.c())
            .await?;
        let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        Ok(OperationalCounts {
            outbox_pending: as_i64(outbox_pending),
            outbox_oldest_due_secs: oldest.map_or(0, |t| (now - t).num_seconds().max(0)),
            outbox_failed: as_i64(outbox_failed),
            handoff_waiting: as_i64(handoff_waiting),
            handoff_claimed: as_i64(handoff_claimed),
            orders_by_status: orders_by_status.into_iter().map(|g| (g.key, g.n)).collect(),
            cancellations_by_reason: cancellations_by_reason
                .into_iter()
                .map(|g| (g.key, g.n))
                .collect(),
        })
    }
}

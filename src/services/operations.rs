//! What an operator's monitoring reads (`/metrics`).

use super::{ServiceError, Services};
pub use crate::store::repo::OperationalCounts;

impl Services {
    /// Outbox backlog, handoff queue, orders by status and cancellations by reason, as they
    /// stand in the database now.
    pub async fn operational_counts(&self) -> Result<OperationalCounts, ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(tx.operational_counts(self.now()).await?)
    }
}

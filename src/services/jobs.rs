//! Scheduled jobs that must run once across instances (waves, sweeps).

use chrono::Duration;

use super::{ServiceError, Services};

impl Services {
    /// Whether the instance `holder` should run `job` now: it takes the job's lease for `ttl`
    /// when the lease is free or has run out, and renews it when it already holds it. Ticking
    /// more often than `ttl` keeps the job with one instance; when that instance stops, another
    /// takes over within `ttl`.
    pub async fn lead_job(
        &self,
        job: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, ServiceError> {
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let led = tx.take_job_lease(job, holder, now, now + ttl).await?;
        tx.commit().await?;
        Ok(led)
    }
}

//! Leases on the scheduled jobs of `serve`, so several instances run each job once.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait};

use crate::store::entities::job_leases;
use crate::store::{StoreError, Tx};

impl Tx {
    /// Takes or keeps the lease on `job` for `holder` until `until`: `true` when `holder` now
    /// holds it (it was free, had run out, or was already `holder`'s). One conditional update,
    /// so two instances racing for a free job cannot both win.
    pub async fn take_job_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, Condition, QueryFilter};
        // A job nobody ever ran has no row yet; an expired one makes it takeable below.
        job_leases::Entity::insert(job_leases::ActiveModel {
            job: Set(job.to_owned()),
            holder: Set(String::new()),
            until: Set(now),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(self.c())
        .await?;
        let taken = job_leases::Entity::update_many()
            .col_expr(job_leases::Column::Holder, Expr::value(holder))
            .col_expr(job_leases::Column::Until, Expr::value(until))
            .filter(job_leases::Column::Job.eq(job))
            .filter(
                Condition::any()
                    .add(job_leases::Column::Holder.eq(holder))
                    .add(job_leases::Column::Until.lte(now)),
            )
            .exec(self.c())
            .await?;
        Ok(taken.rows_affected > 0)
    }
}

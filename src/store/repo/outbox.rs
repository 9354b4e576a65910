//! The transactional outbox: events written in the same transaction as the change they report.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde::Serialize;

use crate::domain::{CourierId, CustomerId, OrderId};
use crate::store::entities::{outbox, outbox_deliveries};
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

/// An outbox event taken by a dispatcher.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedEvent {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub customer: Option<CustomerId>,
    pub order: Option<OrderId>,
    /// Set for events addressed to a courier instead of a customer.
    pub courier: Option<CourierId>,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    /// The fencing token of this claim: the event is this dispatcher's to send and settle
    /// only while the row still carries it.
    pub lease: i64,
}

/// An event held under a lease: its id and the claim's fencing token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub event: i64,
    pub token: i64,
}

impl ClaimedEvent {
    pub fn lease(&self) -> Lease {
        Lease {
            event: self.id,
            token: self.lease,
        }
    }
}

type DateTimeUtc = DateTime<Utc>;

/// Who already received an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub channel: String,
    pub external_user: String,
    /// `sent`, `undeliverable`, or `partial` (some of the event's replies went out).
    pub status: String,
    /// Replies of the event the channel accepted, from the first.
    pub parts_sent: usize,
}

impl Delivery {
    /// Where a send to this recipient resumes; `None` when nothing is left to send.
    pub fn resume_at(&self) -> Option<usize> {
        (self.status == "partial").then_some(self.parts_sent)
    }
}

/// How far one recipient got with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryProgress<'a> {
    /// The channel accepted the first `parts_sent` replies; the rest wait for a retry.
    Partial { parts_sent: usize },
    /// Every reply went out.
    Sent { parts_sent: usize },
    /// Will never go out on this channel, after `parts_sent` replies did.
    Undeliverable { parts_sent: usize, why: &'a str },
}

/// How a leased event is settled.
enum Settle<'a> {
    Done,
    Retry {
        attempts: i32,
        next_attempt_at: DateTime<Utc>,
        error: &'a str,
    },
    Failed {
        attempts: i32,
        error: &'a str,
    },
}

/// Still pending and still under this claim's lease.
fn held_under(lease: Lease) -> sea_orm::Condition {
    use sea_orm::{ColumnTrait, Condition};
    Condition::all()
        .add(outbox::Column::Id.eq(lease.event))
        .add(outbox::Column::Lease.eq(lease.token))
        .add(outbox::Column::Status.eq("pending"))
}

/// Pending, its time has come, and nobody holds a live lease on it.
fn due(now: DateTime<Utc>) -> sea_orm::Condition {
    use sea_orm::{ColumnTrait, Condition};
    Condition::all()
        .add(outbox::Column::Status.eq("pending"))
        .add(outbox::Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(outbox::Column::LockedUntil.is_null())
                .add(outbox::Column::LockedUntil.lte(now)),
        )
}

impl Tx {
    /// Whether any event is due (a cheap read before taking the write lock).
    pub async fn outbox_due(&self, now: DateTime<Utc>) -> Result<bool, StoreError> {
        use sea_orm::{QueryFilter, QuerySelect};
        Ok(outbox::Entity::find()
            .select_only()
            .column(outbox::Column::Id)
            .filter(due(now))
            .into_tuple::<i64>()
            .one(self.c())
            .await?
            .is_some())
    }

    /// Takes up to `limit` due events, oldest first, leasing them until `lease_until`: another
    /// dispatcher skips them until then, and a dispatcher that dies mid-send leaves them to be
    /// taken again when the lease runs out. Each claim bumps the row's `lease`, the fencing
    /// token that [`Tx::renew_outbox_leases`] and the settling calls check, so a dispatcher
    /// whose lease ran out can neither send nor settle an event another one has taken.
    /// PostgreSQL instances share the work with `FOR UPDATE SKIP LOCKED`; SQLite has one
    /// writer at a time (`BEGIN IMMEDIATE`).
    pub async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<ClaimedEvent>, StoreError> {
        use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
        use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
        let rows = outbox::Entity::find()
            .filter(due(now))
            .order_by_asc(outbox::Column::Id)
            .limit(limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(self.c())
            .await?;
        let rows = self.in_recipient_order(rows).await?;
        if rows.is_empty() {
            return Ok(vec![]);
        }
        outbox::Entity::update_many()
            .col_expr(outbox::Column::LockedUntil, Expr::value(lease_until))
            .col_expr(
                outbox::Column::Lease,
                Expr::col(outbox::Column::Lease).add(1),
            )
            .filter(outbox::Column::Id.is_in(rows.iter().map(|r| r.id)))
            .exec(self.c())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| ClaimedEvent {
                id: r.id,
                kind: r.kind,
                // A payload that is not JSON (written by hand?) still gets delivered as far as
                // its kind allows; the renderer copes with missing fields.
                payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null),
                customer: r.customer_id.map(CustomerId),
                order: r.order_id.map(OrderId),
                courier: r.courier_id.map(CourierId),
                attempts: r.attempts,
                created_at: r.created_at,
                lease: r.lease + 1,
            })
            .collect())
    }

    /// Keeps of `candidates` (due, oldest first) those whose recipient has no earlier event
    /// still pending outside them: an earlier one waiting for its retry, or held by another
    /// dispatcher. So a customer's (or courier's) messages go out in the order of the changes
    /// across rounds and instances, not only within one batch. A leased event stays `pending`
    /// until it is settled, so this holds while another instance's claim is in flight.
    async fn in_recipient_order(
        &self,
        candidates: Vec<outbox::Model>,
    ) -> Result<Vec<outbox::Model>, StoreError> {
        use sea_orm::{ColumnTrait, Condition, QueryFilter, QuerySelect};
        use std::collections::HashSet;
        let Some(last) = candidates.iter().map(|r| r.id).max() else {
            return Ok(candidates);
        };
        let customers: HashSet<i64> = candidates.iter().filter_map(|r| r.customer_id).collect();
        let couriers: HashSet<i64> = candidates.iter().filter_map(|r| r.courier_id).collect();
        if customers.is_empty() && couriers.is_empty() {
            return Ok(candidates);
        }
        // Read by name: tuples of the inline SQLite path come in column-name order.
        #[derive(sea_orm::FromQueryResult)]
        struct Pending {
            id: i64,
            customer_id: Option<i64>,
            courier_id: Option<i64>,
        }
        let earlier: Vec<Pending> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::Id)
            .column(outbox::Column::CustomerId)
            .column(outbox::Column::CourierId)
            .filter(outbox::Column::Status.eq("pending"))
            .filter(outbox::Column::Id.lt(last))
            .filter(
                Condition::any()
                    .add(outbox::Column::CustomerId.is_in(customers))
                    .add(outbox::Column::CourierId.is_in(couriers)),
            )
            .into_model()
            .all(self.c())
            .await?;
        let taken: HashSet<i64> = candidates.iter().map(|r| r.id).collect();
        // The first pending event of each recipient that this claim does not hold.
        let mut blocked_from: std::collections::HashMap<(bool, i64), i64> = Default::default();
        for Pending {
            id,
            customer_id: customer,
            courier_id: courier,
        } in earlier
        {
            if taken.contains(&id) {
                continue;
            }
            for key in [customer.map(|c| (false, c)), courier.map(|c| (true, c))]
                .into_iter()
                .flatten()
            {
                let first = blocked_from.entry(key).or_insert(id);
                *first = (*first).min(id);
            }
        }
        Ok(candidates
            .into_iter()
            .filter(|r| {
                [
                    r.customer_id.map(|c| (false, c)),
                    r.courier_id.map(|c| (true, c)),
                ]
                .into_iter()
                .flatten()
                .all(|key| blocked_from.get(&key).is_none_or(|first| *first > r.id))
            })
            .collect())
    }

    /// Extends the leases still held among `held` to `until`, in order, and stops at the first
    /// one that is no longer this claim's (taken again after it ran out): returns how many of
    /// `held`, from the first, the caller may still send and settle.
    pub async fn renew_outbox_leases(
        &self,
        held: &[Lease],
        until: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        use sea_orm::QueryFilter;
        use sea_orm::sea_query::Expr;
        for (n, l) in held.iter().enumerate() {
            let renewed = outbox::Entity::update_many()
                .col_expr(outbox::Column::LockedUntil, Expr::value(until))
                .filter(held_under(*l))
                .exec(self.c())
                .await?;
            if renewed.rows_affected == 0 {
                return Ok(n);
            }
        }
        Ok(held.len())
    }

    /// Marks an event handled; `false` when the lease was lost and nothing changed.
    pub async fn outbox_done(&self, lease: Lease, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.outbox_settle(lease, Settle::Done, now).await
    }

    /// Schedules another attempt after a temporary failure; `false` when the lease was lost.
    pub async fn outbox_retry(
        &self,
        lease: Lease,
        attempts: i32,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, StoreError> {
        self.outbox_settle(
            lease,
            Settle::Retry {
                attempts,
                next_attempt_at,
                error,
            },
            next_attempt_at,
        )
        .await
    }

    /// Gives up on an event (kept with its last error for operators); `false` when the lease
    /// was lost.
    pub async fn outbox_failed(
        &self,
        lease: Lease,
        attempts: i32,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.outbox_settle(lease, Settle::Failed { attempts, error }, now)
            .await
    }

    async fn outbox_settle(
        &self,
        lease: Lease,
        how: Settle<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        use sea_orm::QueryFilter;
        use sea_orm::sea_query::Expr;
        let mut q = outbox::Entity::update_many().col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
        q = match how {
            Settle::Done => q
                .col_expr(outbox::Column::Status, Expr::value("done"))
                .col_expr(outbox::Column::DoneAt, Expr::value(now)),
            Settle::Retry {
                attempts,
                next_attempt_at,
                error,
            } => q
                .col_expr(outbox::Column::Attempts, Expr::value(attempts))
                .col_expr(outbox::Column::NextAttemptAt, Expr::value(next_attempt_at))
                .col_expr(outbox::Column::LastError, Expr::value(error)),
            Settle::Failed { attempts, error } => q
                .col_expr(outbox::Column::Status, Expr::value("failed"))
                .col_expr(outbox::Column::Attempts, Expr::value(attempts))
                .col_expr(outbox::Column::LastError, Expr::value(error))
                .col_expr(outbox::Column::DoneAt, Expr::value(now)),
        };
        let r = q.filter(held_under(lease)).exec(self.c()).await?;
        Ok(r.rows_affected > 0)
    }

    /// Recipients that already have (or can never get) an event.
    pub async fn outbox_deliveries(&self, id: i64) -> Result<Vec<Delivery>, StoreError> {
        use sea_orm::{ColumnTrait, QueryFilter};
        Ok(outbox_deliveries::Entity::find()
            .filter(outbox_deliveries::Column::OutboxId.eq(id))
            .all(self.c())
            .await?
            .into_iter()
            .map(|d| Delivery {
                channel: d.channel,
                external_user: d.external_user,
                status: d.status,
                parts_sent: usize::try_from(d.parts_sent).unwrap_or(0),
            })
            .collect())
    }

    /// Records how far `user` on `channel` got with an event: `partial` (with the replies
    /// accepted so far), `sent`, or `undeliverable` (never will). A finished record (`sent`,
    /// `undeliverable`) is never changed, and progress never goes back.
    pub async fn record_outbox_delivery(
        &self,
        id: i64,
        channel: &str,
        user: &str,
        progress: DeliveryProgress<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let (status, parts_sent, detail) = match progress {
            DeliveryProgress::Partial { parts_sent } => ("partial", parts_sent, None),
            DeliveryProgress::Sent { parts_sent } => ("sent", parts_sent, None),
            DeliveryProgress::Undeliverable { parts_sent, why } => {
                ("undeliverable", parts_sent, Some(why.to_owned()))
            }
        };
        let parts_sent = i32::try_from(parts_sent).unwrap_or(i32::MAX);
        let key = |q: sea_orm::UpdateMany<outbox_deliveries::Entity>| {
            q.filter(outbox_deliveries::Column::OutboxId.eq(id))
                .filter(outbox_deliveries::Column::Channel.eq(channel))
                .filter(outbox_deliveries::Column::ExternalUser.eq(user))
                .filter(outbox_deliveries::Column::Status.eq("partial"))
                .filter(outbox_deliveries::Column::PartsSent.lte(parts_sent))
        };
        let updated = key(outbox_deliveries::Entity::update_many())
            .col_expr(outbox_deliveries::Column::Status, status.into())
            .col_expr(outbox_deliveries::Column::PartsSent, parts_sent.into())
            .col_expr(outbox_deliveries::Column::Detail, detail.clone().into())
            .col_expr(outbox_deliveries::Column::At, now.into())
            .exec(self.c())
            .await?;
        if updated.rows_affected > 0 {
            return Ok(());
        }
        // First record for this recipient, or a finished one (kept as it is).
        outbox_deliveries::Entity::insert(outbox_deliveries::ActiveModel {
            outbox_id: Set(id),
            channel: Set(channel.to_owned()),
            external_user: Set(user.to_owned()),
            status: Set(status.to_owned()),
            detail: Set(detail),
            at: Set(now),
            parts_sent: Set(parts_sent),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// The status of every outbox event of a kind (tests and the operator view).
    pub async fn outbox_statuses(&self, kind: &str) -> Result<Vec<(i64, String)>, StoreError> {
        use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
        Ok(outbox::Entity::find()
            .filter(outbox::Column::Kind.eq(kind))
            .order_by_asc(outbox::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(|m| (m.id, m.status))
            .collect())
    }
}

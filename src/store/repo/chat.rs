//! Web chat sessions, the handoff queue and prevented cancels.

use super::OneRow;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::domain::{CancelReason, Channel, CustomerId, OrderId};
use crate::store::entities::{cancel_saves, handoff_queue, web_sessions};
use crate::store::{StoreError, Tx};

impl Tx {
    pub async fn insert_web_session(
        &self,
        token_hash: &str,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        web_sessions::Entity::insert(web_sessions::ActiveModel {
            token_hash: Set(token_hash.to_owned()),
            user_id: Set(user_id.to_owned()),
            created_at: Set(now),
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// The web user behind a session token hash.
    pub async fn web_session_user(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        Ok(web_sessions::Entity::find_by_id(token_hash.to_owned())
            .one_row(self.c())
            .await?
            .map(|s| s.user_id))
    }

    /// Puts a conversation in the human queue (once: an open entry is reused). Returns the
    /// number of open entries ahead of it plus one.
    #[allow(clippy::too_many_arguments)]
    pub async fn enqueue_handoff(
        &self,
        channel: Channel,
        user: &str,
        customer: CustomerId,
        reason: &str,
        summary: &str,
        priority: i32,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let open = handoff_queue::Entity::find()
            .filter(handoff_queue::Column::Channel.eq(channel.code()))
            .filter(handoff_queue::Column::ExternalUser.eq(user))
            .filter(handoff_queue::Column::Status.is_in(["waiting", "claimed"]))
            .one(self.c())
            .await?;
        let created = match open {
            Some(e) => e.created_at,
            None => {
                handoff_queue::Entity::insert(handoff_queue::ActiveModel {
                    channel: Set(channel.code().to_owned()),
                    external_user: Set(user.to_owned()),
                    customer_id: Set(customer.0),
                    reason: Set(reason.to_owned()),
                    summary: Set(summary.chars().take(2000).collect()),
                    priority: Set(priority),
                    status: Set("waiting".to_owned()),
                    agent_id: Set(None),
                    created_at: Set(now),
                    claimed_at: Set(None),
                    closed_at: Set(None),
                    ..Default::default()
                })
                .exec_without_returning(self.c())
                .await?;
                now
            }
        };
        let ahead = handoff_queue::Entity::find()
            .filter(handoff_queue::Column::Status.eq("waiting"))
            .filter(handoff_queue::Column::CreatedAt.lt(created))
            .count(self.c())
            .await?;
        Ok(ahead + 1)
    }

    /// The status of one conversation's open handoff entry (`waiting` or `claimed`), if any.
    pub async fn open_handoff_status(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(handoff_queue::Entity::find()
            .filter(handoff_queue::Column::Channel.eq(channel.code()))
            .filter(handoff_queue::Column::ExternalUser.eq(user))
            .filter(handoff_queue::Column::Status.is_in(["waiting", "claimed"]))
            .one(self.c())
            .await?
            .map(|h| h.status))
    }

    /// Open handoff entries, oldest first: `(channel, user, reason, summary, status)`.
    pub async fn open_handoffs(
        &self,
    ) -> Result<Vec<(String, String, String, String, String)>, StoreError> {
        use sea_orm::QueryOrder;
        Ok(handoff_queue::Entity::find()
            .filter(handoff_queue::Column::Status.is_in(["waiting", "claimed"]))
            .order_by_asc(handoff_queue::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(|h| (h.channel, h.external_user, h.reason, h.summary, h.status))
            .collect())
    }

    /// Closes the open handoff entry of a conversation (the customer went back to the bot).
    pub async fn close_handoff(
        &self,
        channel: Channel,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        handoff_queue::Entity::update_many()
            .col_expr(handoff_queue::Column::Status, "closed".into())
            .col_expr(handoff_queue::Column::ClosedAt, Some(now).into())
            .col_expr(
                handoff_queue::Column::Outcome,
                Some("customer_left".to_owned()).into(),
            )
            .filter(handoff_queue::Column::Channel.eq(channel.code()))
            .filter(handoff_queue::Column::ExternalUser.eq(user))
            .filter(handoff_queue::Column::Status.eq("waiting"))
            .exec(self.c())
            .await?;
        Ok(())
    }

    pub async fn insert_cancel_save(
        &self,
        order: OrderId,
        reason: CancelReason,
        offer: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        cancel_saves::Entity::insert(cancel_saves::ActiveModel {
            order_id: Set(order.0),
            reason: Set(reason.code().to_owned()),
            offer: Set(offer.to_owned()),
            at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    pub async fn cancel_saves_count(&self) -> Result<u64, StoreError> {
        Ok(cancel_saves::Entity::find().count(self.c()).await?)
    }
}

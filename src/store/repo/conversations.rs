//! Conversation state with optimistic concurrency, and inbound message dedupe.

use super::OneRow;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::domain::Channel;
use crate::store::entities::{conversations, inbound_messages};
use crate::store::{StoreError, Tx, is_unique_violation};

/// Another writer saved the conversation since it was loaded: reload and retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("conversation changed concurrently (expected version {expected:?})")]
pub struct VersionConflict {
    pub expected: Option<i64>,
}

impl Tx {
    /// The stored state (JSON) and its version.
    pub async fn load_conversation(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<Option<(String, i64)>, StoreError> {
        Ok(conversations::Entity::find()
            .filter(conversations::Column::Channel.eq(channel.code()))
            .filter(conversations::Column::ExternalUser.eq(user))
            .one_row(self.c())
            .await?
            .map(|r| (r.state, r.version)))
    }

    /// Saves the state if the stored version is still `expected` (`None`: no row yet).
    /// Returns the new version, or a conflict when another writer got there first.
    pub async fn save_conversation(
        &self,
        channel: Channel,
        user: &str,
        state: &str,
        expected: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Result<i64, VersionConflict>, StoreError> {
        match expected {
            None => {
                let r = conversations::Entity::insert(conversations::ActiveModel {
                    channel: Set(channel.code().to_owned()),
                    external_user: Set(user.to_owned()),
                    state: Set(state.to_owned()),
                    version: Set(1),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .exec_without_returning(self.c())
                .await;
                match r {
                    Ok(_) => Ok(Ok(1)),
                    Err(e) if is_unique_violation(&e) => Ok(Err(VersionConflict { expected })),
                    Err(e) => Err(e.into()),
                }
            }
            Some(v) => {
                let r = conversations::Entity::update_many()
                    .col_expr(conversations::Column::State, state.into())
                    .col_expr(conversations::Column::Version, (v + 1).into())
                    .col_expr(conversations::Column::UpdatedAt, now.into())
                    .filter(conversations::Column::Channel.eq(channel.code()))
                    .filter(conversations::Column::ExternalUser.eq(user))
                    .filter(conversations::Column::Version.eq(v))
                    .exec(self.c())
                    .await?;
                Ok(if r.rows_affected == 1 {
                    Ok(v + 1)
                } else {
                    Err(VersionConflict { expected })
                })
            }
        }
    }

    /// Whether an inbound message id was recorded before (a read; no lock taken).
    pub async fn inbound_seen(
        &self,
        channel: Channel,
        message_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(inbound_messages::Entity::find()
            .filter(inbound_messages::Column::Channel.eq(channel.code()))
            .filter(inbound_messages::Column::MessageId.eq(message_id))
            .one_row(self.c())
            .await?
            .is_some())
    }

    /// Records an inbound message id; `false` if it was seen before (a redelivery).
    pub async fn record_inbound(
        &self,
        channel: Channel,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let r = inbound_messages::Entity::insert(inbound_messages::ActiveModel {
            channel: Set(channel.code().to_owned()),
            message_id: Set(message_id.to_owned()),
            received_at: Set(now),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(self.c())
        .await?;
        Ok(matches!(r, sea_orm::TryInsertResult::Inserted(n) if n > 0))
    }
}

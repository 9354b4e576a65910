//! Conversation state with optimistic concurrency, and inbound message dedupe.

use super::OneRow;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, Insert, QueryFilter, Select, UpdateMany,
};

use crate::domain::Channel;
use crate::store::entities::{conversations, inbound_messages};
use crate::store::inline_sqlite::Inline;
use crate::store::{StoreError, Tx, is_unique_violation};

fn conversation_row(channel: Channel, user: &str) -> Select<conversations::Entity> {
    conversations::Entity::find()
        .filter(conversations::Column::Channel.eq(channel.code()))
        .filter(conversations::Column::ExternalUser.eq(user))
}

fn new_conversation(
    channel: Channel,
    user: &str,
    state: &str,
    now: DateTime<Utc>,
) -> Insert<conversations::ActiveModel> {
    conversations::Entity::insert(conversations::ActiveModel {
        channel: Set(channel.code().to_owned()),
        external_user: Set(user.to_owned()),
        state: Set(state.to_owned()),
        version: Set(1),
        updated_at: Set(now),
        ..Default::default()
    })
}

/// The versioned update: changes a row only if its version is still `v`.
fn conversation_update(
    channel: Channel,
    user: &str,
    state: &str,
    v: i64,
    now: DateTime<Utc>,
) -> UpdateMany<conversations::Entity> {
    conversations::Entity::update_many()
        .col_expr(conversations::Column::State, state.into())
        .col_expr(conversations::Column::Version, (v + 1).into())
        .col_expr(conversations::Column::UpdatedAt, now.into())
        .filter(conversations::Column::Channel.eq(channel.code()))
        .filter(conversations::Column::ExternalUser.eq(user))
        .filter(conversations::Column::Version.eq(v))
}

fn inbound_row(channel: Channel, message_id: &str) -> Select<inbound_messages::Entity> {
    inbound_messages::Entity::find()
        .filter(inbound_messages::Column::Channel.eq(channel.code()))
        .filter(inbound_messages::Column::MessageId.eq(message_id))
}

fn new_inbound(
    channel: Channel,
    message_id: &str,
    now: DateTime<Utc>,
) -> Insert<inbound_messages::ActiveModel> {
    inbound_messages::Entity::insert(inbound_messages::ActiveModel {
        channel: Set(channel.code().to_owned()),
        message_id: Set(message_id.to_owned()),
        received_at: Set(now),
    })
}

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
        Ok(conversation_row(channel, user)
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
                let r = new_conversation(channel, user, state, now)
                    .exec_without_returning(self.c())
                    .await;
                match r {
                    Ok(_) => Ok(Ok(1)),
                    Err(e) if is_unique_violation(&e) => Ok(Err(VersionConflict { expected })),
                    Err(e) => Err(e.into()),
                }
            }
            Some(v) => {
                let r = conversation_update(channel, user, state, v, now)
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
        Ok(inbound_row(channel, message_id)
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
        let r = new_inbound(channel, message_id, now)
            .on_conflict_do_nothing()
            .exec_without_returning(self.c())
            .await?;
        Ok(matches!(r, sea_orm::TryInsertResult::Inserted(n) if n > 0))
    }
}

/// The same reads and writes on the inline SQLite path of a chat turn.
impl Inline<'_> {
    pub(crate) fn load_conversation(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<Option<(String, i64)>, StoreError> {
        Ok(self
            .all(conversation_row(channel, user))?
            .into_iter()
            .next()
            .map(|r| (r.state, r.version)))
    }

    /// As [`Tx::save_conversation`]; a first save that finds a row already there (another
    /// writer's first save) is a conflict.
    pub(crate) fn save_conversation(
        &self,
        channel: Channel,
        user: &str,
        state: &str,
        expected: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Result<i64, VersionConflict>, StoreError> {
        let (changed, version) = match expected {
            None => {
                let insert = new_conversation(channel, user, state, now).on_conflict(
                    OnConflict::columns([
                        conversations::Column::Channel,
                        conversations::Column::ExternalUser,
                    ])
                    .do_nothing()
                    .to_owned(),
                );
                (self.execute(&insert)?, 1)
            }
            Some(v) => (
                self.execute(&conversation_update(channel, user, state, v, now))?,
                v + 1,
            ),
        };
        Ok(if changed == 1 {
            Ok(version)
        } else {
            Err(VersionConflict { expected })
        })
    }

    pub(crate) fn inbound_seen(
        &self,
        channel: Channel,
        message_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(!self.all(inbound_row(channel, message_id))?.is_empty())
    }

    pub(crate) fn record_inbound(
        &self,
        channel: Channel,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let insert = new_inbound(channel, message_id, now).on_conflict(
            OnConflict::columns([
                inbound_messages::Column::Channel,
                inbound_messages::Column::MessageId,
            ])
            .do_nothing()
            .to_owned(),
        );
        Ok(self.execute(&insert)? == 1)
    }
}

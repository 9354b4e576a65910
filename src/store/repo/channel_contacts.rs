//! `channel_contacts`: upserts keyed by (channel, external user).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};

use crate::domain::Channel;
use crate::store::entities::channel_contacts::{self, Column, Entity};
use crate::store::repo::corrupt;
use crate::store::{StoreError, Tx};

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelContactRow {
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// Button payloads in the order they were numbered (1 first).
    pub last_buttons: Vec<String>,
}

fn new_row(channel: Channel, user: &str, now: DateTime<Utc>) -> channel_contacts::ActiveModel {
    channel_contacts::ActiveModel {
        channel: Set(channel.code().to_owned()),
        external_user: Set(user.to_owned()),
        last_inbound_at: Set(None),
        last_buttons: Set("[]".to_owned()),
        updated_at: Set(now),
    }
}

impl Tx {
    pub async fn channel_contact(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<Option<ChannelContactRow>, StoreError> {
        let Some(r) = Entity::find()
            .filter(Column::Channel.eq(channel.code()))
            .filter(Column::ExternalUser.eq(user))
            .one(self.c())
            .await?
        else {
            return Ok(None);
        };
        let last_buttons: Vec<String> = serde_json::from_str(&r.last_buttons)
            .map_err(|e| corrupt("channel_contacts", format!("last_buttons: {e}")))?;
        Ok(Some(ChannelContactRow {
            last_inbound_at: r.last_inbound_at,
            last_buttons,
        }))
    }

    /// Records that `user` wrote at `at` (creating the contact when new).
    pub async fn touch_channel_contact(
        &self,
        channel: Channel,
        user: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut row = new_row(channel, user, at);
        row.last_inbound_at = Set(Some(at));
        Entity::insert(row)
            .on_conflict(
                OnConflict::columns([Column::Channel, Column::ExternalUser])
                    .update_columns([Column::LastInboundAt, Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(self.c())
            .await?;
        Ok(())
    }

    /// Replaces the buttons last shown to `user` (an empty list forgets them).
    pub async fn set_channel_buttons(
        &self,
        channel: Channel,
        user: &str,
        payloads: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(payloads)
            .map_err(|e| corrupt("channel_contacts", format!("last_buttons: {e}")))?;
        let mut row = new_row(channel, user, now);
        row.last_buttons = Set(json);
        Entity::insert(row)
            .on_conflict(
                OnConflict::columns([Column::Channel, Column::ExternalUser])
                    .update_columns([Column::LastButtons, Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(self.c())
            .await?;
        Ok(())
    }
}

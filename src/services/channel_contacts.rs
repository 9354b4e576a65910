//! What a channel remembers about a customer between messages: when they last wrote (WeChat
//! only lets a business answer within 48 hours of that) and which buttons were last offered as
//! numbered options.

use chrono::{DateTime, Utc};

use crate::domain::Channel;
use crate::services::{ServiceError, Services};

/// A customer as one channel knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelContact {
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// Button payloads in the order they were numbered (1 first).
    pub last_buttons: Vec<String>,
}

impl Services {
    /// The contact, or an empty one when the customer never wrote on `channel`.
    pub async fn channel_contact(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<ChannelContact, ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(tx
            .channel_contact(channel, user)
            .await?
            .map(|r| ChannelContact {
                last_inbound_at: r.last_inbound_at,
                last_buttons: r.last_buttons,
            })
            .unwrap_or_default())
    }

    /// Records that the customer just wrote (opens WeChat's reply window).
    pub async fn record_contact_inbound(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<(), ServiceError> {
        let tx = self.store.begin_write().await?;
        tx.touch_channel_contact(channel, user, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Remembers the buttons just offered (replacing earlier ones; empty forgets them).
    pub async fn remember_buttons(
        &self,
        channel: Channel,
        user: &str,
        payloads: &[String],
    ) -> Result<(), ServiceError> {
        let tx = self.store.begin_write().await?;
        tx.set_channel_buttons(channel, user, payloads, self.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the customer wrote on `channel` within the last `hours`.
    pub async fn wrote_within(
        &self,
        channel: Channel,
        user: &str,
        hours: i64,
    ) -> Result<bool, ServiceError> {
        let c = self.channel_contact(channel, user).await?;
        Ok(c.last_inbound_at
            .is_some_and(|t| self.now() - t <= chrono::Duration::hours(hours)))
    }
}

//! What every channel adapter offers the rest of freshbot: sending replies to one of its users.
//!
//! The outbox dispatcher (pushes), the human handoff (agent messages) and the courier dispatch
//! all reach customers through a [`Sender`], never through a channel's API directly, so a test
//! can swap any channel for a recording double.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use crate::domain::Channel;
use crate::domain::Reply;

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: network trouble, rate limits, 5xx answers.
    #[error("temporary failure: {0}")]
    Retry(String),
    /// Will never go out on this channel: the user blocked the bot, WeChat's 48-hour reply
    /// window closed, the user is unknown. Recorded, not retried.
    #[error("undeliverable: {0}")]
    Undeliverable(String),
}

/// One channel's outbound side.
#[async_trait::async_trait]
pub trait Sender: Send + Sync {
    fn channel(&self) -> Channel;

    /// Sends replies (text plus buttons, rendered as the channel can) to `user`, the channel's
    /// own id of the person (Telegram chat id, WeChat OpenID, web user id).
    async fn send(&self, user: &str, replies: &[Reply]) -> Result<(), SendError>;

    /// How `replies` split into messages that go out whole: a retry after a failure resumes at
    /// the first group the channel did not accept, so earlier messages are not sent twice.
    /// Most channels send each reply as its own message.
    fn message_groups(&self, replies: &[Reply]) -> Vec<Range<usize>> {
        (0..replies.len()).map(|i| i..i + 1).collect()
    }
}

/// The senders of the configured channels.
#[derive(Clone, Default)]
pub struct Senders {
    by_channel: HashMap<Channel, Arc<dyn Sender>>,
}

impl Senders {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the sender of its channel.
    pub fn with(mut self, sender: Arc<dyn Sender>) -> Self {
        self.by_channel.insert(sender.channel(), sender);
        self
    }

    pub fn insert(&mut self, sender: Arc<dyn Sender>) {
        self.by_channel.insert(sender.channel(), sender);
    }

    /// Takes every sender of `other`, replacing those of the same channels.
    pub fn extend(&mut self, other: Senders) {
        self.by_channel.extend(other.by_channel);
    }

    pub fn get(&self, channel: Channel) -> Option<&Arc<dyn Sender>> {
        self.by_channel.get(&channel)
    }

    /// The whole messages `replies` make on `channel` (see [`Sender::message_groups`]).
    pub fn message_groups(&self, channel: Channel, replies: &[Reply]) -> Vec<Range<usize>> {
        match self.get(channel) {
            Some(s) => s.message_groups(replies),
            None => std::iter::once(0..replies.len()).collect(),
        }
    }

    /// Sends on `channel`; a channel that is not configured is undeliverable.
    pub async fn send(
        &self,
        channel: Channel,
        user: &str,
        replies: &[Reply],
    ) -> Result<(), SendError> {
        match self.get(channel) {
            Some(s) => s.send(user, replies).await,
            None => Err(SendError::Undeliverable(format!(
                "the {channel} channel is not configured"
            ))),
        }
    }
}

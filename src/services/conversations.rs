//! Conversation state with optimistic concurrency, and inbound message dedupe.

use serde::{Serialize, de::DeserializeOwned};

use crate::domain::Channel;
use crate::services::{ServiceError, Services};
pub use crate::store::Saved;

/// A stored state (JSON) and its version, parsed; one that no longer parses (after an upgrade)
/// is the default state, and a conversation never saved has no version.
pub(super) fn parse_state<S: DeserializeOwned + Default>(
    stored: Option<(String, i64)>,
) -> (S, Option<i64>) {
    match stored {
        Some((json, v)) => (serde_json::from_str(&json).unwrap_or_default(), Some(v)),
        None => (S::default(), None),
    }
}

/// How often a conversation update is retried after losing a race.
pub const MAX_CONVERSATION_RETRIES: usize = 16;

impl Services {
    /// Loads a conversation's state (default when new), applies `f`, and saves it if nobody else
    /// saved in between; on a conflict it reloads and applies `f` again, so no update is lost.
    /// Returns what `f` returned on the attempt that was saved.
    pub async fn update_conversation<S, R, F>(
        &self,
        channel: Channel,
        user: &str,
        mut f: F,
    ) -> Result<R, ServiceError>
    where
        S: Serialize + DeserializeOwned + Default,
        F: FnMut(&mut S) -> R,
    {
        for attempt in 0..MAX_CONVERSATION_RETRIES {
            if attempt > 0 {
                // Jittered backoff so that writers who collided do not collide again.
                let ms = rand::random_range(1..=5 * attempt as u64);
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            }
            let (mut state, version) = self.load_conversation::<S>(channel, user).await?;
            let out = f(&mut state);
            let json =
                serde_json::to_string(&state).map_err(|e| ServiceError::State(e.to_string()))?;
            let tx = self.store.begin_write().await?;
            match tx
                .save_conversation(channel, user, &json, version, self.now())
                .await?
            {
                Ok(_) => {
                    tx.commit().await?;
                    return Ok(out);
                }
                Err(conflict) => {
                    tracing::debug!(%conflict, user, "conversation conflict, retrying");
                }
            }
        }
        Err(ServiceError::Concurrent)
    }

    /// The state and its version (`None` when the conversation is new). A state that no longer
    /// parses (after an upgrade) starts over rather than failing the customer.
    pub async fn load_conversation<S: DeserializeOwned + Default>(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<(S, Option<i64>), ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(parse_state(tx.load_conversation(channel, user).await?))
    }

    /// Records an inbound message id; `false` means it was delivered before and must be ignored.
    pub async fn first_delivery(
        &self,
        channel: Channel,
        message_id: &str,
    ) -> Result<bool, ServiceError> {
        let tx = self.store.begin_write().await?;
        let first = tx.record_inbound(channel, message_id, self.now()).await?;
        tx.commit().await?;
        Ok(first)
    }
}

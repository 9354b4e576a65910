//! Web chat sessions, the handoff queue and cancels saved by an offer.

use rand::Rng;

use crate::domain::{CancelReason, Channel, Customer};
use crate::services::secrets::{random_token, sha256_hex};
use crate::services::{Saved, ServiceError, Services};
use crate::store::Tx;

impl Services {
    /// Creates an anonymous web customer session; returns `(token, web user id)`.
    pub async fn create_web_session(&self) -> Result<(String, String), ServiceError> {
        // ThreadRng is not Send: draw everything before the first await.
        let (token, user) = (
            random_token(),
            format!("w{:024x}", rand::rng().random::<u128>() >> 32),
        );
        let tx = self.store.begin_write().await?;
        tx.insert_web_session(&sha256_hex(&token), &user, self.now())
            .await?;
        tx.commit().await?;
        Ok((token, user))
    }

    /// The web user of a bearer token, if the token is valid.
    pub async fn web_session_user(&self, token: &str) -> Result<Option<String>, ServiceError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let hash = sha256_hex(token);
        if let Some(user) = self.web_sessions.get(&hash) {
            return Ok(Some(user));
        }
        let tx = self.store.begin_read().await?;
        let user = tx.web_session_user(&hash).await?;
        if let Some(u) = &user {
            self.web_sessions.insert(hash, u.clone());
        }
        Ok(user)
    }

    /// Queues a conversation for a human; complaints and priority members go first. Returns
    /// the customer's position in the queue.
    pub async fn request_handoff(
        &self,
        channel: Channel,
        user: &str,
        customer: &Customer,
        reason: &str,
        summary: &str,
    ) -> Result<u64, ServiceError> {
        let priority_member = self
            .membership(customer)
            .await
            .map(|m| m.tier.priority)
            .unwrap_or(false);
        let priority = crate::handoff::priority(reason, priority_member);
        let tx = self.store.begin_write().await?;
        let position = tx
            .enqueue_handoff(
                channel,
                user,
                customer.id,
                reason,
                summary,
                priority,
                self.now(),
            )
            .await?;
        tx.enqueue(
            &crate::store::repo::OutboxEvent {
                kind: "handoff_requested",
                customer: Some(customer.id),
                order: None,
                payload: serde_json::json!({ "channel": channel.code(), "user": user, "reason": reason }),
            },
            self.now(),
        )
        .await?;
        tx.commit().await?;
        self.handoff_queue_changed(0);
        Ok(position)
    }

    pub async fn leave_handoff_queue(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<(), ServiceError> {
        let tx = self.store.begin_write().await?;
        tx.close_handoff(channel, user, self.now()).await?;
        tx.commit().await?;
        self.handoff_queue_changed(0);
        Ok(())
    }

    /// Records that the fix offered for a cancel reason kept the order.
    pub async fn record_cancel_saved(
        &self,
        customer: &Customer,
        number: &str,
        reason: CancelReason,
        offer: &str,
    ) -> Result<(), ServiceError> {
        let order = self.order_of(customer, number).await?;
        let tx = self.store.begin_write().await?;
        tx.insert_cancel_save(order.id, reason, offer, self.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saves a conversation state if its version is still `expected`. With `message_id`, the
    /// inbound message is recorded in the same transaction (see [`Services::save_turn`]).
    pub async fn save_conversation<S: serde::Serialize>(
        &self,
        channel: Channel,
        user: &str,
        state: &S,
        expected: Option<i64>,
        message_id: Option<&str>,
    ) -> Result<Saved, ServiceError> {
        let save = StateSave::new(channel, user, state, expected, message_id)?;
        self.save_state(&save).await
    }

    /// [`Services::save_conversation`] of a state already serialized.
    pub async fn save_state(&self, save: &StateSave<'_>) -> Result<Saved, ServiceError> {
        let tx = self.store.begin_write().await?;
        let saved = self.save_state_in(&tx, save).await?;
        if let Saved::Version(_) = saved {
            tx.commit().await?;
        }
        Ok(saved)
    }

    /// A write transaction that has saved `save` first, and the state's new version; or why
    /// nothing was saved (then no command may run). For the commands a chat turn runs right
    /// after saving its state: one transaction instead of two, so the turn takes the store's
    /// writer once less, and a redelivered message or a stale state runs nothing.
    pub(super) async fn begin_with_state(
        &self,
        save: &StateSave<'_>,
    ) -> Result<Result<(Tx, i64), NotSaved>, ServiceError> {
        let tx = self.store.begin_write().await?;
        Ok(match self.save_state_in(&tx, save).await? {
            Saved::Version(v) => Ok((tx, v)),
            Saved::Conflict => Err(NotSaved::Conflict),
            Saved::Duplicate => Err(NotSaved::Duplicate),
        })
    }

    /// Ends what [`Services::begin_with_state`] began: commits a command that succeeded; after
    /// one that failed, rolls it back and saves the state alone, as it would have been saved
    /// before the command, so the dialog still hears why.
    pub(super) async fn finish_with_state<T>(
        &self,
        tx: Tx,
        save: &StateSave<'_>,
        version: i64,
        ran: Result<T, ServiceError>,
    ) -> Result<SavedWith<Result<T, ServiceError>>, ServiceError> {
        match ran {
            Ok(done) => {
                tx.commit().await?;
                Ok(SavedWith::Saved(version, Ok(done)))
            }
            Err(failed) => {
                drop(tx);
                Ok(match self.save_state(save).await? {
                    Saved::Version(v) => SavedWith::Saved(v, Err(failed)),
                    Saved::Conflict => SavedWith::Conflict,
                    Saved::Duplicate => SavedWith::Duplicate,
                })
            }
        }
    }

    /// The writes of [`Services::save_state`] in the caller's transaction; on a duplicate or
    /// a conflict nothing is written and the caller must not commit what follows.
    pub(super) async fn save_state_in(
        &self,
        tx: &Tx,
        save: &StateSave<'_>,
    ) -> Result<Saved, ServiceError> {
        let now = self.now();
        if let Some(id) = save.message_id
            && !tx.record_inbound(save.channel, id, now).await?
        {
            return Ok(Saved::Duplicate);
        }
        Ok(
            match tx
                .save_conversation(save.channel, save.user, &save.state, save.expected, now)
                .await?
            {
                Ok(v) => Saved::Version(v),
                Err(_) => Saved::Conflict,
            },
        )
    }
}

/// A dialog state to save: serialized, with the version it was read at and the turn's message
/// id (recorded with it; see [`Services::save_turn`]).
#[derive(Debug, Clone)]
pub struct StateSave<'a> {
    pub channel: Channel,
    pub user: &'a str,
    /// The state as JSON.
    state: String,
    pub expected: Option<i64>,
    pub message_id: Option<&'a str>,
}

impl<'a> StateSave<'a> {
    pub fn new<S: serde::Serialize>(
        channel: Channel,
        user: &'a str,
        state: &S,
        expected: Option<i64>,
        message_id: Option<&'a str>,
    ) -> Result<Self, ServiceError> {
        Ok(Self {
            channel,
            user,
            state: serde_json::to_string(state).map_err(|e| ServiceError::State(e.to_string()))?,
            expected,
            message_id,
        })
    }
}

impl<T> SavedWith<T> {
    /// The command's result through `f`, which may fail.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<SavedWith<U>, E> {
        Ok(match self {
            SavedWith::Saved(v, t) => SavedWith::Saved(v, f(t)?),
            SavedWith::Conflict => SavedWith::Conflict,
            SavedWith::Duplicate => SavedWith::Duplicate,
        })
    }
}

/// Why [`Services::begin_with_state`] saved nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotSaved {
    Conflict,
    Duplicate,
}

impl<T> From<NotSaved> for SavedWith<T> {
    fn from(n: NotSaved) -> Self {
        match n {
            NotSaved::Conflict => SavedWith::Conflict,
            NotSaved::Duplicate => SavedWith::Duplicate,
        }
    }
}

/// How a state saved together with a command went: as [`Saved`], with the command's result
/// when the state was saved.
#[derive(Debug)]
pub enum SavedWith<T> {
    /// The state was saved at this version; the command ran and gave this.
    Saved(i64, T),
    /// Another writer saved the state first: nothing written, the command did not run.
    Conflict,
    /// The message was handled before: nothing written, the command did not run.
    Duplicate,
}

/// Web session tokens already checked against the database, by token hash. A session is never
/// changed or deleted once created, so a hit needs no read; unknown tokens are not remembered
/// (another instance may create them). Bounded: when full it starts over.
#[derive(Debug, Default)]
pub(super) struct WebSessionCache {
    users: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

/// Sessions remembered at most (about 10 MB of hashes and ids).
const MAX_CACHED_SESSIONS: usize = 65_536;

impl WebSessionCache {
    fn get(&self, token_hash: &str) -> Option<String> {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users.get(token_hash).cloned()
    }

    fn insert(&self, token_hash: String, user: String) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        if users.len() >= MAX_CACHED_SESSIONS {
            users.clear();
        }
        users.insert(token_hash, user);
    }
}

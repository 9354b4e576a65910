//! Web chat sessions, the handoff queue and cancels saved by an offer.

use std::collections::HashMap;

use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::FreeSlot;
use crate::domain::Reply;
use crate::domain::events::kinds;
use crate::domain::{CancelReason, Channel, Customer, CustomerId, DeliveryAddress, Order};
use crate::services::handoff::transcript_lines;
use crate::services::secrets::{random_token, sha256_hex};
use crate::services::{Saved, ServiceError, Services, StateView};
use crate::store::{Catalog, TurnWrite, Tx};

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
                kind: kinds::HANDOFF_REQUESTED,
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
    ) -> Result<Result<Begun, NotSaved>, ServiceError> {
        // Before the writer is taken: the turn's answer reads the catalog, and on PostgreSQL a
        // reload would want a second connection while the turn holds one.
        let catalog = self.catalog().await?;
        let tx = self.store.begin_write().await?;
        Ok(match self.save_state_in(&tx, save).await? {
            Saved::Version(version) => Ok(Begun {
                tx,
                version,
                catalog,
            }),
            Saved::Conflict => Err(NotSaved::Conflict),
            Saved::Duplicate => Err(NotSaved::Duplicate),
        })
    }

    /// Saves `save` and runs `command` in the same write transaction ([`Services::begin_with_state`],
    /// then [`Services::finish_with_state`]): the shape of every chat command that must not
    /// run twice for one message.
    pub(super) async fn with_state<T>(
        &self,
        save: &StateSave<'_>,
        customer: CustomerId,
        command: impl AsyncFnOnce(&Tx) -> Result<T, ServiceError>,
    ) -> Result<SavedWith<T>, ServiceError> {
        let begun = match self.begin_with_state(save).await? {
            Ok(begun) => begun,
            Err(not_saved) => return Ok(not_saved.into()),
        };
        let ran = command(&begun.tx).await;
        self.finish_with_state(begun, save, customer, ran).await
    }

    /// Ends what [`Services::begin_with_state`] began: a command that succeeded leaves the
    /// transaction open for the turn's answer to it ([`SavedWith::Open`]); after one that
    /// failed, it rolls back and saves the state alone, as it would have been saved before
    /// the command, so the dialog still hears why.
    pub(super) async fn finish_with_state<T>(
        &self,
        begun: Begun,
        save: &StateSave<'_>,
        customer: CustomerId,
        ran: Result<T, ServiceError>,
    ) -> Result<SavedWith<T>, ServiceError> {
        let Begun {
            tx,
            version,
            catalog,
        } = begun;
        match ran {
            Ok(done) => Ok(SavedWith::Open(
                OpenTurn {
                    tx,
                    channel: save.channel,
                    user: save.user.to_owned(),
                    customer,
                    version,
                    catalog,
                },
                done,
            )),
            Err(failed) => {
                drop(tx);
                Ok(match self.save_state(save).await? {
                    Saved::Version(v) => SavedWith::Refused(v, failed),
                    Saved::Conflict => SavedWith::Conflict,
                    Saved::Duplicate => SavedWith::Duplicate,
                })
            }
        }
    }

    /// The dialog state, orders and addresses as an open turn sees them: after its command,
    /// before its commit (as [`Services::after_command_view`] once it has committed).
    pub async fn open_turn_view<S: DeserializeOwned + Default>(
        &self,
        turn: &OpenTurn,
    ) -> Result<StateView<S>, ServiceError> {
        let read = turn
            .tx
            .state_read(turn.channel, &turn.user, turn.customer)
            .await?;
        Ok(StateView::parse(read, turn.catalog.clone()))
    }

    /// [`Services::free_slots_of`] as an open turn sees them, read in its transaction: a turn
    /// that holds one connection and waits for a second could wait for ever on a small pool.
    pub async fn open_turn_free_slots(
        &self,
        turn: &OpenTurn,
        orders: &[Order],
        addresses: &[DeliveryAddress],
    ) -> Result<HashMap<String, Vec<FreeSlot>>, ServiceError> {
        self.zones_free_slots_in(Some(&turn.tx), orders, addresses)
            .await
    }

    /// Saves the turn's answer to its command in the open turn (the state at the version the
    /// turn began with, and the turn's transcript when it is the turn's last save) and commits:
    /// the command, the state that answers it and the transcript become visible together.
    /// Returns the state's new version.
    pub async fn finish_turn<S: Serialize>(
        &self,
        turn: OpenTurn,
        state: &S,
        transcript: Option<(&str, &[Reply])>,
    ) -> Result<i64, ServiceError> {
        let json = serde_json::to_string(state).map_err(|e| ServiceError::State(e.to_string()))?;
        let lines = match transcript {
            Some((said, replies)) => transcript_lines(said, replies),
            None => vec![],
        };
        let saved = turn
            .tx
            .save_turn(&TurnWrite {
                channel: turn.channel,
                user: &turn.user,
                state: &json,
                expected: Some(turn.version),
                message_id: None,
                transcript: &lines,
                now: self.now(),
                new_customer: None,
            })
            .await?;
        match saved {
            Saved::Version(v) => {
                turn.tx.commit().await?;
                Ok(v)
            }
            // The turn's transaction saved this state already, so no other writer can have
            // saved it since; if one did, nothing of the turn is kept and the customer retries.
            Saved::Conflict | Saved::Duplicate => Err(ServiceError::Concurrent),
        }
    }

    /// Commits an open turn as it stands (a command whose outcome the dialog does nothing
    /// with): the state saved before the command stays.
    pub async fn commit_turn(&self, turn: OpenTurn) -> Result<(), ServiceError> {
        Ok(turn.tx.commit().await?)
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

/// A chat turn's write transaction, still open after the turn's state and its first command
/// were written in it, so that the dialog's answer to the command's outcome is saved in it too
/// ([`Services::finish_turn`]): the turn takes the store's writer once, and the command's
/// effect (an order, an address), the state that answers it and the transcript are committed
/// together. Dropping it rolls all of that back.
#[must_use = "an open turn is rolled back unless finished or committed"]
pub struct OpenTurn {
    tx: Tx,
    channel: Channel,
    user: String,
    customer: CustomerId,
    /// The version the turn's state was saved at.
    version: i64,
    /// The catalog as the turn began (read before its transaction, see `begin_with_state`).
    catalog: Catalog,
}

/// What [`Services::begin_with_state`] began: the write transaction, the version the state was
/// saved at in it, and the catalog read just before.
pub(super) struct Begun {
    pub tx: Tx,
    version: i64,
    catalog: Catalog,
}

impl OpenTurn {
    /// The version the turn's state was saved at, before its command.
    pub fn version(&self) -> i64 {
        self.version
    }
}

impl std::fmt::Debug for OpenTurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenTurn")
            .field("channel", &self.channel)
            .field("user", &self.user)
            .field("version", &self.version)
            .finish_non_exhaustive()
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
    /// The state was saved and the command gave this, in a transaction still open: the turn
    /// saves its answer there and commits ([`Services::finish_turn`]).
    Open(OpenTurn, T),
    /// The command was refused (the reason here) and rolled back; the state was saved alone,
    /// at this version.
    Refused(i64, ServiceError),
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

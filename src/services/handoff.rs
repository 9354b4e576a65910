//! Human handoff use cases: agent accounts and console sessions, the queue, claim / relay /
//! transfer / release, actions on the customer's orders, the SLA apology, the transcript and
//! handling records. Messages for the customer come back as [`Outgoing`]: the caller sends
//! them on the customer's channel (services never talk to channels).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::Reply;
use crate::domain::events::{ChatMessage, kinds};
use crate::domain::{
    AddressId, CancelReason, Channel, Customer, CustomerId, Duty, Fen, Lang, Order, StaffRole,
};
use crate::handoff::{
    self, AgentStats, HandoffConversation, HandoffEntry, HandoffEvent, HandoffOutcome,
    HandoffStatus, Outgoing,
};
use crate::services::secrets::{random_token, sha256_hex};
use crate::services::{Actor, Saved, ServiceError, Services};
use crate::store::repo::{AgentRow, ChatLine, OutboxEvent};
use crate::store::{StoreError, TurnWrite};

/// Why a console request was refused.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error("wrong login or password")]
    BadCredentials,
    #[error("no such conversation in the handoff queue")]
    UnknownConversation,
    /// Lost a claim race, or the entry was taken earlier.
    #[error("this conversation is already taken by {by}")]
    Taken { by: String },
    #[error("this conversation is held by another agent")]
    NotHolder,
    #[error("this conversation is no longer open")]
    Closed,
    #[error("no active agent {0:?}")]
    UnknownAgent(String),
    /// The account's role does not cover the page (a picker at the agent console).
    #[error("this account ({role}) may not use this page")]
    WrongRole { role: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for HandoffError {
    fn from(e: StoreError) -> Self {
        HandoffError::Service(e.into())
    }
}

/// A logged-in agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentSession {
    pub agent_id: i64,
    pub login: String,
    pub name: String,
    /// What the account may do (`None`: an unreadable stored role, which grants nothing).
    pub role: Option<StaffRole>,
    /// Sent back by the console in `X-CSRF-Token` on every write.
    #[serde(skip)]
    pub csrf: String,
}

/// A queue entry as the console lists it.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    #[serde(flatten)]
    pub entry: HandoffEntry,
    pub waiting_secs: i64,
    pub agent_name: Option<String>,
    pub past_sla: bool,
}

/// Everything the console shows about one conversation.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationView {
    pub entry: HandoffEntry,
    pub agent_name: Option<String>,
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub lang: Lang,
    pub transcript: Vec<ChatLine>,
    pub orders: Vec<Order>,
    pub addresses: Vec<(i64, String)>,
}

/// Transcript lines the console loads.
const TRANSCRIPT_LINES: u64 = 200;
const MAX_AGENT_TEXT_CHARS: usize = 2000;

/// An argon2id hash (PHC string) of a password.
pub fn hash_password(password: &str) -> Result<String, HandoffError> {
    use argon2::PasswordHasher;
    let salt_bytes: [u8; 16] = rand::random();
    let salt = argon2::password_hash::SaltString::encode_b64(&salt_bytes)
        .map_err(|e| HandoffError::Invalid(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HandoffError::Invalid(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::password_hash::PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

impl Services {
    // ---- accounts and sessions ----

    /// Creates an agent, or sets the password of one without a password (the demo agents).
    /// An agent who already has a password keeps it unless `reset`.
    /// The role is set (or changed) with the password.
    pub async fn add_agent(
        &self,
        login: &str,
        name: &str,
        password: &str,
        reset: bool,
        role: StaffRole,
    ) -> Result<i64, HandoffError> {
        let login = login.trim();
        if login.is_empty()
            || login.len() > 64
            || !login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(HandoffError::Invalid(
                "a login is 1-64 letters, digits, '.', '_' or '-'".into(),
            ));
        }
        if password.chars().count() < 8 {
            return Err(HandoffError::Invalid(
                "the password needs at least 8 characters".into(),
            ));
        }
        let name = if name.trim().is_empty() {
            login
        } else {
            name.trim()
        };
        let pw = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&pw))
            .await
            .map_err(|e| HandoffError::Invalid(e.to_string()))??;
        let tx = self.store.begin_write().await?;
        let id = match tx.agent_by_login(login).await? {
            Some(a) if a.password_hash.is_some() && !reset => {
                return Err(HandoffError::Invalid(format!(
                    "agent {login:?} exists with a password; pass --reset to replace it"
                )));
            }
            Some(a) => {
                tx.set_agent_password(a.id, name, &hash, role).await?;
                a.id
            }
            None => {
                tx.ensure_agent(login, name, Some(hash), role, self.now())
                    .await?;
                tx.agent_by_login(login)
                    .await?
                    .ok_or(HandoffError::UnknownAgent(login.into()))?
                    .id
            }
        };
        tx.commit().await?;
        Ok(id)
    }

    /// Checks a login and opens a console session: `(cookie token, session)`.
    ///
    /// The account's role must cover `duty` (the page logging in); otherwise no session is
    /// opened and the answer is [`HandoffError::WrongRole`] (after the password check, so it
    /// tells nothing to someone without the password).
    pub async fn agent_login(
        &self,
        login: &str,
        password: &str,
        duty: Duty,
    ) -> Result<(String, AgentSession), HandoffError> {
        let agent = {
            let tx = self.store.begin_read().await?;
            tx.agent_by_login(login.trim()).await?
        };
        let hash = agent
            .as_ref()
            .filter(|a| a.active)
            .and_then(|a| a.password_hash.clone());
        let pw = password.to_owned();
        // Verifying costs tens of milliseconds of CPU: keep it off the async workers.
        let ok = tokio::task::spawn_blocking(move || match hash {
            Some(h) => verify_password(&pw, &h),
            None => false,
        })
        .await
        .unwrap_or(false);
        let Some(agent) = agent.filter(|_| ok) else {
            return Err(HandoffError::BadCredentials);
        };
        check_duty(agent.role, duty)?;
        let token = random_token();
        let csrf = random_token();
        let now = self.now();
        let expires = now + chrono::Duration::hours(i64::from(self.handoff.session_hours));
        let tx = self.store.begin_write().await?;
        tx.insert_agent_session(&sha256_hex(&token), agent.id, &csrf, now, expires)
            .await?;
        tx.log_agent_action(agent.id, None, "login", "", now)
            .await?;
        tx.commit().await?;
        Ok((token, session(agent, csrf)))
    }

    /// The agent of a console session cookie, if valid and unexpired.
    pub async fn agent_session(&self, token: &str) -> Result<Option<AgentSession>, HandoffError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let tx = self.store.begin_read().await?;
        Ok(tx
            .agent_session(&sha256_hex(token), self.now())
            .await?
            .map(|(a, csrf)| session(a, csrf)))
    }

    pub async fn agent_logout(&self, token: &str, agent: i64) -> Result<(), HandoffError> {
        let tx = self.store.begin_write().await?;
        tx.delete_agent_session(&sha256_hex(token)).await?;
        tx.log_agent_action(agent, None, "logout", "", self.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Active agents: `(id, login, name)`.
    pub async fn agents(&self) -> Result<Vec<(i64, String, String)>, HandoffError> {
        let tx = self.store.begin_read().await?;
        Ok(tx
            .all_agents()
            .await?
            .into_iter()
            .filter(|a| a.active)
            .map(|a| (a.id, a.login, a.name))
            .collect())
    }

    // ---- the engine's side ----

    /// The queue entry of a conversation an agent holds right now (the bot must stay silent).
    pub async fn held_by_agent(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<Option<HandoffEntry>, ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(tx
            .open_handoff_of(channel, user)
            .await?
            .filter(|e| e.status == HandoffStatus::Claimed))
    }

    /// A customer message for the agent holding the conversation: stored, and pushed to the
    /// consoles. With `message_id`, recorded in the same transaction; `false` when that
    /// message was relayed before (nothing done).
    pub async fn relay_to_agent(
        &self,
        entry: &HandoffEntry,
        text: &str,
        message_id: Option<&str>,
    ) -> Result<bool, ServiceError> {
        let tx = self.store.begin_write().await?;
        if let Some(id) = message_id
            && !tx.record_inbound(entry.channel, id, self.now()).await?
        {
            return Ok(false);
        }
        tx.insert_chat_lines(
            entry.channel,
            &entry.user,
            &[("customer", None, text)],
            self.now(),
        )
        .await?;
        tx.commit().await?;
        self.handoff_events.publish(HandoffEvent::Message {
            handoff_id: entry.id,
            role: "customer".into(),
            text: text.to_owned(),
        });
        Ok(true)
    }

    /// Writes one bot turn to the transcript: the customer's message and the replies, in one
    /// statement.
    pub async fn record_turn(
        &self,
        channel: Channel,
        user: &str,
        customer_text: &str,
        replies: &[Reply],
    ) -> Result<(), ServiceError> {
        let tx = self.store.begin_write().await?;
        tx.insert_chat_lines(
            channel,
            user,
            &transcript_lines(customer_text, replies),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saves the conversation state if its version is still `expected` and, in the same
    /// transaction, the turn's transcript (as [`Services::record_turn`]): the usual turn then
    /// costs one write transaction instead of two. With `message_id`, the inbound message is
    /// recorded in that transaction too: a turn that fails before saving leaves the message
    /// unrecorded, so the channel's retry is answered instead of being dropped as a duplicate.
    /// With `new_customer` (a first contact), the customer is created there too, with that
    /// language.
    #[allow(clippy::too_many_arguments)] // conversation key, version check, and the turn's writes
    pub async fn save_turn<S: Serialize>(
        &self,
        channel: Channel,
        user: &str,
        state: &S,
        expected: Option<i64>,
        message_id: Option<&str>,
        customer_text: &str,
        replies: &[Reply],
        new_customer: Option<Lang>,
    ) -> Result<Saved, ServiceError> {
        let json = serde_json::to_string(state).map_err(|e| ServiceError::State(e.to_string()))?;
        let transcript = transcript_lines(customer_text, replies);
        Ok(self
            .store
            .save_turn(&TurnWrite {
                channel,
                user,
                state: &json,
                expected,
                message_id,
                transcript: &transcript,
                now: self.now(),
                new_customer,
            })
            .await?)
    }

    /// For a customer waiting in the queue: their place and the expected wait.
    pub async fn queue_standing(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<Option<handoff::Standing>, ServiceError> {
        let tx = self.store.begin_read().await?;
        let Some(e) = tx
            .open_handoff_of(channel, user)
            .await?
            .filter(|e| e.status == HandoffStatus::Waiting)
        else {
            return Ok(None);
        };
        let position = tx.queue_position(&e).await?;
        let recent = tx.recent_handling_secs(20).await?;
        let wait = handoff::estimate_wait(
            position,
            &recent,
            Duration::from_secs(self.handoff.default_wait_secs),
        );
        Ok(Some(handoff::Standing { position, wait }))
    }

    /// Whether a conversation waits for a person (`waiting`) or talks to one (`claimed`).
    pub async fn handoff_status_of(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<Option<String>, ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(tx.open_handoff_status(channel, user).await?)
    }

    // ---- the console ----

    /// Open entries in the order agents should take them.
    pub async fn handoff_queue(&self) -> Result<Vec<QueueItem>, HandoffError> {
        let tx = self.store.begin_read().await?;
        let mut open = tx.open_handoff_entries().await?;
        let agents = tx.all_agents().await?;
        handoff::sort_queue(&mut open);
        let now = self.now();
        let sla =
            chrono::Duration::seconds(i64::try_from(self.handoff.sla_secs).unwrap_or(i64::MAX));
        Ok(open
            .into_iter()
            .map(|e| QueueItem {
                waiting_secs: (now - e.created_at).num_seconds().max(0),
                agent_name: e
                    .agent_id
                    .and_then(|id| agents.iter().find(|a| a.id == id))
                    .map(|a| a.name.clone()),
                past_sla: e.status == HandoffStatus::Waiting && now - e.created_at >= sla,
                entry: e,
            })
            .collect())
    }

    /// One conversation with its transcript and the customer's orders (any agent may look).
    pub async fn handoff_conversation<S: HandoffConversation>(
        &self,
        id: i64,
    ) -> Result<ConversationView, HandoffError> {
        let (entry, customer, agent_name, transcript) = {
            let tx = self.store.begin_read().await?;
            let entry = tx
                .handoff(id)
                .await?
                .ok_or(HandoffError::UnknownConversation)?;
            let customer = tx
                .customer(CustomerId(entry.customer_id))
                .await?
                .ok_or(HandoffError::UnknownConversation)?;
            let agent_name = match entry.agent_id {
                Some(a) => tx.agent(a).await?.map(|a| a.name),
                None => None,
            };
            let transcript = tx
                .transcript(entry.channel, &entry.user, TRANSCRIPT_LINES)
                .await?;
            (entry, customer, agent_name, transcript)
        };
        let orders = self.orders_of(&customer).await?;
        let addresses = self
            .addresses(&customer)
            .await?
            .into_iter()
            .filter_map(|a| Some((a.id?.0, a.text)))
            .collect();
        Ok(ConversationView {
            lang: self.conversation_lang::<S>(&entry, &customer).await,
            entry,
            agent_name,
            customer_name: customer.name,
            customer_phone: customer.phone,
            transcript,
            orders,
            addresses,
        })
    }

    /// Takes a waiting conversation. Of two agents claiming at once exactly one wins; the
    /// other gets [`HandoffError::Taken`].
    pub async fn claim_handoff<S: HandoffConversation>(
        &self,
        agent: &AgentSession,
        id: i64,
    ) -> Result<Outgoing, HandoffError> {
        let now = self.now();
        let tx = self.store.begin_write().await?;
        if !tx.claim_handoff(id, agent.agent_id, now).await? {
            let e = tx
                .handoff(id)
                .await?
                .ok_or(HandoffError::UnknownConversation)?;
            return Err(match (e.status, e.agent_id) {
                (HandoffStatus::Claimed, Some(a)) => HandoffError::Taken {
                    by: tx
                        .agent(a)
                        .await?
                        .map(|a| a.name)
                        .unwrap_or_else(|| format!("agent {a}")),
                },
                _ => HandoffError::Closed,
            });
        }
        let e = tx
            .handoff(id)
            .await?
            .ok_or(HandoffError::UnknownConversation)?;
        let customer = tx.customer(CustomerId(e.customer_id)).await?;
        let note = S::claimed_note(
            customer.as_ref().map(|c| c.lang).unwrap_or_default(),
            &agent.name,
        );
        tx.insert_chat_lines(
            e.channel,
            &e.user,
            &[("system", Some(agent.agent_id), &note.text)],
            now,
        )
        .await?;
        tx.log_agent_action(agent.agent_id, Some(id), "claim", "", now)
            .await?;
        tx.commit().await?;
        self.handoff_events
            .publish(HandoffEvent::Queue { handoff_id: id });
        Ok(Outgoing {
            channel: e.channel,
            user: e.user,
            replies: vec![note],
        })
    }

    /// The entry and customer of a conversation `agent` holds; refuses otherwise.
    async fn held(
        &self,
        agent: &AgentSession,
        id: i64,
    ) -> Result<(HandoffEntry, Customer), HandoffError> {
        let tx = self.store.begin_read().await?;
        let e = tx
            .handoff(id)
            .await?
            .ok_or(HandoffError::UnknownConversation)?;
        match (e.status, e.agent_id) {
            (HandoffStatus::Claimed, Some(a)) if a == agent.agent_id => {}
            (HandoffStatus::Claimed, _) => return Err(HandoffError::NotHolder),
            (HandoffStatus::Waiting, _) => {
                return Err(HandoffError::Invalid("claim the conversation first".into()));
            }
            (HandoffStatus::Closed, _) => return Err(HandoffError::Closed),
        }
        let c = tx
            .customer(CustomerId(e.customer_id))
            .await?
            .ok_or(HandoffError::UnknownConversation)?;
        Ok((e, c))
    }

    /// An agent's message to the customer: stored in the transcript; the caller sends it.
    pub async fn agent_message(
        &self,
        agent: &AgentSession,
        id: i64,
        text: &str,
    ) -> Result<Outgoing, HandoffError> {
        let text: String = text
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .take(MAX_AGENT_TEXT_CHARS)
            .collect();
        if text.trim().is_empty() {
            return Err(HandoffError::Invalid("the message is empty".into()));
        }
        let (e, _) = self.held(agent, id).await?;
        let now = self.now();
        let tx = self.store.begin_write().await?;
        tx.insert_chat_lines(
            e.channel,
            &e.user,
            &[("agent", Some(agent.agent_id), &text)],
            now,
        )
        .await?;
        tx.mark_first_reply(id, now).await?;
        tx.log_agent_action(agent.agent_id, Some(id), "message", &text, now)
            .await?;
        tx.commit().await?;
        self.handoff_events.publish(HandoffEvent::Message {
            handoff_id: id,
            role: "agent".into(),
            text: text.clone(),
        });
        Ok(Outgoing {
            channel: e.channel,
            user: e.user,
            replies: vec![Reply::text(text)],
        })
    }

    /// Hands a held conversation to another active agent.
    pub async fn transfer_handoff(
        &self,
        agent: &AgentSession,
        id: i64,
        to_login: &str,
    ) -> Result<(), HandoffError> {
        self.held(agent, id).await?;
        let tx = self.store.begin_write().await?;
        let to = tx
            .agent_by_login(to_login.trim())
            .await?
            .filter(|a| a.active)
            .ok_or_else(|| HandoffError::UnknownAgent(to_login.into()))?;
        if to.id == agent.agent_id {
            return Err(HandoffError::Invalid("you already hold it".into()));
        }
        if !tx.transfer_handoff(id, agent.agent_id, to.id).await? {
            return Err(HandoffError::NotHolder);
        }
        tx.log_agent_action(agent.agent_id, Some(id), "transfer", &to.login, self.now())
            .await?;
        tx.commit().await?;
        self.handoff_events
            .publish(HandoffEvent::Queue { handoff_id: id });
        Ok(())
    }

    /// Gives the conversation back to the bot, which greets the customer with a summary.
    pub async fn release_handoff<S: HandoffConversation>(
        &self,
        agent: &AgentSession,
        id: i64,
        outcome: HandoffOutcome,
        summary: &str,
    ) -> Result<Outgoing, HandoffError> {
        let (e, customer) = self.held(agent, id).await?;
        let summary: String = summary.chars().take(500).collect();
        let now = self.now();
        {
            let tx = self.store.begin_write().await?;
            if !tx
                .release_handoff(id, agent.agent_id, outcome.code(), now)
                .await?
            {
                return Err(HandoffError::NotHolder);
            }
            tx.log_agent_action(
                agent.agent_id,
                Some(id),
                "release",
                &format!("{}: {summary}", outcome.code()),
                now,
            )
            .await?;
            tx.commit().await?;
        }
        // The bot takes over again from where the dialog state stands.
        let lang = self
            .update_conversation::<S, _, _>(e.channel, &e.user, |s| {
                s.leave_handoff();
                s.lang()
            })
            .await
            .unwrap_or(customer.lang);
        let note = S::released_note(lang, &agent.name, &summary);
        let tx = self.store.begin_write().await?;
        tx.insert_chat_lines(e.channel, &e.user, &[("bot", None, &note.text)], now)
            .await?;
        tx.commit().await?;
        self.handoff_events
            .publish(HandoffEvent::Queue { handoff_id: id });
        Ok(Outgoing {
            channel: e.channel,
            user: e.user,
            replies: vec![note],
        })
    }

    async fn conversation_lang<S: HandoffConversation>(
        &self,
        e: &HandoffEntry,
        c: &Customer,
    ) -> Lang {
        match self.load_conversation::<S>(e.channel, &e.user).await {
            Ok((s, Some(_))) => s.lang(),
            _ => c.lang,
        }
    }

    async fn log_action(
        &self,
        agent: &AgentSession,
        id: i64,
        action: &str,
        detail: &str,
    ) -> Result<(), HandoffError> {
        let tx = self.store.begin_write().await?;
        tx.log_agent_action(agent.agent_id, Some(id), action, detail, self.now())
            .await?;
        tx.commit().await?;
        self.handoff_events
            .publish(HandoffEvent::Queue { handoff_id: id });
        Ok(())
    }

    /// Moves one of the held customer's orders to another slot.
    pub async fn agent_reschedule(
        &self,
        agent: &AgentSession,
        id: i64,
        number: &str,
        slot_start: DateTime<Utc>,
    ) -> Result<Order, HandoffError> {
        let (_, customer) = self.held(agent, id).await?;
        let order = self.reschedule(&customer, number, slot_start).await?;
        self.log_action(
            agent,
            id,
            "reschedule",
            &format!("{number} -> {slot_start}"),
        )
        .await?;
        Ok(order)
    }

    /// Cancels one of the held customer's orders, waiving the fee if the agent decides so.
    pub async fn agent_cancel(
        &self,
        agent: &AgentSession,
        id: i64,
        number: &str,
        reason: CancelReason,
        waive_fee: bool,
    ) -> Result<(Order, Fen), HandoffError> {
        let (_, customer) = self.held(agent, id).await?;
        // Only this customer's orders: an agent acts inside the conversation it holds.
        self.order_of(&customer, number).await?;
        let r = self
            .cancel_as(
                Actor::Agent(crate::domain::AgentId(agent.agent_id)),
                number,
                reason,
                Some(format!("by agent {}", agent.login)),
                waive_fee,
            )
            .await?;
        self.log_action(
            agent,
            id,
            "cancel",
            &format!(
                "{number} reason={} waive_fee={waive_fee} fee_fen={}",
                reason.code(),
                r.1.get()
            ),
        )
        .await?;
        Ok(r)
    }

    /// Sends one of the held customer's orders to another of their addresses.
    pub async fn agent_change_address(
        &self,
        agent: &AgentSession,
        id: i64,
        number: &str,
        address: AddressId,
    ) -> Result<Order, HandoffError> {
        let (_, customer) = self.held(agent, id).await?;
        let order = self.change_address(&customer, number, address).await?;
        self.log_action(
            agent,
            id,
            "change_address",
            &format!("{number} -> {}", address.0),
        )
        .await?;
        Ok(order)
    }

    /// Notes a refund for finance (an outbox event) on one of the held customer's orders.
    pub async fn agent_note_refund(
        &self,
        agent: &AgentSession,
        id: i64,
        number: &str,
        amount_fen: i64,
        note: &str,
    ) -> Result<(), HandoffError> {
        let (_, customer) = self.held(agent, id).await?;
        let order = self.order_of(&customer, number).await?;
        if amount_fen <= 0 || amount_fen > order.totals.total.get() {
            return Err(HandoffError::Invalid(format!(
                "a refund is between 1 fen and the order total ({} fen)",
                order.totals.total.get()
            )));
        }
        let note: String = note.chars().take(500).collect();
        let now = self.now();
        let tx = self.store.begin_write().await?;
        tx.enqueue(
            &OutboxEvent {
                kind: kinds::REFUND_NOTED,
                customer: Some(customer.id),
                order: Some(order.id),
                payload: serde_json::json!({
                    "number": number, "amount_fen": amount_fen, "note": note, "agent": agent.login,
                }),
            },
            now,
        )
        .await?;
        tx.log_agent_action(
            agent.agent_id,
            Some(id),
            "refund_note",
            &format!("{number} {amount_fen} fen: {note}"),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Per-agent handling records: first reply time, handling time, outcomes.
    pub async fn agent_stats(&self) -> Result<Vec<AgentStats>, HandoffError> {
        let tx = self.store.begin_read().await?;
        let agents: Vec<(i64, String, String)> = tx
            .all_agents()
            .await?
            .into_iter()
            .map(|a| (a.id, a.login, a.name))
            .collect();
        let entries = tx.handled_entries().await?;
        Ok(handoff::agent_stats(&agents, &entries))
    }

    /// Apologises once to every customer still unclaimed past the SLA. The apology goes
    /// through the outbox, written in the transaction that marks the entry: a second sweeper
    /// finds it marked, and a failing channel has it retried instead of lost. Returns how many
    /// apologies were written.
    pub async fn sweep_handoff_sla<S: HandoffConversation>(&self) -> Result<usize, ServiceError> {
        let now = self.now();
        let cutoff = now
            - chrono::Duration::seconds(i64::try_from(self.handoff.sla_secs).unwrap_or(i64::MAX));
        let due = {
            let tx = self.store.begin_read().await?;
            tx.handoffs_past_sla(cutoff).await?
        };
        let mut written = 0;
        for e in due {
            let customer = {
                let tx = self.store.begin_read().await?;
                tx.customer(CustomerId(e.customer_id)).await?
            };
            let lang = match &customer {
                Some(c) => self.conversation_lang::<S>(&e, c).await,
                None => Lang::default(),
            };
            let apology = S::sla_apology(lang);
            let tx = self.store.begin_write().await?;
            if !tx.mark_sla_apology(e.id, now).await? {
                continue;
            }
            tx.insert_chat_lines(e.channel, &e.user, &[("bot", None, &apology.text)], now)
                .await?;
            let message = ChatMessage {
                channel: e.channel,
                user: e.user.clone(),
                replies: vec![apology],
            };
            tx.enqueue(
                &OutboxEvent {
                    kind: kinds::CHAT_MESSAGE,
                    customer: customer.map(|c| c.id),
                    order: None,
                    payload: serde_json::to_value(&message)
                        .map_err(|e| ServiceError::State(e.to_string()))?,
                },
                now,
            )
            .await?;
            tx.commit().await?;
            written += 1;
            self.handoff_events
                .publish(HandoffEvent::Queue { handoff_id: e.id });
        }
        Ok(written)
    }

    /// Logged agent actions `(agent, handoff, action, detail)`, for audits and tests.
    pub async fn agent_action_log(
        &self,
    ) -> Result<Vec<(i64, Option<i64>, String, String)>, HandoffError> {
        let tx = self.store.begin_read().await?;
        Ok(tx.agent_actions().await?)
    }

    /// The transcript of a conversation, oldest first.
    pub async fn transcript(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<Vec<ChatLine>, ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(tx.transcript(channel, user, TRANSCRIPT_LINES).await?)
    }

    /// Publishes that the queue changed (a customer joined or left it).
    pub(crate) fn handoff_queue_changed(&self, handoff_id: i64) {
        self.handoff_events
            .publish(HandoffEvent::Queue { handoff_id });
    }
}

fn session(a: AgentRow, csrf: String) -> AgentSession {
    AgentSession {
        agent_id: a.id,
        login: a.login,
        name: a.name,
        role: a.role,
        csrf,
    }
}

impl AgentSession {
    /// The session itself when its role covers `duty`, else [`HandoffError::WrongRole`].
    pub fn for_duty(self, duty: Duty) -> Result<Self, HandoffError> {
        check_duty(self.role, duty)?;
        Ok(self)
    }
}

/// A role covers the duty, or [`HandoffError::WrongRole`] (an unreadable role covers nothing).
fn check_duty(role: Option<StaffRole>, duty: Duty) -> Result<(), HandoffError> {
    match role {
        Some(r) if r.may(duty) => Ok(()),
        r => Err(HandoffError::WrongRole {
            role: r.map_or("unknown".to_owned(), |r| r.code().to_owned()),
        }),
    }
}

/// The transcript rows of one bot turn: the customer's message, then each reply.
pub(super) fn transcript_lines<'a>(
    customer_text: &'a str,
    replies: &'a [Reply],
) -> Vec<(&'a str, Option<i64>, &'a str)> {
    let mut lines = Vec::with_capacity(replies.len() + 1);
    lines.push(("customer", None, customer_text));
    lines.extend(replies.iter().map(|r| ("bot", None, r.text.as_str())));
    lines
}

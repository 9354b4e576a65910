//! Human handoff: agents and their console sessions, claims on queue entries, the chat
//! transcript and the log of agent actions.

use super::OneRow;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, InsertMany, QueryFilter, QueryOrder,
    QuerySelect, Select, sea_query::Expr,
};

use crate::domain::{Channel, StaffRole};
use crate::handoff::{HandoffEntry, HandoffStatus};
use crate::store::entities::{agent_actions, agent_sessions, agents, chat_messages, handoff_queue};
use crate::store::inline_sqlite::Inline;
use crate::store::repo::corrupt;
use crate::store::{StoreError, Tx};

/// An agent account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub active: bool,
    /// An unreadable stored role grants nothing (`None`).
    pub role: Option<StaffRole>,
}

impl From<agents::Model> for AgentRow {
    fn from(a: agents::Model) -> Self {
        Self {
            id: a.id,
            login: a.username,
            name: a.display_name,
            password_hash: a.password_hash,
            active: a.active,
            role: a.role.parse().ok(),
        }
    }
}

/// One transcript line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChatLine {
    pub id: i64,
    /// customer | bot | agent | system
    pub role: String,
    pub agent_id: Option<i64>,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// The open entry (waiting or claimed) of a conversation, newest first.
fn open_handoff_of(channel: Channel, user: &str) -> Select<handoff_queue::Entity> {
    handoff_queue::Entity::find()
        .filter(handoff_queue::Column::Channel.eq(channel.code()))
        .filter(handoff_queue::Column::ExternalUser.eq(user))
        .filter(handoff_queue::Column::Status.is_in(["waiting", "claimed"]))
        .order_by_desc(handoff_queue::Column::Id)
}

/// `lines`: `(role, agent id, text)`; not empty.
fn new_chat_lines(
    channel: Channel,
    user: &str,
    lines: &[(&str, Option<i64>, &str)],
    now: DateTime<Utc>,
) -> InsertMany<chat_messages::ActiveModel> {
    chat_messages::Entity::insert_many(lines.iter().map(|(role, agent, text)| {
        chat_messages::ActiveModel {
            channel: Set(channel.code().to_owned()),
            external_user: Set(user.to_owned()),
            role: Set((*role).to_owned()),
            agent_id: Set(*agent),
            text: Set((*text).to_owned()),
            at: Set(now),
            ..Default::default()
        }
    }))
}

fn entry(m: handoff_queue::Model) -> Result<HandoffEntry, StoreError> {
    Ok(HandoffEntry {
        id: m.id,
        channel: m.channel.parse().map_err(|e| corrupt("handoff_queue", e))?,
        status: HandoffStatus::parse(&m.status)
            .ok_or_else(|| corrupt("handoff_queue", format!("status {:?}", m.status)))?,
        user: m.external_user,
        customer_id: m.customer_id,
        reason: m.reason,
        summary: m.summary,
        priority: m.priority,
        agent_id: m.agent_id,
        created_at: m.created_at,
        claimed_at: m.claimed_at,
        closed_at: m.closed_at,
        first_reply_at: m.first_reply_at,
        sla_apology_at: m.sla_apology_at,
        outcome: m.outcome,
    })
}

fn entries(rows: Vec<handoff_queue::Model>) -> Result<Vec<HandoffEntry>, StoreError> {
    rows.into_iter().map(entry).collect()
}

impl Tx {
    pub async fn agent_by_login(&self, login: &str) -> Result<Option<AgentRow>, StoreError> {
        Ok(agents::Entity::find()
            .filter(agents::Column::Username.eq(login))
            .one(self.c())
            .await?
            .map(AgentRow::from))
    }

    pub async fn agent(&self, id: i64) -> Result<Option<AgentRow>, StoreError> {
        Ok(agents::Entity::find_by_id(id)
            .one_row(self.c())
            .await?
            .map(AgentRow::from))
    }

    pub async fn all_agents(&self) -> Result<Vec<AgentRow>, StoreError> {
        Ok(agents::Entity::find()
            .order_by_asc(agents::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(AgentRow::from)
            .collect())
    }

    pub async fn set_agent_password(
        &self,
        id: i64,
        name: &str,
        hash: &str,
        role: StaffRole,
    ) -> Result<(), StoreError> {
        agents::Entity::update_many()
            .col_expr(agents::Column::PasswordHash, Expr::value(hash.to_owned()))
            .col_expr(agents::Column::Role, Expr::value(role.code()))
            .col_expr(agents::Column::DisplayName, Expr::value(name.to_owned()))
            .col_expr(agents::Column::Active, Expr::value(true))
            .filter(agents::Column::Id.eq(id))
            .exec(self.c())
            .await?;
        Ok(())
    }

    pub async fn insert_agent_session(
        &self,
        token_hash: &str,
        agent: i64,
        csrf: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        agent_sessions::Entity::insert(agent_sessions::ActiveModel {
            token_hash: Set(token_hash.to_owned()),
            agent_id: Set(agent),
            csrf: Set(csrf.to_owned()),
            created_at: Set(now),
            expires_at: Set(expires),
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// The agent and CSRF token of an unexpired session.
    pub async fn agent_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(AgentRow, String)>, StoreError> {
        let Some(s) = agent_sessions::Entity::find_by_id(token_hash.to_owned())
            .filter(agent_sessions::Column::ExpiresAt.gt(now))
            .one_row(self.c())
            .await?
        else {
            return Ok(None);
        };
        Ok(self
            .agent(s.agent_id)
            .await?
            .filter(|a| a.active)
            .map(|a| (a, s.csrf)))
    }

    pub async fn delete_agent_session(&self, token_hash: &str) -> Result<(), StoreError> {
        agent_sessions::Entity::delete_by_id(token_hash.to_owned())
            .exec(self.c())
            .await?;
        Ok(())
    }

    pub async fn handoff(&self, id: i64) -> Result<Option<HandoffEntry>, StoreError> {
        handoff_queue::Entity::find_by_id(id)
            .one(self.c())
            .await?
            .map(entry)
            .transpose()
    }

    /// The open entry (waiting or claimed) of a conversation.
    pub async fn open_handoff_of(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<Option<HandoffEntry>, StoreError> {
        open_handoff_of(channel, user)
            .one_row(self.c())
            .await?
            .map(entry)
            .transpose()
    }

    /// Open entries, in no particular order (see `handoff::sort_queue`).
    pub async fn open_handoff_entries(&self) -> Result<Vec<HandoffEntry>, StoreError> {
        entries(
            handoff_queue::Entity::find()
                .filter(handoff_queue::Column::Status.is_in(["waiting", "claimed"]))
                .all(self.c())
                .await?,
        )
    }

    /// Entries an agent ever held (open and closed): the handling records.
    pub async fn handled_entries(&self) -> Result<Vec<HandoffEntry>, StoreError> {
        entries(
            handoff_queue::Entity::find()
                .filter(handoff_queue::Column::AgentId.is_not_null())
                .all(self.c())
                .await?,
        )
    }

    /// Seconds from claim to close of the most recently closed conversations.
    pub async fn recent_handling_secs(&self, limit: u64) -> Result<Vec<i64>, StoreError> {
        Ok(handoff_queue::Entity::find()
            .filter(handoff_queue::Column::Status.eq("closed"))
            .filter(handoff_queue::Column::ClaimedAt.is_not_null())
            .order_by_desc(handoff_queue::Column::ClosedAt)
            .limit(limit)
            .all(self.c())
            .await?
            .into_iter()
            .filter_map(|h| Some((h.closed_at? - h.claimed_at?).num_seconds()))
            .collect())
    }

    /// Takes a waiting entry for `agent`. Only one claimant can change the row from `waiting`,
    /// so exactly one of two racing agents gets `true`.
    pub async fn claim_handoff(
        &self,
        id: i64,
        agent: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let r = handoff_queue::Entity::update_many()
            .col_expr(handoff_queue::Column::Status, Expr::value("claimed"))
            .col_expr(handoff_queue::Column::AgentId, Expr::value(Some(agent)))
            .col_expr(handoff_queue::Column::ClaimedAt, Expr::value(Some(now)))
            .filter(handoff_queue::Column::Id.eq(id))
            .filter(handoff_queue::Column::Status.eq("waiting"))
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Hands a claimed entry from `from` to `to`; `false` if `from` no longer holds it.
    pub async fn transfer_handoff(&self, id: i64, from: i64, to: i64) -> Result<bool, StoreError> {
        let r = handoff_queue::Entity::update_many()
            .col_expr(handoff_queue::Column::AgentId, Expr::value(Some(to)))
            .filter(handoff_queue::Column::Id.eq(id))
            .filter(handoff_queue::Column::Status.eq("claimed"))
            .filter(handoff_queue::Column::AgentId.eq(from))
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Closes a claimed entry held by `agent`; `false` if the agent no longer holds it.
    pub async fn release_handoff(
        &self,
        id: i64,
        agent: i64,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let r = handoff_queue::Entity::update_many()
            .col_expr(handoff_queue::Column::Status, Expr::value("closed"))
            .col_expr(handoff_queue::Column::ClosedAt, Expr::value(Some(now)))
            .col_expr(
                handoff_queue::Column::Outcome,
                Expr::value(Some(outcome.to_owned())),
            )
            .filter(handoff_queue::Column::Id.eq(id))
            .filter(handoff_queue::Column::Status.eq("claimed"))
            .filter(handoff_queue::Column::AgentId.eq(agent))
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Records the holding agent's first message (later messages leave it as it is).
    pub async fn mark_first_reply(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        handoff_queue::Entity::update_many()
            .col_expr(handoff_queue::Column::FirstReplyAt, Expr::value(Some(now)))
            .filter(handoff_queue::Column::Id.eq(id))
            .filter(handoff_queue::Column::FirstReplyAt.is_null())
            .exec(self.c())
            .await?;
        Ok(())
    }

    /// Waiting entries created before `cutoff` that have had no apology yet.
    pub async fn handoffs_past_sla(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<HandoffEntry>, StoreError> {
        entries(
            handoff_queue::Entity::find()
                .filter(handoff_queue::Column::Status.eq("waiting"))
                .filter(handoff_queue::Column::CreatedAt.lte(cutoff))
                .filter(handoff_queue::Column::SlaApologyAt.is_null())
                .all(self.c())
                .await?,
        )
    }

    /// Marks the apology as sent; `false` if another sweeper got there first.
    pub async fn mark_sla_apology(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let r = handoff_queue::Entity::update_many()
            .col_expr(handoff_queue::Column::SlaApologyAt, Expr::value(Some(now)))
            .filter(handoff_queue::Column::Id.eq(id))
            .filter(handoff_queue::Column::SlaApologyAt.is_null())
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// The place of a waiting entry: entries before it in queue order, plus one.
    pub async fn queue_position(&self, e: &HandoffEntry) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait;
        let ahead = handoff_queue::Entity::find()
            .filter(handoff_queue::Column::Status.eq("waiting"))
            .filter(
                Condition::any()
                    .add(handoff_queue::Column::Priority.gt(e.priority))
                    .add(
                        Condition::all()
                            .add(handoff_queue::Column::Priority.eq(e.priority))
                            .add(handoff_queue::Column::CreatedAt.lt(e.created_at)),
                    ),
            )
            .count(self.c())
            .await?;
        Ok(ahead + 1)
    }

    /// Appends transcript lines of one conversation in one statement.
    pub async fn insert_chat_lines(
        &self,
        channel: Channel,
        user: &str,
        lines: &[(&str, Option<i64>, &str)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if lines.is_empty() {
            return Ok(());
        }
        new_chat_lines(channel, user, lines, now)
            .exec_without_returning(self.c())
            .await?;
        Ok(())
    }

    /// The last `limit` transcript lines of a conversation, oldest first.
    pub async fn transcript(
        &self,
        channel: Channel,
        user: &str,
        limit: u64,
    ) -> Result<Vec<ChatLine>, StoreError> {
        let mut lines: Vec<ChatLine> = chat_messages::Entity::find()
            .filter(chat_messages::Column::Channel.eq(channel.code()))
            .filter(chat_messages::Column::ExternalUser.eq(user))
            .order_by_desc(chat_messages::Column::Id)
            .limit(limit)
            .all(self.c())
            .await?
            .into_iter()
            .map(|m| ChatLine {
                id: m.id,
                role: m.role,
                agent_id: m.agent_id,
                text: m.text,
                at: m.at,
            })
            .collect();
        lines.reverse();
        Ok(lines)
    }

    pub async fn log_agent_action(
        &self,
        agent: i64,
        handoff: Option<i64>,
        action: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        agent_actions::Entity::insert(agent_actions::ActiveModel {
            agent_id: Set(agent),
            handoff_id: Set(handoff),
            action: Set(action.to_owned()),
            detail: Set(detail.to_owned()),
            at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// Logged actions, oldest first: `(agent, handoff, action, detail)`.
    pub async fn agent_actions(
        &self,
    ) -> Result<Vec<(i64, Option<i64>, String, String)>, StoreError> {
        Ok(agent_actions::Entity::find()
            .order_by_asc(agent_actions::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(|a| (a.agent_id, a.handoff_id, a.action, a.detail))
            .collect())
    }
}

/// The same read and write on the inline SQLite path of a chat turn.
impl Inline<'_> {
    pub(crate) fn open_handoff_of(
        &self,
        channel: Channel,
        user: &str,
    ) -> Result<Option<HandoffEntry>, StoreError> {
        self.all(open_handoff_of(channel, user))?
            .into_iter()
            .next()
            .map(entry)
            .transpose()
    }

    pub(crate) fn insert_chat_lines(
        &self,
        channel: Channel,
        user: &str,
        lines: &[(&str, Option<i64>, &str)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if !lines.is_empty() {
            self.execute(&new_chat_lines(channel, user, lines, now))?;
        }
        Ok(())
    }
}

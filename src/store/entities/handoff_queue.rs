//! `handoff_queue` table: conversations waiting for or held by a human agent.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "handoff_queue")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel: String,
    pub external_user: String,
    pub customer_id: i64,
    pub reason: String,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    pub priority: i32,
    pub status: String,
    pub agent_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub claimed_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// When the holding agent first wrote to the customer.
    pub first_reply_at: Option<DateTimeUtc>,
    /// When the customer was told sorry for waiting past the SLA (at most once).
    pub sla_apology_at: Option<DateTimeUtc>,
    /// How a closed entry ended: resolved, unresolved, customer_left.
    pub outcome: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `pick_events` table: every scan and its verdict.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "pick_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    pub order_id: i64,
    pub expected_sku: String,
    pub scanned_sku: String,
    pub expected_milli: i64,
    pub scanned_milli: i64,
    pub outcome: String,
    pub picker: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

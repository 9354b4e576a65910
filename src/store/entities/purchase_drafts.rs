//! `purchase_drafts` table: the replenishment plan's purchase lines per day.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "purchase_drafts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_date: String,
    pub sku: String,
    pub packs: i32,
    pub qty_milli: i64,
    pub arrives: String,
    pub total_fen: i64,
    pub capped_by_shelf_life: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `purchase_orders` table: confirmed purchases from suppliers and what has arrived of them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "purchase_orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub supplier: String,
    pub sku: String,
    pub plan_date: Option<String>,
    pub packs: i32,
    pub qty_milli: i64,
    pub received_milli: i64,
    pub total_fen: i64,
    pub arrives: String,
    pub status: String,
    pub confirmed_by: String,
    pub confirmed_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

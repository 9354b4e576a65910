//! `order_lines` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub line_no: i32,
    pub sku: String,
    pub name_zh: String,
    pub name_en: String,
    pub qty_milli: i64,
    pub unit: String,
    pub unit_price_fen: i64,
    pub line_fen: i64,
    pub substitute_for: Option<String>,
    pub picked_milli: Option<i64>,
    pub removed: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

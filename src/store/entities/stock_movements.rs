//! `stock_movements` table: received, spoiled and adjusted stock (signed quantities).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "stock_movements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sku: String,
    pub kind: String,
    pub qty_milli: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub actor: String,
    pub at: DateTimeUtc,
    /// Last local day a receipt can be sold (`YYYY-MM-DD`), when known.
    pub expires_on: Option<String>,
    /// The purchase order a receipt delivered.
    pub purchase_order_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

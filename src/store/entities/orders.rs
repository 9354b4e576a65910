//! `orders` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub number: String,
    pub customer_id: i64,
    pub status: String,
    pub channel: String,
    pub address_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub address_text: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub zone: String,
    pub slot_start: DateTimeUtc,
    pub slot_end: DateTimeUtc,
    pub goods_fen: i64,
    pub delivery_fee_fen: i64,
    pub total_fen: i64,
    pub cancel_fee_fen: i64,
    pub auto_substitute: bool,
    pub tracking_token: String,
    pub courier_id: Option<i64>,
    /// When the courier is expected at the door (set by dispatch).
    pub eta_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub dispatched_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `pick_tasks` table: one row per order line of a picking wave, in route order.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pick_tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub wave_id: i64,
    pub batch_no: i32,
    pub zone: Option<String>,
    pub route_method: String,
    pub route_seq: i32,
    pub order_id: i64,
    pub order_number: String,
    pub line_no: i32,
    pub sku: String,
    pub expected_milli: i64,
    pub tolerance_milli: i64,
    pub picked_milli: Option<i64>,
    pub status: String,
    pub scanned_by: Option<String>,
    pub scanned_at: Option<DateTimeUtc>,
    /// Where to pick, fixed when the wave was planned (absent on older rows).
    pub aisle: Option<i32>,
    pub position: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

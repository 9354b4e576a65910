//! `route_stops` table: one order's place in a courier's route.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "route_stops")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub route_id: i64,
    pub order_id: i64,
    /// 1-based visiting order.
    pub seq: i32,
    pub bags: i32,
    pub window_start: DateTimeUtc,
    pub window_end: DateTimeUtc,
    /// The ETA planned at dispatch.
    pub planned_eta: DateTimeUtc,
    /// The current estimate.
    pub eta: DateTimeUtc,
    /// The estimate the customer was last told.
    pub told_eta: DateTimeUtc,
    /// `pending`, `arrived`, `delivered` or `failed`.
    pub status: String,
    pub arrived_at: Option<DateTimeUtc>,
    pub done_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

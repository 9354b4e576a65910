//! `delivery_routes` table: one courier's route of one delivery wave.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery_routes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub courier_id: i64,
    pub slot_start: DateTimeUtc,
    pub slot_end: DateTimeUtc,
    /// `active` while stops remain, then `done`.
    pub status: String,
    pub planned_distance_m: f64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

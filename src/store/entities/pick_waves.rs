//! `pick_waves` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pick_waves")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slot_start: DateTimeUtc,
    pub capacity: f64,
    pub orders: i32,
    pub batches: i32,
    pub total_length: f64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

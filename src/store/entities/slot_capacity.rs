//! `slot_capacity` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "slot_capacity")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slot_start: DateTimeUtc,
    pub slot_end: DateTimeUtc,
    pub zone: String,
    pub capacity: i32,
    pub booked: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

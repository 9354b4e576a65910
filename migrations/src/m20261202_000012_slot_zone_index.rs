//! Slot usage by zone: every chat turn of a customer with an address reads the usage of the
//! week's slots in that zone (`zone = ? AND slot_start >= ? AND slot_start < ?`). The unique
//! index leads with `slot_start`, so that read walked the index entries of every zone in the
//! week and looked each matching row up. This index leads with the zone and holds every
//! column the read selects (the rowid is in every index), so the read is one short range of
//! the index and never touches the table.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000012_slot_zone_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_slot_capacity_zone")
                .table("slot_capacity")
                .col("zone")
                .col("slot_start")
                .col("slot_end")
                .col("capacity")
                .col("booked")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_slot_capacity_zone")
                .table("slot_capacity")
                .to_owned(),
        )
        .await
    }
}

//! One row per scheduled job of `serve` (waves, sweeps): which instance runs it, and until
//! when. Several instances on one PostgreSQL each tick, but only the holder of a live lease
//! does the work; when it dies its lease runs out and another instance takes the job over.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000015_job_leases"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("job_leases")
                .if_not_exists()
                .col(ColumnDef::new("job").string().not_null().primary_key())
                .col(ColumnDef::new("holder").string().not_null())
                .col(
                    ColumnDef::new("until")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("job_leases").to_owned())
            .await
    }
}

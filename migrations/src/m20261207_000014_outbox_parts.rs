//! How far a multi-message outbox event got with one recipient. A courier's route is several
//! messages; when the third failed, the retry sent the first two again. `parts_sent` counts the
//! replies the channel accepted (status `partial` until all of them are), so a retry resumes
//! after them.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000014_outbox_parts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("outbox_deliveries")
                .add_column(ColumnDef::new("parts_sent").integer().not_null().default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("outbox_deliveries")
                .drop_column("parts_sent")
                .to_owned(),
        )
        .await
    }
}

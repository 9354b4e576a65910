//! Outbox deliveries: which recipient of an outbox event already got it, so a retry after a
//! partial failure (Telegram sent, WeChat timed out) never sends the same message twice.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000004_outbox_deliveries"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("outbox_deliveries")
                .if_not_exists()
                .col(big_integer("outbox_id"))
                .col(string("channel"))
                .col(string("external_user"))
                // `sent` or `undeliverable` (with the reason in `detail`).
                .col(string("status"))
                .col(text_null("detail"))
                .col(timestamp_with_time_zone("at"))
                .primary_key(
                    Index::create()
                        .col("outbox_id")
                        .col("channel")
                        .col("external_user"),
                )
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("outbox_deliveries").if_exists().take())
            .await
    }
}

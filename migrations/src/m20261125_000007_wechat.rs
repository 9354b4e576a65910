//! Per-channel facts about a customer that the WeChat family of channels needs across
//! instances: when they last wrote (WeChat's 48-hour reply window) and the buttons last shown to
//! them as numbered options (so a bare "2" maps back to the button, whichever instance sees it).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000007_wechat"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("channel_contacts")
                .if_not_exists()
                .col(string("channel"))
                .col(string("external_user"))
                .col(timestamp_with_time_zone_null("last_inbound_at"))
                // JSON array of button payloads, numbered from 1 in order.
                .col(text("last_buttons"))
                .col(timestamp_with_time_zone("updated_at"))
                .primary_key(Index::create().col("channel").col("external_user"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("channel_contacts").if_exists().take())
            .await
    }
}

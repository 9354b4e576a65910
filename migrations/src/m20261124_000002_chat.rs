//! Chat: web chat sessions, the human handoff queue, and cancels that an offer prevented.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000002_chat"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("web_sessions")
                .if_not_exists()
                .col(string("token_hash").primary_key())
                .col(string("user_id"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("handoff_queue")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("channel"))
                .col(string("external_user"))
                .col(big_integer("customer_id"))
                .col(string("reason"))
                .col(text("summary"))
                .col(integer("priority"))
                .col(string("status"))
                .col(big_integer_null("agent_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("claimed_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_handoff_status")
                .table("handoff_queue")
                .col("status")
                .col("created_at")
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("cancel_saves")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("order_id"))
                .col(string("reason"))
                .col(string("offer"))
                .col(timestamp_with_time_zone("at"))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["cancel_saves", "handoff_queue", "web_sessions"] {
            m.drop_table(Table::drop().table(t).if_exists().take())
                .await?;
        }
        Ok(())
    }
}

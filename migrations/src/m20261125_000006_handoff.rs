//! Human handoff: agent sessions, the chat transcript, the log of agent actions, and the
//! columns that turn a queue entry into a record of how it was handled.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000006_handoff"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("agent_sessions")
                .if_not_exists()
                .col(string("token_hash").primary_key())
                .col(big_integer("agent_id"))
                .col(string("csrf"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("chat_messages")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("channel"))
                .col(string("external_user"))
                // customer | bot | agent | system
                .col(string("role"))
                .col(big_integer_null("agent_id"))
                .col(text("text"))
                .col(timestamp_with_time_zone("at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_chat_messages_conversation")
                .table("chat_messages")
                .col("channel")
                .col("external_user")
                .col("id")
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("agent_actions")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("agent_id"))
                .col(big_integer_null("handoff_id"))
                .col(string("action"))
                .col(text("detail"))
                .col(timestamp_with_time_zone("at"))
                .take(),
        )
        .await?;
        // Every turn asks whether an agent holds the conversation: keep that lookup indexed.
        m.create_index(
            Index::create()
                .name("ix_handoff_conversation")
                .table("handoff_queue")
                .col("channel")
                .col("external_user")
                .col("status")
                .take(),
        )
        .await?;
        // SQLite adds one column per ALTER TABLE.
        for col in [
            timestamp_with_time_zone_null("first_reply_at"),
            timestamp_with_time_zone_null("sla_apology_at"),
            string_null("outcome"),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table("handoff_queue")
                    .add_column(&mut col)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in ["first_reply_at", "sla_apology_at", "outcome"] {
            m.alter_table(Table::alter().table("handoff_queue").drop_column(c).take())
                .await?;
        }
        m.drop_index(
            Index::drop()
                .name("ix_handoff_conversation")
                .table("handoff_queue")
                .to_owned(),
        )
        .await?;
        for t in ["agent_actions", "chat_messages", "agent_sessions"] {
            m.drop_table(Table::drop().table(t).if_exists().take())
                .await?;
        }
        Ok(())
    }
}

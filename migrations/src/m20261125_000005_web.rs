//! Web channel: pushes waiting for (or already shown to) web chat customers, and what the
//! tracking page shows about a dispatched order.
//!
//! Pushes live in a table rather than in memory so that any instance behind a load balancer
//! can deliver a push stored by another, and a reconnecting page can resume where it stopped.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000005_web"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("web_pushes")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("user_id"))
                .col(text("body"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_web_pushes_user")
                .table("web_pushes")
                .col("user_id")
                .col("id")
                .take(),
        )
        .await?;
        // `orders.courier_id` exists since the initial schema; the promised arrival time is
        // new. SQLite alters one column per statement.
        if !m.has_column("orders", "eta_at").await? {
            m.alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(timestamp_with_time_zone_null("eta_at"))
                    .take(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("orders").drop_column("eta_at").take())
            .await?;
        m.drop_table(Table::drop().table("web_pushes").if_exists().take())
            .await?;
        Ok(())
    }
}

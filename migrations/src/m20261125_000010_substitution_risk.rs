//! Substitution offers made to a customer after a short pick (answered in the chat, by button
//! or in words, or expired by a sweeper), and the risk verdict on each new order.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000010_substitution_risk"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("substitution_offers")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("order_id"))
                .col(big_integer("customer_id"))
                // the short item and how much of it is missing (milli of its unit)
                .col(string("sku"))
                .col(big_integer("missing_milli"))
                // the proposed replacement and the amount that would be added
                .col(string("substitute_sku"))
                .col(big_integer("substitute_milli"))
                // open, accepted, declined, expired, applied (auto-substitution consent)
                .col(string("status"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("answered_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_substitution_offers_customer")
                .table("substitution_offers")
                .col("customer_id")
                .col("status")
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_substitution_offers_order")
                .table("substitution_offers")
                .col("order_id")
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("order_risk")
                .if_not_exists()
                .col(big_integer("order_id").primary_key())
                .col(integer("score"))
                // comma-separated reason codes
                .col(string("reasons"))
                .col(boolean("flagged"))
                .col(timestamp_with_time_zone("assessed_at"))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("order_risk").if_exists().take())
            .await?;
        m.drop_table(
            Table::drop()
                .table("substitution_offers")
                .if_exists()
                .take(),
        )
        .await?;
        Ok(())
    }
}

//! Purchasing: purchase drafts confirmed into purchase orders to a supplier, received in one
//! or more deliveries; receipts remember their expiry (from the product's shelf life) and the
//! order they came from. Also where each pick task is (aisle, position), fixed when the wave
//! is planned, so the picker page shows the route without the warehouse file.
//!
//! Quantities are thousandths of the product's selling unit (`*_milli`), money in fen, dates
//! `YYYY-MM-DD` local days (like `purchase_drafts`).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000009_purchasing"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("purchase_orders")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("supplier"))
                .col(string("sku"))
                .col(string_null("plan_date"))
                .col(integer("packs").check(Expr::col("packs").gt(0)))
                .col(big_integer("qty_milli").check(Expr::col("qty_milli").gt(0)))
                .col(
                    big_integer("received_milli")
                        .default(0)
                        .check(Expr::col("received_milli").gte(0)),
                )
                .col(big_integer("total_fen"))
                .col(string("arrives"))
                // `open` until the last delivery (or closed short by the operator): `received`
                .col(string("status"))
                .col(string("confirmed_by"))
                .col(timestamp_with_time_zone("confirmed_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_purchase_orders_status_sku")
                .table("purchase_orders")
                .col("status")
                .col("sku")
                .take(),
        )
        .await?;
        // SQLite alters one column per statement
        m.alter_table(
            Table::alter()
                .table("stock_movements")
                .add_column(string_null("expires_on"))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("stock_movements")
                .add_column(big_integer_null("purchase_order_id"))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("pick_tasks")
                .add_column(integer_null("aisle"))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("pick_tasks")
                .add_column(double_null("position"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["position", "aisle"] {
            m.alter_table(Table::alter().table("pick_tasks").drop_column(col).take())
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table("stock_movements")
                .drop_column("purchase_order_id")
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("stock_movements")
                .drop_column("expires_on")
                .take(),
        )
        .await?;
        m.drop_table(Table::drop().table("purchase_orders").if_exists().take())
            .await
    }
}

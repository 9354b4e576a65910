//! Warehouse: picking waves and their tasks, every scan (so errors and shortages can be
//! counted per day), stock movements (received, spoiled, adjustments) and purchase drafts.
//!
//! Quantities are thousandths of the product's selling unit (`*_milli`), money in fen.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000003_warehouse"
    }
}

fn ts(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone(col)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("pick_waves")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(ts("slot_start"))
                .col(double("capacity"))
                .col(integer("orders"))
                .col(integer("batches"))
                .col(double("total_length"))
                .col(ts("created_at"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("pick_tasks")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("wave_id"))
                .col(integer("batch_no"))
                .col(string_null("zone"))
                .col(string("route_method"))
                .col(integer("route_seq"))
                .col(big_integer("order_id"))
                .col(string("order_number"))
                .col(integer("line_no"))
                .col(string("sku"))
                .col(big_integer("expected_milli").check(Expr::col("expected_milli").gt(0)))
                .col(big_integer("tolerance_milli").check(Expr::col("tolerance_milli").gte(0)))
                .col(big_integer_null("picked_milli"))
                .col(string("status"))
                .col(string_null("scanned_by"))
                .col(timestamp_with_time_zone_null("scanned_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_pick_tasks_order_line")
                .table("pick_tasks")
                .col("order_id")
                .col("line_no")
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_pick_tasks_wave")
                .table("pick_tasks")
                .col("wave_id")
                .col("batch_no")
                .col("route_seq")
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("pick_events")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("task_id"))
                .col(big_integer("order_id"))
                .col(string("expected_sku"))
                .col(string("scanned_sku"))
                .col(big_integer("expected_milli"))
                .col(big_integer("scanned_milli"))
                .col(string("outcome"))
                .col(string("picker"))
                .col(ts("at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_pick_events_at")
                .table("pick_events")
                .col("at")
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("stock_movements")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("sku"))
                .col(string("kind"))
                .col(big_integer("qty_milli"))
                .col(text_null("reason"))
                .col(string("actor"))
                .col(ts("at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_stock_movements_sku_at")
                .table("stock_movements")
                .col("sku")
                .col("at")
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("purchase_drafts")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string("plan_date"))
                .col(string("sku"))
                .col(integer("packs").check(Expr::col("packs").gt(0)))
                .col(big_integer("qty_milli"))
                .col(string("arrives"))
                .col(big_integer("total_fen"))
                .col(boolean("capped_by_shelf_life"))
                .col(ts("created_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_purchase_drafts_date_sku")
                .table("purchase_drafts")
                .col("plan_date")
                .col("sku")
                .unique()
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "purchase_drafts",
            "stock_movements",
            "pick_events",
            "pick_tasks",
            "pick_waves",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().take())
                .await?;
        }
        Ok(())
    }
}

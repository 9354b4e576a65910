//! Courier dispatch: the routes of a delivery wave and their stops, and outbox events addressed
//! to a courier instead of a customer.
//!
//! A stop keeps three times: the ETA planned at dispatch, the current ETA (recomputed on every
//! location update and stop completion) and the ETA last told to the customer, so a delay alert
//! goes out only when the promise changes materially.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000008_dispatch"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("delivery_routes")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("courier_id"))
                .col(timestamp_with_time_zone("slot_start"))
                .col(timestamp_with_time_zone("slot_end"))
                // active | done
                .col(string("status"))
                .col(double("planned_distance_m"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_delivery_routes_courier")
                .table("delivery_routes")
                .col("courier_id")
                .col("status")
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("route_stops")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("route_id"))
                .col(big_integer("order_id"))
                .col(integer("seq"))
                .col(integer("bags"))
                .col(timestamp_with_time_zone("window_start"))
                .col(timestamp_with_time_zone("window_end"))
                .col(timestamp_with_time_zone("planned_eta"))
                .col(timestamp_with_time_zone("eta"))
                .col(timestamp_with_time_zone("told_eta"))
                // pending | arrived | delivered | failed
                .col(string("status"))
                .col(timestamp_with_time_zone_null("arrived_at"))
                .col(timestamp_with_time_zone_null("done_at"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_route_stops_route")
                .table("route_stops")
                .col("route_id")
                .col("seq")
                .take(),
        )
        .await?;
        // An order is on at most one route: a second dispatch of the same wave cannot plan it
        // twice (the insert fails and the transaction rolls back).
        m.create_index(
            Index::create()
                .name("ux_route_stops_order")
                .table("route_stops")
                .col("order_id")
                .unique()
                .take(),
        )
        .await?;
        if !m.has_column("outbox", "courier_id").await? {
            m.alter_table(
                Table::alter()
                    .table("outbox")
                    .add_column(big_integer_null("courier_id"))
                    .take(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("outbox")
                .drop_column("courier_id")
                .take(),
        )
        .await?;
        m.drop_table(Table::drop().table("route_stops").if_exists().take())
            .await?;
        m.drop_table(Table::drop().table("delivery_routes").if_exists().take())
            .await?;
        Ok(())
    }
}

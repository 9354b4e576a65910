//! Database schema of freshbot, for SQLite and PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_initial;
mod m20261124_000002_chat;
mod m20261124_000003_warehouse;
mod m20261125_000004_outbox_deliveries;
mod m20261125_000005_web;
mod m20261125_000006_handoff;
mod m20261125_000007_wechat;
mod m20261125_000008_dispatch;
mod m20261125_000009_purchasing;
mod m20261125_000010_substitution_risk;
mod m20261125_000011_staff_roles;
mod m20261202_000012_slot_zone_index;
mod m20261207_000013_outbox_lease;
mod m20261207_000014_outbox_parts;
mod m20261207_000015_job_leases;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_initial::Migration),
            Box::new(m20261124_000002_chat::Migration),
            Box::new(m20261124_000003_warehouse::Migration),
            Box::new(m20261125_000004_outbox_deliveries::Migration),
            Box::new(m20261125_000005_web::Migration),
            Box::new(m20261125_000006_handoff::Migration),
            Box::new(m20261125_000007_wechat::Migration),
            Box::new(m20261125_000008_dispatch::Migration),
            Box::new(m20261125_000009_purchasing::Migration),
            Box::new(m20261125_000010_substitution_risk::Migration),
            Box::new(m20261125_000011_staff_roles::Migration),
            Box::new(m20261202_000012_slot_zone_index::Migration),
            Box::new(m20261207_000013_outbox_lease::Migration),
            Box::new(m20261207_000014_outbox_parts::Migration),
            Box::new(m20261207_000015_job_leases::Migration),
        ]
    }
}

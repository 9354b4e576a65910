//! Staff roles: an account is a support `agent` (the console), a `picker` (the picker page) or
//! a `lead` (both). Accounts made before roles existed keep what they could do: `lead`.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000011_staff_roles"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("agents")
                .add_column(string("role").default("lead"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("agents")
                .drop_column("role")
                .to_owned(),
        )
        .await
    }
}

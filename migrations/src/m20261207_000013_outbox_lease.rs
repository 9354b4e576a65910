//! A fencing token on outbox leases. A dispatcher whose lease ran out during a slow send could
//! still settle the event (done, retry) after another dispatcher had taken it, and both would
//! send it. Each claim now bumps `lease`; a dispatcher renews its lease before every send and
//! settles only while `lease` is still the number it claimed with.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000013_outbox_lease"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("outbox")
                .add_column(ColumnDef::new("lease").big_integer().not_null().default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("outbox")
                .drop_column("lease")
                .to_owned(),
        )
        .await
    }
}

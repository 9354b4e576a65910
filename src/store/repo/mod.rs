//! Repositories: methods on [`Tx`](crate::store::Tx) that map rows to domain types.
//! Grouped by aggregate; each file owns its tables.

mod catalog;
mod channel_contacts;
mod chat;
mod conversations;
mod customers;
mod dispatch;
mod handoff;
mod jobs;
mod operations;
mod orders;
mod outbox;
mod purchasing;
mod slots;
mod staff;
mod substitutions;
mod warehouse;
mod web_pushes;

pub(crate) use catalog::with_levels;
pub use channel_contacts::ChannelContactRow;
pub use conversations::VersionConflict;
pub use dispatch::{CourierRow, NewCourier, RouteRow, StopRow};
pub use handoff::{AgentRow, ChatLine};
pub use operations::OperationalCounts;
pub use orders::{Cancellation, NewOrder, NewOrderLine, OrderRow};
pub use outbox::{ClaimedEvent, Delivery, DeliveryProgress, Lease, OutboxEvent};
pub use purchasing::{NewPurchaseOrder, PurchaseOrderRow, PurchaseStatus, ReceiptRow, StoredDraft};
pub use substitutions::{NewOffer, OfferStatus, SubstitutionOffer};
pub use warehouse::{
    NewPickTask, PickEventRow, PickTaskRow, PickWaveRow, PurchaseDraftRow, StockMovementKind,
};
pub use web_pushes::{CourierFix, OrderDispatchFacts, WebPushRow};

use sea_orm::{ConnectionTrait, EntityTrait, Select};

use crate::store::StoreError;

/// `.one()` for lookups by a unique key (or that match at most a handful of rows), without the
/// `LIMIT ?` that sea-orm binds as a parameter. SQLite (3.51) treats a bound LIMIT as something
/// the query plan depends on and re-prepares the statement on every execution: that was 8% of
/// the CPU of a chat turn. Hot per-turn lookups use this; the rest keep `.one()`.
pub(crate) trait OneRow<E: EntityTrait> {
    async fn one_row<C: ConnectionTrait>(self, c: &C) -> Result<Option<E::Model>, sea_orm::DbErr>;
}

impl<E: EntityTrait> OneRow<E> for Select<E> {
    async fn one_row<C: ConnectionTrait>(self, c: &C) -> Result<Option<E::Model>, sea_orm::DbErr> {
        Ok(self.all(c).await?.into_iter().next())
    }
}

pub(crate) fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: detail.to_string(),
    }
}

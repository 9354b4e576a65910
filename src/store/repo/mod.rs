//! Repositories: methods on [`Tx`](crate::store::Tx) that map rows to domain types.
//! Grouped by aggregate; each file owns its tables.

mod catalog;
mod channel_contacts;
mod chat;
mod conversations;
mod customers;
mod dispatch;
mod handoff;
mod orders;
mod outbox;
mod purchasing;
mod slots;
mod staff;
mod substitutions;
mod warehouse;
mod web_pushes;

pub use channel_contacts::ChannelContactRow;
pub use conversations::VersionConflict;
pub use dispatch::{CourierRow, NewCourier, RouteRow, StopRow};
pub use handoff::{AgentRow, ChatLine};
pub use orders::{Cancellation, NewOrder, NewOrderLine, OrderRow};
pub use outbox::{ClaimedEvent, Delivery, OutboxEvent};
pub use purchasing::{NewPurchaseOrder, PurchaseOrderRow, PurchaseStatus, ReceiptRow, StoredDraft};
pub use substitutions::{NewOffer, OfferStatus, SubstitutionOffer};
pub use warehouse::{
    NewPickTask, PickEventRow, PickTaskRow, PickWaveRow, PurchaseDraftRow, StockMovementKind,
};
pub use web_pushes::{CourierFix, OrderDispatchFacts, WebPushRow};

use crate::store::StoreError;

pub(crate) fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: detail.to_string(),
    }
}

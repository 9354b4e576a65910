//! Repositories: methods on [`Tx`](crate::store::Tx) that map rows to domain types.
//! Grouped by aggregate; each file owns its tables.

mod catalog;
mod chat;
mod conversations;
mod customers;
mod handoff;
mod orders;
mod outbox;
mod slots;
mod staff;
mod warehouse;

pub use conversations::VersionConflict;
pub use handoff::{AgentRow, ChatLine};
pub use orders::{Cancellation, NewOrder, NewOrderLine, OrderRow};
pub use outbox::OutboxEvent;
pub use warehouse::{NewPickTask, PickEventRow, PickTaskRow, PurchaseDraftRow, StockMovementKind};

use crate::store::StoreError;

pub(crate) fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: detail.to_string(),
    }
}

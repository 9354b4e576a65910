//! Warehouse use cases (issue 8): picking waves for a delivery slot, the scan check while
//! picking (mis-picks flagged at once, shortages start the substitute flow), stock received
//! and spoiled, the daily replenishment plan with low-stock alerts, and daily counters.
//!
//! Each public method is one write transaction (the replenishment plan reads its snapshot
//! first, forecasts outside any transaction, then writes drafts and alerts in one). The pure
//! algorithms live in `fulfillment::{picking, replenishment}`; this module feeds them rows
//! and stores their answers.

mod config;
mod picker;
mod picking;
mod purchasing;
mod replenish;
mod stock;
mod substitution;

pub use config::{
    DEMO_WAREHOUSE_TOML, PartialTerms, Terms, TermsConfig, WarehouseConfig, WarehouseConfigError,
};
pub use picker::{PickProgress, PickerBatch, PickerLine, PickerWave, PickerWaveSummary};
pub use picking::{PickInstruction, PickingDay, PickingWave, ScanReport, ScanRequest, WaveBatch};
pub use purchasing::{PurchaseDraft, PurchaseOrder, PurchaseOverview, PurchaseReceipt};
pub use replenish::{LowStockAlert, PurchaseLine, ReplenishmentPlan};
pub use substitution::OFFER_TTL;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::domain::events::kinds;
use crate::domain::{CustomerId, OrderError, OrderId, OrderStatus, TZ};
use crate::fulfillment::picking::BatchingError;
use crate::fulfillment::replenishment::PlanError;
use crate::services::{Actor, ServiceError};
use crate::store::repo::{OrderRow, OutboxEvent};
use crate::store::{StoreError, Tx};

/// What a warehouse use case can refuse, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    /// The warehouse configuration is unusable.
    #[error(transparent)]
    Config(#[from] WarehouseConfigError),
    /// No confirmed orders in the slot (already planned, or none booked).
    #[error("no confirmed orders to pick for the slot starting {slot}")]
    NothingToPick { slot: String },
    /// Orders could not be batched (a product without a location, a bad capacity).
    #[error(transparent)]
    Batching(#[from] BatchingError),
    /// No such order.
    #[error("no order {0}")]
    UnknownOrder(String),
    /// The order is not being picked, so there is nothing to scan for it.
    #[error("order {number} is {status}, not picking; plan its wave first")]
    NotPicking { number: String, status: String },
    /// Every line of the order is already picked.
    #[error("every line of order {0} is already picked")]
    NothingPending(String),
    /// A quantity that is negative, zero where it must be positive, or absurd.
    #[error("invalid quantity: {0}")]
    BadQuantity(String),
    /// Input that is not a quantity but still wrong (an empty supplier name...).
    #[error("{0}")]
    BadInput(String),
    /// No such purchase draft (or it was confirmed already, or re-planned away).
    #[error("no purchase draft {0}; it may be confirmed already (see `freshbot purchase list`)")]
    UnknownDraft(i64),
    /// No such picking wave.
    #[error("no picking wave {0}")]
    UnknownWave(i64),
    /// No such purchase order.
    #[error("no purchase order {0}")]
    UnknownPurchaseOrder(i64),
    /// The purchase order expects nothing more.
    #[error("purchase order {0} is already received or closed")]
    PurchaseClosed(i64),
    /// A sku that is not in the catalog.
    #[error("we don't sell {0:?}")]
    UnknownProduct(String),
    /// Spoilage larger than the free stock (stock can't go negative, reserved goods belong
    /// to orders and show up as short picks instead).
    #[error(
        "can't write off {} of {sku}: only {} is on hand and not reserved ({} reserved for orders)",
        amount(*.requested_milli),
        amount(*.free_milli),
        amount(*.reserved_milli)
    )]
    SpoilageExceedsStock {
        sku: String,
        requested_milli: i64,
        free_milli: i64,
        reserved_milli: i64,
    },
    /// The replenishment policy refused a product's terms or history.
    #[error("replenishment of {sku}: {source}")]
    Plan { sku: String, source: PlanError },
    /// A lifecycle move that is not allowed.
    #[error(transparent)]
    Lifecycle(#[from] OrderError),
    /// Someone else changed the order or task at the same time; try again.
    #[error("the order was changed at the same time; please try again")]
    Concurrent,
    /// A service-level failure.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A background computation died (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

impl WarehouseError {
    /// Whether the error is the caller's (4xx) rather than the system's (5xx).
    pub fn is_user_error(&self) -> bool {
        match self {
            WarehouseError::Store(_) | WarehouseError::Internal(_) => false,
            WarehouseError::Service(e) => e.is_user_error(),
            _ => true,
        }
    }
}

/// Thousandths as a decimal amount for messages: 1500 -> "1.5".
fn amount(milli: i64) -> String {
    let sign = if milli < 0 { "-" } else { "" };
    let m = milli.unsigned_abs();
    let frac = format!("{:03}", m % 1000);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{}", m / 1000)
    } else {
        format!("{sign}{}.{frac}", m / 1000)
    }
}

/// Start of a local (Asia/Shanghai) day in UTC.
pub(crate) fn local_day_start(day: chrono::NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    TZ.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| midnight.and_utc())
}

/// Moves an order along its lifecycle inside the caller's transaction, the way
/// `Services::advance_status` does: the domain state machine decides, the row changes only if
/// still in `from`, the history records the actor and an `order_status_changed` event is
/// written for the customer.
pub(crate) async fn move_order(
    tx: &Tx,
    row: &OrderRow,
    to: OrderStatus,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), WarehouseError> {
    let from: OrderStatus = row.status.parse()?;
    from.transition(to)?;
    let id = OrderId(row.id);
    if !tx.set_order_status(id, from, to, now).await? {
        return Err(WarehouseError::Concurrent);
    }
    tx.insert_history(id, Some(from), to, &actor.code(), None, now)
        .await?;
    tx.enqueue(
        &OutboxEvent {
            kind: kinds::STATUS_CHANGED,
            customer: Some(CustomerId(row.customer_id)),
            order: Some(id),
            payload: json!({ "number": row.number, "from": from.code(), "status": to.code() }),
        },
        now,
    )
    .await?;
    Ok(())
}

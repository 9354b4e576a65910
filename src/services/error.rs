//! What a use case can refuse, each with a message a customer or operator can act on.

use crate::domain::{
    CancelRefusal, GeoError, OrderError, OrderNumber, OrderStatus, PricingError, QuantityError,
    SlotError,
};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A product code or name that is not in the catalog.
    #[error("we don't sell {0:?}")]
    UnknownProduct(String),
    /// A quantity that is invalid for the product.
    #[error("{product}: {source}")]
    Quantity {
        product: String,
        source: QuantityError,
    },
    /// Not enough stock for a line.
    #[error("only {available} left of {product}")]
    OutOfStock {
        product: String,
        sku: String,
        available: String,
    },
    /// An order with no lines.
    #[error("the order has no items")]
    EmptyOrder,
    /// More lines than the business accepts in one order.
    #[error("an order can have at most {max} different items")]
    TooManyLines { max: usize },
    /// The chosen slot cannot be booked.
    #[error(transparent)]
    Slot(#[from] SlotError),
    /// Below the minimum order amount.
    #[error(transparent)]
    Pricing(#[from] PricingError),
    /// No such order among the customer's orders (someone else's order looks the same).
    #[error("no order {0} among your orders")]
    UnknownOrder(String),
    /// A lifecycle transition that is not allowed.
    #[error(transparent)]
    Lifecycle(#[from] OrderError),
    /// The cancel policy refuses.
    #[error("this order can't be cancelled: {0}")]
    CancelRefused(#[from] CancelRefusal),
    /// The order is past the stage where this change is possible.
    #[error("order {number} is already {status}; it can no longer be changed that way")]
    TooLateToChange {
        number: OrderNumber,
        status: OrderStatus,
    },
    /// An address id that is not the customer's, or an address text we cannot place.
    #[error("we couldn't find that address: {0}")]
    UnknownAddress(String),
    /// The location is invalid or out of the delivery area.
    #[error(transparent)]
    Geo(#[from] GeoError),
    /// The order changed while this request was being handled; try again.
    #[error("the order was changed at the same time; please try again")]
    Concurrent,
    /// Conversation state that could not be serialised (a bug).
    #[error("conversation state could not be saved: {0}")]
    State(String),
    /// A substitution offer that was already answered, expired, or is not the customer's.
    #[error("that substitution offer is no longer open")]
    OfferClosed,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// Whether the error is the caller's (4xx) rather than the system's (5xx).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, ServiceError::Store(_) | ServiceError::State(_))
    }
}

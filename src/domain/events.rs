//! The outbox's vocabulary: the kinds of event a use case records for someone to hear about,
//! and the payloads whose shape both the writer (the services) and the reader (the dialog's
//! notices, the courier messages) rely on. Plain data, so neither side imports the other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Channel, Reply};

/// Outbox event kinds.
pub mod kinds {
    // Addressed to the customer; see `dialog::notices` for those that produce a message.
    pub const PLACED: &str = "order_placed";
    pub const CHANGED: &str = "order_changed";
    pub const RESCHEDULED: &str = "order_rescheduled";
    pub const ADDRESS_CHANGED: &str = "order_address_changed";
    pub const STATUS_CHANGED: &str = "order_status_changed";
    pub const CANCELLED: &str = "order_cancelled";
    pub const DELAYED: &str = "order_delayed";
    pub const SUBSTITUTE_NEEDED: &str = "substitute_needed";
    // For staff.
    pub const STOCK_LOW: &str = "stock_low";
    pub const HANDOFF_REQUESTED: &str = "handoff_requested";
    pub const REFUND_NOTED: &str = "refund_noted";
    // Addressed to one conversation, already written (payload: [`super::ChatMessage`]).
    pub const CHAT_MESSAGE: &str = "chat_message";
    // Addressed to a courier.
    /// A newly dispatched route.
    pub const ROUTE: &str = "courier_route";
    /// The remaining stops in a new order after a re-plan.
    pub const REPLANNED: &str = "courier_route_replanned";
}

/// Messages for one conversation that must not be lost when its channel fails (the handoff
/// SLA apology): written with the change that calls for them, sent by the outbox dispatcher
/// to that conversation only, retried like any event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub channel: Channel,
    pub user: String,
    pub replies: Vec<Reply>,
}

/// The payload of a route event: everything the messages show, frozen at dispatch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteMessage {
    pub route_id: i64,
    pub courier_name: String,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub stops: Vec<StopLine>,
}

/// One stop as the courier sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopLine {
    pub stop_id: i64,
    pub seq: i32,
    pub order_number: String,
    pub address: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub eta: DateTime<Utc>,
    pub bags: i32,
    /// Already masked (see [`crate::domain::mask_phone`]); `None` when the customer gave no
    /// phone.
    pub phone: Option<String>,
    /// A map link to the door, when the address has coordinates.
    pub map_url: Option<String>,
}

/// What a courier reports about a stop with a button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAction {
    Arrived,
    Delivered,
    /// The customer could not be reached: the delivery failed.
    NotReachable,
}

//! The conversation engine: a pure step function `(state, event, context) -> (replies, commands)`
//! that mutates the state. The service layer (`services::turns`) loads the context, runs the
//! commands (place order, cancel, ...) and feeds their outcomes back as events. Nothing here
//! does I/O or reads a clock.

mod context;
pub mod courier;
mod flows;
pub mod notices;
mod payload;
mod router;
mod state;
pub mod text;
mod understanding;

pub use context::{Context, Faq, OrderInfo};
pub use payload::Payload;
pub use router::{CONFIDENCE_THRESHOLD, step};
pub use state::{
    AddressChange, CancelDraft, CancelStep, CartLine, ComplaintDraft, DialogState, Flow, Handoff,
    OrderDraft, OrderStep, TargetOrder,
};
pub use understanding::{Amount, Intent, ItemMention, Understanding};

use serde::Serialize;

use crate::domain::{AddressId, CancelReason, DeliveryAddress, Fen, LatLon, Order, Quantity, Sku};

/// One thing that happened in the conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A typed message and what the NLU made of it.
    Text {
        text: String,
        understanding: Understanding,
    },
    /// A tapped quick-reply button.
    Button(Payload),
    /// A shared location.
    Location(LatLon),
    /// The result of a command the engine asked for.
    Outcome(Outcome),
}

/// A message to the customer: text plus quick-reply buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub text: String,
    pub buttons: Vec<Button>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Button {
    pub label: String,
    pub payload: String,
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            buttons: vec![],
        }
    }

    pub fn with_buttons(text: impl Into<String>, buttons: Vec<Button>) -> Self {
        Self {
            text: text.into(),
            buttons,
        }
    }
}

impl Button {
    pub fn new(label: impl Into<String>, payload: &Payload) -> Self {
        Self {
            label: label.into(),
            payload: payload.encode(),
        }
    }
}

/// A change the engine asks the service layer to make.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    SaveAddress {
        text: String,
        location: Option<LatLon>,
    },
    PlaceOrder {
        lines: Vec<(Sku, Quantity)>,
        slot_start: chrono::DateTime<chrono::Utc>,
        address: AddressId,
        auto_substitute: bool,
    },
    ChangeLines {
        number: String,
        set: Vec<(Sku, Quantity)>,
        remove: Vec<Sku>,
    },
    Reschedule {
        number: String,
        slot_start: chrono::DateTime<chrono::Utc>,
    },
    ChangeAddress {
        number: String,
        address: AddressId,
    },
    Cancel {
        number: String,
        reason: CancelReason,
        text: Option<String>,
    },
    /// A cancel that the offered fix prevented (recorded for the cancellation analysis).
    RecordSaved {
        number: String,
        reason: CancelReason,
        offer: String,
    },
    Handoff {
        reason: String,
        summary: String,
    },
    SetLanguage(crate::domain::Lang),
    /// Yes or no to a substitution offer (after a short pick).
    AnswerSubstitution {
        offer: i64,
        accept: bool,
    },
    /// Score a just-placed order with the risk rules.
    AssessRisk {
        number: String,
    },
}

/// What came of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    AddressSaved(Result<DeliveryAddress, Failure>),
    OrderPlaced(Result<Order, Failure>),
    LinesChanged(Result<Order, Failure>),
    Rescheduled(Result<Order, Failure>),
    AddressChanged(Result<Order, Failure>),
    Cancelled(Result<(Order, Fen), Failure>),
    HandedOff {
        position: usize,
    },
    SubstitutionAnswered(Result<crate::services::SubstitutionAnswer, Failure>),
    RiskAssessed {
        number: String,
        flagged: bool,
        /// For the agent who takes the conversation.
        summary: String,
    },
    Done,
}

/// Why a command failed, in terms the engine can explain to the customer.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    OutOfStock {
        sku: String,
        available: String,
    },
    SlotUnavailable(String),
    BelowMinimum {
        missing: Fen,
    },
    TooLate {
        status: crate::domain::OrderStatus,
    },
    CancelRefused(String),
    Address(String),
    /// A location farther from the depot than the business delivers.
    OutOfRange {
        km: f64,
        limit_km: f64,
    },
    UnknownOrder,
    /// A substitution offer already answered, expired, or no longer applicable.
    OfferClosed,
    /// Anything else; the message is for the log, the customer gets an apology.
    Other(String),
}

/// What one step produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    pub replies: Vec<Reply>,
    pub commands: Vec<Command>,
}

impl Step {
    pub fn say(&mut self, r: Reply) {
        self.replies.push(r);
    }

    pub fn run(&mut self, c: Command) {
        self.commands.push(c);
    }
}

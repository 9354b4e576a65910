//! The dialog: a pure step function `(state, event, context) -> (replies, commands)` that
//! mutates the state, and every text a customer or courier reads. The conversation engine
//! (`conversation::Engine`) loads the context through the services, runs the commands (place
//! order, cancel, ...) and feeds their outcomes back as events. Nothing here does I/O or reads a
//! clock, and nothing here imports more than `domain`.

mod context;
pub mod courier;
mod flows;
pub mod handoff_notes;
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

use crate::domain::{AddressId, CancelReason, DeliveryAddress, Fen, LatLon, Order, Quantity, Sku};
use crate::domain::{Button, Reply};

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
    /// The risk rules' verdict on a just-placed order (scored when it was placed).
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
    SubstitutionAnswered(Result<crate::domain::SubstitutionAnswer, Failure>),
    RiskAssessed {
        number: String,
        flagged: bool,
        /// For the agent who takes the conversation.
        summary: String,
    },
    Done,
}

impl Outcome {
    /// An outcome the dialog does nothing with: no reply, no command, no change of state (an
    /// order the risk rules let through, a command that only reports it ran). The engine need
    /// not step the dialog, nor read and save the conversation, for one of these.
    pub fn is_silent(&self) -> bool {
        matches!(
            self,
            Outcome::Done | Outcome::RiskAssessed { flagged: false, .. }
        )
    }
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::domain::{BusinessRules, Lang, Sku};

    /// The engine skips the step (and the conversation's read and save) for a silent outcome:
    /// that is only right if stepping one would change nothing, whatever the state.
    #[test]
    fn a_silent_outcome_changes_nothing_in_any_state() {
        let rules = BusinessRules::default();
        let faq = Faq::default();
        let free_slots = HashMap::new();
        let ctx = Context {
            now: chrono::Utc::now(),
            rules: &rules,
            catalog: &[],
            orders: &[],
            addresses: &[],
            free_slots: Some(&free_slots),
            slots_wanted: std::cell::Cell::new(false),
            faq: &faq,
            membership: None,
            offers: &[],
            public_url: "http://localhost",
        };
        let states = [
            DialogState::default(),
            DialogState {
                lang: Lang::En,
                flow: Some(Flow::Order(OrderDraft::default())),
                stack: vec![Flow::Track(TargetOrder::default())],
                last_order: Some("20261202-0001".into()),
                last_item: Sku::parse("VEG-TOMATO").ok(),
                ..DialogState::default()
            },
            DialogState {
                flow: Some(Flow::Cancel(CancelDraft::default())),
                handoff: Some(Handoff {
                    reason: "human".into(),
                    since: chrono::Utc::now(),
                }),
                ..DialogState::default()
            },
        ];
        let silent = [
            Outcome::Done,
            Outcome::RiskAssessed {
                number: "20261202-0001".into(),
                flagged: false,
                summary: String::new(),
            },
        ];
        for state in &states {
            for o in &silent {
                assert!(o.is_silent());
                let mut after = state.clone();
                let step = step(&mut after, Event::Outcome(o.clone()), &ctx);
                assert_eq!(&after, state, "{o:?} changed the state");
                assert_eq!(step, Step::default(), "{o:?} said or asked something");
            }
        }
        let flagged = Outcome::RiskAssessed {
            number: "20261202-0001".into(),
            flagged: true,
            summary: "large order".into(),
        };
        assert!(
            !flagged.is_silent(),
            "a flagged order is handed to a person"
        );
    }

    /// A context without the free slots answers "none" and says a step wanted them, so that
    /// the engine reads them and runs the step again; with them, it notes nothing.
    #[test]
    fn a_context_without_slots_notes_that_a_step_wanted_them() {
        let rules = BusinessRules::default();
        let faq = Faq::default();
        let slots = HashMap::from([("huangpu".to_owned(), vec![])]);
        let mut ctx = Context {
            now: chrono::Utc::now(),
            rules: &rules,
            catalog: &[],
            orders: &[],
            addresses: &[],
            free_slots: None,
            slots_wanted: std::cell::Cell::new(false),
            faq: &faq,
            membership: None,
            offers: &[],
            public_url: "http://localhost",
        };
        assert!(!ctx.slots_wanted());
        assert!(ctx.slots_for("huangpu").is_empty());
        assert!(ctx.slots_wanted());
        ctx.free_slots = Some(&slots);
        ctx.slots_wanted.set(false);
        assert!(ctx.slots_for("huangpu").is_empty());
        assert!(!ctx.slots_wanted(), "given slots, nothing is wanted");
    }
}
